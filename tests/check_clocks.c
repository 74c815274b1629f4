/*
 * check_clocks.c: the legal clocks of complaints and denunciations and
 * the apology with a new date (issue 13), end to end against the real
 * paknd and a real PostgreSQL. Citizens and officials text paknd through
 * Kannel get-url callbacks and officials use the JSON API; the tests read
 * what people see: API answers, the SMS queued in the outbox, the ledger.
 *
 * A complaint "received" on a past date is filed by SMS without a
 * commune, its receipt moved to that date by SQL (simulating time: the
 * only SQL writes here besides simulated deadlines passing), then
 * completed by the citizen's commune code, so paknd computes its clock.
 *
 * main() starts one cluster and one paknd, imports the sample data and
 * seeds API tokens; Check forks every test, so the tests share them. The
 * deadline worker runs on every complaint of the database, so its tests
 * come last.
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

#include "harness.h"

#ifndef PAKN_SRCDIR
#define PAKN_SRCDIR "."
#endif

#define SHORTCODE "8079"
/* Citizens' numbers all contain this; no API answer may. */
#define CITIZEN_DIGITS "98722"

/* Tokens of officials seeded by main(). */
#define T_OFF4   "tok-clk-officer-00004"
#define T_LEAD01 "tok-clk-leader-01"
#define T_TTR01  "tok-clk-inspector-01-TTr"

/* From config/officials.sample.csv and config/units.sample.csv. */
#define OFFICER4      "0901000004" /* officer of 00004 Phường Ba Đình */
#define OFFICER4_E164 "+84901000004"
#define LEADER4_E164  "+84901000005" /* leader of 00004 */
#define UNIT4_E164    "+84912000004" /* the phone of unit 00004 */
#define PARENT_E164   "+84901000001" /* leader of 01, parent of 00004 */
#define UNIT4_NAME    "Phường Ba Đình"
#define ROADS_NAME    "Đường giao thông"
#define LAND_NAME     "Khiếu nại về đất đai"
#define LAND_TEXT                                                              \
	"PA Khiếu nại quyết định thu hồi đất của phường, giá đền bù quá thấp"
#define POTHOLE     "PA Đường ngõ 12 có ổ gà lớn, xe máy hay bị ngã #00004"
#define LAW_AFTER   "Luật Khiếu nại 2011, sửa đổi bởi Luật 136/2025/QH15"
#define LAW_BEFORE  "Luật Khiếu nại 2011"
#define REMIND_DAYS "2"

/* Every instance: passes only on SIGUSR2, no outbox polling. */
#define CONF                                                                   \
	"[deadline]\ninterval = 3600\nremind_days = " REMIND_DAYS "\n"         \
	"[outbox]\ninterval = 600000\n"

static const char *seed_sql[] = {
    "INSERT INTO pakn.official (unit_code, name, phone, role) VALUES"
    " ('00004', 'Cán bộ Ba Đình (API)', '+84900100004', 'officer'),"
    " ('01', 'Lãnh đạo Thành phố (API)', '+84900100001', 'leader')",
    "INSERT INTO pakn.api_token (official_id, token_hash)"
    " SELECT o.id, sha256(convert_to(t.token, 'UTF8'))"
    " FROM (VALUES ('+84900100004', '" T_OFF4 "'),"
    " ('+84900100001', '" T_LEAD01 "'),"
    " ('+84901000090', '" T_TTR01 "')) t (phone, token)"
    " JOIN pakn.official o ON o.phone = t.phone",
    NULL};

/* Fail unless a JSON string member equals want. */
#define assert_jstr(j, path, want)                                             \
	do {                                                                   \
		const char *g_ = jstr((j), (path));                            \
		ck_assert_msg(g_ != NULL && strcmp(g_, (want)) == 0,           \
		              "%s: got \"%s\", want \"%s\"", (path),           \
		              g_ != NULL ? g_ : "(null)", (want));             \
	} while (0)

/* A complaint as the tests know it. */
struct cpl {
	char id[24];
	char ticket[16];
	char msisdn[24];
};

/* Send one SMS from a phone through Kannel's get-url to an instance. */
static void
sms_to(const struct paknd *d, const char *from, const char *text)
{
	static int seq;
	char *efrom = url_encode(from, strlen(from));
	char *etext = url_encode(text, strlen(text));
	char *path =
	    strf("/v1/gw/kannel/sms?token=kannel-secret&from=%s&to=" SHORTCODE
	         "&text=%s&coding=0&charset=UTF-8&id=clk-%d-%d&ts=%ld",
	         efrom, etext, (int)getpid(), ++seq, (long)time(NULL));
	struct http_resp r;

	http_request(d->port, "GET", path, NULL, NULL, 0, &r);
	if (r.status != 200)
		paknd_dump(d);
	ck_assert_msg(r.status == 200, "SMS \"%s\" from %s: HTTP %ld \"%s\"",
	              text, from, r.status, r.body != NULL ? r.body : "");
	http_resp_free(&r);
	free(path);
	free(efrom);
	free(etext);
}

/* Send one SMS to the shared paknd. */
static void
sms(const char *from, const char *text)
{
	sms_to(harness_main(), from, text);
}

/* The newest complaint of a citizen (E.164). */
static void
newest(const char *msisdn, struct cpl *c)
{
	PGresult *res = q("SELECT id, ticket FROM pakn.complaint WHERE "
	                  "msisdn = $1 ORDER BY id DESC LIMIT 1",
	                  msisdn, NULL);

	ck_assert_ptr_nonnull(res);
	ck_assert_msg(PQntuples(res) == 1, "no complaint from %s", msisdn);
	snprintf(c->id, sizeof c->id, "%s", PQgetvalue(res, 0, 0));
	snprintf(c->ticket, sizeof c->ticket, "%s", PQgetvalue(res, 0, 1));
	snprintf(c->msisdn, sizeof c->msisdn, "%s", msisdn);
	PQclear(res);
}

/* An expression over a complaint's row, malloc'd, or NULL. */
static char *
cval(const struct cpl *c, const char *expr)
{
	char *sql = strf("SELECT (%s)::text FROM pakn.complaint WHERE id = "
	                 "$1::bigint",
	                 expr);
	char *v = qval(sql, c->id, NULL);

	free(sql);
	return v;
}

/* How many SMS of a kind went to a phone about a complaint. */
static long
sms_count(const struct cpl *c, const char *msisdn, const char *kind)
{
	return qlong("SELECT count(*) FROM pakn.outbox WHERE complaint_id = "
	             "$1::bigint AND msisdn = $2 AND kind = $3",
	             c->id, msisdn, kind, NULL);
}

/* Fail unless exactly one SMS of kind went to msisdn about c, reading
 * want. */
static void
assert_sms(const struct cpl *c, const char *msisdn, const char *kind,
           const char *want)
{
	long n = sms_count(c, msisdn, kind);
	char *body;

	ck_assert_msg(n == 1, "%ld SMS \"%s\" to %s, want 1", n, kind, msisdn);
	body = qval("SELECT body FROM pakn.outbox WHERE complaint_id = "
	            "$1::bigint AND msisdn = $2 AND kind = $3",
	            c->id, msisdn, kind, NULL);
	ck_assert_msg(body != NULL && strcmp(body, want) == 0,
	              "SMS \"%s\" to %s:\n  got  \"%s\"\n  want \"%s\"", kind,
	              msisdn, body != NULL ? body : "(null)", want);
	free(body);
}

/* The body of the newest SMS to a phone. */
static char *
last_sms(const char *msisdn)
{
	return qval("SELECT body FROM pakn.outbox WHERE msisdn = $1 ORDER BY "
	            "id DESC LIMIT 1",
	            msisdn, NULL);
}

/* How many ledger events of a kind a complaint has. */
static long
events(const struct cpl *c, const char *event)
{
	return qlong("SELECT count(*) FROM pakn.complaint_event WHERE "
	             "complaint_id = $1::bigint AND event = $2",
	             c->id, event, NULL);
}

/* Fail unless an UPDATE that simulates time passing changed one row. */
static void
shifted(PGresult *res)
{
	ck_assert_ptr_nonnull(res);
	ck_assert_str_eq(PQcmdTuples(res), "1");
	PQclear(res);
}

/* A date as SQL computes it from an expression (YYYY-MM-DD), malloc'd. */
static char *
sql_date(const char *expr)
{
	char *sql = strf("SELECT to_char((%s)::date, 'YYYY-MM-DD')", expr);
	char *v = qval(sql, NULL);

	free(sql);
	ck_assert_ptr_nonnull(v);
	return v;
}

/* "YYYY-MM-DD" as citizens read it, "DD/MM/YYYY". */
static void
vi_date(const char *ymd, char out[11])
{
	snprintf(out, 11, "%.2s/%.2s/%.4s", ymd + 8, ymd + 5, ymd);
}

/* File a complaint by SMS, received at `at` (simulated), located by the
 * citizen's next message: the commune code. */
static void
file_received(const char *phone, const char *msisdn, const char *text,
              const char *at, const char *unit, struct cpl *c)
{
	sms(phone, text);
	newest(msisdn, c);
	assert_value(cval(c, "status"), "needs_location");
	/* Simulate time: the complaint was received at `at`. */
	shifted(q("UPDATE pakn.complaint SET created_at = $2::timestamptz "
	          "WHERE id = $1::bigint",
	          c->id, at, NULL));
	sms(phone, unit);
	assert_value(cval(c, "status"), "open");
}

/* An API request with a token; fail unless the status is want and the
 * answer a JSON object without a citizen's number. */
static json_t *
api(const char *method, const char *path, const char *token, const char *body,
    long want)
{
	char *auth = strf("Authorization: Bearer %s", token);
	const char *headers[] = {auth, "Content-Type: application/json", NULL};
	struct http_resp r;
	json_error_t err;
	json_t *j;

	http_request(harness_main()->port, method, path, headers, body,
	             body != NULL ? strlen(body) : 0, &r);
	ck_assert_msg(r.status == want, "%s %s %s: HTTP %ld, want %ld; %s",
	              method, path, body != NULL ? body : "", r.status, want,
	              r.body);
	ck_assert_msg(strstr(r.body, CITIZEN_DIGITS) == NULL,
	              "%s %s: a citizen's number: %s", method, path, r.body);
	j = json_loads(r.body, 0, &err);
	ck_assert_msg(json_is_object(j), "%s %s: not JSON: %s", method, path,
	              r.body);
	http_resp_free(&r);
	free(auth);
	return j;
}

/* GET a complaint. */
static json_t *
show(const struct cpl *c, const char *token)
{
	char *path = strf("/v1/complaints/%s", c->ticket);
	json_t *j = api("GET", path, token, NULL, 200);

	free(path);
	return j;
}

/* POST an action on a complaint. */
static json_t *
act(const struct cpl *c, const char *action, const char *token,
    const char *body, long want)
{
	char *path = strf("/v1/complaints/%s/%s", c->ticket, action);
	json_t *j = api("POST", path, token, body, want);

	free(path);
	return j;
}

/* POST an action that must be refused with status and a message
 * containing needle. */
static void
refused(const struct cpl *c, const char *action, const char *token,
        const char *body, long status, const char *needle)
{
	json_t *j = act(c, action, token, body, status);

	assert_contains(jstr(j, "error.message"), needle);
	json_decref(j);
}

/* POST an action that must succeed; check the due date it leaves. */
static void
act_due(const struct cpl *c, const char *action, const char *token,
        const char *body, const char *due)
{
	json_t *j = act(c, action, token, body, 200);

	assert_jstr(j, "due_date", due);
	json_decref(j);
}

/* A complaint about land received on 20 Aug 2026 (Thursday) counts the
 * law's calendar days: accepted within 10 days, the 10th a Sunday, then
 * 31 Aug-2 Sep off (9441/TB-BNV): due Thursday 3 Sep. Accepted on 3 Sep,
 * resolved within 30 days: Saturday 3 Oct, so Monday 5 Oct; complex, 45:
 * Sunday 18 Oct, so Monday 19 Oct. No extension under this law. */
START_TEST(test_land_complaint)
{
	struct cpl c;
	char *want;
	json_t *j;

	file_received("0987220101", "+84987220101", LAND_TEXT,
	              "2026-08-20 10:00+07", "00004", &c);
	assert_value(cval(&c, "category_code"), "land_complaint");
	want = strf("Đã nhận phản ánh, mã %s (" LAND_NAME
	            "). Đơn vị xử lý: " UNIT4_NAME
	            ". Hạn thụ lý: 03/09/2026. Tra cứu: TT %s",
	            c.ticket, c.ticket);
	assert_sms(&c, c.msisdn, "ack", want);
	free(want);
	want = strf("Phản ánh mới %s (" LAND_NAME "), hạn thụ lý 03/09/2026: "
	            "%s",
	            c.ticket, LAND_TEXT + 3);
	assert_sms(&c, OFFICER4_E164, "new_complaint", want);
	free(want);

	j = show(&c, T_OFF4);
	assert_jstr(j, "due_date", "2026-09-03");
	assert_jstr(j, "clock.law", "complaint");
	assert_jstr(j, "clock.rule", LAW_AFTER);
	assert_jstr(j, "clock.stage", "acceptance");
	assert_jstr(j, "clock.received_date", "2026-08-20");
	assert_jstr(j, "clock.accept_due_date", "2026-09-03");
	assert_jstr(j, "clock.counted_in", "calendar days");
	assert_contains(jstr(j, "clock.source"), "Điều 27");
	json_decref(j);

	/* Not before receipt, not in the future; no clock change before
	 * acceptance. */
	refused(&c, "accept", T_OFF4, "{\"date\": \"2026-08-19\"}", 400,
	        "is before 2026-08-20");
	refused(&c, "accept", T_OFF4, "{\"date\": \"2999-01-01\"}", 400,
	        "in the future");
	refused(&c, "accept", T_OFF4, "{\"date\": \"3 Sep\"}", 400,
	        "date: a date YYYY-MM-DD");
	refused(&c, "suspend", T_OFF4, "{\"reason\": \"chờ\"}", 409,
	        "not accepted yet");

	j = act(&c, "accept", T_OFF4, "{\"date\": \"2026-09-03\"}", 200);
	assert_jstr(j, "due_date", "2026-10-05");
	assert_jstr(j, "clock.stage", "resolution");
	assert_jstr(j, "clock.accepted_date", "2026-09-03");
	ck_assert_int_eq(json_integer_value(jget(j, "clock.days")), 30);
	json_decref(j);
	want = strf("Đơn %s (" LAND_NAME ") đã được " UNIT4_NAME
	            " thụ lý ngày 03/09/2026. Hạn giải quyết: 05/10/2026 "
	            "(theo " LAW_AFTER "). Tra cứu: TT %s",
	            c.ticket, c.ticket);
	assert_sms(&c, c.msisdn, "accepted", want);
	free(want);
	assert_value(qval("SELECT (detail->>'on_time') || ' ' || "
	                  "(detail->>'date') FROM pakn.complaint_event WHERE "
	                  "complaint_id = $1::bigint AND event = 'accepted'",
	                  c.id, NULL),
	             "true 2026-09-03");
	refused(&c, "accept", T_OFF4, "{}", 409, "was accepted on 2026-09-03");

	refused(&c, "complex", T_OFF4, "{}", 400, "reason: required");
	act_due(&c, "complex", T_OFF4,
	        "{\"reason\": \"Nhiều hộ liên quan, phải đo đạc lại\"}",
	        "2026-10-19");
	refused(&c, "complex", T_OFF4, "{\"reason\": \"again\"}", 409,
	        "marked complex already");
	refused(&c, "extend", T_OFF4, "{\"reason\": \"x\"}", 409,
	        "allows no extension");
	want = strf("Đơn %s: vụ việc phức tạp, thời hạn giải quyết kéo dài "
	            "theo luật. Hạn giải quyết mới: 19/10/2026. Tra cứu: TT %s",
	            c.ticket, c.ticket);
	assert_sms(&c, c.msisdn, "clock_changed", want);
	free(want);
	assert_value(cval(&c, "pakn.due_vi(due_at)"), "19/10/2026");
	assert_value(
	    qval("SELECT string_agg(event, ',' ORDER BY id) FROM "
	         "pakn.complaint_event WHERE complaint_id = $1::bigint",
	         c.id, NULL),
	    "received,located,routed,assigned,accepted,"
	    "marked_complex");
	/* The ledger alone gives the due date. */
	assert_value(qval("SELECT r.due_at = c.due_at FROM pakn.complaint c, "
	                  "pakn.complaint_replay(c.id) r WHERE c.id = "
	                  "$1::bigint",
	                  c.id, NULL),
	             "t");
}
END_TEST

/* A unit flagged remote (import-units, column remote): 45 days, 60 when
 * complex (Law on Complaints art. 28). */
START_TEST(test_remote)
{
	char path[PATH_MAX];
	FILE *f;
	struct cpl c;
	char *argv[] = {(char *)paknctl_path(), "-c", harness_main()->conf,
	                "import-units",         path, NULL};
	char out[PATH_MAX];
	json_t *j;

	harness_path(path, sizeof path, "remote.csv");
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("code,name,parent_code,kind,phones,inspection_unit,remote\n"
	      "00376,Xã Sóc Sơn,01,commune,,,yes\n",
	      f);
	ck_assert_int_eq(fclose(f), 0);
	harness_path(out, sizeof out, "paknctl-remote.out");
	ck_assert_int_eq(harness_run(argv, out, out, 30), 0);
	assert_value(qval("SELECT remote::text FROM pakn.unit WHERE code = "
	                  "'00376'",
	                  NULL),
	             "true");
	/* The phones a file leaves empty are kept. */
	assert_value(qval("SELECT array_to_string(phones, ',') FROM "
	                  "pakn.unit WHERE code = '00376'",
	                  NULL),
	             "+84912000376");

	file_received("0987220201", "+84987220201", LAND_TEXT,
	              "2026-08-20 10:00+07", "00376", &c);
	assert_value(cval(&c, "responsible_unit"), "00376");
	j = act(&c, "accept", T_LEAD01, "{\"date\": \"2026-09-03\"}", 200);
	/* 3 Sep + 45 = Sunday 18 Oct: Monday 19 Oct. */
	assert_jstr(j, "due_date", "2026-10-19");
	ck_assert(json_is_true(jget(j, "clock.remote")));
	ck_assert_int_eq(json_integer_value(jget(j, "clock.days")), 45);
	json_decref(j);
	/* 3 Sep + 60 = Monday 2 Nov. */
	act_due(&c, "complex", T_LEAD01, "{\"reason\": \"Đất rừng, xa\"}",
	        "2026-11-02");
}
END_TEST

/* The rule is the one in force on the day of receipt: a complaint
 * received on 20 June 2026 keeps the Law on Complaints 2011 as it was
 * (no suspension); one received on 20 August 2026 follows it as amended
 * by Law 136/2025/QH15 (in force 1 July 2026), whose summaries change no
 * time limit: the same 30 days, and the clock may be suspended. */
START_TEST(test_rule_by_receipt)
{
	struct cpl before, after;
	json_t *j;

	assert_value(qval("SELECT string_agg(format('%s %s..%s %s/%s/%s %s', "
	                  "law, valid_from, coalesce(valid_until::text, ''), "
	                  "accept_days, resolve_days, complex_days, "
	                  "suspension), '; ' ORDER BY law, valid_from) FROM "
	                  "pakn.legal_rule",
	                  NULL),
	             "complaint 2012-07-01..2026-07-01 10/30/45 f; "
	             "complaint 2026-07-01.. 10/30/45 t; "
	             "denunciation 2019-01-01..2026-07-01 7/30/ t; "
	             "denunciation 2026-07-01.. 7/30/ t");
	assert_value(qval("SELECT count(*)::text FROM pakn.legal_rule WHERE "
	                  "note LIKE '%mention no change to the time limits%'",
	                  NULL),
	             "2");

	/* Received Saturday 20 June: 10 days, Tuesday 30 June. */
	file_received("0987220301", "+84987220301", LAND_TEXT,
	              "2026-06-20 10:00+07", "00004", &before);
	file_received("0987220302", "+84987220302", LAND_TEXT,
	              "2026-08-20 10:00+07", "00004", &after);
	j = show(&before, T_OFF4);
	assert_jstr(j, "clock.rule", LAW_BEFORE);
	assert_jstr(j, "due_date", "2026-06-30");
	json_decref(j);
	j = act(&before, "accept", T_OFF4, "{\"date\": \"2026-06-29\"}", 200);
	/* 29 June + 30 = Wednesday 29 July. */
	assert_jstr(j, "due_date", "2026-07-29");
	json_decref(j);
	refused(&before, "suspend", T_OFF4,
	        "{\"reason\": \"Chờ kết quả vụ án\"}", 409,
	        "allows no suspension");

	act_due(&after, "accept", T_OFF4, "{\"date\": \"2026-09-03\"}",
	        "2026-10-05");
	j = act(&after, "suspend", T_OFF4,
	        "{\"reason\": \"Chờ kết quả giải quyết vụ án liên quan\", "
	        "\"date\": \"2026-09-10\"}",
	        200);
	ck_assert(json_is_true(jget(j, "clock.suspended")));
	assert_jstr(j, "clock.suspended_since", "2026-09-10");
	ck_assert(json_is_false(jget(j, "overdue")));
	json_decref(j);
}
END_TEST

/* Suspension pauses the clock: resumed after 5 days, the due date moves
 * by 5 (3 Sep + 35 = Thursday 8 Oct); the citizen is told both times. */
START_TEST(test_suspend_resume)
{
	struct cpl c;
	char *want;
	json_t *j;

	file_received("0987220401", "+84987220401", LAND_TEXT,
	              "2026-08-20 10:00+07", "00004", &c);
	act_due(&c, "accept", T_OFF4, "{\"date\": \"2026-09-03\"}",
	        "2026-10-05");
	refused(&c, "resume", T_OFF4, "{}", 409, "is not suspended");
	refused(&c, "suspend", T_OFF4, "{\"date\": \"2026-09-10\"}", 400,
	        "reason: required");
	act_due(&c, "suspend", T_OFF4,
	        "{\"reason\": \"Chờ kết quả giám định\", \"date\": "
	        "\"2026-09-10\"}",
	        "2026-10-05");
	want = strf("Việc giải quyết đơn %s tạm dừng từ ngày 10/09/2026: Chờ "
	            "kết quả giám định. Thời gian tạm dừng không tính vào thời "
	            "hạn giải quyết; bạn sẽ được báo khi tiếp tục.",
	            c.ticket);
	assert_sms(&c, c.msisdn, "suspended", want);
	free(want);
	refused(&c, "suspend", T_OFF4, "{\"reason\": \"x\"}", 409,
	        "suspended already since 2026-09-10");
	refused(&c, "apologize", T_OFF4,
	        "{\"reason\": \"x\", \"new_due\": \"2026-12-30\"}", 409,
	        "is suspended");
	refused(&c, "resume", T_OFF4, "{\"date\": \"2026-09-09\"}", 400,
	        "is before 2026-09-10");

	j = act(&c, "resume", T_OFF4,
	        "{\"reason\": \"Đã có kết quả\", \"date\": \"2026-09-15\"}",
	        200);
	assert_jstr(j, "due_date", "2026-10-08");
	ck_assert(json_is_false(jget(j, "clock.suspended")));
	ck_assert_int_eq(json_integer_value(jget(j, "clock.suspended_days")),
	                 5);
	ck_assert_int_eq(json_integer_value(jget(j, "clock.days")), 35);
	json_decref(j);
	want = strf("Đơn %s: tiếp tục giải quyết sau 5 ngày tạm dừng. Hạn giải "
	            "quyết mới: 08/10/2026. Tra cứu: TT %s",
	            c.ticket, c.ticket);
	assert_sms(&c, c.msisdn, "clock_changed", want);
	free(want);
	assert_value(
	    qval("SELECT string_agg(event || coalesce(' ' || "
	         "(detail->>'days'), ''), ',' ORDER BY id) FROM "
	         "pakn.complaint_event WHERE complaint_id = $1::bigint "
	         "AND event IN ('suspended', 'resumed')",
	         c.id, NULL),
	    "suspended,resumed 5");
}
END_TEST

/* A report of a bribe is a denunciation: accepted within 7 working days
 * (Law on Denunciations art. 24: 21, Sat 22 worked back, 24-28 Aug), then
 * 30 days from acceptance, extended twice by 30 and no more. */
START_TEST(test_denunciation)
{
	struct cpl c;
	char *want;
	json_t *j;

	file_received("0987220501", "+84987220501",
	              "can bo dia chinh doi 5 trieu moi lam so do",
	              "2026-08-20 10:00+07", "00004", &c);
	assert_value(cval(&c, "category_code || ' ' || responsible_unit"),
	             "corruption 01-TTr");
	want = strf("Đã nhận phản ánh, mã %s (Tham nhũng, hối lộ, tiêu cực). "
	            "Đơn vị xử lý: Thanh tra Thành phố Hà Nội. Hạn thụ lý: "
	            "28/08/2026. Tra cứu: TT %s",
	            c.ticket, c.ticket);
	assert_sms(&c, c.msisdn, "ack", want);
	free(want);
	j = show(&c, T_TTR01);
	assert_jstr(j, "clock.law", "denunciation");
	assert_jstr(j, "clock.counted_in", "working days");
	assert_jstr(j, "due_date", "2026-08-28");
	json_decref(j);
	refused(&c, "complex", T_TTR01, "{\"reason\": \"x\"}", 409,
	        "a complex case is extended instead");
	/* Accepted on the last day: 28 Aug + 30 = Sunday 27 Sep, so 28 Sep. */
	act_due(&c, "accept", T_TTR01, "{\"date\": \"2026-08-28\"}",
	        "2026-09-28");
	/* + 30: 27 Oct; + 30 again: 26 Nov. */
	act_due(&c, "extend", T_TTR01, "{\"reason\": \"Vụ việc phức tạp\"}",
	        "2026-10-27");
	j = act(&c, "extend", T_TTR01,
	        "{\"reason\": \"Vụ việc đặc biệt phức tạp\"}", 200);
	assert_jstr(j, "due_date", "2026-11-26");
	ck_assert_int_eq(json_integer_value(jget(j, "clock.extensions")), 2);
	ck_assert_int_eq(json_integer_value(jget(j, "clock.max_extensions")),
	                 2);
	ck_assert(json_is_true(jget(j, "extended")));
	json_decref(j);
	refused(&c, "extend", T_TTR01, "{\"reason\": \"lần ba\"}", 409,
	        "allows at most 2 extensions of 30 days");
	ck_assert_int_eq(events(&c, "extended"), 2);
	assert_value(cval(&c, "pakn.due_vi(due_at)"), "26/11/2026");
	/* Feedback keeps its single local-policy extension. */
	sms("0987220502", POTHOLE);
	newest("+84987220502", &c);
	j = act(&c, "extend", T_OFF4, "{\"reason\": \"Cần khảo sát\"}", 200);
	ck_assert(json_is_true(jget(j, "extended")));
	ck_assert(json_is_null(jget(j, "clock.law")));
	json_decref(j);
	refused(&c, "extend", T_OFF4, "{\"reason\": \"again\"}", 409,
	        "it can be extended once");
	refused(&c, "accept", T_OFF4, "{}", 409, "local policy");
}
END_TEST

/* THU LY <ticket> from an official's phone accepts today; feedback has
 * no acceptance step. */
START_TEST(test_sms_accept)
{
	struct cpl land, road;
	char *want, *today, *due, vtoday[11], vdue[11], *body;

	sms("0987220601", LAND_TEXT " #00004");
	newest("+84987220601", &land);
	sms("0987220602", POTHOLE);
	newest("+84987220602", &road);
	today = sql_date("pakn.local_date(now())");
	due = sql_date("pakn.legal_end(pakn.local_date(now()), 30)");
	vi_date(today, vtoday);
	vi_date(due, vdue);

	body = strf("THU LY %s", land.ticket);
	sms(OFFICER4, body);
	free(body);
	want = strf("Đã ghi nhận thụ lý %s ngày %s. Hạn giải quyết: %s%s.",
	            land.ticket, vtoday, vdue,
	            strncmp(due, "2027", 4) == 0
	                ? " (lịch nghỉ năm 2027 chưa chính thức)"
	                : "");
	assert_sms(&land, OFFICER4_E164, "official_accepted", want);
	free(want);
	assert_value(cval(&land, "accepted_on"), today);
	assert_value(cval(&land, "pakn.due_vi(due_at)"), vdue);
	ck_assert_int_eq(sms_count(&land, land.msisdn, "accepted"), 1);

	body = strf("thụ lý %s", road.ticket);
	sms(OFFICER4, body);
	free(body);
	want = strf("Không thực hiện được: phản ánh %s không theo thời hạn "
	            "luật định.",
	            road.ticket);
	assert_value(last_sms(OFFICER4_E164), want);
	free(want);
	/* From a citizen's phone: refused, nothing accepted. */
	body = strf("THU LY %s", road.ticket);
	sms("0987220603", body);
	free(body);
	assert_value(last_sms("+84987220603"),
	             "Không thực hiện được: số điện thoại này chưa đăng ký là "
	             "của cán bộ.");
	/* "Thụ lý" inside a sentence is a complaint. */
	sms("0987220604", "Thu ly don cua toi bao gio xong #00004");
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint WHERE "
	                       "msisdn = '+84987220604'",
	                       NULL),
	                 1);
	free(today);
	free(due);
}
END_TEST

/* Signal n instances at once with SIGUSR2 and wait for their passes. */
static void
deadline_round(struct paknd *const *ds, int n)
{
	size_t off[4];
	int i;

	ck_assert_int_le(n, 4);
	for (i = 0; i < n; i++)
		off[i] = file_size(ds[i]->log);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(paknd_signal(ds[i], SIGUSR2), 0);
	for (i = 0; i < n; i++) {
		ck_assert_msg(log_wait(ds[i]->log, off[i],
		                       "deadline pass requested", 10) == 0,
		              "paknd %s did not log the SIGUSR2", ds[i]->name);
		if (log_wait(ds[i]->log, off[i], "deadline: ", 30) != 0)
			paknd_dump(ds[i]);
		ck_assert_msg(
		    log_wait(ds[i]->log, off[i], "deadline: ", 0) == 0,
		    "paknd %s finished no deadline pass", ds[i]->name);
	}
}

/* Start an instance (fresh: with a new config file). */
static void
start_named(struct paknd *d, const char *name, int fresh)
{
	if (fresh)
		ck_assert_int_eq(paknd_start(d, name, CONF), 0);
	else
		ck_assert_int_eq(paknd_spawn(d), 0);
	ck_assert_int_eq(paknd_wait_ready(d, 10), 0);
}

/* Move a complaint's due date (or, with column new_due_at, its new date)
 * to the end of the day `ago` days before today: simulates the date
 * passing. */
static void
pass_date(const struct cpl *c, const char *column, int ago)
{
	char *sql = strf("UPDATE pakn.complaint SET %s = "
	                 "(pakn.local_date(now()) - %d + 1)::timestamp AT TIME "
	                 "ZONE 'Asia/Ho_Chi_Minh' WHERE id = $1::bigint",
	                 column, ago);

	shifted(q(sql, c->id, NULL));
	free(sql);
}

/* The apology comes from the unit, with a reason and a new date within
 * the bound (5 working days for roads): by the API and by SMS (HEN). At
 * the deadline the worker escalates, asks the unit for the apology and
 * tells the citizen one will come; it invents no date. A suspended
 * clock is left alone. */
START_TEST(test_apology)
{
	struct paknd *m = harness_main();
	struct cpl x, y, z;
	char *today, *yesterday, *late, *ok, *off, *bound, *body, *want;
	char vyest[11], vok[11];
	json_t *j;

	sms("0987220701", POTHOLE);
	newest("+84987220701", &x);
	sms("0987220702", POTHOLE);
	newest("+84987220702", &y);
	file_received("0987220703", "+84987220703", LAND_TEXT,
	              "2026-08-20 10:00+07", "00004", &z);
	act_due(&z, "accept", T_OFF4, "{\"date\": \"2026-09-03\"}",
	        "2026-10-05");
	json_decref(act(&z, "suspend", T_OFF4,
	                "{\"reason\": \"Chờ vụ án\", \"date\": "
	                "\"2026-09-10\"}",
	                200));
	pass_date(&x, "due_at", 2);
	today = sql_date("pakn.local_date(now())");
	yesterday = sql_date("pakn.local_date(now()) - 2");
	vi_date(yesterday, vyest);

	deadline_round(&m, 1);
	deadline_round(&m, 1);
	ck_assert_int_eq(events(&x, "escalated"), 1);
	ck_assert_int_eq(events(&x, "apologised"), 0);
	ck_assert_int_eq(events(&z, "escalated"), 0);
	want = strf("Quá hạn: phản ánh %s (" ROADS_NAME ") giao " UNIT4_NAME
	            " hạn %s chưa được trả lời.",
	            x.ticket, vyest);
	assert_sms(&x, LEADER4_E164, "escalation", want);
	assert_sms(&x, PARENT_E164, "escalation", want);
	free(want);
	want = strf("Quá hạn %s: phản ánh %s (" ROADS_NAME "). Gửi người dân "
	            "lời xin lỗi, lý do và ngày hẹn mới: HEN %s <ngày/tháng> "
	            "<lý do>",
	            vyest, x.ticket, x.ticket);
	assert_sms(&x, OFFICER4_E164, "apology_due", want);
	free(want);
	want = strf("Phản ánh %s đã quá hạn trả lời %s. Đơn vị xử lý đã được "
	            "nhắc và sẽ gửi bạn lời xin lỗi, lý do và ngày hẹn mới. "
	            "Tra cứu: TT %s",
	            x.ticket, vyest, x.ticket);
	assert_sms(&x, x.msisdn, "overdue_notice", want);
	free(want);
	ck_assert_int_eq(sms_count(&x, x.msisdn, "apology"), 0);
	assert_value(cval(&x, "new_due_at IS NULL"), "true");

	/* The bound: after today, a working day, at most 5 working days. */
	late = sql_date("pakn.add_working_days(pakn.local_date(now()), 6)");
	ok = sql_date("pakn.add_working_days(pakn.local_date(now()), 3)");
	/* The first day off; on a Sunday (Vietnam's time) the five
	 * working days after today hold none, and the Saturday after them
	 * is refused for the bound first. */
	bound = sql_date("pakn.add_working_days(pakn.local_date(now()), 5)");
	off = sql_date("(SELECT min(d) FROM generate_series(pakn.local_date("
	               "now()) + 1, pakn.local_date(now()) + 8, '1 day') d "
	               "WHERE NOT pakn.is_working_day(d::date))");
	vi_date(ok, vok);
	body = strf("{\"reason\": \"Chờ kết quả đo đạc hiện trường\", "
	            "\"new_due\": \"%s\"}",
	            late);
	refused(&x, "apologize", T_OFF4, body, 400,
	        "at most 5 working days after");
	free(body);
	body = strf("{\"reason\": \"x\", \"new_due\": \"%s\"}", today);
	refused(&x, "apologize", T_OFF4, body, 400, "must be after");
	free(body);
	body = strf("{\"reason\": \"x\", \"new_due\": \"%s\"}", off);
	refused(&x, "apologize", T_OFF4, body, 400,
	        strcmp(off, bound) < 0 ? "is a day off"
	                               : "at most 5 working days after");
	free(body);
	body = strf("{\"new_due\": \"%s\"}", ok);
	refused(&x, "apologize", T_OFF4, body, 400, "reason: required");
	free(body);
	refused(&x, "apologize", T_OFF4, "{\"reason\": \"x\"}", 400,
	        "new_due: required");

	body = strf("{\"reason\": \"Chờ kết quả đo đạc hiện trường\", "
	            "\"new_due\": \"%s\"}",
	            ok);
	j = act(&x, "apologize", T_OFF4, body, 200);
	free(body);
	assert_jstr(j, "new_due_date", ok);
	assert_jstr(j, "clock.apology.reason",
	            "Chờ kết quả đo đạc hiện trường");
	json_decref(j);
	want = strf("Xin lỗi bạn: phản ánh %s không được trả lời đúng hạn %s. "
	            "Lý do: Chờ kết quả đo đạc hiện trường. Ngày hẹn mới: %s. "
	            "Tra cứu: TT %s",
	            x.ticket, vyest, vok, x.ticket);
	assert_sms(&x, x.msisdn, "apology", want);
	free(want);
	want = strf("Chờ kết quả đo đạc hiện trường %s", ok);
	assert_value(qval("SELECT reason || ' ' || pakn.local_date((detail->>"
	                  "'new_due_at')::timestamptz - interval '1 second') "
	                  "FROM pakn.complaint_event WHERE complaint_id = "
	                  "$1::bigint AND event = 'apologised'",
	                  x.id, NULL),
	             want);
	free(want);
	free(today);
	free(yesterday);
	free(late);
	free(ok);
	free(off);
	free(bound);
}
END_TEST

/* HEN <ticket> <dd/mm/yyyy> <reason> from the unit's officer: the same
 * apology by SMS, the same bound. */
START_TEST(test_apology_sms)
{
	struct cpl y;
	char *due, *ok, *late, *max, *body, *want;
	char vok[11], vlate[11], vdue[11], vmax[11];

	newest("+84987220702", &y);
	body = strf("(SELECT pakn.local_date(due_at - interval '1 second') "
	            "FROM pakn.complaint WHERE id = %s)",
	            y.id);
	due = sql_date(body);
	free(body);
	body = strf("pakn.add_working_days('%s'::date, 2)", due);
	ok = sql_date(body);
	free(body);
	body = strf("pakn.add_working_days('%s'::date, 6)", due);
	late = sql_date(body);
	free(body);
	body = strf("pakn.add_working_days('%s'::date, 5)", due);
	max = sql_date(body);
	free(body);
	vi_date(max, vmax);
	free(max);
	vi_date(due, vdue);
	vi_date(ok, vok);
	vi_date(late, vlate);

	/* Before the deadline too (as the one-stop shop's slip), but not
	 * past the bound. */
	body = strf("HEN %s %s Thiếu hồ sơ khảo sát", y.ticket, vlate);
	sms(OFFICER4, body);
	free(body);
	want = strf("Không thực hiện được: ngày hẹn chậm nhất là %s (5 ngày "
	            "làm việc).",
	            vmax);
	assert_value(last_sms(OFFICER4_E164), want);
	free(want);
	ck_assert_int_eq(events(&y, "apologised"), 0);
	body = strf("hẹn %s", y.ticket);
	sms(OFFICER4, body);
	free(body);
	/* Without a date it is prose: a complaint of the officer's phone. */
	ck_assert_int_eq(events(&y, "apologised"), 0);

	body = strf("HEN %s %s Thiếu hồ sơ khảo sát", y.ticket, vok);
	sms(OFFICER4, body);
	free(body);
	want = strf("Xin lỗi bạn: phản ánh %s không được trả lời đúng hạn %s. "
	            "Lý do: Thiếu hồ sơ khảo sát. Ngày hẹn mới: %s. Tra cứu: "
	            "TT %s",
	            y.ticket, vdue, vok, y.ticket);
	assert_sms(&y, y.msisdn, "apology", want);
	free(want);
	want = strf("Đã gửi lời xin lỗi và ngày hẹn mới %s của phản ánh %s tới "
	            "người dân.",
	            vok, y.ticket);
	assert_sms(&y, OFFICER4_E164, "official_apologized", want);
	free(want);
	assert_value(cval(&y, "pakn.due_vi(new_due_at)"), vok);
	/* The citizen's status gives the new date. */
	body = strf("TT %s", y.ticket);
	sms("0987220702", body);
	free(body);
	want = strf("Phản ánh %s: đang được xử lý. Đơn vị: " UNIT4_NAME
	            ". Ngày hẹn: %s.",
	            y.ticket, vok);
	assert_value(last_sms(y.msisdn), want);
	free(want);
	free(due);
	free(ok);
	free(late);
}
END_TEST

/* When the new date passes unanswered, the worker reminds the unit and
 * escalates again: exactly once per new date, with two instances
 * passing at the same moment and one restarting. */
START_TEST(test_apology_again)
{
	struct paknd a, b, *both[2] = {&a, &b};
	struct cpl x;
	char *vnew, *want;
	int round;

	newest("+84987220701", &x);
	vnew = cval(&x, "pakn.due_vi(new_due_at)");
	ck_assert_ptr_nonnull(vnew);
	pass_date(&x, "new_due_at", 1);
	free(vnew);
	vnew = cval(&x, "pakn.due_vi(new_due_at)");
	start_named(&a, "clk-a", 1);
	start_named(&b, "clk-b", 1);
	for (round = 0; round < 3; round++)
		deadline_round(both, 2);
	ck_assert_int_eq(paknd_stop(&b, 5), 0);
	start_named(&b, "clk-b", 0);
	for (round = 0; round < 2; round++)
		deadline_round(both, 2);

	ck_assert_int_eq(events(&x, "escalated"), 2);
	assert_value(qval("SELECT count(*)::text FROM pakn.complaint_event "
	                  "WHERE complaint_id = $1::bigint AND event = "
	                  "'escalated' AND detail->>'again' = 'true'",
	                  x.id, NULL),
	             "1");
	want =
	    strf("Quá ngày hẹn: phản ánh %s (" ROADS_NAME
	         ") đã hẹn người dân ngày %s nhưng chưa trả lời. Trả lời: TL "
	         "%s <nội dung>",
	         x.ticket, vnew, x.ticket);
	assert_sms(&x, OFFICER4_E164, "reminder_again", want);
	free(want);
	ck_assert_int_eq(sms_count(&x, LEADER4_E164, "escalation_again"), 1);
	ck_assert_int_eq(sms_count(&x, PARENT_E164, "escalation_again"), 1);
	want = qval("SELECT body FROM pakn.outbox WHERE complaint_id = "
	            "$1::bigint AND msisdn = $2 AND kind = 'escalation_again'",
	            x.id, PARENT_E164, NULL);
	assert_contains(want, "(Chờ kết quả đo đạc hiện trường) vẫn chưa được "
	                      "trả lời.");
	free(want);
	want =
	    strf("Phản ánh %s vẫn chưa được trả lời vào ngày hẹn %s. Lãnh "
	         "đạo " UNIT4_NAME " và cấp trên đã được báo. Tra cứu: TT %s",
	         x.ticket, vnew, x.ticket);
	assert_sms(&x, x.msisdn, "overdue_again", want);
	free(want);
	/* The first escalation was not repeated. */
	ck_assert_int_eq(sms_count(&x, LEADER4_E164, "escalation"), 1);
	ck_assert_int_eq(sms_count(&x, x.msisdn, "overdue_notice"), 1);
	ck_assert_ptr_null(log_grep(a.log, 0, "[error]"));
	ck_assert_ptr_null(log_grep(b.log, 0, "[error]"));
	ck_assert_int_eq(paknd_stop(&a, 5), 0);
	ck_assert_int_eq(paknd_stop(&b, 5), 0);
	free(vnew);
}
END_TEST

/* Build the suite, in the order the tests must run. */
static Suite *
clocks_suite(void)
{
	Suite *s = suite_create("clocks");
	TCase *tc;

	tc = tcase(s, "complaints", 60);
	tcase_add_test(tc, test_land_complaint);
	tcase_add_test(tc, test_remote);
	tcase_add_test(tc, test_rule_by_receipt);
	tcase_add_test(tc, test_suspend_resume);

	tc = tcase(s, "denunciations", 30);
	tcase_add_test(tc, test_denunciation);

	tc = tcase(s, "sms", 30);
	tcase_add_test(tc, test_sms_accept);

	tc = tcase(s, "deadline", 90);
	tcase_add_test(tc, test_apology);
	tcase_add_test(tc, test_apology_sms);
	tcase_add_test(tc, test_apology_again);
	return s;
}

/* Start the servers, seed them, run the suite, check how paknd ended. */
int
main(void)
{
	struct paknd *d = harness_main();
	SRunner *sr;
	int failed;

	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "check_clocks: cannot start PostgreSQL\n");
		return 99;
	}
	if (paknd_start(d, "main", CONF) == -1 ||
	    paknd_wait_ready(d, 10) == -1 ||
	    harness_seed(NULL, 1, seed_sql) == -1) {
		fprintf(stderr, "check_clocks: paknd does not start\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(clocks_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (paknd_finish(d, "tok-", NULL) == -1)
		failed++;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
