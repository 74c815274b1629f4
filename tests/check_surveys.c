/*
 * check_surveys.c: SMS surveys after public services and Open311
 * GeoReport v2, against the real paknd and a real PostgreSQL.
 *
 * One-stop shops report services through POST /v1/services and paknctl
 * import-services; the survey worker of paknd (every second here) samples
 * them and queues the survey SMS; citizens answer through the Kannel
 * callback. The worker's clock is driven through the database (the
 * setting survey_clock_offset), so a test plays a morning, a night or
 * the next day without waiting: after moving it, a test waits for a pass
 * that started later (pakn.survey_pass). The outbox never sends here:
 * SMS stay queued for the tests to read.
 *
 * Citizens' phones contain 98800; no answer of an API may show one.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"
#include "sms.h"

#ifndef PAKN_SRCDIR
#define PAKN_SRCDIR "."
#endif

#define CITIZEN_DIGITS "98800"
#define CITIZEN(n)     "+849880000" #n
#define T_OFF4         "tok-officer-00004"
#define T_OFF70        "tok-officer-00070"
#define T_LEAD01       "tok-leader-01"
#define T_TTR          "tok-ttr-01"

/* No outbox passes: the SMS stay queued for the tests to read. Surveys
 * every second, of every service, at once after its return. */
#define SURVEY_CONF                                                            \
	"[outbox]\ninterval = 600000\n"                                        \
	"[deadline]\ninterval = 3600\n"                                        \
	"[survey]\ninterval = 1\nsample_percent = 100\nmin_days = 30\n"        \
	"delay = 0\nremind_hours = 4\nexpire_hours = 24\n"

/* Tokens of officials of the sample officials.sample.csv. */
static const char *seed_sql[] = {
    "INSERT INTO pakn.api_token (official_id, token_hash)"
    " SELECT o.id, sha256(convert_to(t.token, 'UTF8'))"
    " FROM (VALUES ('+84901000004', '" T_OFF4 "'),"
    " ('+84901000070', '" T_OFF70 "'), ('+84901000001', '" T_LEAD01 "'),"
    " ('+84901000090', '" T_TTR "')) t (phone, token)"
    " JOIN pakn.official o ON o.phone = t.phone",
    NULL};

/* The port of the shared paknd. */
static int
port(void)
{
	return harness_main()->port;
}

/* A number member as a double; fail unless it is one. */
static double
jnum(json_t *j, const char *path)
{
	json_t *v = jget(j, path);

	ck_assert_msg(json_is_number(v), "%s is not a number", path);
	return json_number_value(v);
}

/* One HTTP exchange; fails unless the status is want and the answer is
 * JSON without a citizen's phone. Returns the parsed body. */
static json_t *
call(const char *method, const char *path, const char *const *headers,
     const char *body, long want)
{
	struct http_resp r;
	json_error_t err;
	json_t *j;

	http_request(port(), method, path, headers, body,
	             body ? strlen(body) : 0, &r);
	if (r.status != want)
		paknd_dump(harness_main());
	ck_assert_msg(r.status == want, "%s %s: HTTP %ld, want %ld; %s%s",
	              method, path, r.status, want, r.body, r.err);
	ck_assert_msg(r.ctype && !strncmp(r.ctype, "application/json", 16),
	              "%s %s: Content-Type %s", method, path, r.ctype);
	assert_lacks(r.body, CITIZEN_DIGITS);
	j = json_loads(r.body, 0, &err);
	ck_assert_msg(j != NULL, "%s %s: not JSON: %s", method, path, r.body);
	http_resp_free(&r);
	return j;
}

/* POST /v1/services with a token and a JSON body. */
static json_t *
service_post(const char *token, const char *body, long want)
{
	char *auth = token ? strf("Authorization: Bearer %s", token) : NULL;
	const char *headers[] = {"Content-Type: application/json", auth, NULL};
	json_t *j = call("POST", "/v1/services", headers, body, want);

	free(auth);
	return j;
}

/* Today's local date, YYYY-MM-DD. */
static char *
today(void)
{
	return qval("SELECT to_char(pakn.local_date(now()), 'YYYY-MM-DD')",
	            NULL);
}

/* Report a service by the API: returned today at 08:00 local. */
static long
service(const char *token, const char *phone, const char *code,
        const char *name, const char *unit, int on_time)
{
	char *day = today();
	char *body =
	    strf("{\"phone\": \"%s\", \"procedure_code\": \"%s\", "
	         "\"procedure_name\": \"%s\", \"unit\": \"%s\", "
	         "\"received_at\": \"%sT07:00\", \"returned_at\": "
	         "\"%sT08:00\", \"on_time\": %s}",
	         phone, code, name, unit, day, day, on_time ? "true" : "false");
	json_t *j = service_post(token, body, 201);
	long id = (long)json_integer_value(json_object_get(j, "id"));

	ck_assert_str_eq(jstr(j, "unit.code"), unit);
	ck_assert_str_eq(jstr(j, "procedure.code"), code);
	ck_assert_str_eq(jstr(j, "survey"), "pending");
	json_decref(j);
	free(body);
	free(day);
	return id;
}

/* Set the survey worker's clock to day0 + days at a local time (day0 is
 * tomorrow, so services returned today are due). */
static void
clock_at(int days, const char *hhmm)
{
	char d[16];

	snprintf(d, sizeof d, "%d", days);
	PQclear(q("INSERT INTO pakn.setting (name, value) SELECT "
	          "'survey_clock_offset', (((pakn.local_date(now()) + 1 + "
	          "$1::integer) + $2::time) AT TIME ZONE 'Asia/Ho_Chi_Minh' - "
	          "now())::text ON CONFLICT (name) DO UPDATE SET value = "
	          "excluded.value",
	          d, hhmm, NULL));
}

/* Wait for a survey pass that started after this call. */
static void
survey_pass(void)
{
	char *t0 = qval("SELECT now()::text", NULL);
	double end = now_secs() + 15;
	long done = 0;

	paknd_signal(harness_main(), SIGUSR2);
	while (now_secs() < end &&
	       (done = qlong("SELECT count(*) FROM pakn.survey_pass "
	                     "WHERE at > $1::timestamptz",
	                     t0, NULL)) != 1)
		sleep_ms(50);
	ck_assert_msg(done == 1, "no survey pass after %s", t0);
	free(t0);
}

/* Send an SMS as Kannel does (UCS-2). */
static void
sms(const char *from, const char *text)
{
	static int seq;
	size_t n;
	unsigned char *u16 = utf8_to_utf16be(text, &n);
	char *enc = url_encode(u16, n), *efrom = url_encode(from, strlen(from));
	char *path =
	    strf("/v1/gw/kannel/sms?token=kannel-secret&from=%s&to=8079"
	         "&text=%s&coding=2&charset=UTF-16BE&id=sv-%d-%d",
	         efrom, enc, getpid(), ++seq);
	struct http_resp r;

	http_get(port(), path, &r);
	ck_assert_msg(r.status == 200, "SMS callback: HTTP %ld %s", r.status,
	              r.body);
	http_resp_free(&r);
	free(u16);
	free(enc);
	free(efrom);
	free(path);
}

/* SMS queued to a phone from a template. */
static long
queued(const char *phone, const char *kind)
{
	return qlong("SELECT count(*) FROM pakn.outbox WHERE msisdn = $1 "
	             "AND kind = $2",
	             phone, kind, NULL);
}

/* The body of the last SMS of a template to a phone. */
static char *
last_sms(const char *phone, const char *kind)
{
	return qval("SELECT body FROM pakn.outbox WHERE msisdn = $1 AND kind "
	            "= $2 ORDER BY id DESC LIMIT 1",
	            phone, kind, NULL);
}

/* A column of a phone's latest survey, as text. */
static char *
survey_col(const char *phone, const char *col)
{
	char *sql = strf("SELECT %s::text FROM pakn.survey WHERE msisdn = $1 "
	                 "ORDER BY id DESC LIMIT 1",
	                 col);
	char *v = qval(sql, phone, NULL);

	free(sql);
	return v;
}

/* Fail unless a phone's latest survey has a column's value. */
static void
assert_survey(const char *phone, const char *col, const char *want)
{
	char *v = survey_col(phone, col);

	if (v == NULL && !strcmp(want, "NULL"))
		return;
	ck_assert_msg(v != NULL && !strcmp(v, want),
	              "%s: survey %s = %s, "
	              "want %s",
	              phone, col, v ? v : "NULL", want);
	free(v);
}

/* POST /v1/services: what the one-stop shop gets wrong is refused with
 * a JSON error naming it; nothing is stored. */
START_TEST(test_service_refusals)
{
	static const struct {
		const char *token;
		const char *body;
		long status;
		const char *code, *names;
	} cases[] = {
	    {NULL, "{}", 401, "unauthorized", "Authorization"},
	    {"tok-nobody",
	     "{\"phone\": \"0988000099\", \"procedure_code\": \"a\", "
	     "\"procedure_name\": \"b\", \"unit\": \"00004\", "
	     "\"received_at\": \"2026-11-02\", \"returned_at\": "
	     "\"2026-11-03\", \"on_time\": true}",
	     401, "unauthorized", "token"},
	    {T_OFF4, "[1]", 400, "bad_request", "JSON object"},
	    {T_OFF4, "{\"phone\":", 400, "bad_request", "malformed JSON"},
	    {T_OFF4, "{\"telephone\": \"0912\"}", 400, "bad_request",
	     "telephone"},
	    {T_OFF4, "{\"phone\": 912}", 400, "bad_request", "phone"},
	    {T_OFF4,
	     "{\"phone\": \"0988000099\", \"procedure_code\": \"a\", "
	     "\"procedure_name\": \"b\", \"unit\": \"00004\", "
	     "\"received_at\": \"2026-11-02\", \"returned_at\": "
	     "\"2026-11-03\"}",
	     400, "bad_request", "on_time"},
	    {T_OFF4,
	     "{\"phone\": \"12\", \"procedure_code\": \"a\", "
	     "\"procedure_name\": \"b\", \"unit\": \"00004\", "
	     "\"received_at\": \"2026-11-02\", \"returned_at\": "
	     "\"2026-11-03\", \"on_time\": true}",
	     400, "bad_request", "phone"},
	    {T_OFF4,
	     "{\"phone\": \"0988000099\", \"procedure_code\": \"a\", "
	     "\"procedure_name\": \"b\", \"unit\": \"00004\", "
	     "\"received_at\": \"2/11/2026\", \"returned_at\": "
	     "\"2026-11-03\", \"on_time\": true}",
	     400, "bad_request", "received_at"},
	    {T_OFF4,
	     "{\"phone\": \"0988000099\", \"procedure_code\": \"a\", "
	     "\"procedure_name\": \"b\", \"unit\": \"00004\", "
	     "\"received_at\": \"2026-11-05\", \"returned_at\": "
	     "\"2026-11-03\", \"on_time\": true}",
	     400, "bad_request", "before received_at"},
	    {T_OFF4,
	     "{\"phone\": \"0988000099\", \"procedure_code\": \"a\", "
	     "\"procedure_name\": \"b\", \"unit\": \"99999\", "
	     "\"received_at\": \"2026-11-02\", \"returned_at\": "
	     "\"2026-11-03\", \"on_time\": true}",
	     400, "bad_request", "99999"},
	    {T_OFF4,
	     "{\"phone\": \"0988000099\", \"procedure_code\": \"a\", "
	     "\"procedure_name\": \"b\", \"unit\": \"00070\", "
	     "\"received_at\": \"2026-11-02\", \"returned_at\": "
	     "\"2026-11-03\", \"on_time\": true}",
	     403, "forbidden", "00070"},
	};
	json_t *j;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		j = service_post(cases[i].token, cases[i].body,
		                 cases[i].status);
		ck_assert_msg(jstr(j, "error.code") != NULL &&
		                  !strcmp(jstr(j, "error.code"), cases[i].code),
		              "case %zu: code %s", i, jstr(j, "error.code"));
		assert_contains(jstr(j, "error.message"), cases[i].names);
		json_decref(j);
	}
	j = call("GET", "/v1/services", NULL, NULL, 405);
	json_decref(j);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.service_record "
	                       "WHERE msisdn = '+84988000099'",
	                       NULL),
	                 0);
}
END_TEST

/* A service reported by the API is sampled and surveyed at a daytime
 * hour in one GSM-7 SMS; "5 C K" answers all three questions. The same
 * file_id again is one record. */
START_TEST(test_survey_by_day)
{
	const char *p = CITIZEN(01);
	char *body, *day = today(), *gsm;
	json_t *j;

	service(T_OFF4, "0988000001", "1.001",
	        "Chứng thực bản sao từ bản chính", "00004", 1);
	body = strf("{\"phone\": \"0988000001\", \"procedure_code\": \"1.002\","
	            " \"procedure_name\": \"Đăng ký khai sinh\", \"unit\": "
	            "\"00004\", \"received_at\": \"%s\", \"returned_at\": "
	            "\"%s\", \"on_time\": true, \"file_id\": \"H-0001\"}",
	            day, day);
	json_decref(service_post(T_OFF4, body, 201));
	j = service_post(T_OFF4, body, 200);
	ck_assert(json_is_true(json_object_get(j, "duplicate")));
	json_decref(j);
	free(body);
	clock_at(0, "10:00");
	survey_pass();
	ck_assert_int_eq(queued(p, "survey"), 1);
	body = last_sms(p, "survey");
	assert_contains(body, "Chứng thực bản sao");
	assert_contains(body, "Phường Ba Đình");
	gsm = sms_to_gsm7(body);
	ck_assert_msg(sms_segments(gsm) == 1, "survey takes %d SMS: %s",
	              sms_segments(gsm), gsm);
	free(gsm);
	free(body);
	/* The second service of the phone: at most one survey per 30 days. */
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.service_record "
	                       "WHERE msisdn = $1 AND skip_reason = 'recent'",
	                       p, NULL),
	                 1);
	sms(p, "5 C K");
	assert_survey(p, "state", "answered");
	assert_survey(p, "satisfaction", "5");
	assert_survey(p, "on_time", "true");
	assert_survey(p, "money_asked", "false");
	ck_assert_int_eq(queued(p, "survey_thanks"), 1);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint WHERE "
	                       "msisdn = $1",
	                       p, NULL),
	                 0);
	free(day);
}
END_TEST

/* Answers in other orders and forms, and in several messages. */
START_TEST(test_answer_forms)
{
	static const struct {
		const char *phone;
		const char *msgs[3];
		const char *sat, *on_time, *money;
	} cases[] = {
	    {CITIZEN(11), {"4ck", NULL}, "4", "true", "false"},
	    {CITIZEN(12), {"k, k 2", NULL}, "2", "false", "false"},
	    {CITIZEN(13), {"Có không 3", NULL}, "3", "true", "false"},
	    {CITIZEN(14), {"1", "K", "ko"}, "1", "false", "false"},
	    {CITIZEN(15), {"c k", "5", NULL}, "5", "true", "false"},
	};
	size_t i, k;

	for (i = 0; i < sizeof cases / sizeof *cases; i++)
		service(T_OFF70, cases[i].phone, "2.001",
		        "Cấp giấy phép xây dựng", "00070", 0);
	clock_at(0, "11:00");
	survey_pass();
	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		ck_assert_int_eq(queued(cases[i].phone, "survey"), 1);
		for (k = 0; k < 3 && cases[i].msgs[k] != NULL; k++)
			sms(cases[i].phone, cases[i].msgs[k]);
		assert_survey(cases[i].phone, "state", "answered");
		assert_survey(cases[i].phone, "satisfaction", cases[i].sat);
		assert_survey(cases[i].phone, "on_time", cases[i].on_time);
		assert_survey(cases[i].phone, "money_asked", cases[i].money);
		ck_assert_int_eq(queued(cases[i].phone, "survey_thanks"), 1);
		ck_assert_int_eq(queued(cases[i].phone, "survey_partial"),
		                 (long)k - 1);
	}
	/* What was missing is said. */
	{
		char *b = last_sms(CITIZEN(14), "survey_partial");
		assert_contains(b, "bị đòi tiền C/K");
		free(b);
	}
}
END_TEST

/* paknctl import-services: one transaction, errors with line numbers,
 * the same file_id again updates; imported services are surveyed. */
START_TEST(test_import_services)
{
	char *day = today(), path[PATH_MAX], out[PATH_MAX], *text;
	char *argv[] = {(char *)paknctl_path(), "-c", harness_main()->conf,
	                "import-services",      path, NULL};
	FILE *f;
	int st;

	harness_path(path, sizeof path, "services-bad.csv");
	harness_path(out, sizeof out, "import.out");
	f = fopen(path, "w");
	fprintf(
	    f,
	    "phone,procedure_code,procedure_name,unit,received,returned,"
	    "on_time,file_id\n"
	    "0988000021,3.001,Đăng ký kết hôn,00004,%s 07:00,%s 09:30,"
	    "đúng hạn,F-21\n"
	    "0988000022,3.001,Đăng ký kết hôn,00004,%s,hôm qua,quá hạn,F-22\n",
	    day, day, day);
	fclose(f);
	harness_expect_pg("line 3: returned");
	st = harness_run(argv, NULL, out, 30);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 1, "status %d", st);
	text = file_read(out, NULL);
	assert_contains(text, "line 3: returned");
	free(text);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.service_record "
	                       "WHERE file_id IN ('F-21', 'F-22')",
	                       NULL),
	                 0);
	harness_path(path, sizeof path, "services.csv");
	f = fopen(path, "w");
	fprintf(f,
	        "phone,procedure_code,procedure_name,unit,received,returned,"
	        "on_time,file_id\n"
	        "0988000021,3.001,Đăng ký kết hôn,00004,%s 07:00,%s 09:30,"
	        "đúng hạn,F-21\n"
	        "0988000022,3.001,Đăng ký kết hôn,00004,%s,%s,quá hạn,F-22\n",
	        day, day, day, day);
	fclose(f);
	ck_assert_int_eq(harness_run(argv, out, out, 30), 0);
	ck_assert_int_eq(harness_run(argv, out, out, 30), 0);
	text = file_read(out, NULL);
	assert_contains(text, "0 new, 2 updated");
	free(text);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.service_record "
	                       "WHERE file_id IN ('F-21', 'F-22') AND source "
	                       "= 'csv'",
	                       NULL),
	                 2);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.service_record "
	                       "WHERE file_id = 'F-22' AND NOT on_time",
	                       NULL),
	                 1);
	clock_at(0, "12:00");
	survey_pass();
	ck_assert_int_eq(queued(CITIZEN(21), "survey"), 1);
	ck_assert_int_eq(queued(CITIZEN(22), "survey"), 1);
	sms(CITIZEN(21), "4 C K");
	assert_survey(CITIZEN(21), "state", "answered");
	free(day);
}
END_TEST

/* Never at night: a survey due at 22:00 waits; at 06:30 still; at 07:30
 * it goes. */
START_TEST(test_never_at_night)
{
	const char *p = CITIZEN(31);

	service(T_OFF4, p, "1.001", "Chứng thực bản sao", "00004", 1);
	clock_at(0, "22:00");
	survey_pass();
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.survey_pass WHERE "
	                       "quiet",
	                       NULL),
	                 1);
	assert_survey(p, "state", "due");
	ck_assert_int_eq(queued(p, "survey"), 0);
	clock_at(1, "06:30");
	survey_pass();
	ck_assert_int_eq(queued(p, "survey"), 0);
	clock_at(1, "07:30");
	survey_pass();
	ck_assert_int_eq(queued(p, "survey"), 1);
	assert_survey(p, "state", "sent");
}
END_TEST

/* Never after STOP: a phone that opted out before the service is not
 * sampled; one that opts out while its survey waits is cancelled. */
START_TEST(test_never_after_stop)
{
	const char *a = CITIZEN(41), *b = CITIZEN(42);

	sms(a, "TU CHOI");
	service(T_OFF4, a, "1.001", "Chứng thực bản sao", "00004", 1);
	service(T_OFF4, b, "1.001", "Chứng thực bản sao", "00004", 1);
	clock_at(0, "23:00");
	survey_pass();
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.service_record "
	                       "WHERE msisdn = $1 AND skip_reason = "
	                       "'opted_out'",
	                       a, NULL),
	                 1);
	assert_survey(b, "state", "due");
	sms(b, "STOP");
	clock_at(1, "08:00");
	survey_pass();
	assert_survey(b, "state", "cancelled");
	assert_survey(b, "cancel_reason", "opted_out");
	ck_assert_int_eq(queued(a, "survey"), 0);
	ck_assert_int_eq(queued(b, "survey"), 0);
}
END_TEST

/* At most one survey per phone per 30 days: a service of a phone
 * surveyed a day before is not. */
START_TEST(test_one_per_days)
{
	const char *p = CITIZEN(51);

	service(T_OFF4, p, "1.001", "Chứng thực bản sao", "00004", 1);
	clock_at(0, "09:00");
	survey_pass();
	ck_assert_int_eq(queued(p, "survey"), 1);
	service(T_OFF70, p, "2.001", "Cấp giấy phép xây dựng", "00070", 1);
	clock_at(1, "09:00");
	survey_pass();
	ck_assert_int_eq(queued(p, "survey"), 1);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.service_record "
	                       "WHERE msisdn = $1 AND skip_reason = 'recent'",
	                       p, NULL),
	                 1);
}
END_TEST

/* One reminder after remind_hours, never two; expiry after
 * expire_hours; a late answer is thanked, not taken for a complaint. */
START_TEST(test_reminder_expiry)
{
	const char *p = CITIZEN(61);

	service(T_OFF4, p, "1.001", "Chứng thực bản sao", "00004", 1);
	clock_at(0, "09:00");
	survey_pass();
	ck_assert_int_eq(queued(p, "survey"), 1);
	clock_at(0, "12:00");
	survey_pass();
	ck_assert_int_eq(queued(p, "survey_reminder"), 0);
	clock_at(0, "13:30");
	survey_pass();
	ck_assert_int_eq(queued(p, "survey_reminder"), 1);
	clock_at(0, "16:00");
	survey_pass();
	ck_assert_int_eq(queued(p, "survey_reminder"), 1);
	clock_at(1, "09:30");
	survey_pass();
	assert_survey(p, "state", "expired");
	sms(p, "5 C K");
	ck_assert_int_eq(queued(p, "survey_closed"), 1);
	assert_survey(p, "satisfaction", "NULL");
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint WHERE "
	                       "msisdn = $1",
	                       p, NULL),
	                 0);
}
END_TEST

/* "Asked for money": a sensitive report at the inspection unit, with
 * the procedure; the citizen is told; the serving unit gets nothing. */
START_TEST(test_money_asked)
{
	const char *p = CITIZEN(71);
	char *ticket, *body;
	long before;

	before = qlong("SELECT count(*) FROM pakn.outbox WHERE msisdn IN "
	               "('+84901000004', '+84901000005', '+84912000004')",
	               NULL);
	service(T_OFF4, p, "1.009", "Cấp bản sao trích lục hộ tịch", "00004",
	        1);
	clock_at(0, "10:00");
	survey_pass();
	sms(p, "C 4 C");
	assert_survey(p, "money_asked", "true");
	ticket =
	    qval("SELECT c.ticket FROM pakn.complaint c JOIN pakn.survey s "
	         "ON s.complaint_id = c.id WHERE s.msisdn = $1",
	         p, NULL);
	ck_assert_ptr_nonnull(ticket);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint WHERE "
	                       "ticket = $1 AND sensitive AND category_code = "
	                       "'corruption' AND responsible_unit = '01-TTr' "
	                       "AND location_unit = '00004' AND text LIKE "
	                       "'%Cấp bản sao trích lục hộ tịch%1.009%'",
	                       ticket, NULL),
	                 1);
	body = last_sms(p, "survey_money");
	assert_contains(body, ticket);
	assert_contains(body, "Thanh tra Thành phố Hà Nội");
	free(body);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.outbox o JOIN "
	                       "pakn.complaint c ON c.id = o.complaint_id "
	                       "WHERE c.ticket = $1 AND o.kind = "
	                       "'new_complaint' AND o.msisdn IN "
	                       "('+84901000090', '+84901000091')",
	                       ticket, NULL),
	                 2);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.outbox WHERE msisdn "
	                       "IN ('+84901000004', '+84901000005', "
	                       "'+84912000004')",
	                       NULL),
	                 before);
	/* The inspection unit sees it; the serving unit's officer does not. */
	{
		char *path = strf("/v1/complaints/%s", ticket);
		const char *h1[] = {"Authorization: Bearer " T_TTR, NULL};
		const char *h2[] = {"Authorization: Bearer " T_OFF4, NULL};
		json_t *j = call("GET", path, h1, NULL, 200);

		assert_contains(jstr(j, "text"), "1.009");
		json_decref(j);
		json_decref(call("GET", path, h2, NULL, 404));
		free(path);
	}
	free(ticket);
}
END_TEST

/* A bare digit: the most recent question asked to the phone wins. */
START_TEST(test_digit_most_recent)
{
	const char *a = CITIZEN(81), *b = CITIZEN(82);
	const char *h[] = {"Content-Type: application/json",
	                   "Authorization: Bearer " T_OFF4, NULL};
	char *ta, *tb, *path;

	/* a: the complaint's rating question first, then the survey. */
	sms(a, "PA đèn đường hỏng #00004");
	ta = qval("SELECT ticket FROM pakn.complaint WHERE msisdn = $1", a,
	          NULL);
	path = strf("/v1/complaints/%s/answer", ta);
	json_decref(call("POST", path, h, "{\"text\": \"Đã sửa\"}", 200));
	free(path);
	service(T_OFF4, a, "1.001", "Chứng thực bản sao", "00004", 1);
	/* b: the survey first, then the complaint's rating question. */
	service(T_OFF4, b, "1.001", "Chứng thực bản sao", "00004", 1);
	clock_at(0, "10:00");
	survey_pass();
	ck_assert_int_eq(queued(a, "survey"), 1);
	ck_assert_int_eq(queued(b, "survey"), 1);
	sms(b, "PA rác không được thu gom #00004");
	tb = qval("SELECT ticket FROM pakn.complaint WHERE msisdn = $1", b,
	          NULL);
	path = strf("/v1/complaints/%s/answer", tb);
	json_decref(call("POST", path, h, "{\"text\": \"Đã thu gom\"}", 200));
	free(path);
	sms(a, "4");
	sms(b, "4");
	assert_survey(a, "satisfaction", "4");
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.rating r JOIN "
	                       "pakn.complaint c ON c.id = r.complaint_id "
	                       "WHERE c.ticket = $1",
	                       ta, NULL),
	                 0);
	assert_survey(b, "satisfaction", "NULL");
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.rating r JOIN "
	                       "pakn.complaint c ON c.id = r.complaint_id "
	                       "WHERE c.ticket = $1 AND r.score = 4",
	                       tb, NULL),
	                 1);
	free(ta);
	free(tb);
}
END_TEST

/* Statistics per unit x procedure: response rate, satisfaction, on time
 * as experienced and as recorded, the gap, money asked; in /v1/stats,
 * its CSV, and the public report (aggregates only). */
START_TEST(test_stats)
{
	const char *h[] = {"Authorization: Bearer " T_LEAD01, NULL};
	char *month =
	    qval("SELECT to_char(pakn.local_date(now()), 'YYYY-MM')", NULL);
	char *path;
	json_t *j, *row = NULL, *v;
	struct http_resp r;
	size_t i;

	service(T_OFF70, CITIZEN(91), "9.999", "Thủ tục thống kê", "00070", 1);
	service(T_OFF70, CITIZEN(92), "9.999", "Thủ tục thống kê", "00070", 1);
	service(T_OFF70, CITIZEN(93), "9.999", "Thủ tục thống kê", "00070", 1);
	clock_at(0, "10:00");
	survey_pass();
	sms(CITIZEN(91), "5 C K");
	sms(CITIZEN(92), "2 K K");
	path = strf("/v1/stats?unit=01&period=%s&by=survey", month);
	j = call("GET", path, h, NULL, 200);
	free(path);
	json_array_foreach(jget(j, "surveys.rows"), i, v)
	{
		if (!strcmp(jstr(v, "procedure.code"), "9.999"))
			row = v;
	}
	ck_assert_ptr_nonnull(row);
	ck_assert_str_eq(jstr(row, "unit.code"), "00070");
	ck_assert_double_eq(jnum(row, "services"), 3);
	ck_assert_double_eq(jnum(row, "surveys_sent"), 3);
	ck_assert_double_eq(jnum(row, "responses"), 2);
	ck_assert_double_eq_tol(jnum(row, "response_rate"), 66.7, 0.01);
	ck_assert_double_eq_tol(jnum(row, "mean_satisfaction"), 3.5, 0.001);
	ck_assert_double_eq_tol(jnum(row, "satisfaction_rate"), 50, 0.01);
	ck_assert_double_eq_tol(jnum(row, "on_time_experienced_rate"), 50,
	                        0.01);
	ck_assert_double_eq_tol(jnum(row, "on_time_recorded_rate"), 100, 0.01);
	ck_assert_double_eq_tol(jnum(row, "on_time_gap"), 50, 0.01);
	ck_assert_double_eq_tol(jnum(row, "money_asked_rate"), 0, 0.01);
	ck_assert(jnum(j, "surveys.total.services") >= 3);
	ck_assert_str_eq(jstr(j, "by"), "survey");
	json_decref(j);
	/* The CSV of the same: one line per unit and procedure. */
	path = strf("/v1/stats.csv?unit=01&period=%s&by=survey", month);
	http_request(port(), "GET", path, h, NULL, 0, &r);
	ck_assert_int_eq(r.status, 200);
	assert_contains(r.body, "Mã thủ tục");
	assert_contains(r.body, "Tỷ lệ trả lời (%)");
	assert_contains(r.body, "00070,Phường Hoàn Kiếm,9.999,Thủ tục thống kê,"
	                        "3,100.0,3,2,66.7,3.50,50.0,50.0,100.0,50.0,0,"
	                        "0.0\r\n");
	assert_lacks(r.body, CITIZEN_DIGITS);
	http_resp_free(&r);
	free(path);
	/* The public report: the section, figures, no phone. */
	path = strf("/public/report/%s?unit=01", month);
	http_get(port(), path, &r);
	ck_assert_int_eq(r.status, 200);
	assert_contains(r.body, "Khảo sát người dân sau dịch vụ công");
	assert_contains(r.body, "Thủ tục thống kê");
	assert_lacks(r.body, CITIZEN_DIGITS);
	http_resp_free(&r);
	free(path);
	path = strf("/public/report/%s.csv?unit=01&by=survey", month);
	http_get(port(), path, &r);
	ck_assert_int_eq(r.status, 200);
	assert_contains(r.body, "9.999,Thủ tục thống kê,3,100.0");
	http_resp_free(&r);
	free(path);
	free(month);
}
END_TEST

/* Run paknctl survey-percent UNIT PERCENT; its exit status. */
static int
survey_percent(const char *unit, const char *pct)
{
	char *argv[] = {(char *)paknctl_path(),
	                "-c",
	                harness_main()->conf,
	                "survey-percent",
	                (char *)unit,
	                (char *)pct,
	                NULL};

	return harness_run(argv, NULL, NULL, 30);
}

/* A unit's own share: 0 % surveys none of its services. */
START_TEST(test_unit_percent)
{
	const char *p = CITIZEN(95);

	ck_assert_int_eq(survey_percent("00070", "0"), 0);
	service(T_OFF70, p, "2.001", "Cấp giấy phép xây dựng", "00070", 1);
	clock_at(0, "10:00");
	survey_pass();
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.service_record "
	                       "WHERE msisdn = $1 AND skip_reason = "
	                       "'not_sampled'",
	                       p, NULL),
	                 1);
	ck_assert_int_eq(queued(p, "survey"), 0);
	ck_assert_int_eq(survey_percent("00070", "default"), 0);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.survey_unit", NULL),
	                 0);
}
END_TEST

/* Two paknd on one database: each survey is sent once. */
START_TEST(test_two_instances)
{
	struct paknd second;
	char phone[16];
	int i;

	ck_assert_int_eq(paknd_start(&second, "second", SURVEY_CONF), 0);
	ck_assert_int_eq(paknd_wait_ready(&second, 10), 0);
	for (i = 0; i < 6; i++) {
		snprintf(phone, sizeof phone, "+8498800003%d", i);
		service(T_OFF4, phone, "1.001", "Chứng thực bản sao", "00004",
		        1);
	}
	clock_at(0, "10:30");
	for (i = 0; i < 3; i++) {
		paknd_signal(&second, SIGUSR2);
		survey_pass();
	}
	for (i = 0; i < 6; i++) {
		snprintf(phone, sizeof phone, "+8498800003%d", i);
		ck_assert_int_eq(queued(phone, "survey"), 1);
	}
	ck_assert_int_eq(paknd_finish(&second, "tok-", NULL), 0);
}
END_TEST

/* keep_phone_days after the return, the phone numbers of services and
 * closed surveys are erased; the figures stay. */
START_TEST(test_erase_phones)
{
	long services = qlong("SELECT count(*) FROM pakn.service_record", NULL);

	clock_at(100, "10:00");
	survey_pass();
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.service_record "
	                       "WHERE msisdn LIKE '+84988%'",
	                       NULL),
	                 0);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.survey WHERE msisdn "
	                       "LIKE '+84988%'",
	                       NULL),
	                 0);
	ck_assert_int_eq(
	    qlong("SELECT count(*) FROM pakn.service_record", NULL), services);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.survey WHERE "
	                       "satisfaction = 5 AND msisdn = 'erased'",
	                       NULL) > 0,
	                 1);
}
END_TEST

/* Open311: the services, a definition, errors as the spec's array. */
START_TEST(test_open311_services)
{
	json_t *j = call("GET", "/open311/v2/services.json", NULL, NULL, 200),
	       *s;
	static const char *fields[] = {
	    "service_code", "service_name", "description", "metadata",
	    "type",         "keywords",     "group"};
	size_t i, found = 0;

	ck_assert(json_is_array(j) && json_array_size(j) > 10);
	json_array_foreach(j, i, s)
	{
		for (size_t k = 0; k < sizeof fields / sizeof *fields; k++)
			ck_assert_msg(json_object_get(s, fields[k]) != NULL,
			              "service lacks %s", fields[k]);
		ck_assert(json_is_false(json_object_get(s, "metadata")));
		ck_assert_str_eq(jstr(s, "type"), "realtime");
		if (!strcmp(jstr(s, "service_code"), "corruption")) {
			ck_assert_str_eq(jstr(s, "group"),
			                 "Kiểm soát tham nhũng trong khu vực "
			                 "công");
			found++;
		}
	}
	ck_assert_int_eq(found, 1);
	json_decref(j);
	j = call("GET", "/open311/v2/services/roads.json", NULL, NULL, 200);
	ck_assert_str_eq(jstr(j, "service_code"), "roads");
	ck_assert(json_is_array(json_object_get(j, "attributes")));
	json_decref(j);
	j = call("GET", "/open311/v2/services/nope.json", NULL, NULL, 404);
	ck_assert(json_is_array(j));
	ck_assert_double_eq(jnum(j, "0.code"), 404);
	assert_contains(jstr(j, "0.description"), "nope");
	json_decref(j);
	j = call("GET", "/open311/v2/services.xml", NULL, NULL, 400);
	assert_contains(jstr(j, "0.description"), ".json");
	json_decref(j);
	j = call("GET", "/open311/v2/nothing.json", NULL, NULL, 404);
	ck_assert_double_eq(jnum(j, "0.code"), 404);
	json_decref(j);
}
END_TEST

/* Register a client with paknctl; its api_key. */
static char *
open311_key(const char *name)
{
	char out[PATH_MAX], *key;
	char *argv[] = {(char *)paknctl_path(),
	                "-c",
	                harness_main()->conf,
	                "open311-client",
	                "add",
	                (char *)name,
	                NULL};

	harness_path(out, sizeof out, "open311-key.out");
	ck_assert_int_eq(harness_run(argv, out, NULL, 30), 0);
	key = file_read(out, NULL);
	key[strcspn(key, "\n")] = '\0';
	ck_assert_msg(strlen(key) > 20, "key %s", key);
	return key;
}

/* POST a form to requests.json. */
static json_t *
open311_post(const char *form, long want)
{
	const char *h[] = {"Content-Type: application/x-www-form-urlencoded",
	                   NULL};

	return call("POST", "/open311/v2/requests.json", h, form, want);
}

/* Open311: POST -> SMS ack -> an official answers (API) -> GET shows it
 * closed with the answer in status_notes; refusals as the spec's array;
 * public fields only. */
START_TEST(test_open311_flow)
{
	char *key = open311_key("fixmystreet"), *form, *id, *token, *path;
	const char *h[] = {"Content-Type: application/json",
	                   "Authorization: Bearer " T_OFF4, NULL};
	static const char *fields[] = {"service_request_id",
	                               "status",
	                               "status_notes",
	                               "service_name",
	                               "service_code",
	                               "description",
	                               "agency_responsible",
	                               "service_notice",
	                               "requested_datetime",
	                               "updated_datetime",
	                               "expected_datetime",
	                               "address",
	                               "address_id",
	                               "zipcode",
	                               "lat",
	                               "long",
	                               "media_url"};
	json_t *j;

	j = open311_post("service_code=roads&address_id=00004&description=x",
	                 403);
	ck_assert_double_eq(jnum(j, "0.code"), 403);
	assert_contains(jstr(j, "0.description"), "api_key");
	json_decref(j);
	form = strf("api_key=%s&service_code=nope&address_id=00004&"
	            "description=x",
	            key);
	json_decref(open311_post(form, 400));
	free(form);
	form = strf("api_key=%s&service_code=roads&lat=21.03&long=105.8&"
	            "description=x",
	            key);
	j = open311_post(form, 400);
	assert_contains(jstr(j, "0.description"), "address_string");
	json_decref(j);
	free(form);
	form =
	    strf("api_key=%s&service_code=roads&address_string=Ph%%C6%%B0%%E1"
	         "%%BB%%9Dng+Ba+%%C4%%90%%C3%%ACnh&description=%%C4%%90%%C6%%B0"
	         "%%E1%%BB%%9Dng+h%%E1%%BB%%8Fng+n%%E1%%BA%%B7ng&phone="
	         "0988000101&first_name=An",
	         key);
	j = open311_post(form, 200);
	free(form);
	id = strdup(jstr(j, "0.service_request_id"));
	token = strdup(jstr(j, "0.token"));
	assert_contains(jstr(j, "0.service_notice"), "Phường Ba Đình");
	json_decref(j);
	ck_assert_int_eq(queued("+84988000101", "ack"), 1);
	{
		char *ack = last_sms("+84988000101", "ack");
		assert_contains(ack, id);
		free(ack);
	}
	path = strf("/open311/v2/tokens/%s.json", token);
	j = call("GET", path, NULL, NULL, 200);
	ck_assert_str_eq(jstr(j, "0.service_request_id"), id);
	ck_assert_str_eq(jstr(j, "0.token"), token);
	json_decref(j);
	free(path);
	path = strf("/open311/v2/requests/%s.json", id);
	j = call("GET", path, NULL, NULL, 200);
	for (size_t k = 0; k < sizeof fields / sizeof *fields; k++)
		ck_assert_msg(json_object_get(jget(j, "0"), fields[k]) != NULL,
		              "request lacks %s", fields[k]);
	ck_assert_str_eq(jstr(j, "0.status"), "open");
	ck_assert_str_eq(jstr(j, "0.agency_responsible"), "Phường Ba Đình");
	ck_assert_str_eq(jstr(j, "0.address_id"), "00004");
	ck_assert_str_eq(jstr(j, "0.description"), "Đường hỏng nặng");
	ck_assert_ptr_nonnull(jstr(j, "0.expected_datetime"));
	assert_contains(jstr(j, "0.expected_datetime"), "+07:00");
	json_decref(j);
	{
		char *p2 = strf("/v1/complaints/%s/answer", id);
		json_decref(call("POST", p2, h,
		                 "{\"text\": \"Đã vá xong mặt đường\"}", 200));
		free(p2);
	}
	j = call("GET", path, NULL, NULL, 200);
	ck_assert_str_eq(jstr(j, "0.status"), "closed");
	ck_assert_str_eq(jstr(j, "0.status_notes"), "Đã vá xong mặt đường");
	json_decref(j);
	free(path);
	/* The list with filters. */
	j = call("GET",
	         "/open311/v2/requests.json?status=closed&service_code=roads",
	         NULL, NULL, 200);
	{
		size_t i, hit = 0;
		json_t *v;
		json_array_foreach(j, i, v)
		{
			ck_assert_str_eq(jstr(v, "status"), "closed");
			hit += !strcmp(jstr(v, "service_request_id"), id);
		}
		ck_assert_int_eq(hit, 1);
	}
	json_decref(j);
	j = call("GET", "/open311/v2/requests.json?status=maybe", NULL, NULL,
	         400);
	ck_assert_double_eq(jnum(j, "0.code"), 400);
	json_decref(j);
	json_decref(call("GET",
	                 "/open311/v2/requests.json?start_date=yesterday", NULL,
	                 NULL, 400));
	json_decref(
	    call("GET", "/open311/v2/requests/NOSUCH1.json", NULL, NULL, 404));
	json_decref(
	    call("GET", "/open311/v2/tokens/nosuch.json", NULL, NULL, 404));
	free(id);
	free(token);
	free(key);
}
END_TEST

/* A sensitive report by Open311 shows no text or place; one without a
 * phone gets no SMS. */
START_TEST(test_open311_public_fields)
{
	char *key = open311_key("portal"), *form, *id, *path;
	json_t *j;

	form = strf("api_key=%s&service_code=corruption&address_id=00004&"
	            "description=C%%C3%%A1n+b%%E1%%BB%%99+%%C4%%91%%C3%%B2i+ti"
	            "%%E1%%BB%%81n",
	            key);
	j = open311_post(form, 200);
	id = strdup(jstr(j, "0.service_request_id"));
	json_decref(j);
	free(form);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.outbox o JOIN "
	                       "pakn.complaint c ON c.id = o.complaint_id "
	                       "WHERE c.ticket = $1 AND o.msisdn NOT LIKE "
	                       "'+84%'",
	                       id, NULL),
	                 0);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint WHERE "
	                       "ticket = $1 AND responsible_unit = '01-TTr'",
	                       id, NULL),
	                 1);
	path = strf("/open311/v2/requests/%s.json", id);
	j = call("GET", path, NULL, NULL, 200);
	ck_assert(json_is_null(jget(j, "0.description")));
	ck_assert(json_is_null(jget(j, "0.address_id")));
	ck_assert_str_eq(jstr(j, "0.service_code"), "corruption");
	json_decref(j);
	free(path);
	j = call("GET", "/open311/v2/requests.json?service_code=corruption",
	         NULL, NULL, 200);
	{
		char *text = json_dumps(j, 0);
		assert_lacks(text, "Cán bộ đòi tiền");
		free(text);
	}
	json_decref(j);
	free(id);
	free(key);
}
END_TEST

/* Build the suite, in the order the tests must run. */
static Suite *
surveys_suite(void)
{
	Suite *s = suite_create("surveys");
	TCase *tc = tcase(s, "surveys", 60);

	tcase_add_test(tc, test_service_refusals);
	tcase_add_test(tc, test_survey_by_day);
	tcase_add_test(tc, test_answer_forms);
	tcase_add_test(tc, test_import_services);
	tcase_add_test(tc, test_never_at_night);
	tcase_add_test(tc, test_never_after_stop);
	tcase_add_test(tc, test_one_per_days);
	tcase_add_test(tc, test_reminder_expiry);
	tcase_add_test(tc, test_money_asked);
	tcase_add_test(tc, test_digit_most_recent);
	tcase_add_test(tc, test_stats);
	tcase_add_test(tc, test_two_instances);
	tcase_add_test(tc, test_unit_percent);
	tcase_add_test(tc, test_erase_phones);
	tc = tcase(s, "open311", 60);
	tcase_add_test(tc, test_open311_services);
	tcase_add_test(tc, test_open311_flow);
	tcase_add_test(tc, test_open311_public_fields);
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
		fprintf(stderr, "check_surveys: cannot start PostgreSQL\n");
		return 99;
	}
	/* No outbox passes: the SMS stay queued for the tests to read. */
	if (paknd_start(d, "main", SURVEY_CONF) == -1 ||
	    paknd_wait_ready(d, 10) == -1 ||
	    harness_seed(NULL, 1, seed_sql) == -1) {
		fprintf(stderr, "check_surveys: paknd does not start\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(surveys_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (paknd_finish(d, "tok-", "o311_", NULL) == -1)
		failed++;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
