/*
 * check_complaints.c: what citizens and operators see of complaints, end
 * to end. Operators load reference data with `paknctl import-*` and make
 * API tokens with `paknctl token`; citizens and officials text the real
 * paknd through Kannel get-url callbacks; the tests read the rows stored
 * (units, rules, complaints, the ledger) and the replies queued in
 * pakn.outbox with their recipients, kinds and texts.
 *
 * main() starts one cluster and one paknd ("main") and imports the sample
 * units, routing rules and officials; Check forks every test, so the
 * tests share them. Each test texts from phones of its own (0988TTNNNN,
 * TT = the test) and makes units of its own (codes 97..., 98...), so the
 * tests do not see each other's complaints. No gateway has a send_url:
 * replies stay queued (or retrying), which is what the tests read.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"
#include "ticket.h"
#include "util.h"

#ifndef PAKN_SRCDIR
#define PAKN_SRCDIR "."
#endif

#define SHORTCODE "8079"

/* From config/officials.sample.csv and config/units.sample.csv. */
#define OFFICER      "0901000004" /* officer of 00004 Phường Ba Đình */
#define OFFICER_E164 "+84901000004"
#define UNIT4_NAME   "Phường Ba Đình"
#define UNIT70_NAME  "Phường Hoàn Kiếm"
#define EXAMPLE_CODE "00004" /* the smallest commune code, in replies */

/* The most a reply may hold once folded: two GSM-7 parts. */
#define MAX_REPLY 306
#define STR_(x)   #x
#define STR(x)    STR_(x)

/* A complaint as the tests know it. */
struct complaint {
	char id[24];
	char ticket[16];
};

/* Send one SMS from a phone through Kannel's get-url to the paknd on
 * port. */
static void
sms_to(int port, const char *from, const char *text)
{
	static int seq;
	char *efrom = url_encode(from, strlen(from));
	char *etext = url_encode(text, strlen(text));
	char *path =
	    strf("/v1/gw/kannel/sms?token=kannel-secret&from=%s&to=" SHORTCODE
	         "&text=%s&coding=0&charset=UTF-8&id=cmp-%d-%d&ts=%ld",
	         efrom, etext, (int)getpid(), ++seq, (long)time(NULL));
	struct http_resp r;

	/* harness.c's http_easy cuts URLs at 2047 bytes without a word;
	 * longer texts go by sms_post. */
	ck_assert_msg(strlen(path) < 2000, "get-url of %zu bytes: use sms_post",
	              strlen(path));
	http_request(port, "GET", path, NULL, NULL, 0, &r);
	if (r.status != 200)
		paknd_dump(harness_main());
	ck_assert_msg(r.status == 200, "SMS \"%s\" from %s: HTTP %ld \"%s\"",
	              text, from, r.status, r.body != NULL ? r.body : "");
	http_resp_free(&r);
	free(path);
	free(efrom);
	free(etext);
}

/* Send one SMS from a phone through Kannel's get-url to the shared paknd. */
static void
sms(const char *from, const char *text)
{
	sms_to(harness_main()->port, from, text);
}

/* Send one SMS through Kannel's post-url (the text as the body). */
static void
sms_post(const char *from, const char *text)
{
	static int seq;
	char *hfrom = strf("X-Kannel-From: %s", from);
	char *htime = strf("X-Kannel-Time: %ld", (long)time(NULL));
	char *path = strf("/v1/gw/kannel/sms?token=kannel-secret&id=cmp-post-"
	                  "%d-%d",
	                  (int)getpid(), ++seq);
	const char *headers[] = {hfrom,
	                         "X-Kannel-To: " SHORTCODE,
	                         htime,
	                         "X-Kannel-Coding: 0",
	                         "Content-Type: text/plain; charset=UTF-8",
	                         NULL};
	struct http_resp r;

	http_request(harness_main()->port, "POST", path, headers, text,
	             strlen(text), &r);
	if (r.status != 200)
		paknd_dump(harness_main());
	ck_assert_msg(r.status == 200,
	              "SMS from %s by post-url: HTTP %ld "
	              "\"%s\"",
	              from, r.status, r.body != NULL ? r.body : "");
	http_resp_free(&r);
	free(path);
	free(htime);
	free(hfrom);
}

/* Return the kinds of the SMS queued to a phone after mark, in order. */
static char *
kinds_since(const char *mark, const char *msisdn)
{
	char *v = qval("SELECT string_agg(kind, ',' ORDER BY id) FROM "
	               "pakn.outbox WHERE id > $1::bigint AND msisdn = $2",
	               mark, msisdn, NULL);

	return v != NULL ? v : strdup("");
}

/* Fail unless the SMS queued to a phone after mark are exactly kinds. */
static void
assert_kinds(const char *mark, const char *msisdn, const char *want)
{
	char *got = kinds_since(mark, msisdn);

	ck_assert_msg(strcmp(got, want) == 0, "SMS to %s: [%s], want [%s]",
	              msisdn, got, want);
	free(got);
}

/* Return the body of the one SMS of a kind queued to a phone after mark;
 * fail unless there is exactly one. */
static char *
reply(const char *mark, const char *msisdn, const char *kind)
{
	long n = qlong("SELECT count(*) FROM pakn.outbox WHERE id > "
	               "$1::bigint AND msisdn = $2 AND kind = $3",
	               mark, msisdn, kind, NULL);
	char *kinds;

	if (n != 1) {
		kinds = kinds_since(mark, msisdn);
		ck_abort_msg("%ld SMS \"%s\" to %s, want 1 (queued: [%s])", n,
		             kind, msisdn, kinds);
	}
	return qval("SELECT body FROM pakn.outbox WHERE id > $1::bigint AND "
	            "msisdn = $2 AND kind = $3",
	            mark, msisdn, kind, NULL);
}

/* Fail unless every SMS queued after mark fits two GSM-7 parts once
 * folded to ASCII. */
static void
assert_short_replies(const char *mark)
{
	char *bad =
	    qval("SELECT string_agg(kind || ' to ' || msisdn || ': ' || "
	         "length(pakn.fold(body)) || ' characters', '; ' ORDER BY id) "
	         "FROM pakn.outbox WHERE id > $1::bigint AND "
	         "length(pakn.fold(body)) > $2::integer",
	         mark, STR(MAX_REPLY), NULL);

	ck_assert_msg(bad == NULL, "replies longer than %d: %s", MAX_REPLY,
	              bad);
}

/* Find the newest complaint of a citizen (E.164); fail if none. */
static void
newest_complaint(const char *msisdn, struct complaint *c)
{
	PGresult *res =
	    PQexecParams(test_db(),
	                 "SELECT id, ticket FROM pakn.complaint WHERE "
	                 "msisdn = $1 ORDER BY id DESC LIMIT 1",
	                 1, NULL, &msisdn, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s",
	              PQresultErrorMessage(res));
	ck_assert_msg(PQntuples(res) == 1, "no complaint from %s", msisdn);
	snprintf(c->id, sizeof c->id, "%s", PQgetvalue(res, 0, 0));
	snprintf(c->ticket, sizeof c->ticket, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
}

/* Return an expression over a complaint's row as text, malloc'd. */
static char *
cval(const struct complaint *c, const char *expr)
{
	char *sql = strf("SELECT (%s)::text FROM pakn.complaint WHERE id = "
	                 "$1::bigint",
	                 expr);
	char *v = qval(sql, c->id, NULL);

	free(sql);
	return v;
}

/* Return how many complaints a citizen (E.164) has. */
static long
complaints_of(const char *msisdn)
{
	return qlong("SELECT count(*) FROM pakn.complaint WHERE msisdn = $1",
	             msisdn, NULL);
}

/* Import a file of a kind ("units"); fail unless it prints want. */
static void
import_ok(const char *kind, const char *path, const char *want)
{
	char *cmd = strf("import-%s", kind);
	struct ctl c = paknctl(cmd, path, NULL, NULL, NULL);
	char *line = strf("%s: %s\n", path, want);

	ck_assert_msg(c.status == 0, "paknctl %s %s: status 0x%x: %s%s", cmd,
	              path, c.status, c.out, c.err);
	ck_assert_msg(strcmp(c.out, line) == 0,
	              "paknctl %s printed \"%s\", want \"%s\"", cmd, c.out,
	              line);
	ctl_clear(&c);
	free(line);
	free(cmd);
}

/* Return a checksum of a whole table, to see a failed import left it. */
static char *
table_sum(const char *table)
{
	char *sql = strf("SELECT md5(coalesce(string_agg(t::text, '|' ORDER "
	                 "BY t::text), '')) || ' ' || count(*) FROM %s t",
	                 table);
	char *v = qval(sql, NULL);

	free(sql);
	ck_assert_ptr_nonnull(v);
	return v;
}

/* Import a file written from text that must fail: exit status 1, an
 * error naming the file and holding want, the table unchanged. */
static void
import_fails(const char *kind, const char *table, const char *name,
             const char *text, const char *want)
{
	char *path = write_tmp(name, text);
	char *cmd = strf("import-%s", kind);
	char *before = table_sum(table), *after;
	struct ctl c = paknctl(cmd, path, NULL, NULL, NULL);

	ck_assert_msg(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 1,
	              "paknctl %s %s: status 0x%x, want exit 1; printed "
	              "\"%s\" \"%s\"",
	              cmd, name, c.status, c.out, c.err);
	assert_contains(c.err, path);
	assert_contains(c.err, want);
	ck_assert_msg(c.out[0] == '\0', "%s: printed \"%s\" on stdout", name,
	              c.out);
	after = table_sum(table);
	ck_assert_msg(strcmp(before, after) == 0,
	              "%s: %s changed by a failed import (%s -> %s)", name,
	              table, before, after);
	free(after);
	free(before);
	ctl_clear(&c);
	free(cmd);
	free(path);
}

/* Ask GET /v1/complaints with a bearer token; return the status. */
static long
api_list(const char *token)
{
	char *auth = strf("Authorization: Bearer %s", token);
	const char *headers[] = {auth, NULL};
	struct http_resp r;
	long status;

	status = http_request(harness_main()->port, "GET", "/v1/complaints",
	                      headers, NULL, 0, &r);
	http_resp_free(&r);
	free(auth);
	return status;
}

/* Replace every occurrence of what in s by "{ticket}"; a new string. */
static char *
untick(const char *s, const char *what)
{
	size_t n = strlen(what);
	char *out = strdup(""), *next;
	const char *p;

	while ((p = strstr(s, what)) != NULL) {
		next = strf("%s%.*s{ticket}", out, (int)(p - s), s);
		free(out);
		out = next;
		s = p + n;
	}
	next = strf("%s%s", out, s);
	free(out);
	return next;
}

/* Import units with Vietnamese names, then again to update them. */
START_TEST(test_import_units)
{
	char *v1 =
	    write_tmp("units-98.csv",
	              "code,name,parent_code,kind,phones\n"
	              "98,Tỉnh Hà Giang Thử,,province,\n"
	              "98-DV,Huyện Đồng Văn,98,district,0219 3856 001\n"
	              "98001,Xã Lũng Cú,98-DV,commune,0912980001; 0912980002\n"
	              "98002,\"Thị trấn Phó Bảng, Đồng Văn\",98-DV,commune,\n");
	char *v2 =
	    write_tmp("units-98b.csv",
	              "code,name,parent_code,kind\n"
	              "98,Tỉnh Hà Giang Thử,,province\n"
	              "98-DV,Huyện Đồng Văn,98,district\n"
	              "98001,Xã Lũng Cú (mới),98-DV,commune\n"
	              "98002,\"Thị trấn Phó Bảng, Đồng Văn\",98-DV,commune\n");

	import_ok("units", v1, "4 rows: 4 new, 0 updated");
	assert_value(qval("SELECT name || '|' || kind || '|' || "
	                  "coalesce(parent_code, '') FROM pakn.unit WHERE "
	                  "code = '98002'",
	                  NULL),
	             "Thị trấn Phó Bảng, Đồng Văn|commune|98-DV");
	assert_value(qval("SELECT phones::text FROM pakn.unit WHERE code = "
	                  "'98001'",
	                  NULL),
	             "{+84912980001,+84912980002}");
	assert_value(qval("SELECT phones::text FROM pakn.unit WHERE code = "
	                  "'98-DV'",
	                  NULL),
	             "{+842193856001}");

	/* Again, the same file: every row updated, nothing new. */
	import_ok("units", v1, "4 rows: 0 new, 4 updated");
	/* A changed name, without the phones column: the name changes,
	 * the phones stay. */
	import_ok("units", v2, "4 rows: 0 new, 4 updated");
	assert_value(
	    qval("SELECT name FROM pakn.unit WHERE code = '98001'", NULL),
	    "Xã Lũng Cú (mới)");
	assert_value(qval("SELECT phones::text FROM pakn.unit WHERE code = "
	                  "'98001'",
	                  NULL),
	             "{+84912980001,+84912980002}");
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.unit WHERE code "
	                       "LIKE '98%'",
	                       NULL),
	                 4);
	free(v1);
	free(v2);
}
END_TEST

/* Refuse bad units files by line, importing nothing. */
START_TEST(test_import_units_errors)
{
	const char *t = "pakn.unit";

	/* Each bad file is refused by the import function, line named. */
	harness_expect_pg("ERROR:  line ");
	/* Line 3 of the file is the second line of a quoted name, so
	 * the bad record starts on line 4. */
	import_fails("units", t, "u-parent.csv",
	             "code,name,parent_code,kind\n"
	             "98101,\"Xã Mới\nThôn Một\",98-DV,commune\n"
	             "98102,Xã Không Cha,98-XX,commune\n",
	             "line 4: unknown parent_code 98-XX");
	import_fails("units", t, "u-dup.csv",
	             "code,name,parent_code,kind\n"
	             "98103,Xã Một,98-DV,commune\n"
	             "98104,Xã Hai,98-DV,commune\n"
	             "98103,Xã Một Lần Nữa,98-DV,commune\n",
	             "line 4: unit 98103 appears twice in the file");
	import_fails("units", t, "u-kind.csv",
	             "code,name,parent_code,kind\n"
	             "98105,Thôn Ba,98001,village\n",
	             "line 2: kind \"village\" is not province, commune, "
	             "special_zone, department or district");
	import_fails("units", t, "u-cycle.csv",
	             "code,name,parent_code,kind\n"
	             "98-A,Huyện A,98-B,district\n"
	             "98-B,Huyện B,98-A,district\n",
	             "line 2: unit 98-A would be its own ancestor");
	/* A cycle through units already stored: the province under one
	 * of its own communes. */
	import_fails("units", t, "u-cycle2.csv",
	             "code,name,parent_code,kind\n"
	             "98,Tỉnh Hà Giang Thử,98001,province\n",
	             "line 2: unit 98 would be its own ancestor");
	import_fails("units", t, "u-quote.csv",
	             "code,name,parent_code,kind\n"
	             "98106,Xã Sáu,98-DV,commune\n"
	             "98107,\"Xã Bảy,98-DV,commune\n"
	             "98108,Xã Tám,98-DV,commune\n",
	             "line 3: quote not closed");
	import_fails("units", t, "u-utf8.csv",
	             "code,name,parent_code,kind\n"
	             "98109,Xã Chín,98-DV,commune\n"
	             "98110,X\xe3 M\xff\xfei,98-DV,commune\n",
	             "line 3: field 2 is not valid UTF-8");
	import_fails("units", t, "u-missing.csv",
	             "code,name,parent_code\n"
	             "98111,Xã Mười Một,98-DV\n",
	             "line 1: missing column kind");
	import_fails("units", t, "u-unknown.csv",
	             "code,name,parent_code,kind,population\n"
	             "98112,Xã Mười Hai,98-DV,commune,5000\n",
	             "line 1: unknown column population");
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.unit WHERE code "
	                       "LIKE '981%' OR code IN ('98-A', '98-B')",
	                       NULL),
	                 0);
	assert_value(qval("SELECT coalesce(parent_code, '') FROM pakn.unit "
	                  "WHERE code = '98'",
	                  NULL),
	             "");
}
END_TEST

/* Refuse bad routing, category, official and holiday rows by line. */
START_TEST(test_import_other_errors)
{
	const char *r = "pakn.routing_rule";

	harness_expect_pg("ERROR:  line ");
	import_fails("routing", r, "r-cat.csv",
	             "category_code,area_code,unit_code\n"
	             "roads,98,98-DV\n"
	             ",98001,98001\n"
	             "potholes,98001,98-DV\n",
	             "line 4: unknown category potholes");
	import_fails("routing", r, "r-area.csv",
	             "category_code,area_code,unit_code\n"
	             "roads,98,98-DV\n"
	             "waste,98999,98-DV\n",
	             "line 3: unknown area_code 98999");
	import_fails("routing", r, "r-unit.csv",
	             "category_code,area_code,unit_code\n"
	             "roads,98,98-DV\n"
	             "waste,98001,98-XX\n",
	             "line 3: unknown unit_code 98-XX");
	import_fails("categories", "pakn.category", "c-dim.csv",
	             "code,name,dimension,keywords\n"
	             "stray_dogs,Chó thả rông,6,chó thả rông;cho tha rong\n"
	             "karaoke,Hát karaoke khuya,9,karaoke\n",
	             "line 3: dimension must be a PAPI dimension 1 to 8");
	import_fails("categories", "pakn.category", "c-dim0.csv",
	             "code,name,dimension,keywords\n"
	             "karaoke,Hát karaoke khuya,0,karaoke\n",
	             "line 2: dimension must be a PAPI dimension 1 to 8");
	import_fails("officials", "pakn.official", "o-role.csv",
	             "unit_code,name,phone,role\n"
	             "98001,Vàng Seo Dính,0912980010,officer\n"
	             "98001,Giàng Thị Mỷ,0912980011,chairman\n",
	             "line 3: role \"chairman\" is not officer, leader or "
	             "admin");
	/* 2026-03-04 is a Wednesday. */
	import_fails("holidays", "pakn.holiday", "h-weekday.csv",
	             "date,kind,name,source\n"
	             "2028-01-01,holiday,Tết Dương lịch,BLLĐ 2019 Điều 112\n"
	             "2026-03-04,workday,Làm bù,Thông báo (kiểm thử)\n",
	             "line 3: 2026-03-04 is a weekday");
	import_fails("holidays", "pakn.holiday", "h-date.csv",
	             "date,kind,name,source\n"
	             "2028-01-01,holiday,Tết Dương lịch,BLLĐ 2019 Điều 112\n"
	             "2026-02-30,holiday,Ngày không có,BLLĐ 2019 Điều 112\n",
	             "line 3: date \"2026-02-30\" is not YYYY-MM-DD");
}
END_TEST

/* Create a token (printed once, kept as a hash), use it, revoke it. */
START_TEST(test_token)
{
	struct ctl c = paknctl("token", "create", "--official", OFFICER, NULL);
	char token[128];
	size_t n;

	ck_assert_msg(c.status == 0, "token create: 0x%x %s%s", c.status, c.out,
	              c.err);
	n = strlen(c.out);
	ck_assert_msg(n > 20 && n < sizeof token && c.out[n - 1] == '\n' &&
	                  strchr(c.out, '\n') == c.out + n - 1,
	              "token create printed \"%s\", want one line", c.out);
	memcpy(token, c.out, n - 1);
	token[n - 1] = '\0';
	ctl_clear(&c);

	ck_assert_int_eq(api_list(token), 200);
	/* Only the hash is stored: the token's text is in no column. */
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.api_token t WHERE "
	                       "strpos(t::text, $1) > 0 OR strpos(encode("
	                       "t.token_hash, 'escape'), $1) > 0",
	                       token, NULL),
	                 0);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.api_token t JOIN "
	                       "pakn.official o ON o.id = t.official_id "
	                       "WHERE o.phone = $2 AND t.token_hash = "
	                       "sha256(convert_to($1, 'UTF8'))",
	                       token, OFFICER_E164, NULL),
	                 1);
	/* A token with one character changed is refused. */
	token[n / 2] = token[n / 2] == 'a' ? 'b' : 'a';
	ck_assert_int_eq(api_list(token), 401);
	token[n / 2] = token[n / 2] == 'a' ? 'b' : 'a';

	/* No token for a phone that is no official's. */
	c = paknctl("token", "create", "--official", "0988010001", NULL);
	ck_assert_msg(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 1,
	              "token create for a citizen: 0x%x", c.status);
	ck_assert_msg(c.out[0] == '\0', "printed \"%s\"", c.out);
	assert_contains(c.err, "no active official");
	ctl_clear(&c);

	c = paknctl("token", "revoke", "--official", OFFICER, NULL);
	ck_assert_msg(c.status == 0, "token revoke: 0x%x %s%s", c.status, c.out,
	              c.err);
	assert_contains(c.out, "1 token revoked");
	ctl_clear(&c);
	ck_assert_int_eq(api_list(token), 401);
}
END_TEST

/* Send a complaint from a citizen; return it and its responsible unit. */
static char *
routed_to(const char *from, const char *e164, const char *text,
          const char *category, struct complaint *c)
{
	sms(from, text);
	newest_complaint(e164, c);
	assert_value(cval(c, "category_code"), category);
	assert_value(cval(c, "status"), "open");
	return cval(c, "responsible_unit");
}

/* A roads complaint and a waste complaint, formats taking a unit code. */
#define ROADS_SMS "PA Đường liên thôn có ổ gà rất sâu #%s"
#define WASTE_SMS "PA Rác thải đổ bừa bãi ven kênh #%s"

/* Route by the deepest area's rule, a category's rule over any. */
START_TEST(test_routing_precedence)
{
	char *units =
	    write_tmp("units-97.csv",
	              "code,name,parent_code,kind\n"
	              "97,Tỉnh Thử Nghiệm,,province\n"
	              "97-SGT,Sở Giao thông Vận tải,97,department\n"
	              "97-Q1,Huyện Một,97,district\n"
	              "97001,Xã Tân An,97-Q1,commune\n"
	              "97002,Xã Tân Bình,97-Q1,commune\n"
	              "97001-CA,Công an xã Tân An,97001,department\n"
	              "97001-GT,Tổ giao thông xã Tân An,97001,department\n");
	char *rules =
	    write_tmp("routing-97.csv", "category_code,area_code,unit_code\n"
	                                "roads,97,97-SGT\n"
	                                ",97001,97001-CA\n"
	                                "roads,97001,97001-GT\n");
	struct complaint c;
	char *mark = outbox_mark(), *text, *body;

	import_ok("units", units, "7 rows: 7 new, 0 updated");
	import_ok("routing", rules, "3 rows: 3 new, 0 updated");

	/* Category X in the commune with rules: the (X, commune) rule. */
	text = strf(ROADS_SMS, "97001");
	assert_value(routed_to("0988020001", "+84988020001", text, "roads", &c),
	             "97001-GT");
	body = reply(mark, "+84988020001", "ack");
	assert_contains(body, "Tổ giao thông xã Tân An");
	assert_contains(body, c.ticket);
	free(body);
	free(text);

	/* Another category there: the (any, commune) rule. */
	text = strf(WASTE_SMS, "97001");
	assert_value(routed_to("0988020002", "+84988020002", text, "waste", &c),
	             "97001-CA");
	free(text);

	/* Category X in the sibling commune: the province's rule. */
	text = strf(ROADS_SMS, "97002");
	assert_value(routed_to("0988020003", "+84988020003", text, "roads", &c),
	             "97-SGT");
	assert_value(cval(&c, "location_unit"), "97002");
	free(text);

	/* Another category there: the commune's People's Committee. */
	text = strf(WASTE_SMS, "97002");
	assert_value(routed_to("0988020004", "+84988020004", text, "waste", &c),
	             "97002");
	body = reply(mark, "+84988020004", "ack");
	assert_contains(body, "Xã Tân Bình");
	free(body);
	free(text);

	/* pakn.route agrees with what the SMS path did. */
	assert_value(qval("SELECT pakn.route('roads', '97001') || ',' || "
	                  "pakn.route('waste', '97001') || ',' || "
	                  "pakn.route('roads', '97002') || ',' || "
	                  "pakn.route('waste', '97002')",
	                  NULL),
	             "97001-GT,97001-CA,97-SGT,97002");
	/* Importing the rules again updates them. */
	import_ok("routing", rules, "3 rows: 0 new, 3 updated");
	assert_short_replies(mark);
	free(mark);
	free(rules);
	free(units);
}
END_TEST

/* Hold a complaint without a location until its commune code comes. */
START_TEST(test_location_flow)
{
	const char *a = "0988030001", *ae = "+84988030001";
	struct complaint c;
	char *mark = outbox_mark(), *m2, *body, *want;

	sms(a, "PA Đèn đường ngõ 7 bị hỏng cả tuần nay");
	ck_assert_int_eq(complaints_of(ae), 1);
	newest_complaint(ae, &c);
	assert_value(cval(&c, "status"), "needs_location");
	assert_value(cval(&c, "responsible_unit IS NULL AND due_at IS NULL"),
	             "true");
	body = reply(mark, ae, "ask_location");
	want = strf("Đã nhận phản ánh, mã %s. Bạn ở xã/phường nào? Nhắn tên "
	            "xã/phường (VD: phường Ba Đình) hoặc mã (VD: " EXAMPLE_CODE
	            ") để chuyển đúng nơi xử lý.",
	            c.ticket);
	ck_assert_str_eq(body, want);
	free(want);
	free(body);

	/* A second text while it waits: asked again, no new complaint. */
	sms(a, "Đèn vẫn chưa ai sửa, tối quá");
	ck_assert_int_eq(complaints_of(ae), 1);
	body = reply(mark, ae, "ask_location_again");
	assert_contains(body, c.ticket);
	free(body);

	/* A code that is no unit: said so, still waiting. */
	sms(a, "99999");
	body = reply(mark, ae, "unknown_unit");
	assert_contains(body, "99999");
	free(body);
	assert_value(cval(&c, "status"), "needs_location");

	/* A valid commune code completes it. */
	sms(a, "00004");
	ck_assert_int_eq(complaints_of(ae), 1);
	assert_value(cval(&c, "status"), "open");
	assert_value(cval(&c, "location_unit"), "00004");
	assert_value(cval(&c, "responsible_unit"), "00004");
	assert_value(cval(&c, "due_at = pakn.due_at(category_code, "
	                      "created_at) AND due_at > now()"),
	             "true");
	body = reply(mark, ae, "ack");
	assert_contains(body, c.ticket);
	assert_contains(body, UNIT4_NAME);
	free(body);
	assert_kinds(mark, ae,
	             "ask_location,ask_location_again,unknown_unit,ack");

	/* Without a keyword, the question says the text was taken as a
	 * complaint. */
	sms("0988030002", "Cống thoát nước trước nhà tôi bị tắc");
	newest_complaint("+84988030002", &c);
	assert_value(cval(&c, "status"), "needs_location");
	body = reply(mark, "+84988030002", "ask_location_nokeyword");
	assert_contains(body, c.ticket);
	free(body);

	/* A registered commune routes later complaints directly; a code
	 * in the text overrides it. */
	sms("0988030003", "DK 00004");
	assert_value(qval("SELECT home_unit FROM pakn.citizen WHERE msisdn "
	                  "= '+84988030003'",
	                  NULL),
	             "00004");
	body = reply(mark, "+84988030003", "registered");
	assert_contains(body, UNIT4_NAME);
	free(body);
	sms("0988030003", "PA Rác thải đổ bừa bãi đầu ngõ");
	newest_complaint("+84988030003", &c);
	assert_value(cval(&c, "status || ' ' || location_unit || ' ' || "
	                      "responsible_unit"),
	             "open 00004 00004");
	m2 = outbox_mark();
	sms("0988030003", "PA Rác thải ở chợ đêm #00070 chưa được thu gom");
	newest_complaint("+84988030003", &c);
	assert_value(cval(&c, "status || ' ' || location_unit || ' ' || "
	                      "responsible_unit"),
	             "open 00070 00070");
	body = reply(m2, "+84988030003", "ack");
	assert_contains(body, c.ticket);
	assert_contains(body, UNIT70_NAME);
	free(body);
	assert_value(qval("SELECT home_unit FROM pakn.citizen WHERE msisdn "
	                  "= '+84988030003'",
	                  NULL),
	             "00004");
	assert_kinds(mark, "+84988030003", "registered,ack,ack");
	assert_short_replies(mark);
	free(m2);
	free(mark);
}
END_TEST

/* Complete a waiting complaint from a text holding a #code. */
START_TEST(test_location_code_in_text)
{
	const char *a = "0988030101", *ae = "+84988030101";
	struct complaint c;
	char *mark = outbox_mark(), *body;

	sms(a, "PA Cống thoát nước bị tắc, nước tràn lên đường");
	newest_complaint(ae, &c);
	assert_value(cval(&c, "status"), "needs_location");

	/* The answer to "which commune?" in a sentence, with the code
	 * written as README says a code is written in a text. */
	sms(a, "Nhà tôi ở phường Ba Đình #00004");
	ck_assert_int_eq(complaints_of(ae), 1);
	assert_value(cval(&c, "status || ' ' || coalesce(location_unit, "
	                      "'-')"),
	             "open 00004");
	body = reply(mark, ae, "ack");
	assert_contains(body, c.ticket);
	free(body);
	assert_short_replies(mark);
	free(mark);
}
END_TEST

/* Show one's own ticket; reveal nothing for another's or a typo. */
START_TEST(test_ticket_privacy)
{
	const char *a = "0988040001", *ae = "+84988040001";
	const char *b = "0988040002", *be = "+84988040002";
	static const char alphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
	struct complaint c;
	char *mark = outbox_mark(), *body, *other, *ghost, *m2, *text;
	char *unit_name, bad[8];
	int i;

	sms(a, "PA Đường ngõ 12 có ổ gà lớn, xe máy hay bị ngã #00004");
	newest_complaint(ae, &c);
	unit_name = qval("SELECT name FROM pakn.unit WHERE code = "
	                 "(SELECT responsible_unit FROM pakn.complaint WHERE "
	                 "id = $1::bigint)",
	                 c.id, NULL);
	ck_assert_ptr_nonnull(unit_name);

	text = strf("TT %s", c.ticket);
	sms(a, text);
	body = reply(mark, ae, "status");
	assert_contains(body, c.ticket);
	assert_contains(body, unit_name);
	free(body);

	/* Another phone: not found, worded as for a ticket nobody has. */
	sms(b, text);
	free(text);
	other = reply(mark, be, "not_found");
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.outbox WHERE id > "
	                       "$1::bigint AND msisdn = $2 AND complaint_id "
	                       "IS NOT NULL",
	                       mark, be, NULL),
	                 0);
	ghost = qval("SELECT pakn.ticket_encode(887503680)", NULL);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint WHERE "
	                       "ticket = $1",
	                       ghost, NULL),
	                 0);
	m2 = outbox_mark();
	text = strf("TT %s", ghost);
	sms(b, text);
	free(text);
	body = reply(m2, be, "not_found");
	{
		char *x = untick(other, c.ticket), *y = untick(body, ghost);

		ck_assert_msg(
		    strcmp(x, y) == 0,
		    "another's ticket: \"%s\"\nno such ticket: \"%s\"", x, y);
		assert_lacks(other, unit_name);
		free(x);
		free(y);
	}
	free(body);
	free(other);
	free(m2);

	/* One symbol changed, anywhere, by anyone: mistyped, never a
	 * status. */
	for (i = 0; i < 7; i++) {
		const char *from = i % 2 ? b : a, *fe = i % 2 ? be : ae;
		const char *pos;

		memcpy(bad, c.ticket, 8);
		pos = strchr(alphabet, bad[i]);
		ck_assert_ptr_nonnull(pos);
		bad[i] = alphabet[(pos - alphabet + 1 + i) % 31];
		m2 = outbox_mark();
		text = strf("TT %s", bad);
		sms(from, text);
		free(text);
		assert_kinds(m2, fe, "bad_ticket");
		body = reply(m2, fe, "bad_ticket");
		assert_contains(body, bad);
		assert_lacks(body, unit_name);
		free(body);
		free(m2);
	}

	/* Two neighbours swapped: mistyped too. */
	for (i = 0; i < 6; i++) {
		memcpy(bad, c.ticket, 8);
		if (bad[i] == bad[i + 1])
			continue;
		bad[i] = c.ticket[i + 1];
		bad[i + 1] = c.ticket[i];
		m2 = outbox_mark();
		text = strf("TT %s", bad);
		sms(b, text);
		free(text);
		assert_kinds(m2, be, "bad_ticket");
		free(m2);
	}

	/* Withdrawal by the owner, once. */
	m2 = outbox_mark();
	text = strf("HUY %s", c.ticket);
	sms(b, text);
	assert_kinds(m2, be, "not_found");
	assert_value(cval(&c, "status"), "open");
	sms(a, text);
	assert_value(cval(&c, "status"), "withdrawn");
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint_event "
	                       "WHERE complaint_id = $1::bigint AND event = "
	                       "'withdrawn' AND actor = 'citizen'",
	                       c.id, NULL),
	                 1);
	body = reply(m2, ae, "withdrawn");
	assert_contains(body, c.ticket);
	free(body);
	sms(a, text);
	free(text);
	body = reply(m2, ae, "cannot_withdraw");
	assert_contains(body, c.ticket);
	free(body);
	assert_kinds(m2, ae, "withdrawn,cannot_withdraw");
	assert_value(cval(&c, "status"), "withdrawn");
	assert_short_replies(mark);
	free(m2);
	free(ghost);
	free(unit_name);
	free(mark);
}
END_TEST

/* The ticket number (0..31^6-1) its first 6 symbols spell. */
static long
ticket_number(const char *t)
{
	long x = 0;

	for (int i = 0; i < 6; i++)
		x = x * TICKET_N +
		    (long)(strchr(TICKET_ALPHABET, t[i]) - TICKET_ALPHABET);
	return x;
}

/* The installation's ticket key, as the hex text pakn.setting holds. */
static char *
ticket_key_hex(void)
{
	return qval("SELECT value FROM pakn.setting WHERE name = "
	            "'ticket_key'",
	            NULL);
}

/* Tickets of consecutive complaints show no pattern: the differences of
 * their numbers vary, they share no prefix, none is what the formula of
 * 004 gives; PostgreSQL's permutation is a bijection on 10 000 values
 * and agrees with daemon/ticket.c's for the installation's key. */
START_TEST(test_ticket_unguessable)
{
	char phone[16], *text, *key = ticket_key_hex(), *sql_list;
	char t[21][16];
	long x[21], d[20];
	int distinct = 0, same_first = 1;
	unsigned char k[TICKET_KEY_LEN];
	struct buf c_list;
	PGresult *res;

	ck_assert_msg(key != NULL && strlen(key) == 2 * TICKET_KEY_LEN,
	              "ticket key \"%s\"", key != NULL ? key : "(none)");
	for (int i = 0; i < 21; i++) {
		struct complaint c;

		snprintf(phone, sizeof phone, "09880900%02d", i);
		text = strf("PA den duong hong so %d #00004", i);
		sms(phone, text);
		free(text);
		snprintf(phone, sizeof phone, "+849880900%02d", i);
		newest_complaint(phone, &c);
		snprintf(t[i], sizeof t[i], "%s", c.ticket);
		ck_assert_msg(ticket_valid(t[i]), "ticket %s", t[i]);
		x[i] = ticket_number(t[i]);
		same_first &= t[i][0] == t[0][0];
		/* 004's formula for this complaint's sequence value. */
		ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint c, "
		                       "pakn.ticket_seq s WHERE c.id = "
		                       "$1::bigint AND c.ticket = "
		                       "pakn.ticket_symbols((s.last_value * "
		                       "387420489 + 123456789) % 887503681)",
		                       c.id, NULL),
		                 0);
	}
	for (int i = 0; i < 20; i++) {
		int seen = 0;

		d[i] = ((x[i + 1] - x[i]) % (long)TICKET_SPACE +
		        (long)TICKET_SPACE) %
		       (long)TICKET_SPACE;
		for (int j = 0; j < i; j++)
			seen |= d[j] == d[i];
		distinct += !seen;
	}
	ck_assert_msg(distinct >= 18, "%d distinct differences in 20",
	              distinct);
	ck_assert_msg(!same_first, "21 tickets all start with %c", t[0][0]);

	/* A bijection on 10 000 values: all distinct, all in range. */
	res = q("SELECT count(DISTINCT x), min(x), max(x), string_agg(x::text, "
	        "',' ORDER BY n) FROM (SELECT n, pakn.ticket_permute(n, "
	        "decode($1, 'hex')) x FROM generate_series(1, 10000) n) p",
	        key, NULL);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "10000");
	ck_assert_int_ge(atol(PQgetvalue(res, 0, 1)), 0);
	ck_assert_int_lt(atol(PQgetvalue(res, 0, 2)), (long)TICKET_SPACE);
	sql_list = strdup(PQgetvalue(res, 0, 3));
	PQclear(res);
	/* daemon/ticket.c computes the same with the same key. */
	for (int i = 0; i < TICKET_KEY_LEN; i++)
		ck_assert_int_eq(sscanf(key + 2 * i, "%2hhx", &k[i]), 1);
	buf_init(&c_list);
	for (uint64_t n = 1; n <= 10000; n++)
		buf_printf(&c_list, "%s%llu", n > 1 ? "," : "",
		           (unsigned long long)ticket_permute(k, n));
	ck_assert_msg(strcmp(c_list.data, sql_list) == 0,
	              "C and SQL permutations differ");
	buf_clear(&c_list);
	free(sql_list);
	free(key);
}
END_TEST

/* Start the instance "tickets" on the shared database and wait for it. */
static void
tickets_start(struct paknd *d, int fresh)
{
	if (fresh)
		ck_assert_int_eq(paknd_start(d, "tickets", NULL), 0);
	else
		ck_assert_int_eq(paknd_spawn(d), 0);
	ck_assert_int_eq(paknd_wait_ready(d, 10), 0);
}

/* The ticket key is made once: it survives paknd restarts and another
 * migrate; a complaint keeps its ticket and the citizen still finds it;
 * new tickets collide with none, even when the sequence comes back to a
 * value whose ticket is taken (as a ticket given by 004's formula can
 * be). */
START_TEST(test_ticket_secret_restart)
{
	const char *a = "0988100001", *ae = "+84988100001";
	const char *b = "0988100002", *be = "+84988100002";
	const char *c3 = "0988100003", *ce = "+84988100003";
	char *key = ticket_key_hex(), *key2, *mark, *body, *text;
	struct complaint ca, cb, cc;
	struct paknd d;
	struct ctl ctl;

	ck_assert_ptr_nonnull(key);
	tickets_start(&d, 1);
	sms_to(d.port, a, "PA cot dien do #00004");
	newest_complaint(ae, &ca);
	ck_assert_int_eq(paknd_finish(&d, key, NULL), 0);

	ctl = paknctl("migrate", NULL, NULL, NULL, NULL);
	ck_assert_msg(ctl.status == 0, "paknctl migrate: %s%s", ctl.out,
	              ctl.err);
	ctl_clear(&ctl);
	tickets_start(&d, 0);
	key2 = ticket_key_hex();
	ck_assert_str_eq(key2, key);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint WHERE id = "
	                       "$1::bigint AND ticket = $2",
	                       ca.id, ca.ticket, NULL),
	                 1);
	mark = outbox_mark();
	text = strf("TT %s", ca.ticket);
	sms_to(d.port, a, text);
	free(text);
	body = reply(mark, ae, "status");
	assert_contains(body, ca.ticket);
	free(body);

	sms_to(d.port, b, "PA cay do chan duong #00004");
	newest_complaint(be, &cb);
	ck_assert_str_ne(cb.ticket, ca.ticket);

	/* The sequence comes back one step: its next value's ticket is
	 * cb's. The new complaint gets another ticket, not an error. */
	ck_assert_int_eq(qlong("SELECT setval('pakn.ticket_seq', last_value - "
	                       "1) FROM pakn.ticket_seq",
	                       NULL) > 0,
	                 1);
	sms_to(d.port, c3, "PA nap cong bi mat #00004");
	newest_complaint(ce, &cc);
	ck_assert_str_ne(cc.ticket, cb.ticket);
	ck_assert_str_ne(cc.ticket, ca.ticket);
	ck_assert(ticket_valid(cc.ticket));
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint GROUP BY "
	                       "ticket HAVING count(*) > 1",
	                       NULL),
	                 -1);
	ck_assert_int_eq(paknd_finish(&d, key, NULL), 0);
	free(mark);
	free(key2);
	free(key);
}
END_TEST

/* Send a complaint and return its category and sensitivity. */
static char *
classified(const char *from, const char *e164, const char *text)
{
	struct complaint c;

	sms(from, text);
	newest_complaint(e164, &c);
	return cval(&c, "category_code || ' ' || sensitive");
}

/* Classify by the longest keyword, with or without diacritics. */
START_TEST(test_categories)
{
	static const char *const cases[][3] = {
	    {"PA đường bị ngập nước #00070", "PA duong bi ngap nuoc #00070",
	     "flooding false"},
	    {"PA cán bộ đòi tiền lót tay #00070",
	     "PA can bo doi tien lot tay #00070", "corruption true"},
	    {"PA xin chào #00070", "PA xin chao #00070", "general false"},
	    {"PA ĐƯỜNG BỊ NGẬP NƯỚC #00070", "pa DUONG BI NGAP NUOC #00070",
	     "flooding false"},
	    /* Decomposed (NFD) diacritics, as some phones send them. */
	    {"PA \xc4\x91u\xcc\x9bo\xcc\x9b\xcc\x80ng bi\xcc\xa3 "
	     "nga\xcc\xa3\xcc\x82p nu\xcc\x9bo\xcc\x9b\xcc\x81"
	     "c #00070",
	     "PA Duong Bi Ngap Nuoc #00070", "flooding false"},
	    {"PA ca\xcc\x81n bo\xcc\xa3\xcc\x82 \xc4\x91o\xcc\x80i "
	     "tie\xcc\x82\xcc\x80n lo\xcc\x81t tay #00070",
	     "PA CAN BO DOI TIEN LOT TAY #00070", "corruption true"},
	};
	char *mark = outbox_mark();
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		assert_value(
		    classified("0988050001", "+84988050001", cases[i][0]),
		    cases[i][2]);
		assert_value(
		    classified("0988050002", "+84988050002", cases[i][1]),
		    cases[i][2]);
	}
	ck_assert_int_eq(complaints_of("+84988050001"), 6);
	ck_assert_int_eq(complaints_of("+84988050002"), 6);
	assert_short_replies(mark);
	free(mark);
}
END_TEST

/* Stop non-essential SMS after TU CHOI, still relaying answers. */
START_TEST(test_stop)
{
	const char *a = "0988060001", *ae = "+84988060001";
	const char *ctrl = "0988060002", *ce = "+84988060002";
	const char *answer = "Đã vá ổ gà ngõ 5, mời bà con kiểm tra.";
	struct complaint ca, cc;
	char *mark = outbox_mark(), *m2, *text, *body;

	sms(a, "PA Đường ngõ 5 có ổ gà lớn #00004");
	newest_complaint(ae, &ca);
	sms(ctrl, "PA Đường ngõ 9 có ổ gà lớn #00004");
	newest_complaint(ce, &cc);
	assert_value(cval(&ca, "responsible_unit"), "00004");
	assert_value(cval(&cc, "responsible_unit"), "00004");

	sms(a, "TU CHOI");
	body = reply(mark, ae, "stopped");
	free(body);
	assert_value(qval("SELECT opted_out::text FROM pakn.citizen WHERE "
	                  "msisdn = $1",
	                  ae, NULL),
	             "true");

	m2 = outbox_mark();
	text = strf("TL %s %s", ca.ticket, answer);
	sms(OFFICER, text);
	free(text);
	text = strf("TL %s %s", cc.ticket, answer);
	sms(OFFICER, text);
	free(text);
	assert_value(cval(&ca, "status"), "answered");
	assert_value(cval(&cc, "status"), "answered");

	/* The answer reaches both; the rating question only the one who
	 * did not opt out. */
	body = reply(m2, ae, "answer");
	assert_contains(body, ca.ticket);
	assert_contains(body, answer);
	free(body);
	assert_kinds(m2, ae, "answer");
	assert_kinds(m2, ce, "answer,ask_rating");
	assert_kinds(m2, OFFICER_E164, "official_done,official_done");
	assert_short_replies(mark);
	free(m2);
	free(mark);
}
END_TEST

/* Write the first n characters (not bytes) of src repeated into buf,
 * ending in a letter rather than a space. */
static void
long_text(const char *src, size_t n, char *buf, size_t size)
{
	size_t i = 0, k, out = 0, len = strlen(src);

	for (k = 0; k < n; k++) {
		size_t cl = 1;

		while ((src[(i + cl) % len] & 0xc0) == 0x80)
			cl++;
		ck_assert_uint_lt(out + cl, size - 1);
		if (k == n - 1 && src[i] == ' ') {
			buf[out++] = 'x';
		} else {
			memcpy(buf + out, src + i, cl);
			out += cl;
		}
		i = (i + cl) % len;
	}
	buf[out] = '\0';
}

/* Fail unless a citizen's newest complaint holds text whole and its
 * SMS body is "PA " + text; ask_location queued after mark. */
static void
assert_long_stored(const char *mark, const char *e164, const char *text)
{
	struct complaint c;
	char *sms_body = strf("PA %s", text), *body;

	newest_complaint(e164, &c);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint WHERE "
	                       "id = $1::bigint AND text = $2 AND "
	                       "char_length(text) = 1000",
	                       c.id, text, NULL),
	                 1);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.inbound_message "
	                       "WHERE id = (SELECT inbound_id FROM "
	                       "pakn.complaint WHERE id = $1::bigint) AND "
	                       "body = $2",
	                       c.id, sms_body, NULL),
	                 1);
	body = reply(mark, e164, "ask_location");
	assert_contains(body, c.ticket);
	free(body);
	free(sms_body);
}

/* Answer help and empty SMS; store long complaints whole. */
START_TEST(test_help_and_long)
{
	const char *a = "0988070001", *ae = "+84988070001";
	char *mark = outbox_mark(), *help, *empty, *text;
	char buf[4096];

	sms(a, "HD");
	help = reply(mark, ae, "help");
	assert_contains(help, "PA <nội dung>");
	sms("0988070002", "");
	empty = reply(mark, "+84988070002", "help");
	ck_assert_str_eq(empty, help);
	free(empty);
	free(help);
	ck_assert_int_eq(complaints_of("+84988070002"), 0);

	/* 1000 characters of Vietnamese (1385 bytes), by post-url. */
	long_text("Nước thải từ xưởng chế biến gỗ chảy ra mương gây mùi "
	          "hôi nồng nặc, cá chết hàng loạt. ",
	          1000, buf, sizeof buf);
	ck_assert_int_eq(qlong("SELECT char_length($1)", buf, NULL), 1000);
	text = strf("PA %s", buf);
	sms_post("0988070003", text);
	free(text);
	assert_long_stored(mark, "+84988070003", buf);

	/* 1000 characters without diacritics, by get-url. */
	long_text("Nuoc thai tu xuong che bien go chay ra muong gay mui hoi "
	          "nong nac, ca chet hang loat. ",
	          1000, buf, sizeof buf);
	text = strf("PA %s", buf);
	sms("0988070004", text);
	free(text);
	assert_long_stored(mark, "+84988070004", buf);

	assert_short_replies(mark);
	/* Every reply of the whole suite fits too. */
	assert_short_replies("0");
	free(mark);
}
END_TEST

/* Build the suite, in the order the tests must run. */
static Suite *
complaints_suite(void)
{
	Suite *s = suite_create("complaints");
	TCase *tc;

	tc = tcase(s, "import", 30);
	tcase_add_test(tc, test_import_units);
	tcase_add_test(tc, test_import_units_errors);
	tcase_add_test(tc, test_import_other_errors);
	tcase_add_test(tc, test_token);

	tc = tcase(s, "routing", 20);
	tcase_add_test(tc, test_routing_precedence);

	tc = tcase(s, "location", 20);
	tcase_add_test(tc, test_location_flow);
	tcase_add_test(tc, test_location_code_in_text);

	tc = tcase(s, "tickets", 20);
	tcase_add_test(tc, test_ticket_privacy);
	tcase_add_test(tc, test_ticket_unguessable);
	tcase_add_test(tc, test_ticket_secret_restart);

	tc = tcase(s, "categories", 20);
	tcase_add_test(tc, test_categories);

	tc = tcase(s, "stop", 20);
	tcase_add_test(tc, test_stop);

	tc = tcase(s, "help", 20);
	tcase_add_test(tc, test_help_and_long);
	return s;
}

/* Start the servers, load the sample data, run the suite. */
int
main(void)
{
	struct paknd *d = harness_main();
	SRunner *sr;
	int failed;

	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "complaints: cannot start PostgreSQL\n");
		return 99;
	}
	if (paknd_start(d, "main", NULL) == -1 ||
	    paknd_wait_ready(d, 10) == -1) {
		fprintf(stderr, "complaints: paknd does not start\n");
		return EXIT_FAILURE;
	}
	if (harness_import_samples(harness_main()->conf, 1) == -1)
		return EXIT_FAILURE;
	sr = srunner_create(complaints_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (paknd_finish(d, NULL) == -1)
		failed++;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
