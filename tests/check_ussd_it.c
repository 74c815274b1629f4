/*
 * check_ussd_it.c: the USSD menus end to end, over HTTP against the real
 * paknd and a real PostgreSQL, the way Africa's Talking drives them:
 * every step POSTs the whole input so far in `text`. Each test asserts
 * what the citizen sees (every screen checked for its prefix and length)
 * and what was stored: complaints, their routing and ledger, the SMS
 * acknowledgement, ratings, the home commune, the session.
 *
 * main() starts one cluster and three paknd on it: "main", "second" (the
 * other instance of a pair serving one session) and "short" (sessions
 * expire after 1 s, menus with diacritics).
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include <check.h>

#include "harness.h"

#define AT_TOKEN  "at-secret"
#define USSD_PATH "/v1/gw/at/ussd?token=" AT_TOKEN
#define USSD_MAX  182

static struct paknd second, shortd;

/* The units the tests file complaints in. */
static const char units_sql[] =
    "INSERT INTO pakn.unit (code, name, parent_code, kind) VALUES "
    "('01', 'Thành phố Hà Nội', NULL, 'province'), "
    "('00004', 'Phường Ba Đình', '01', 'commune'), "
    "('00007', 'Phường Ngọc Hà', '01', 'commune'), "
    "('00008', 'Phường Giảng Võ', '01', 'commune')";

/* Count the characters of UTF-8 text. */
static int
chars(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* One step on an instance: POST the form, check the answer's form and
 * return its body (malloc'd). */
static char *
step_on(int port, const char *session, const char *phone, const char *text)
{
	const char *kv[] = {"sessionId",   session, "serviceCode", "*384*7#",
	                    "phoneNumber", phone,   "networkCode", "45204",
	                    "text",        text,    NULL};
	char *body = form_encode(kv), *answer;
	struct http_resp r;

	http_request(port, "POST", USSD_PATH, NULL, body, strlen(body), &r);
	free(body);
	ck_assert_msg(r.status == 200, "step \"%s\": HTTP %ld: %s%s", text,
	              r.status, r.body, r.err);
	ck_assert_msg(r.ctype != NULL &&
	                  !strncasecmp(r.ctype, "text/plain", 10),
	              "Content-Type %s", r.ctype ? r.ctype : "(none)");
	ck_assert_msg(!strncmp(r.body, "CON ", 4) ||
	                  !strncmp(r.body, "END ", 4),
	              "step \"%s\": no CON/END: \"%s\"", text, r.body);
	ck_assert_msg(chars(r.body + 4) <= USSD_MAX,
	              "step \"%s\": %d characters: \"%s\"", text,
	              chars(r.body + 4), r.body);
	answer = strdup(r.body);
	http_resp_free(&r);
	return answer;
}

/* One step on the shared instance. */
static char *
step(const char *session, const char *phone, const char *text)
{
	return step_on(harness_main()->port, session, phone, text);
}

/* Fail unless a string contains a substring. */
#define assert_has(hay, needle)                                                \
	do {                                                                   \
		const char *h_ = (hay);                                        \
		ck_assert_msg(h_ != NULL && strstr(h_, (needle)) != NULL,      \
		              "\"%s\" lacks \"%s\"", h_ ? h_ : "(null)",       \
		              (needle));                                       \
	} while (0)

/* A step whose answer must contain want; the answer is freed. */
static void
expect_on(int port, const char *session, const char *phone, const char *text,
          const char *want)
{
	char *a = step_on(port, session, phone, text);

	assert_has(a, want);
	free(a);
}

/* A step on the shared instance whose answer must contain want. */
static void
expect(const char *session, const char *phone, const char *text,
       const char *want)
{
	expect_on(harness_main()->port, session, phone, text, want);
}

/* The number a list screen gives to a label ("\n3 Label"), as a string. */
static char *
item_no(const char *screen, const char *label)
{
	char *want = strf(" %s\n", label), *hit, *line;

	hit = strstr(screen, want);
	if (hit == NULL) {
		free(want);
		want = strf(" %s", label);
		hit = strstr(screen, want);
	}
	ck_assert_msg(hit != NULL, "\"%s\" lacks item %s", screen, label);
	for (line = hit; line > screen && line[-1] != '\n'; line--)
		;
	free(want);
	return strndup(line, (size_t)(hit - line));
}

/* text + "*" + more, as the gateway accumulates inputs. */
static char *
join(const char *text, const char *more)
{
	return *text != '\0' ? strf("%s*%s", text, more) : strdup(more);
}

/* Walk to the category list of dimension 6 and pick label (the commune
 * question comes next): returns the text so far ("1*6*N"). */
static char *
to_category(int port, const char *sid, const char *phone, const char *label)
{
	char *a, *no, *text;

	free(step_on(port, sid, phone, ""));
	expect_on(port, sid, phone, "1", "Chon linh vuc:");
	a = step_on(port, sid, phone, "1*6");
	assert_has(a, "CON Chon van de:");
	no = item_no(a, label);
	text = strf("1*6*%s", no);
	expect_on(port, sid, phone, text, "CON Xa/phuong noi xay ra:");
	free(no);
	free(a);
	return text;
}

/* The ticket in an END answer ("... ma K7M4Q9X."). */
static char *
ticket_of(const char *answer)
{
	const char *p = strstr(answer, "ma ");

	ck_assert_msg(p != NULL && strlen(p) >= 10, "no ticket in \"%s\"",
	              answer);
	return strndup(p + 3, 7);
}

/* File a complaint about the roads in the phone's home commune on the
 * instance at port; return the ticket. */
static char *
file_complaint_on(int port, const char *sid, const char *phone,
                  const char *words)
{
	char *text = to_category(port, sid, phone, "Duong giao thong");
	char *t1 = join(text, "1"), *t2 = join(t1, words), *t3 = join(t2, "1");
	char *a, *ticket;

	expect_on(port, sid, phone, t1, "Nhap noi dung phan anh:");
	expect_on(port, sid, phone, t2, "Gui phan anh?");
	a = step_on(port, sid, phone, t3);
	assert_has(a, "END Da nhan phan anh, ma ");
	ticket = ticket_of(a);
	free(a);
	free(text);
	free(t1);
	free(t2);
	free(t3);
	return ticket;
}

/* The same on the shared instance. */
static char *
file_complaint(const char *sid, const char *phone, const char *words)
{
	return file_complaint_on(harness_main()->port, sid, phone, words);
}

/* Give a phone a home commune. */
static void
set_home(const char *phone, const char *unit)
{
	ck_assert_int_eq(
	    sql_long("INSERT INTO pakn.citizen (msisdn, home_unit) "
	             "VALUES ($1, $2) ON CONFLICT (msisdn) DO "
	             "UPDATE SET home_unit = $2 RETURNING 1",
	             phone, unit, NULL),
	    1);
}

/* New complaint: dimension, category, registered commune, text,
 * confirm; stored, routed, in the ledger and acknowledged by SMS. */
START_TEST(test_complaint)
{
	const char *phone = "+84912000001", *sid = "it-complaint";
	char *ticket, *v;
	PGresult *res;

	set_home(phone, "00004");
	expect(sid, phone, "", "CON Phan anh, kien nghi\n1 Gui phan anh");
	ticket = file_complaint(sid, phone, "Duong lien thon hong nang");
	res = sql_query("SELECT category_code, dimension, location_unit, "
	                "responsible_unit, status, text, gateway, inbound_id "
	                "IS NULL FROM pakn.complaint WHERE ticket = $1 AND "
	                "msisdn = $2",
	                ticket, phone, NULL);
	ck_assert_int_eq(PQntuples(res), 1);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "roads");
	ck_assert_str_eq(PQgetvalue(res, 0, 1), "6");
	ck_assert_str_eq(PQgetvalue(res, 0, 2), "00004");
	ck_assert_str_eq(PQgetvalue(res, 0, 3), "00004");
	ck_assert_str_eq(PQgetvalue(res, 0, 4), "open");
	ck_assert_str_eq(PQgetvalue(res, 0, 5), "Duong lien thon hong nang");
	ck_assert_str_eq(PQgetvalue(res, 0, 6), "at");
	ck_assert_str_eq(PQgetvalue(res, 0, 7), "t");
	PQclear(res);
	v = sql_value("SELECT string_agg(e.event || ':' || coalesce(e.detail->>"
	              "'channel', ''), ',' ORDER BY e.id) FROM "
	              "pakn.complaint_event e JOIN pakn.complaint c ON c.id = "
	              "e.complaint_id WHERE c.ticket = $1",
	              ticket, NULL);
	ck_assert_str_eq(v, "received:ussd,routed:,assigned:");
	free(v);
	v = sql_value("SELECT o.body FROM pakn.outbox o JOIN pakn.complaint c "
	              "ON c.id = o.complaint_id WHERE c.ticket = $1 AND "
	              "o.msisdn = $2 AND o.kind = 'ack' AND o.gateway = 'at'",
	              ticket, phone, NULL);
	assert_has(v, ticket);
	assert_has(v, "Phường Ba Đình");
	free(v);
	free(ticket);
}
END_TEST

/* Without a registered commune its code is typed; a wrong one re-shows
 * the question under a reason. */
START_TEST(test_complaint_typed_code)
{
	const char *phone = "+84912000002", *sid = "it-typed";
	char *text = to_category(harness_main()->port, sid, phone, "Nuoc sach");
	char *bad = join(text, "99999"), *good = join(text, "00007");
	char *t = join(good, "Mat nuoc 3 ngay"), *ok = join(t, "1"), *a,
	     *ticket;

	a = step(sid, phone, text);
	assert_has(a, "CON Xa/phuong noi xay ra:\nNhap ma xa/phuong (VD: ");
	free(a);
	expect(sid, phone, bad,
	       "CON Ma xa/phuong khong dung.\nXa/phuong noi xay ra:");
	expect(sid, phone, good, "CON Nhap noi dung phan anh:");
	expect(sid, phone, t, "Nuoc sach, Phuong Ngoc Ha\n\"Mat nuoc 3 ngay\"");
	a = step(sid, phone, ok);
	ticket = ticket_of(a);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.complaint WHERE "
	                          "ticket = $1 AND location_unit = '00007' AND "
	                          "category_code = 'clean_water'",
	                          ticket, NULL),
	                 1);
	free(a);
	free(ticket);
	free(text);
	free(bad);
	free(good);
	free(t);
	free(ok);
}
END_TEST

/* 0 goes back one screen; invalid choices re-show the screen with a
 * reason; the complaint keeps only what was finally chosen. */
START_TEST(test_back_and_invalid)
{
	const char *phone = "+84912000003", *sid = "it-back";
	char *a, *ticket;

	set_home(phone, "00004");
	free(step(sid, phone, ""));
	expect(sid, phone, "7", "CON Chon tu 1 den 4.\nPhan anh, kien nghi");
	expect(sid, phone, "7*1", "CON Chon linh vuc:");
	expect(sid, phone, "7*1*0", "CON Phan anh, kien nghi");
	expect(sid, phone, "7*1*0*1", "CON Chon linh vuc:");
	expect(sid, phone, "7*1*0*1*x",
	       "CON Lua chon khong hop le.\nChon linh vuc:");
	expect(sid, phone, "7*1*0*1*x*9",
	       "CON Lua chon khong hop le.\nChon linh vuc:");
	expect(sid, phone, "7*1*0*1*x*9*4", "CON Chon van de:");
	expect(sid, phone, "7*1*0*1*x*9*4*0", "CON Chon linh vuc:");
	expect(sid, phone, "7*1*0*1*x*9*4*0*3", "CON Chon van de:");
	a = step(sid, phone, "7*1*0*1*x*9*4*0*3*8");
	assert_has(a, "CON Lua chon khong hop le.\nChon van de:");
	free(a);
	expect(sid, phone, "7*1*0*1*x*9*4*0*3*8*1", "Xa/phuong noi xay ra:");
	expect(sid, phone, "7*1*0*1*x*9*4*0*3*8*1*1", "Nhap noi dung");
	expect(sid, phone, "7*1*0*1*x*9*4*0*3*8*1*1*dau tien", "Gui phan anh?");
	expect(sid, phone, "7*1*0*1*x*9*4*0*3*8*1*1*dau tien*0",
	       "CON Nhap noi dung");
	expect(sid, phone,
	       "7*1*0*1*x*9*4*0*3*8*1*1*dau tien*0*Can bo hach dich",
	       "\"Can bo hach dich\"");
	expect(sid, phone,
	       "7*1*0*1*x*9*4*0*3*8*1*1*dau tien*0*Can bo hach dich*5",
	       "CON Lua chon khong hop le.\nGui phan anh?");
	a = step(sid, phone,
	         "7*1*0*1*x*9*4*0*3*8*1*1*dau tien*0*Can bo hach dich*5*1");
	ticket = ticket_of(a);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.complaint WHERE "
	                          "ticket = $1 AND dimension = 3 AND text = "
	                          "'Can bo hach dich'",
	                          ticket, NULL),
	                 1);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.complaint WHERE "
	                          "msisdn = $1",
	                          phone, NULL),
	                 1);
	free(a);
	free(ticket);
}
END_TEST

/* A replayed step gets the same answer and creates nothing twice. */
START_TEST(test_replay)
{
	const char *phone = "+84912000004", *sid = "it-replay";
	char *text, *t1, *t2, *t3, *a, *b;

	set_home(phone, "00004");
	text = to_category(harness_main()->port, sid, phone, "Dien");
	t1 = join(text, "1");
	t2 = join(t1, "Mat dien ca tuan");
	t3 = join(t2, "1");
	a = step(sid, phone, t1);
	b = step(sid, phone, t1);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);
	free(step(sid, phone, t2));
	a = step(sid, phone, t3);
	b = step(sid, phone, t3);
	ck_assert_str_eq(a, b);
	free(b);
	b = step(sid, phone, t2);
	assert_has(b, "CON Gui phan anh?");
	free(b);
	b = step(sid, phone, t3);
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.complaint WHERE "
	                          "msisdn = $1",
	                          phone, NULL),
	                 1);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.outbox WHERE "
	                          "msisdn = $1 AND kind = 'ack'",
	                          phone, NULL),
	                 1);
	free(a);
	free(b);
	free(text);
	free(t1);
	free(t2);
	free(t3);
}
END_TEST

/* Rating the last answered complaint closes it, once. */
START_TEST(test_rate_complaint)
{
	const char *phone = "+84912000005", *sid = "it-rate";
	char *ticket, *a, *b;

	set_home(phone, "00004");
	expect("it-rate-none", phone, "", "CON ");
	expect("it-rate-none", phone, "2", "CON Danh gia:");
	expect("it-rate-none", phone, "2*1",
	       "CON Chua co phan anh nao duoc tra loi.\nDanh gia:");
	ticket = file_complaint("it-rate-file", phone, "Den duong tat");
	ck_assert_int_eq(sql_long("SELECT pakn.complaint_answer(id, 'test', "
	                          "'Da thay bong den', NULL) FROM "
	                          "pakn.complaint WHERE ticket = $1",
	                          ticket, NULL),
	                 2);
	free(step(sid, phone, ""));
	a = step(sid, phone, "2");
	assert_has(a, "1 Phan anh da duoc tra loi ");
	assert_has(a, ticket);
	free(a);
	expect(sid, phone, "2*1", "da duoc giai quyet the nao?\n1 Rat khong");
	expect(sid, phone, "2*1*0", "CON Danh gia:");
	expect(sid, phone, "2*1*0*1", "da duoc giai quyet the nao?");
	expect(sid, phone, "2*1*0*1*7", "CON Chon tu 1 den 5.\nPhan anh ");
	a = step(sid, phone, "2*1*0*1*7*5");
	ck_assert_str_eq(a, "END Cam on ban da danh gia: 5/5.");
	b = step(sid, phone, "2*1*0*1*7*5");
	ck_assert_str_eq(a, b);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.rating r JOIN "
	                          "pakn.complaint c ON c.id = r.complaint_id "
	                          "WHERE c.ticket = $1 AND r.score = 5 AND "
	                          "r.unit_code = '00004' AND c.status = "
	                          "'closed'",
	                          ticket, NULL),
	                 1);
	free(a);
	free(b);
	free(ticket);
}
END_TEST

/* A service of a commune is rated without a complaint. */
START_TEST(test_rate_service)
{
	const char *phone = "+84912000006", *sid = "it-service";
	char *a, *no, *text, *t;

	set_home(phone, "00004");
	free(step(sid, phone, ""));
	expect(sid, phone, "2", "2 Dich vu cong cua xa/phuong");
	a = step(sid, phone, "2*2");
	assert_has(a, "CON Chon dich vu:");
	no = item_no(a, "Tram y te");
	text = strf("2*2*%s", no);
	free(a);
	expect(sid, phone, text, "Dich vu cua xa/phuong:\n1 Phuong Ba Dinh");
	t = join(text, "00008");
	expect(sid, phone, t, "Tram y te, Phuong Giang Vo da duoc giai quyet");
	free(text);
	text = join(t, "4");
	a = step(sid, phone, text);
	ck_assert_str_eq(a, "END Cam on ban da danh gia: 4/5.");
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.rating WHERE "
	                          "msisdn = $1 AND complaint_id IS NULL AND "
	                          "unit_code = '00008' AND dimension = 6 AND "
	                          "service = 'health_station' AND score = 4",
	                          phone, NULL),
	                 1);
	free(a);
	free(no);
	free(text);
	free(t);
}
END_TEST

/* Rate a commune's health station by USSD in a new session; returns the
 * final answer (malloc'd). */
static char *
rate_station(const char *sid, const char *phone, const char *unit,
             const char *score)
{
	char *a, *no, *text, *t, *u;

	free(step(sid, phone, ""));
	free(step(sid, phone, "2"));
	a = step(sid, phone, "2*2");
	no = item_no(a, "Tram y te");
	text = strf("2*2*%s", no);
	free(step(sid, phone, text));
	t = join(text, unit);
	free(step(sid, phone, t));
	u = join(t, score);
	free(a);
	a = step(sid, phone, u);
	free(no);
	free(text);
	free(t);
	free(u);
	return a;
}

/* Issue 14: a second rating of the same service of the same unit by the
 * same phone in a month replaces the first; the statistics count one
 * rating (also after a rebuild), the replaced score is kept for audit. */
START_TEST(test_rerate_service)
{
	const char *phone = "+84912000016", *unit = "00007";
	const char *sums = "SELECT coalesce(sum(ratings), 0) || '/' || "
	                   "coalesce(sum(rating_sum), 0) || '/' || "
	                   "coalesce(sum(satisfied), 0) FROM pakn.stat_day_all "
	                   "WHERE unit_code = $1 AND category = ''";
	char *before, *after, *a;
	long n0 =
	    sql_long("SELECT count(*) FROM pakn.rating WHERE unit_code = $1",
	             unit, NULL);

	set_home(phone, "00004");
	before = sql_value(sums, unit, NULL);
	ck_assert_ptr_nonnull(before);
	a = rate_station("it-rerate-1", phone, unit, "5");
	ck_assert_str_eq(a, "END Cam on ban da danh gia: 5/5.");
	free(a);
	a = rate_station("it-rerate-2", phone, unit, "2");
	ck_assert_str_eq(a, "END Cam on ban da danh gia: 2/5.");
	free(a);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.rating WHERE "
	                          "unit_code = $1",
	                          unit, NULL),
	                 n0 + 1);
	ck_assert_int_eq(sql_long("SELECT score FROM pakn.rating WHERE "
	                          "msisdn = $1 AND unit_code = $2",
	                          phone, unit, NULL),
	                 2);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.rating_replaced x "
	                          "JOIN pakn.rating r ON r.id = x.rating_id "
	                          "WHERE r.msisdn = $1 AND x.score = 5",
	                          phone, NULL),
	                 1);
	/* One rating more than before, scored 2, not satisfied. */
	after = sql_value(sums, unit, NULL);
	{
		long r0, s0, f0, r1, s1, f1;
		ck_assert_int_eq(sscanf(before, "%ld/%ld/%ld", &r0, &s0, &f0),
		                 3);
		ck_assert_int_eq(sscanf(after, "%ld/%ld/%ld", &r1, &s1, &f1),
		                 3);
		ck_assert_msg(r1 == r0 + 1 && s1 == s0 + 2 && f1 == f0,
		              "stats before %s, after %s", before, after);
		free(after);
		ck_assert_int_eq(
		    sql_long("SELECT 1 FROM pakn.rebuild_stats()", NULL), 1);
		after = sql_value(sums, unit, NULL);
		ck_assert_int_eq(sscanf(after, "%ld/%ld/%ld", &r1, &s1, &f1),
		                 3);
		ck_assert_msg(r1 == r0 + 1 && s1 == s0 + 2 && f1 == f0,
		              "after rebuild: before %s, after %s", before,
		              after);
	}
	/* Another phone's rating of the same service counts apart. */
	a = rate_station("it-rerate-3", "+84912000017", unit, "4");
	ck_assert_str_eq(a, "END Cam on ban da danh gia: 4/5.");
	free(a);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.rating WHERE "
	                          "unit_code = $1",
	                          unit, NULL),
	                 n0 + 2);
	free(before);
	free(after);
}
END_TEST

/* Status lists the citizen's open tickets, or says there are none. */
START_TEST(test_status)
{
	const char *phone = "+84912000007";
	char *t1, *t2, *a, *want;

	set_home(phone, "00004");
	expect("it-status-none", phone, "", "CON ");
	expect("it-status-none", phone, "3",
	       "END Ban khong co phan anh nao dang xu ly.");
	t1 = file_complaint("it-status-1", phone, "Mot");
	t2 = file_complaint("it-status-2", phone, "Hai");
	free(step("it-status", phone, ""));
	a = step("it-status", phone, "3");
	want = strf("END Phan anh cua ban:\n%s: dang duoc xu ly, han ", t2);
	assert_has(a, want);
	free(want);
	want = strf("\n%s: dang duoc xu ly, han ", t1);
	assert_has(a, want);
	free(want);
	free(a);
	free(t1);
	free(t2);
}
END_TEST

/* Registering a home commune; the next complaint offers it first. */
START_TEST(test_register)
{
	const char *phone = "+84912000008", *sid = "it-register";
	char *v, *text;

	free(step(sid, phone, ""));
	expect(sid, phone, "4", "CON Nhap ma xa/phuong cua ban (VD: ");
	expect(sid, phone, "4*123", "CON Ma xa/phuong khong dung.\nNhap ma");
	expect(sid, phone, "4*123*01", "CON Ma xa/phuong khong dung.\n");
	expect(sid, phone, "4*123*01*00008",
	       "END Da dang ky xa/phuong: Phuong Giang Vo.");
	v = sql_value("SELECT home_unit FROM pakn.citizen WHERE msisdn = $1",
	              phone, NULL);
	ck_assert_str_eq(v, "00008");
	free(v);
	text =
	    to_category(harness_main()->port, "it-register-2", phone, "Dien");
	expect("it-register-2", phone, text,
	       "Xa/phuong noi xay ra:\n1 Phuong Giang Vo\n");
	free(text);
	expect("it-register-3", phone, "", "CON ");
	expect("it-register-3", phone, "4",
	       "Xa/phuong da dang ky: Phuong Giang Vo\nNhap ma moi");
}
END_TEST

/* An idle session expires and is removed; the menus with diacritics. */
START_TEST(test_expired)
{
	const char *phone = "+84912000009", *sid = "it-expired";
	int port = shortd.port;

	expect_on(port, sid, phone, "",
	          "CON Phản ánh, kiến nghị\n1 Gửi phản ánh");
	expect_on(port, sid, phone, "1", "CON Chọn lĩnh vực:");
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.ussd_session "
	                          "WHERE session_id = $1",
	                          sid, NULL),
	                 1);
	sleep_ms(2500);
	expect_on(port, sid, phone, "1*6",
	          "END Phiên đã hết hạn. Vui lòng quay số lại.");
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.ussd_session "
	                          "WHERE session_id = $1",
	                          sid, NULL),
	                 0);
	expect_on(port, "it-never-started", phone, "1*6",
	          "END Phiên đã hết hạn.");
	expect_on(port, sid, phone, "", "CON Phản ánh, kiến nghị");
}
END_TEST

/* [sms] notice_gather (043) holds the notices of a complaint made in
 * the menus as processing holds an SMS's: on an instance with 5 s, two
 * complaints in a row in a commune with a phone of its own; the
 * second's notice is not queued in its step's transaction (it was,
 * before: USSD notified at once) but held, and sent by a later flush
 * (this instance's, or the others', whose setting is 0). */
START_TEST(test_notices_gathered)
{
	const char *phone = "+84912000031";
	struct paknd g = {0};
	char *t1, *t2;
	long sent = 0;

	ck_assert_int_eq(
	    paknd_config(&g, "gather", "pakn", 0, "[sms]\nnotice_gather = 5\n"),
	    0);
	ck_assert_int_eq(paknd_spawn(&g), 0);
	ck_assert_int_eq(paknd_wait_ready(&g, 10), 0);
	ck_assert_int_eq(sql_long("UPDATE pakn.unit SET phones = "
	                          "'{+84912000099}' WHERE code = '00008' "
	                          "RETURNING 1",
	                          NULL),
	                 1);
	set_home(phone, "00008");
	t1 = file_complaint_on(g.port, "it-gather-1", phone, "Cong tac");
	t2 = file_complaint_on(g.port, "it-gather-2", phone, "Cong van tac");
	/* The first, notified (at once, or held behind an earlier notice). */
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.complaint c "
	                          "WHERE c.ticket = $1 AND (EXISTS (SELECT 1 "
	                          "FROM pakn.outbox o WHERE o.complaint_id = "
	                          "c.id AND o.msisdn = '+84912000099') OR "
	                          "EXISTS (SELECT 1 FROM pakn.notice_held h "
	                          "WHERE c.ticket = ANY (h.tickets)))",
	                          t1, NULL),
	                 1);
	/* The second: nothing to the unit's phone in its own transaction. */
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.outbox o JOIN "
	                          "pakn.complaint c ON c.id = o.complaint_id "
	                          "WHERE c.ticket = $1 AND o.msisdn = "
	                          "'+84912000099' AND o.created_at = "
	                          "c.created_at",
	                          t2, NULL),
	                 0);
	/* Sent later, by a flush: the SMS names it. */
	for (double end = now_secs() + 15; sent == 0 && now_secs() < end;
	     sleep_ms(100))
		sent =
		    sql_long("SELECT count(*) FROM pakn.outbox o, "
		             "pakn.complaint c WHERE c.ticket = $1 AND "
		             "o.msisdn = '+84912000099' AND o.kind LIKE "
		             "'new_complaint%' AND o.body LIKE '%' || "
		             "c.ticket || '%' AND o.created_at > c.created_at",
		             t2, NULL);
	ck_assert_int_eq(sent, 1);
	ck_assert_int_eq(sql_long("UPDATE pakn.unit SET phones = '{}' WHERE "
	                          "code = '00008' RETURNING 1",
	                          NULL),
	                 1);
	ck_assert_int_eq(paknd_finish(&g, NULL), 0);
	free(t1);
	free(t2);
}
END_TEST

/* Two instances serve alternate steps of one session. */
START_TEST(test_two_instances)
{
	const char *phone = "+84912000010", *sid = "it-two";
	int ports[2] = {harness_main()->port, second.port};
	char *a, *text, *next, *ticket;

	set_home(phone, "00007");
	text = to_category(ports[1], sid, phone, "An ninh trat tu");
	expect_on(ports[0], sid, phone, text, "1 Phuong Ngoc Ha");
	next = join(text, "1");
	expect_on(ports[1], sid, phone, next, "Nhap noi dung");
	free(text);
	text = join(next, "Trom cap xe may");
	expect_on(ports[0], sid, phone, text, "Gui phan anh?");
	free(next);
	next = join(text, "1");
	a = step_on(ports[1], sid, phone, next);
	ticket = ticket_of(a);
	free(a);
	a = step_on(ports[0], sid, phone, next);
	assert_has(a, ticket);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.complaint WHERE "
	                          "msisdn = $1 AND category_code = "
	                          "'public_security' AND location_unit = "
	                          "'00007'",
	                          phone, NULL),
	                 1);
	free(a);
	free(ticket);
	free(text);
	free(next);
}
END_TEST

/* How many calls of the database an instance made for USSD steps, by
 * query (begin, advance), from its /metrics. */
static long
queries(int port, const char *query)
{
	char *series = strf("pakn_ussd_queries_total{query=\"%s\"}", query);
	long n = metric_value(port, series);

	free(series);
	return n < 0 ? 0 : n;
}

/* Issue 12: a step is one call of the database when the instance
 * answered the session's last step: a new session, then the menus; a
 * commune code is looked up first (a second call); a session another
 * instance moved on is begun again, and answered right. */
START_TEST(test_one_round_trip)
{
	const char *phone = "+84912000017", *sid = "it-one-trip";
	int port = harness_main()->port;
	long begin = queries(port, "begin"), advance = queries(port, "advance");
	char *text;

	expect(sid, phone, "", "CON Phan anh, kien nghi");
	/* The first step again (the gateway retried): the same screen. */
	expect(sid, phone, "", "CON Phan anh, kien nghi");
	expect(sid, phone, "1", "Chon linh vuc:");
	expect(sid, phone, "1*0", "CON Phan anh, kien nghi");
	expect(sid, phone, "1*0*4", "Nhap ma");
	ck_assert_int_eq(queries(port, "advance") - advance, 5);
	ck_assert_int_eq(queries(port, "begin") - begin, 0);
	/* The code is looked up: two calls. */
	expect(sid, phone, "1*0*4*00008",
	       "END Da dang ky xa/phuong: Phuong Giang Vo");
	ck_assert_int_eq(queries(port, "advance") - advance, 6);
	ck_assert_int_eq(queries(port, "begin") - begin, 1);
	ck_assert_int_eq(sql_long("SELECT step FROM pakn.ussd_session WHERE "
	                          "session_id = $1",
	                          sid, NULL),
	                 5);
	/* Another instance moves a session on; the first, which kept it at
	 * an older step, begins again and shows the right screen. */
	sid = "it-one-trip-2";
	expect_on(port, sid, phone, "", "CON Phan anh");
	expect_on(port, sid, phone, "1", "Chon linh vuc:");
	expect_on(second.port, sid, phone, "1*0", "CON Phan anh");
	begin = queries(port, "begin");
	text = strdup("1*0*3");
	expect_on(port, sid, phone, text, "END ");
	ck_assert_int_eq(queries(port, "begin") - begin, 1);
	ck_assert_int_eq(sql_long("SELECT step FROM pakn.ussd_session WHERE "
	                          "session_id = $1",
	                          sid, NULL),
	                 4);
	free(text);
}
END_TEST

/* Issue 12: paknd keeps the menus, and a change of the services (or
 * categories) reaches the next session's screens without a restart. */
START_TEST(test_menus_change)
{
	const char *phone = "+84912000018";
	char *a;

	free(step("it-menus-1", phone, ""));
	free(step("it-menus-1", phone, "2"));
	a = step("it-menus-1", phone, "2*2");
	ck_assert_msg(strstr(a, "Thu vien") == NULL, "%s", a);
	free(a);
	ck_assert_int_eq(
	    sql_exec_db("pakn", "INSERT INTO pakn.public_service (code, name, "
	                        "dimension, position) VALUES ('library', "
	                        "'Thư viện', 6, 0)"),
	    0);
	free(step("it-menus-2", phone, ""));
	free(step("it-menus-2", phone, "2"));
	a = step("it-menus-2", phone, "2*2");
	assert_has(a, "1 Thu vien");
	free(a);
	ck_assert_int_eq(sql_exec_db("pakn", "DELETE FROM pakn.public_service "
	                                     "WHERE code = 'library'"),
	                 0);
}
END_TEST

/* Issue 12: paknd asks pakn.ussd_advance for the citizen's part of the
 * context only when the next screen can read it (false: '{}'); the call
 * of an older paknd, without that argument, always gets it. */
#define ADVANCE_CALL(tail)                                                     \
	"SELECT a.status || ' ' || (a.ctx->'home'->>'code' IS NOT NULL) || "   \
	"' ' || a.ctx::text FROM pakn.ussd_advance('at', $1, $2, '*384#', "    \
	"'', 0, '{\"screen\": \"main\"}', 'CON x', NULL, 60, 0" tail ") a"

START_TEST(test_advance_citizen)
{
	const char *phone = "+84912000020";
	char *v;

	set_home(phone, "00004");
	v = sql_value(ADVANCE_CALL(", false"), "it-adv-off", phone, NULL);
	ck_assert_str_eq(v, "saved false {}");
	free(v);
	v = sql_value(ADVANCE_CALL(", true"), "it-adv-on", phone, NULL);
	assert_has(v, "saved true {");
	assert_has(v, "\"open\": []");
	free(v);
	v = sql_value(ADVANCE_CALL(""), "it-adv-old", phone, NULL);
	assert_has(v, "saved true {");
	assert_has(v, "\"code\": \"00004\"");
	free(v);
}
END_TEST

/* What the menus know of a citizen (pakn.ussd_citizen): the 5 newest of
 * the complaints waiting for a place, open or answered, newest first; the
 * one answered last; the input as a commune, not as a province. */
START_TEST(test_citizen_part)
{
	const char *phone = "+84912000021";
	const char *part = "SELECT (SELECT string_agg(o->>'ticket', ',') FROM "
	                   "jsonb_array_elements(j->'open') o) || ' ' || "
	                   "(j->'answered'->>'ticket') || ' ' || "
	                   "coalesce(j->'unit'->>'code', '-') || ' ' || "
	                   "(j->'open'->0->>'status') FROM "
	                   "pakn.ussd_citizen($1, nullif($2, '')) j";
	char *v;

	ck_assert_int_eq(
	    sql_long("WITH c AS (INSERT INTO pakn.citizen (msisdn) VALUES ($1) "
	             "RETURNING msisdn), x AS (INSERT INTO pakn.complaint "
	             "(ticket, msisdn, gateway, category_code, dimension, "
	             "status, text, responsible_unit, answered_at) SELECT "
	             "'UC' || n, c.msisdn, 'at', 'roads', 6, s, 'x', CASE WHEN "
	             "s <> 'needs_location' THEN '00004' END, CASE WHEN s = "
	             "'answered' THEN now() - make_interval(mins => n) END "
	             "FROM c, (VALUES (1, 'open'), (2, 'answered'), (3, "
	             "'open'), (4, 'closed'), (5, 'needs_location'), (6, "
	             "'answered'), (7, 'open'), (8, 'closed')) v(n, s) ORDER "
	             "BY n RETURNING 1) SELECT count(*) FROM x",
	             phone, NULL),
	    8);
	v = sql_value(part, phone, "", NULL);
	ck_assert_str_eq(v, "UC7,UC6,UC5,UC3,UC2 UC2 - đang được xử lý");
	free(v);
	v = sql_value(part, phone, "00004", NULL);
	ck_assert_str_eq(v, "UC7,UC6,UC5,UC3,UC2 UC2 00004 đang được xử lý");
	free(v);
	v = sql_value(part, phone, "01", NULL);
	ck_assert_str_eq(v, "UC7,UC6,UC5,UC3,UC2 UC2 - đang được xử lý");
	free(v);
	v = sql_value("SELECT pakn.ussd_citizen('+84912000022', NULL)::text",
	              NULL);
	ck_assert_str_eq(v, "{\"home\": null, \"open\": [], \"unit\": null, "
	                    "\"answered\": null}");
	free(v);
}
END_TEST

/* The final step sent four times at once files one complaint. */
START_TEST(test_concurrent_final)
{
	const char *phone = "+84912000012", *sid = "it-concurrent";
	char *text, *t1, *t2, *t3, *body, *a;
	struct http_req reqs[4];
	long status[4];

	set_home(phone, "00004");
	text = to_category(harness_main()->port, sid, phone, "Nuoc sach");
	t1 = join(text, "1");
	t2 = join(t1, "Nuoc duc");
	t3 = join(t2, "1");
	free(step(sid, phone, t1));
	free(step(sid, phone, t2));
	body = form_encode((const char *const[]){
	    "sessionId", sid, "phoneNumber", phone, "text", t3, NULL});
	for (size_t i = 0; i < 4; i++)
		reqs[i] = (struct http_req){"POST", strdup(USSD_PATH), NULL,
		                            body, strlen(body)};
	ck_assert_int_eq(http_multi(harness_main()->port, reqs, 4, status), 0);
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(status[i], 200);
		free(reqs[i].path);
	}
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.complaint WHERE "
	                          "msisdn = $1",
	                          phone, NULL),
	                 1);
	a = step(sid, phone, t3);
	assert_has(a, "END Da nhan phan anh, ma ");
	free(a);
	free(body);
	free(text);
	free(t1);
	free(t2);
	free(t3);
}
END_TEST

/* Callbacks without the token, malformed, for a gateway without USSD;
 * another phone cannot continue someone's session. */
START_TEST(test_refusals)
{
	const char *kv[] = {
	    "sessionId", "it-ref", "phoneNumber", "+84912000011",
	    "text",      "",       NULL};
	char *body = form_encode(kv);
	struct http_resp r;

	http_request(harness_main()->port, "POST", "/v1/gw/at/ussd", NULL, body,
	             strlen(body), &r);
	ck_assert_int_eq(r.status, 401);
	http_resp_free(&r);
	http_request(harness_main()->port, "POST", "/v1/gw/at/ussd?token=x",
	             NULL, body, strlen(body), &r);
	ck_assert_int_eq(r.status, 403);
	http_resp_free(&r);
	http_request(harness_main()->port, "POST",
	             "/v1/gw/kannel/ussd?token=kannel-secret", NULL, body,
	             strlen(body), &r);
	ck_assert_int_eq(r.status, 404);
	assert_has(r.body, "has no USSD");
	http_resp_free(&r);
	http_request(harness_main()->port, "POST", "/v1/gw/nope/ussd", NULL,
	             body, strlen(body), &r);
	ck_assert_int_eq(r.status, 404);
	http_resp_free(&r);
	http_request(harness_main()->port, "POST", USSD_PATH, NULL,
	             "phoneNumber=0912000011", 22, &r);
	ck_assert_int_eq(r.status, 400);
	assert_has(r.body, "missing sessionId");
	http_resp_free(&r);
	free(body);
	expect("it-ref", "+84912000011", "", "CON ");
	expect("it-ref", "+84912000099", "3", "END Phien da het han");
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.ussd_session "
	                          "WHERE session_id = 'it-ref' AND msisdn = "
	                          "'+84912000011' AND step = 1",
	                          NULL),
	                 1);
}
END_TEST

/* No paknd log holds an error or a secret. */
START_TEST(test_logs_clean)
{
	char pattern[PATH_MAX], *found;
	glob_t g;

	harness_path(pattern, sizeof pattern, "paknd-*.log");
	ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		found = log_grep(g.gl_pathv[i], 0, "[error]");
		ck_assert_msg(found == NULL, "%s has errors:\n%s",
		              g.gl_pathv[i], found);
		found = log_grep(g.gl_pathv[i], 0, AT_TOKEN);
		ck_assert_msg(found == NULL, "%s shows the token:\n%s",
		              g.gl_pathv[i], found);
	}
	globfree(&g);
}
END_TEST

/* Build the suite, in the order the tests must run. */
static Suite *
ussd_it_suite(void)
{
	Suite *s = suite_create("ussd-integration");
	TCase *tc = tcase_create("menus");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_complaint);
	tcase_add_test(tc, test_complaint_typed_code);
	tcase_add_test(tc, test_back_and_invalid);
	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_rate_complaint);
	tcase_add_test(tc, test_rate_service);
	tcase_add_test(tc, test_rerate_service);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_register);
	tcase_add_test(tc, test_expired);
	tcase_add_test(tc, test_two_instances);
	tcase_add_test(tc, test_one_round_trip);
	tcase_add_test(tc, test_menus_change);
	tcase_add_test(tc, test_advance_citizen);
	tcase_add_test(tc, test_citizen_part);
	tcase_add_test(tc, test_concurrent_final);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_notices_gathered);
	suite_add_tcase(s, tc);
	tc = tcase_create("logs");
	tcase_add_test(tc, test_logs_clean);
	suite_add_tcase(s, tc);
	return s;
}

/* Start the cluster and the three instances, with the test units. */
static int
start(void)
{
	struct paknd *d = harness_main();

	if (paknd_start(d, "main", NULL) == -1 || paknd_wait_ready(d, 10) == -1)
		return -1;
	if (sql_exec_db("pakn", units_sql) != 0)
		return -1;
	if (paknd_config(&second, "second", "pakn", 0, NULL) == -1 ||
	    paknd_spawn(&second) == -1 || paknd_wait_ready(&second, 10) == -1)
		return -1;
	if (paknd_config(&shortd, "short", "pakn", 0,
	                 "[ussd]\nsession_idle = 1\ndiacritics = yes\n") ==
	        -1 ||
	    paknd_spawn(&shortd) == -1 || paknd_wait_ready(&shortd, 10) == -1)
		return -1;
	return 0;
}

/* Stop an instance; 0 if it exited 0. */
static int
finish(struct paknd *d)
{
	int status = paknd_stop(d, 10);

	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "paknd %s: wait status 0x%x after SIGTERM\n",
		        d->name, status);
		paknd_dump(d);
		return -1;
	}
	return 0;
}

/* Start the servers, run the suite, check how the instances ended. */
int
main(void)
{
	SRunner *sr;
	int failed;

	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "ussd integration: cannot start PostgreSQL\n");
		return 99;
	}
	if (start() == -1) {
		fprintf(stderr, "ussd integration: paknd does not start\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(ussd_it_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	failed += finish(&shortd) != 0;
	failed += finish(&second) != 0;
	failed += finish(harness_main()) != 0;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
