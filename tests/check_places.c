/*
 * check_places.c: places by name and the triage desk (issue 14, first
 * half), end to end against the real paknd and a real PostgreSQL: the
 * commune named in a complaint's text (with or without diacritics and
 * its kind, abbreviated), names from before the 2025 merger (the
 * statistics office's conversion table, config/aliases.sample.csv), a
 * name several communes share answered by a digit (and a digit that is a
 * rating when no choice is pending), `paknctl import-aliases`; the
 * location timeout moving a complaint to the triage desk exactly once
 * with two paknd, a unit sending one back, the desk forwarding it.
 *
 * main() starts one cluster and one paknd, imports the sample units,
 * routing, officials and old names with paknctl, adds the communes named
 * Thanh Sơn and Ba Đình of other provinces, and seeds API tokens; Check
 * forks every test, so the tests share them.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "classify.h"
#include "harness.h"
#include "placespan.h"

#ifndef PAKN_SRCDIR
#define PAKN_SRCDIR "."
#endif

#define SHORTCODE "8079"
/* Citizens' numbers all contain this; no API answer may. */
#define CITIZEN_DIGITS "98722"

#define T_OFF4 "tok-places-officer-00004"
#define T_DESK "tok-places-desk-01"

#define DESK_E164 "+84901000100" /* officer of 01-TTHC, the desk */
#define OFFICER70 "+84901000070" /* officer of 00070 Hoàn Kiếm */
#define DESK_NAME "Trung tâm Phục vụ hành chính công Thành phố Hà Nội"
#define PAKND_EXTRA                                                            \
	"[outbox]\ninterval = 600000\n[deadline]\ninterval = 3600\n"           \
	"location_wait = 48\ndefault_desk = 01-TTHC\n"

static const char *seed_sql[] = {
    "INSERT INTO pakn.official (unit_code, name, phone, role) VALUES"
    " ('00004', 'Cán bộ Ba Đình (API)', '+84900200004', 'officer')",
    "INSERT INTO pakn.api_token (official_id, token_hash)"
    " SELECT o.id, sha256(convert_to(t.token, 'UTF8'))"
    " FROM (VALUES ('+84900200004', '" T_OFF4 "'),"
    " ('" DESK_E164 "', '" T_DESK "')) t (phone, token)"
    " JOIN pakn.official o ON o.phone = t.phone",
    NULL};

/* Communes of other provinces sharing a name with one of Hà Nội's or
 * with each other (the statistics office's 2025 map, letter
 * 1027/CTK-CSCL). */
static const char extra_units[] = "code,name,parent_code,kind\n"
                                  "25,Tỉnh Phú Thọ,,province\n"
                                  "37,Tỉnh Ninh Bình,,province\n"
                                  "38,Tỉnh Thanh Hóa,,province\n"
                                  "75,Tỉnh Đồng Nai,,province\n"
                                  "08542,Xã Thanh Sơn,25,commune\n"
                                  "14434,Xã Thanh Sơn,37,commune\n"
                                  "16171,Xã Ba Đình,38,commune\n"
                                  "26209,Xã Thanh Sơn,75,commune\n";

/* One SMS from a phone to our short code, through Kannel. */
#define sms(from, text)                                                        \
	harness_sms("kannel", "kannel-secret", (from), SHORTCODE, (text))

/* The officials' API on the main paknd: fails unless want, a JSON object
 * without a citizen's number. */
#define api_get(path, token, want)                                             \
	api_call_lacks("GET", (path), (token), NULL, (want), CITIZEN_DIGITS)
#define api_post(path, token, body, want)                                      \
	api_call_lacks("POST", (path), (token), (body), (want), CITIZEN_DIGITS)

/* Fail unless a statement ran; release its result. */
static void
exec_sql(PGresult *res)
{
	ck_assert_ptr_nonnull(res);
	PQclear(res);
}

/* The phone (national form) and E.164 of test citizen n. */
static void
citizen(int n, char phone[16], char e164[16])
{
	snprintf(phone, 16, "09872200%02d", n);
	snprintf(e164, 16, "+849872200%02d", n);
}

/* A column of a complaint as text (NULL as "(null)"), malloc'd. */
static char *
col(const char *id, const char *expr)
{
	char *sql = strf("SELECT coalesce((%s)::text, '(null)') FROM "
	                 "pakn.complaint WHERE id = $1::bigint",
	                 expr);
	char *v = qval(sql, id, NULL);

	free(sql);
	return v;
}

/* The complaint's ledger events, comma-separated. */
static char *
ledger(const char *id)
{
	return qval("SELECT string_agg(event, ',' ORDER BY id) FROM "
	            "pakn.complaint_event WHERE complaint_id = $1::bigint",
	            id, NULL);
}

/* How many SMS of a kind went to a phone about a complaint. */
static long
sms_count(const char *id, const char *msisdn, const char *kind)
{
	return qlong("SELECT count(*) FROM pakn.outbox WHERE complaint_id = "
	             "$1::bigint AND msisdn = $2 AND kind = $3",
	             id, msisdn, kind, NULL);
}

/* The newest SMS of a kind to a phone about a complaint. */
static char *
last_sms(const char *id, const char *msisdn, const char *kind)
{
	return qval("SELECT body FROM pakn.outbox WHERE complaint_id = "
	            "$1::bigint AND msisdn = $2 AND kind = $3 ORDER BY id DESC "
	            "LIMIT 1",
	            id, msisdn, kind, NULL);
}

/* The commune is found by its name in the text: with or without
 * diacritics and its kind, abbreviated, with the province. */
START_TEST(test_names)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    {"PA đèn đường hỏng ở phường Ba Đình", "00004"},
	    {"PA den duong hong o phuong ba dinh", "00004"},
	    {"PA rác chưa thu gom, P. Ba Đình", "00004"},
	    {"PA rac chua thu gom p.ba dinh", "00004"},
	    {"PA PHUONG BA DINH MAT DIEN", "00004"},
	    {"PA ổ gà to ở X. Thanh Sơn, tỉnh Phú Thọ", "08542"},
	    {"PA o ga to xa Thanh Son Ninh Binh", "14434"},
	    {"PA mất điện cả tuần ở Hoàn Kiếm", "00070"},
	    {"PA đặc khu Côn Đảo mất nước", "26732"},
	};
	char phone[16], e164[16], id[24], ticket[16], *body;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		citizen((int)i + 1, phone, e164);
		sms(phone, cases[i].text);
		harness_newest(e164, id, ticket);
		body = col(id, "status || ' ' || location_unit");
		ck_assert_msg(strncmp(body, "open ", 5) == 0 &&
		                  strcmp(body + 5, cases[i].want) == 0,
		              "\"%s\": %s, want open %s", cases[i].text, body,
		              cases[i].want);
		free(body);
		ck_assert_int_eq(sms_count(id, e164, "ack"), 1);
		body = ledger(id);
		assert_contains(body, "received,located,routed");
		free(body);
	}

	/* Asked where, the citizen answers with the name alone. */
	citizen(20, phone, e164);
	sms(phone, "PA đèn đường ngõ 5 hỏng cả tuần");
	harness_newest(e164, id, ticket);
	body = last_sms(id, e164, "ask_location");
	assert_contains(body, "Nhắn tên xã/phường");
	free(body);
	sms(phone, "Hoan Kiem");
	assert_value(col(id, "status || ' ' || location_unit"), "open 00070");
	ck_assert_int_eq(sms_count(id, e164, "ack"), 1);
	/* Prose without a place is asked again, not taken for one. */
	citizen(21, phone, e164);
	sms(phone, "PA cống thoát nước bị tắc");
	harness_newest(e164, id, ticket);
	sms(phone, "Đèn vẫn chưa ai sửa, tối quá");
	assert_value(col(id, "status"), "needs_location");
	ck_assert_int_eq(sms_count(id, e164, "ask_location_again"), 1);
}
END_TEST

/* A name is looked up in the units' indexes whatever plan the session
 * keeps (the processing worker's generic plans were once made without
 * statistics of the units' names, and read every unit for each run of
 * words): looking up names reads pakn.unit by no sequential scan, even
 * on a table this small, where one is cheapest. */
START_TEST(test_names_by_index)
{
	static const char *const texts[] = {
	    "PA den duong hong o phuong Ba Dinh",
	    "PA o ga to xa Thanh Son",
	    "PA mat nuoc o Hoan Kiem",
	};

	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		char *v = sql_value(
		    "WITH g AS MATERIALIZED (SELECT set_config("
		    "'plan_cache_mode', 'force_generic_plan', true)), m AS "
		    "MATERIALIZED (SELECT pakn.place_match($1, false, "
		    "'+84987229999') AS codes FROM g) SELECT "
		    "(cardinality(m.codes) > 0) || ' ' || "
		    "pg_stat_get_xact_numscans('pakn.unit'::regclass) FROM m",
		    texts[i], NULL);

		ck_assert_ptr_nonnull(v);
		ck_assert_msg(strcmp(v, "true 0") == 0,
		              "\"%s\": %s (found, sequential scans of units)",
		              texts[i], v);
		free(v);
	}
}
END_TEST

/* Tokens of the texts the runs of words are compared on: kinds written
 * as citizens write them (full, abbreviated, with diacritics, decomposed
 * as some phones send them), names, numbers, "ở"/"tại", prose. */
static const char *const span_tokens[] = {"o",
                                          "tai",
                                          "ở",
                                          "Tại",
                                          "phuong",
                                          "Phường",
                                          "P.",
                                          "p",
                                          "xa",
                                          "Xã",
                                          "x",
                                          "thi",
                                          "Thị",
                                          "tran",
                                          "trấn",
                                          "TT",
                                          "tt.",
                                          "dac",
                                          "Đặc",
                                          "khu",
                                          "quan",
                                          "Q.",
                                          "huyen",
                                          "Huyện",
                                          "H.",
                                          "thi xa",
                                          "TX.",
                                          "thanh",
                                          "Thành",
                                          "pho",
                                          "phố",
                                          "TP.",
                                          "tinh",
                                          "Tỉnh",
                                          "ba",
                                          "Ba",
                                          "dinh",
                                          "Đình",
                                          "Hoàn",
                                          "Kiếm",
                                          "hoan",
                                          "kiem",
                                          "Thanh",
                                          "Sơn",
                                          "Côn",
                                          "Đảo",
                                          "Trúc",
                                          "Bạch",
                                          "Hàng",
                                          "Bạc",
                                          "12",
                                          "1",
                                          "5",
                                          "so",
                                          "đường",
                                          "ngập",
                                          "nước",
                                          "hỏng",
                                          "PA",
                                          "ĐÌNH",
                                          "phu\xcc\x9bo\xcc\x9b\xcc\x80ng",
                                          "Xa\xcc\x83",
                                          "ð",
                                          "Ǆ",
                                          "ß"};
static const char *const span_seps[] = {" ",  "  ", ", ", ".", "-", "\n",
                                        ". ", "/",  "\t", "(", ")"};

/* Random text n of the corpus (malloc'd): up to 40 tokens. */
static char *
span_text(unsigned *seed)
{
	size_t cap = 1024, len = 0;
	char *t = malloc(cap);
	int n = 1 + (int)(rand_r(seed) % 40);

	t[0] = '\0';
	for (int i = 0; i < n; i++) {
		const char *w =
		    span_tokens[rand_r(seed) %
		                (sizeof span_tokens / sizeof *span_tokens)];
		const char *sp = span_seps[rand_r(seed) % (sizeof span_seps /
		                                           sizeof *span_seps)];

		if (len + strlen(w) + strlen(sp) + 1 > cap)
			break;
		len += (size_t)sprintf(t + len, "%s%s", i ? sp : "", w);
	}
	return t;
}

/* text repeated into a buffer of about size bytes, then tail. */
static char *
span_long(const char *unit, size_t size, const char *tail)
{
	char *t = malloc(size + strlen(unit) + strlen(tail) + 1), *p = t;

	while ((size_t)(p - t) < size)
		p = stpcpy(p, unit);
	strcpy(p, tail);
	return t;
}

/* qsort: strings. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "key|kind" lines of the runs of words the classifier's folding and
 * place_spans find, sorted, "\n"-separated (malloc'd); the keys and the
 * kinds as JSON arrays too when keys is not NULL. */
static char *
spans_c(struct classifier *c, const char *text, char **keys, char **kinds)
{
	char *w = classifier_words(
	    c, text, place_head_bytes(text, strlen(text), PLACE_HEAD_CHARS), 0);
	struct place_span *s;
	size_t n = place_spans(w, &s), len = 1;
	char **lines = calloc(n + 1, sizeof *lines), *out;
	json_t *jk = json_array(), *jt = json_array();

	for (size_t i = 0; i < n; i++) {
		lines[i] = strf("%s|%s", s[i].key, s[i].kind);
		len += strlen(lines[i]) + 1;
		json_array_append_new(jk, json_string(s[i].key));
		json_array_append_new(jt, json_string(s[i].kind));
	}
	qsort(lines, n, sizeof *lines, cmp_str);
	out = calloc(1, len);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			strcat(out, "\n");
		strcat(out, lines[i]);
		free(lines[i]);
	}
	if (keys != NULL) {
		*keys = json_dumps(jk, JSON_COMPACT);
		*kinds = json_dumps(jt, JSON_COMPACT);
	}
	json_decref(jk);
	json_decref(jt);
	free(lines);
	place_spans_free(s, n);
	free(w);
	return out;
}

/* The runs of words paknd hands the processing function (daemon/
 * placespan.c, the classifier's folding) are those pakn.place_spans
 * finds in pakn.place_words(left(text, 2000)), for random texts of
 * kinds, names and separators, the units' and old names, a text of 320
 * words (runs start at the first 300) and texts cut at 2 000 characters
 * of two and three bytes; pakn.place_match_spans given them finds what
 * pakn.place_match finds, and so does pakn.place_named (the batch's)
 * where it does not leave them to it. */
START_TEST(test_spans_as_sql)
{
	char *cause = NULL, *v, *sql_v, *keys = NULL, *kinds = NULL, *named,
	     *one;
	struct classifier *c = classifier_load(test_db(), &cause);
	char *texts[3200];
	size_t n = 0, bad = 0, matched = 0, unnamed = 0;
	unsigned seed = 20261205;
	PGresult *res;

	ck_assert_msg(c != NULL, "classifier_load: %s", cause);
	res = PQexec(
	    test_db(),
	    "SELECT 'o ' || name FROM pakn.unit UNION ALL SELECT "
	    "'PA hỏng ' || kind || ' ' || name || ', ' || name FROM "
	    "pakn.unit UNION ALL SELECT 'tại ' || coalesce(old_name, '') || "
	    "' ' || coalesce(old_district, '') FROM pakn.place_alias "
	    "LIMIT 600");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	for (int i = 0; i < PQntuples(res); i++)
		texts[n++] = strdup(PQgetvalue(res, i, 0));
	PQclear(res);
	ck_assert_int_ge(n, 100);
	texts[n++] = span_long("so o ", 315 * 5, "phuong Ba Dinh x Hoan Kiem");
	texts[n++] = span_long("ở ", 1994 * 3, "phường Ba Đình Hà Nội");
	texts[n++] = span_long("ờ ", 1996 * 4, "Phường Ba Đình");
	texts[n++] = span_long("xa ", 1998, "thi xa Ba Dinh");
	while (n < sizeof texts / sizeof *texts)
		texts[n++] = span_text(&seed);
	for (size_t i = 0; i < n; i++) {
		int match = i < 700 || i % 8 == 0;

		v = spans_c(c, texts[i], match ? &keys : NULL, &kinds);
		sql_v = sql_value(
		    "SELECT coalesce(string_agg(s.key || '|' || s.kind, E'\\n' "
		    "ORDER BY s.key || '|' || s.kind COLLATE \"C\"), '') FROM "
		    "pakn.place_spans(pakn.place_words(left($1, 2000)), false) "
		    "s",
		    texts[i], NULL);
		if (strcmp(v, sql_v) != 0 && bad++ < 5)
			fprintf(stderr,
			        "spans of \"%.200s\":\nC:\n%s\nSQL:\n%s\n",
			        texts[i], v, sql_v);
		free(v);
		free(sql_v);
		if (!match)
			continue;
		/* "match spans named[ one]": named is "-" when
		 * pakn.place_named leaves it to pakn.place_match_spans, which
		 * it must not when the names are of one commune or none and
		 * of no old district (" one"). */
		sql_v = sql_value(
		    "WITH k AS (SELECT ARRAY(SELECT jsonb_array_elements_text("
		    "$2::jsonb)) AS keys, ARRAY(SELECT "
		    "jsonb_array_elements_text($3::jsonb)) AS kinds) "
		    "SELECT pakn.place_match($1, false, '+84987229999')::text "
		    "|| ' ' || pakn.place_match_spans($1, k.keys, k.kinds, "
		    "'+84987229999')::text || ' ' || coalesce(f.codes::text, "
		    "'-') || CASE WHEN "
		    "coalesce(cardinality(pakn.place_candidates("
		    "k.keys, k.kinds, NULL)), 0) <= 1 AND NOT EXISTS (SELECT 1 "
		    "FROM unnest(k.keys, k.kinds) s (k, t) JOIN "
		    "pakn.place_alias "
		    "a ON a.district_key = s.k WHERE s.t IN ('quan', 'huyen', "
		    "'thi xa', 'thanh pho')) THEN ' one' ELSE '' END FROM k, "
		    "pakn.place_named(k.keys, k.kinds) f",
		    texts[i], keys, kinds, NULL);
		v = strchr(sql_v, ' ');
		ck_assert_ptr_nonnull(v);
		named = strchr(v + 1, ' ');
		ck_assert_ptr_nonnull(named);
		*named++ = '\0';
		if ((one = strstr(named, " one")) != NULL)
			*one = '\0';
		if (strcmp(named, "-") == 0 && one != NULL && bad++ < 5)
			fprintf(stderr, "pakn.place_named left \"%.200s\"\n",
			        texts[i]);
		if (strcmp(named, "-") == 0)
			unnamed++;
		else if (strcmp(named, v + 1) != 0 && bad++ < 5)
			fprintf(stderr,
			        "pakn.place_named of \"%.200s\": %s %s\n",
			        texts[i], v + 1, named);
		if (strlen(v + 1) != (size_t)(v - sql_v) ||
		    strncmp(sql_v, v + 1, (size_t)(v - sql_v)) != 0) {
			if (bad++ < 5)
				fprintf(stderr, "place of \"%.200s\": %s\n",
				        texts[i], sql_v);
		} else if (strcmp(v + 1, "{}") != 0)
			matched++;
		free(sql_v);
		free(keys);
		free(kinds);
	}
	for (size_t i = 0; i < n; i++)
		free(texts[i]);
	classifier_free(c);
	ck_assert_msg(bad == 0, "%zu of %zu texts differ", bad, n);
	/* The names did find their places; some (several communes, an
	 * old district) were left to pakn.place_match_spans. */
	ck_assert_uint_ge(matched, 100);
	ck_assert_msg(unnamed >= 10 && unnamed < matched, "%zu left of %zu",
	              unnamed, matched);
}
END_TEST

/* Names from before the 2025 merger, from the statistics office's
 * conversion table: an old ward merged whole, an old ward with its old
 * district, an old district made a special zone; an old ward split
 * between two new ones asks which. */
START_TEST(test_legacy)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
	    /* 00004 Phường Trúc Bạch, Quận Ba Đình: Nhập toàn bộ. */
	    {"PA vỉa hè bị lấn chiếm ở phường Trúc Bạch", "00004"},
	    /* 00061 Phường Hàng Bạc, Quận Hoàn Kiếm: Nhập toàn bộ. */
	    {"PA den duong hong o phuong Hang Bac, quan Hoan Kiem", "00070"},
	    /* Huyện Côn Đảo became Đặc khu Côn Đảo. */
	    {"PA bến tàu hỏng ở huyện Côn Đảo", "26732"},
	};
	char phone[16], e164[16], id[24], ticket[16], *body;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		citizen((int)i + 30, phone, e164);
		sms(phone, cases[i].text);
		harness_newest(e164, id, ticket);
		body = col(id, "status || ' ' || location_unit");
		ck_assert_msg(strncmp(body, "open ", 5) == 0 &&
		                  strcmp(body + 5, cases[i].want) == 0,
		              "\"%s\": %s, want open %s", cases[i].text, body,
		              cases[i].want);
		free(body);
	}

	/* 00028 Phường Kim Mã went partly to Ba Đình, partly to Ngọc Hà. */
	citizen(35, phone, e164);
	sms(phone, "PA nước ngập ở phường Kim Mã");
	harness_newest(e164, id, ticket);
	assert_value(col(id, "status"), "needs_location");
	body = last_sms(id, e164, "ask_place_choice");
	assert_contains(body, "1 P.Ba Đình (Hà Nội), 2 P.Ngọc Hà (Hà Nội)");
	free(body);
	sms(phone, "2");
	assert_value(col(id, "status || ' ' || location_unit"), "open 00008");
}
END_TEST

/* A name three communes share: one SMS (two parts at most) lists them
 * by number; a digit past the list asks again; the digit completes it.
 * A bare name shared by a ward and a commune the same way. */
START_TEST(test_choice)
{
	char phone[16], e164[16], id[24], ticket[16], *body, *want;

	citizen(40, phone, e164);
	sms(phone, "PA cầu tạm qua suối bị sập ở xã Thanh Sơn");
	harness_newest(e164, id, ticket);
	assert_value(col(id, "status"), "needs_location");
	body = last_sms(id, e164, "ask_place_choice");
	want = strf("Phản ánh %s: có 3 xã/phường tên này. Nhắn số để chọn: "
	            "1 X.Thanh Sơn (Phú Thọ), 2 X.Thanh Sơn (Ninh Bình), 3 "
	            "X.Thanh Sơn (Đồng Nai). Hoặc gửi mã xã/phường.",
	            ticket);
	ck_assert_str_eq(body, want);
	free(want);
	free(body);
	/* Folded to GSM-7 (replies without diacritics), two parts. */
	ck_assert_int_le(qlong("SELECT length(body) FROM pakn.outbox WHERE "
	                       "complaint_id = $1::bigint AND kind = "
	                       "'ask_place_choice'",
	                       id, NULL),
	                 2 * 153);
	sms(phone, "5");
	assert_value(col(id, "status"), "needs_location");
	ck_assert_int_eq(sms_count(id, e164, "ask_place_choice"), 2);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.rating WHERE "
	                       "msisdn = $1",
	                       e164, NULL),
	                 0);
	sms(phone, "2");
	assert_value(col(id, "status || ' ' || location_unit || ' ' || "
	                     "responsible_unit"),
	             "open 14434 14434");
	assert_value(ledger(id), "received,place_asked,place_asked,located,"
	                         "routed,assigned");
	assert_value(qval("SELECT chosen FROM pakn.place_choice WHERE "
	                  "complaint_id = $1::bigint",
	                  id, NULL),
	             "14434");
	ck_assert_int_eq(sms_count(id, e164, "ack"), 1);

	/* "Ba Dinh" alone: Phường Ba Đình (Hà Nội), Xã Ba Đình (Thanh
	 * Hóa). */
	citizen(41, phone, e164);
	sms(phone, "PA nước sinh hoạt bị đục");
	harness_newest(e164, id, ticket);
	sms(phone, "Ba Dinh");
	body = last_sms(id, e164, "ask_place_choice");
	assert_contains(body, "1 P.Ba Đình (Hà Nội), 2 X.Ba Đình (Thanh Hóa)");
	free(body);
	sms(phone, "1");
	assert_value(col(id, "status || ' ' || location_unit"), "open 00004");
}
END_TEST

/* POST an answer as the officer of 00004. */
static void
answer(const char *ticket)
{
	char *path = strf("/v1/complaints/%s/answer", ticket);

	json_decref(api_post(path, T_OFF4, "{\"text\": \"Đã vá xong.\"}", 200));
	free(path);
}

/* A digit answers the place question only while it is pending and newer
 * than an open rating question; otherwise it still rates. */
START_TEST(test_digit_rating)
{
	char phone[16], e164[16], a[24], ta[16], b[24], tb[16];

	/* Rating asked first, then the place question: the digit chooses,
	 * the next one rates. */
	citizen(50, phone, e164);
	sms(phone, "PA ổ gà trước nhà #00004");
	harness_newest(e164, a, ta);
	answer(ta);
	sms(phone, "PA cầu hỏng ở xã Thanh Sơn");
	harness_newest(e164, b, tb);
	sms(phone, "3");
	assert_value(col(b, "status || ' ' || location_unit"), "open 26209");
	assert_value(col(a, "status"), "answered");
	sms(phone, "5");
	assert_value(col(a, "status || ' ' || close_reason"),
	             "closed confirmed");
	assert_value(qval("SELECT score::text FROM pakn.rating WHERE "
	                  "complaint_id = $1::bigint",
	                  a, NULL),
	             "5");

	/* The place question first, then the rating question: the digit
	 * rates; the place question is still pending for the next. */
	citizen(51, phone, e164);
	sms(phone, "PA ổ gà trước nhà #00004");
	harness_newest(e164, a, ta);
	sms(phone, "PA cầu hỏng ở xã Thanh Sơn");
	harness_newest(e164, b, tb);
	answer(ta);
	sms(phone, "4");
	assert_value(col(a, "status"), "closed");
	assert_value(col(b, "status"), "needs_location");
	sms(phone, "1");
	assert_value(col(b, "status || ' ' || location_unit"), "open 08542");
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.rating WHERE "
	                       "msisdn = $1",
	                       e164, NULL),
	                 1);
}
END_TEST

/* paknctl import-aliases: a bad file names its line and imports
 * nothing; a good one adds names at once. */
START_TEST(test_import_aliases)
{
	char *bad = write_tmp("places-bad.csv",
	                      "code,old_name,old_district\n"
	                      "00082,Phường Cột Cờ,Quận Hoàn Kiếm\n"
	                      "99999,Phường Không Có,Quận Hoàn Kiếm\n");
	char *empty =
	    write_tmp("places-empty.csv", "code,old_name,old_district\n"
	                                  "00082,,\n");
	char *nocode = write_tmp("places-nocode.csv", "old_name\nPhường X\n");
	char *good = write_tmp("places-good.csv",
	                       "code,old_name,old_district,source\n"
	                       "00082,Phường Cột Cờ,Quận Hoàn Kiếm,kiểm thử\n");
	char phone[16], e164[16], id[24], ticket[16];
	struct ctl c;

	harness_expect_pg("ERROR:  line ");
	c = paknctl("import-aliases", bad, NULL);
	ctl_assert_exit(&c, 1);
	assert_contains(c.err, "line 3: unknown unit 99999");
	ctl_clear(&c);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.place_alias WHERE "
	                       "old_name = 'Phường Cột Cờ'",
	                       NULL),
	                 0);
	c = paknctl("import-aliases", empty, NULL);
	ctl_assert_exit(&c, 1);
	assert_contains(c.err, "line 2: old_name and old_district are both "
	                       "empty");
	ctl_clear(&c);
	c = paknctl("import-aliases", nocode, NULL);
	ctl_assert_exit(&c, 1);
	assert_contains(c.err, "line 1: missing column code");
	ctl_clear(&c);

	c = paknctl("import-aliases", good, NULL);
	ctl_assert_exit(&c, 0);
	assert_contains(c.out, "1 row: 1 new, 0 updated");
	ctl_clear(&c);
	citizen(60, phone, e164);
	sms(phone, "PA vỉa hè phường Cột Cờ bị lấn chiếm");
	harness_newest(e164, id, ticket);
	assert_value(col(id, "location_unit"), "00082");
	free(bad);
	free(empty);
	free(nocode);
	free(good);
}
END_TEST

/* Signal n instances at once with SIGUSR2 and wait until each has done
 * its triage desk step. */
static void
deadline_round(struct paknd *const *ds, int n)
{
	size_t off[2];
	int i;

	for (i = 0; i < n; i++)
		off[i] = file_size(ds[i]->log);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(paknd_signal(ds[i], SIGUSR2), 0);
	for (i = 0; i < n; i++)
		ck_assert_msg(log_wait(ds[i]->log, off[i],
		                       "deadline: triage desk", 30) == 0,
		              "paknd %s did no triage desk step", ds[i]->name);
}

/* Complaints still without a place after location_wait hours go to the
 * triage desk, counted as received there, exactly once though two
 * paknd run the worker; the desk sees them. */
START_TEST(test_timeout_desk)
{
	char phone[16], e164[16], e[24], te[16], f[24], tf[16], g[24], tg[16];
	char f164[16], *body, *path;
	struct paknd d2, *ds[2] = {harness_main(), &d2};
	json_t *j;
	int seen = 0;

	citizen(70, phone, e164);
	sms(phone, "PA hỏi về thủ tục giấy tờ nhà đất");
	harness_newest(e164, e, te);
	/* One whose last located complaint was in Hồ Chí Minh City. */
	citizen(71, phone, f164);
	sms(phone, "PA ổ gà trước chợ #26740");
	sms(phone, "PA nhờ xem giúp việc nhà tôi với");
	harness_newest(f164, f, tf);
	citizen(72, phone, e164);
	sms(phone, "PA mới gửi, chưa quá hạn chờ");
	harness_newest(e164, g, tg);
	exec_sql(q("UPDATE pakn.complaint SET created_at = "
	           "created_at - interval '49 hours' WHERE id IN "
	           "($1::bigint, $2::bigint)",
	           e, f, NULL));

	ck_assert_int_eq(paknd_config(&d2, "second", "pakn", 0, PAKND_EXTRA),
	                 0);
	ck_assert_int_eq(paknd_spawn(&d2), 0);
	ck_assert_int_eq(paknd_wait_ready(&d2, 10), 0);
	deadline_round(ds, 2);
	deadline_round(ds, 2);

	citizen(70, phone, e164);
	assert_value(col(e, "status || ' ' || responsible_unit || ' ' || "
	                    "desk_reason || ' ' || (location_unit IS NULL)"),
	             "open 01-TTHC no_place true");
	assert_value(col(f, "responsible_unit"), "79-TTHC");
	assert_value(col(g, "status"), "needs_location");
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint_event "
	                       "WHERE complaint_id = $1::bigint AND event = "
	                       "'routed'",
	                       e, NULL),
	                 1);
	ck_assert_int_eq(sms_count(e, e164, "desk_no_place"), 1);
	ck_assert_int_eq(sms_count(e, DESK_E164, "new_complaint"), 1);
	body = last_sms(e, e164, "desk_no_place");
	assert_contains(body, DESK_NAME);
	assert_contains(body, te);
	free(body);
	/* Counted as received by the desk, once. */
	ck_assert_int_eq(qlong("SELECT sum(d.received) FROM "
	                       "pakn.complaint_event x, pakn.stat_of_event(x) "
	                       "d WHERE x.complaint_id = $1::bigint AND "
	                       "d.unit_code = '01-TTHC'",
	                       e, NULL),
	                 1);
	ck_assert_int_eq(paknd_finish(&d2, "tok-", NULL), 0);

	/* The desk's queue, with why each complaint is there. */
	j = api_get("/v1/desk", T_DESK, 200);
	ck_assert_str_eq(jstr(j, "desks.0.code"), "01-TTHC");
	for (size_t i = 0; i < json_array_size(jget(j, "complaints")); i++) {
		json_t *x = json_array_get(jget(j, "complaints"), i);
		ck_assert_str_ne(jstr(x, "ticket"), tf);
		if (!strcmp(jstr(x, "ticket"), te)) {
			ck_assert_str_eq(jstr(x, "desk.reason"), "no_place");
			seen = 1;
		}
	}
	ck_assert(seen);
	json_decref(j);
	/* An officer of a commune has no desk. */
	j = api_get("/v1/desk", T_OFF4, 200);
	ck_assert_int_eq(json_array_size(jget(j, "desks")), 0);
	json_decref(j);
	path = strf("/v1/complaints/%s", te);
	json_decref(api_get(path, T_OFF4, 404));
	free(path);
}
END_TEST

/* A unit sends a complaint back to the desk with its reason. */
START_TEST(test_send_back)
{
	char phone[16], e164[16], id[24], ticket[16], *path, *body;
	json_t *j;
	int seen = 0;

	citizen(80, phone, e164);
	sms(phone, "PA ổ gà lớn đầu ngõ 9 #00004");
	harness_newest(e164, id, ticket);
	assert_value(col(id, "responsible_unit"), "00004");
	path = strf("/v1/complaints/%s/send_back", ticket);
	json_decref(api_post(path, T_OFF4, "{}", 400));
	json_decref(api_post(path, T_DESK, "{\"reason\": \"x\"}", 404));
	json_decref(api_post(path, T_OFF4,
	                     "{\"reason\": \"Đường do Sở Xây dựng quản lý\"}",
	                     200));
	assert_value(col(id, "status || ' ' || responsible_unit || ' ' || "
	                     "desk_reason || ' ' || desk_note"),
	             "open 01-TTHC sent_back Đường do Sở Xây dựng quản lý");
	assert_value(ledger(id), "received,routed,assigned,sent_back,"
	                         "transferred");
	body = last_sms(id, DESK_E164, "desk_sent_back");
	assert_contains(body, "Phường Ba Đình");
	assert_contains(body, "Đường do Sở Xây dựng quản lý");
	free(body);
	/* Out of the unit's reach now, in the desk's queue. */
	json_decref(api_post(path, T_OFF4, "{\"reason\": \"again\"}", 404));
	j = api_get("/v1/desk", T_DESK, 200);
	for (size_t i = 0; i < json_array_size(jget(j, "complaints")); i++) {
		json_t *x = json_array_get(jget(j, "complaints"), i);
		if (!strcmp(jstr(x, "ticket"), ticket)) {
			ck_assert_str_eq(jstr(x, "desk.reason"), "sent_back");
			ck_assert_str_eq(jstr(x, "desk.note"),
			                 "Đường do Sở Xây dựng quản lý");
			seen = 1;
		}
	}
	ck_assert(seen);
	json_decref(j);
	/* The desk cannot send back to itself. */
	json_decref(api_post(path, T_DESK, "{\"reason\": \"x\"}", 409));
	free(path);
}
END_TEST

/* The desk sets place and category and forwards: ledgered, due from the
 * forwarding, the citizen and the unit told; a complaint that fits no
 * category comes to the desk even with its place. */
START_TEST(test_forward)
{
	char phone[16], e164[16], id[24], ticket[16], *path, *body;

	citizen(90, phone, e164);
	sms(phone, "PA nhờ xem giúp việc nhà tôi với");
	harness_newest(e164, id, ticket);
	exec_sql(q("UPDATE pakn.complaint SET created_at = "
	           "created_at - interval '49 hours' WHERE id = "
	           "$1::bigint",
	           id, NULL));
	/* Two desks, no default, nothing else places it: it waits. */
	ck_assert_int_ge(
	    qlong("SELECT stuck FROM pakn.desk_run(48, '', 100)", NULL), 1);
	assert_value(col(id, "status"), "needs_location");
	exec_sql(q("SELECT pakn.desk_run(48, '01-TTHC', 100)", NULL));
	assert_value(col(id, "responsible_unit || ' ' || triage"),
	             "01-TTHC true");
	path = strf("/v1/complaints/%s/forward", ticket);
	json_decref(api_post(path, T_OFF4, "{\"place\": \"00070\"}", 404));
	json_decref(api_post(path, T_DESK, "{}", 400));
	json_decref(api_post(path, T_DESK, "{\"place\": \"00070\"}", 400));
	json_decref(api_post(path, T_DESK,
	                     "{\"place\": \"01-SYT\", \"category\": \"waste\"}",
	                     400));
	json_decref(api_post(path, T_DESK,
	                     "{\"place\": \"00070\", \"category\": \"waste\", "
	                     "\"reason\": \"rác ở chợ Hàng Bè\"}",
	                     200));
	assert_value(col(id, "status || ' ' || location_unit || ' ' || "
	                     "responsible_unit || ' ' || category_code || ' ' "
	                     "|| triage || ' ' || (desk_reason IS NULL)"),
	             "open 00070 00070 waste false true");
	assert_value(ledger(id), "received,routed,assigned,classified,located,"
	                         "transferred,forwarded");
	/* The deadline counts from the forwarding. */
	assert_value(col(id, "due_at = pakn.due_at('waste', (SELECT e.at FROM "
	                     "pakn.complaint_event e WHERE e.complaint_id = "
	                     "complaint.id AND e.event = 'forwarded'))"),
	             "true");
	body = last_sms(id, e164, "forwarded");
	assert_contains(body, "Phường Hoàn Kiếm");
	free(body);
	ck_assert_int_eq(sms_count(id, OFFICER70, "new_complaint"), 1);
	/* The ledger alone rebuilds the row. */
	assert_value(col(id,
	                 "(SELECT (r.status, r.responsible_unit, "
	                 "r.location_unit, r.due_at) = (complaint.status, "
	                 "complaint.responsible_unit, complaint.location_unit, "
	                 "complaint.due_at) FROM "
	                 "pakn.complaint_replay(complaint.id) r)"),
	             "true");
	json_decref(api_post(path, T_DESK, "{\"place\": \"00070\"}", 404));
	free(path);

	/* Fits no category, place given: to the desk, which files it. */
	citizen(91, phone, e164);
	sms(phone, "PA nhờ xã xem giúp việc nhà tôi với #00004");
	harness_newest(e164, id, ticket);
	assert_value(col(id, "responsible_unit || ' ' || desk_reason"),
	             "01-TTHC no_category");
	path = strf("/v1/complaints/%s/forward", ticket);
	json_decref(api_post(path, T_DESK,
	                     "{\"category\": \"official_conduct\"}", 200));
	assert_value(col(id, "responsible_unit || ' ' || location_unit"),
	             "00004 00004");
	free(path);
}
END_TEST

/* Build the suite. */
static Suite *
places_suite(void)
{
	Suite *s = suite_create("places");
	TCase *tc;

	/* test_spans_as_sql compares 3 200 texts by SQL: some 25 s under
	 * the sanitizers on an idle machine, over 60 s once on a loaded one
	 * (a fresh clone's check beside benchmark drains, 2026-12-06). */
	tc = tcase(s, "names", 180);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_names_by_index);
	tcase_add_test(tc, test_spans_as_sql);
	tcase_add_test(tc, test_legacy);
	tcase_add_test(tc, test_choice);
	tcase_add_test(tc, test_digit_rating);
	tcase_add_test(tc, test_import_aliases);

	tc = tcase(s, "desk", 90);
	tcase_add_test(tc, test_timeout_desk);
	tcase_add_test(tc, test_send_back);
	tcase_add_test(tc, test_forward);
	return s;
}

/* Seed units, routing, officials, old names and tokens. */
static int
seed(void)
{
	char path[PATH_MAX];
	FILE *f;

	if (harness_import_samples(NULL, 1) == -1 ||
	    harness_import(NULL, "aliases",
	                   PAKN_SRCDIR "/config/aliases.sample.csv") == -1)
		return -1;
	harness_path(path, sizeof path, "places-units.csv");
	if ((f = fopen(path, "w")) == NULL || fputs(extra_units, f) == EOF ||
	    fclose(f) != 0 || harness_import(NULL, "units", path) == -1)
		return -1;
	return harness_sql(seed_sql);
}

/* Start the servers, seed them, run the suite, check how paknd ended. */
int
main(void)
{
	struct paknd *d = harness_main();
	SRunner *sr;
	int failed;

	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "check_places: cannot start PostgreSQL\n");
		return 99;
	}
	/* No outbox passes: the SMS stay queued for the tests to read; the
	 * deadline worker only on SIGUSR2. */
	if (paknd_start(d, "main", PAKND_EXTRA) == -1 ||
	    paknd_wait_ready(d, 10) == -1 || seed() == -1) {
		fprintf(stderr, "check_places: paknd does not start\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(places_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (paknd_finish(d, "tok-", NULL) == -1)
		failed++;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
