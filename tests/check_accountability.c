/*
 * check_accountability.c: deadlines, answers, ratings, reminders,
 * escalation and the ledger, end to end. Citizens and officials text the
 * real paknd through Kannel get-url callbacks; the reference data comes
 * from `paknctl import-*` of the sample files; the tests read what people
 * would see (complaint rows, ledger events, the SMS queued in the outbox
 * with their recipients and texts, dates as DD/MM/YYYY).
 *
 * SQL writes only simulate time passing (a due date or an answer moved
 * into the past); each such place says so. Complaints whose due date is
 * moved belong to citizens with phones +84977..., so the ledger check can
 * tell them apart.
 *
 * main() starts one cluster and one paknd ("main"); Check forks every
 * test, so the tests share them. The deadline worker runs on every
 * complaint of the database, so the tests that trigger it run after the
 * ones that only create complaints; the holiday import, which changes
 * every later due date, runs after them, and the ledger checks, which
 * look at every complaint, run last.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include <check.h>

#include "harness.h"

#ifndef PAKN_SRCDIR
#define PAKN_SRCDIR "."
#endif

#define SHORTCODE "8079"

/* From config/officials.sample.csv and config/units.sample.csv. */
#define OFFICER        "0901000004" /* officer of 00004 Phường Ba Đình */
#define OFFICER_E164   "+84901000004"
#define LEADER_E164    "+84901000005" /* leader of 00004 */
#define UNIT_E164      "+84912000004" /* the phone of unit 00004 */
#define PARENT_E164    "+84901000001" /* leader of 01, parent of 00004 */
#define OTHER_OFFICER  "0901000070"   /* officer of 00070 */
#define UNIT_NAME      "Phường Ba Đình"
#define UNIT8_NAME     "Phường Ngọc Hà"
#define ROADS_NAME     "Đường giao thông"
#define ROADS_DAYS     15
#define POTHOLE        "Đường ngõ 12 có ổ gà lớn, xe máy hay bị ngã #00004"
#define REMIND_DAYS    2
#define APOLOGY_DAYS   5
#define RATING_WAIT    7 /* days */
#define STR_(x)        #x
#define STR(x)         STR_(x)
#define SHIFTED_PREFIX "+84977" /* citizens whose due_at the tests move */

/* The [deadline] settings of every instance: passes only on SIGUSR2, and
 * no outbox polling, so an instance's connections are busy only with the
 * passes the tests ask for. */
#define DEADLINE_CONF                                                          \
	"[deadline]\n"                                                         \
	"interval = 3600\n"                                                    \
	"remind_days = " STR(                                                  \
	    REMIND_DAYS) "\n"                                                  \
	                 "apology_days = " STR(                                \
	                     APOLOGY_DAYS) "\n"                                \
	                                   "rating_wait_days = " STR(          \
	                                       RATING_WAIT) "\n"               \
	                                                    "\n"               \
	                                                    "[outbox]\n"       \
	                                                    "interval = "      \
	                                                    "600000\n"

/* A complaint as the tests know it. */
struct complaint {
	char id[24];
	char ticket[16];
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
	         "&text=%s&coding=0&charset=UTF-8&id=acc-%d-%d&ts=%ld",
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

/* Return "msisdn kind, ..." of the SMS queued after mark, sorted. */
static char *
sms_since(const char *mark)
{
	char *v = qval("SELECT string_agg(msisdn || ' ' || kind, ', ' "
	               "ORDER BY msisdn COLLATE \"C\", kind COLLATE \"C\") "
	               "FROM pakn.outbox WHERE id > $1::bigint",
	               mark, NULL);

	return v != NULL ? v : strdup("");
}

/* Fail unless the SMS queued after mark are exactly want. */
static void
assert_sms_since(const char *mark, const char *want)
{
	char *got = sms_since(mark);

	ck_assert_msg(strcmp(got, want) == 0, "SMS queued: [%s]\nwant: [%s]",
	              got, want);
	free(got);
}

/* Return the count of SMS of a kind to a phone about a complaint. */
static long
sms_count(const char *complaint, const char *msisdn, const char *kind)
{
	return qlong("SELECT count(*) FROM pakn.outbox WHERE complaint_id = "
	             "$1::bigint AND msisdn = $2 AND kind = $3",
	             complaint, msisdn, kind, NULL);
}

/* Fail unless one SMS of kind went to msisdn after mark, reading want. */
static void
assert_sms(const char *mark, const char *msisdn, const char *kind,
           const char *want)
{
	long n = qlong("SELECT count(*) FROM pakn.outbox WHERE id > "
	               "$1::bigint AND msisdn = $2 AND kind = $3",
	               mark, msisdn, kind, NULL);
	char *body;

	ck_assert_msg(n == 1, "%ld SMS \"%s\" to %s, want 1", n, kind, msisdn);
	body = qval("SELECT body FROM pakn.outbox WHERE id > $1::bigint "
	            "AND msisdn = $2 AND kind = $3",
	            mark, msisdn, kind, NULL);
	ck_assert_msg(body != NULL && strcmp(body, want) == 0,
	              "SMS \"%s\" to %s:\n  got  \"%s\"\n  want \"%s\"", kind,
	              msisdn, body != NULL ? body : "(null)", want);
	free(body);
}

/* Fail unless an UPDATE that simulates time passing changed one row. */
static void
shifted(PGresult *res)
{
	ck_assert_str_eq(PQcmdTuples(res), "1");
	PQclear(res);
}

/* Return an expression over a complaint's row, malloc'd, or NULL. */
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

/* Return the complaint's ledger events in order, joined by ",". */
static char *
ledger(const struct complaint *c)
{
	return qval("SELECT string_agg(event, ',' ORDER BY id) FROM "
	            "pakn.complaint_event WHERE complaint_id = $1::bigint",
	            c->id, NULL);
}

/* Return how many events of a kind the complaint's ledger holds. */
static long
events(const struct complaint *c, const char *event)
{
	return qlong("SELECT count(*) FROM pakn.complaint_event WHERE "
	             "complaint_id = $1::bigint AND event = $2",
	             c->id, event, NULL);
}

/* Find the newest complaint of a citizen (E.164); fail if none. */
static void
newest_complaint(const char *msisdn, struct complaint *c)
{
	PGresult *res = q("SELECT id, ticket FROM pakn.complaint WHERE "
	                  "msisdn = $1 ORDER BY id DESC LIMIT 1",
	                  msisdn, NULL);

	ck_assert_ptr_nonnull(res);
	ck_assert_msg(PQntuples(res) == 1, "no complaint from %s", msisdn);
	snprintf(c->id, sizeof c->id, "%s", PQgetvalue(res, 0, 0));
	snprintf(c->ticket, sizeof c->ticket, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
}

/* Write a calendar date as "YYYY-MM-DD" for a moment in UTC. */
static void
ymd_of(time_t t, char out[11])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 11, "%Y-%m-%d", &tm);
}

/* Return noon UTC of a "YYYY-MM-DD" date. */
static time_t
noon_of(const char *ymd)
{
	struct tm tm = {0};

	ck_assert_int_eq(
	    sscanf(ymd, "%d-%d-%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday), 3);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_hour = 12;
	return timegm(&tm);
}

/* Write today's date in Việt Nam (UTC+7, no summer time). */
static void
local_today(char out[11])
{
	ymd_of(time(NULL) + 7 * 3600, out);
}

/* Write the date days calendar days after ymd. */
static void
day_add(const char *ymd, int days, char out[11])
{
	ymd_of(noon_of(ymd) + (time_t)days * 86400, out);
}

/* The rows of pakn.holiday as "YYYY-MM-DD kind\n" lines, read once per
 * test process and again after an import. */
static char *holidays;

/* Read pakn.holiday into holidays. */
static void
holidays_load(void)
{
	free(holidays);
	holidays = qval("SELECT string_agg(day || ' ' || kind || chr(10), '' "
	                "ORDER BY day) FROM pakn.holiday",
	                NULL);
	if (holidays == NULL)
		holidays = strdup("");
}

/* Write the date n working days after ymd, counted without pakn's SQL. */
static void
working_days_after(const char *ymd, int n, char out[11])
{
	time_t t = noon_of(ymd);
	struct tm tm;
	char key[12];
	const char *row;
	int working;

	/* Saturdays and Sundays are off, pakn.holiday's 'holiday' days
	 * are off and its 'workday' days are worked. */
	if (holidays == NULL)
		holidays_load();
	ymd_of(t, out);
	while (n > 0) {
		t += 86400;
		ymd_of(t, out);
		gmtime_r(&t, &tm);
		snprintf(key, sizeof key, "%s ", out);
		row = strstr(holidays, key);
		working = row != NULL ? strncmp(row + 11, "workday", 7) == 0
		                      : tm.tm_wday != 0 && tm.tm_wday != 6;
		if (working)
			n--;
	}
}

/* Write "YYYY-MM-DD" as citizens read it, "DD/MM/YYYY". */
static void
vi_date(const char *ymd, char out[11])
{
	snprintf(out, 11, "%.2s/%.2s/%.4s", ymd + 8, ymd + 5, ymd);
}

/* Write the date n working days after today as DD/MM/YYYY. */
static void
due_in(int n, char out[11])
{
	char today[11], day[11];

	local_today(today);
	working_days_after(today, n, day);
	vi_date(day, out);
}

/* File a complaint for unit 00004 by SMS and check its ack and notes. */
static void
file_complaint(const char *phone, const char *msisdn, struct complaint *c)
{
	char *mark = outbox_mark(), *ack, *note, due[11];

	sms(phone, "PA " POTHOLE);
	newest_complaint(msisdn, c);
	due_in(ROADS_DAYS, due);
	ack = strf("Đã nhận phản ánh, mã %s (" ROADS_NAME
	           "). Đơn vị xử lý: " UNIT_NAME
	           ". Hạn trả lời: %s. Tra cứu: TT %s",
	           c->ticket, due, c->ticket);
	note = strf("Phản ánh mới %s (" ROADS_NAME "), hạn %s: %s", c->ticket,
	            due, POTHOLE);
	assert_sms(mark, msisdn, "ack", ack);
	assert_sms(mark, UNIT_E164, "new_complaint", note);
	assert_sms(mark, OFFICER_E164, "new_complaint", note);
	assert_sms(mark, LEADER_E164, "new_complaint", note);
	assert_value(cval(c, "status"), "open");
	assert_value(cval(c, "responsible_unit"), "00004");
	assert_value(cval(c, "category_code"), "roads");
	free(ack);
	free(note);
	free(mark);
}

/* Answer as the officer of 00004 and check the relay and the question. */
static void
answer(const struct complaint *c, const char *msisdn, const char *text)
{
	char *mark = outbox_mark(), *body, *want;

	body = strf("TL %s %s", c->ticket, text);
	sms(OFFICER, body);
	want =
	    strf("Trả lời phản ánh %s từ " UNIT_NAME ": %s", c->ticket, text);
	assert_sms(mark, msisdn, "answer", want);
	free(want);
	want = strf("Phản ánh %s đã được trả lời. Vấn đề đã được giải quyết "
	            "chưa? Nhắn 1-5 (1: chưa giải quyết, 5: rất hài lòng) "
	            "hoặc DG %s <1-5>.",
	            c->ticket, c->ticket);
	assert_sms(mark, msisdn, "ask_rating", want);
	free(want);
	want = strf("Đã gửi trả lời phản ánh %s tới người dân.", c->ticket);
	assert_sms(mark, OFFICER_E164, "official_done", want);
	assert_value(cval(c, "status"), "answered");
	assert_value(cval(c, "answer_text"), text);
	free(want);
	free(body);
	free(mark);
}

/* Fail unless `paknctl <command> <file>` exits 0. */
static void
paknctl_ok(const char *command, const char *file)
{
	struct ctl c = paknctl(command, file, NULL);

	ctl_assert_exit(&c, 0);
	ctl_clear(&c);
}

/* Return how many lines of a log contain needle. */
static int
log_count(const char *path, const char *needle)
{
	char *lines = log_grep(path, 0, needle), *p;
	int n = 0;

	for (p = lines; p != NULL && *p != '\0'; p++)
		n += *p == '\n';
	free(lines);
	return n;
}

/* Start an instance whose database connections are named after it. */
static void
start_named(struct paknd *d, const char *name, int fresh)
{
	char app[48];

	snprintf(app, sizeof app, "paknd-%s", name);
	setenv("PGAPPNAME", app, 1);
	if (fresh)
		ck_assert_int_eq(paknd_start(d, name, DEADLINE_CONF), 0);
	else
		ck_assert_int_eq(paknd_spawn(d), 0);
	unsetenv("PGAPPNAME");
	ck_assert_int_eq(paknd_wait_ready(d, 10), 0);
}

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
		/* paknd -v logs every pass's end: "deadline: ..." (done,
		 * nothing due, the lock held by the other instance, or what it
		 * did). */
		if (log_wait(ds[i]->log, off[i], "deadline: ", 30) != 0)
			paknd_dump(ds[i]);
		ck_assert_msg(
		    log_wait(ds[i]->log, off[i], "deadline: ", 0) == 0,
		    "paknd %s finished no deadline pass", ds[i]->name);
	}
}

/* Count working days over weekends, Tết, holidays and make-up days. */
START_TEST(test_working_days)
{
	static const struct {
		const char *from;
		int n;
		const char *want;
		const char *why;
	} adds[] = {
	    {"2026-11-20", 1, "2026-11-23", "Friday + 1 = Monday"},
	    {"2026-11-21", 1, "2026-11-23", "Saturday + 1 = Monday"},
	    {"2026-11-22", 1, "2026-11-23", "Sunday + 1 = Monday"},
	    {"2026-11-23", 5, "2026-11-30", "Monday + 5 = next Monday"},
	    {"2026-11-23", 0, "2026-11-23", "+ 0 is the same day"},
	    {"2026-02-13", 1, "2026-02-23", "Tết 2026: 16-20 Feb off"},
	    {"2026-02-12", 2, "2026-02-23", "Tết 2026 after one day"},
	    {"2025-01-24", 1, "2025-02-03", "Tết 2025 across a weekend"},
	    {"2025-04-25", 1, "2025-04-26", "make-up Saturday 26 Apr 2025"},
	    {"2025-04-26", 1, "2025-04-28", "after the make-up Saturday"},
	    {"2025-04-29", 1, "2025-05-05", "30/4, 1/5, 2/5 2025 off"},
	    {"2025-12-31", 1, "2026-01-05",
	     "1-2 Jan 2026 off (12729/VPCP-KGVX)"},
	    {"2026-01-09", 1, "2026-01-10", "Saturday 10 Jan 2026 worked back"},
	    {"2026-08-21", 1, "2026-08-22", "Saturday 22 Aug 2026 worked back"},
	    {"2026-08-28", 1, "2026-09-03",
	     "31 Aug-2 Sep 2026 off (9441/TB-BNV)"},
	    {"2027-02-04", 1, "2027-02-12", "Tết 2027: 5-11 Feb off"},
	    {"2026-12-31", 1, "2027-01-04", "1 Jan 2027 Friday off"},
	    {"2025-08-29", 1, "2025-09-03", "1-2 Sep 2025 off"},
	};
	static const struct {
		const char *day;
		const char *want;
	} days[] = {
	    {"2026-11-21", "false"}, {"2026-11-22", "false"},
	    {"2026-11-23", "true"},  {"2026-02-17", "false"},
	    {"2025-04-26", "true"},  {"2025-05-02", "false"},
	    {"2025-04-27", "false"}, {"2026-01-01", "false"},
	    {"2026-01-02", "false"}, {"2026-01-10", "true"},
	    {"2026-08-22", "true"},  {"2026-08-31", "false"},
	};
	static const struct {
		const char *category;
		const char *at;
		const char *want;
		const char *why;
	} dues[] = {
	    /* Saturday 23:30 in Hà Nội is 16:30 UTC the same Saturday:
	     * day 1 is Monday 23 Nov, day 5 Friday 27 Nov. */
	    {"certification", "2026-11-21 16:30:00+00", "2026-11-28 00:00",
	     "Saturday 23:30 local"},
	    /* Monday 00:30 in Hà Nội is still Sunday in UTC: the local
	     * date (Monday) counts, so day 1 is Tuesday. */
	    {"certification", "2026-11-22 17:30:00+00", "2026-12-01 00:00",
	     "Monday 00:30 local, Sunday UTC"},
	    {"certification", "2026-11-23 16:59:59+00", "2026-12-01 00:00",
	     "Monday 23:59:59 local"},
	    {"certification", "2026-11-23 17:00:00+00", "2026-12-02 00:00",
	     "Tuesday 00:00 local"},
	    /* 15 working days from Friday 13 Feb 2026 over Tết. */
	    {"roads", "2026-02-13 03:00:00+00", "2026-03-14 00:00",
	     "roads over Tết 2026"},
	};
	char *v, n[12];
	size_t i;

	for (i = 0; i < sizeof adds / sizeof adds[0]; i++) {
		snprintf(n, sizeof n, "%d", adds[i].n);
		v = qval("SELECT pakn.add_working_days($1::date, "
		         "$2::integer)::text",
		         adds[i].from, n, NULL);
		ck_assert_msg(v != NULL && strcmp(v, adds[i].want) == 0,
		              "%s: %s + %d working days = %s, want %s",
		              adds[i].why, adds[i].from, adds[i].n,
		              v ? v : "(null)", adds[i].want);
		free(v);
	}
	for (i = 0; i < sizeof days / sizeof days[0]; i++) {
		v = qval("SELECT pakn.is_working_day($1::date)::text",
		         days[i].day, NULL);
		ck_assert_msg(v != NULL && strcmp(v, days[i].want) == 0,
		              "is_working_day(%s) = %s, want %s", days[i].day,
		              v ? v : "(null)", days[i].want);
		free(v);
	}

	/* The due moment is the end of the due day, local time. */
	for (i = 0; i < sizeof dues / sizeof dues[0]; i++) {
		v = qval("SELECT to_char(pakn.due_at($1, "
		         "$2::timestamptz) AT TIME ZONE "
		         "'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI')",
		         dues[i].category, dues[i].at, NULL);
		ck_assert_msg(v != NULL && strcmp(v, dues[i].want) == 0,
		              "%s: due_at(%s, %s) = %s local, want %s",
		              dues[i].why, dues[i].category, dues[i].at,
		              v ? v : "(null)", dues[i].want);
		free(v);
	}
	/* What the citizen reads is the last day, not the midnight after. */
	assert_value(qval("SELECT pakn.due_vi(pakn.due_at('roads', "
	                  "'2026-02-13 03:00:00+00'))",
	                  NULL),
	             "13/03/2026");
	/* The same over pakn.due_after, which apologies use. */
	assert_value(qval("SELECT pakn.due_vi(pakn.due_after("
	                  "'2025-01-24 10:00:00+07', 1, true))",
	                  NULL),
	             "03/02/2025");
}
END_TEST

/* Count every day for a category in calendar days. */
START_TEST(test_calendar_days)
{
	static const char text[] =
	    "code,name,dimension,keywords,sensitive,"
	    "deadline_days,working_days\n"
	    "calendar_test,Hạn theo ngày lịch (kiểm thử),6,"
	    "zz kiem thu lich,no,3,no\n";
	char *csv = write_tmp("acc-categories.csv", text);

	paknctl_ok("import-categories", csv);
	assert_value(qval("SELECT working_days::text FROM pakn.category "
	                  "WHERE code = 'calendar_test'",
	                  NULL),
	             "false");
	/* Friday 13 Feb 2026 + 3 calendar days = Monday 16 Feb, a Tết day
	 * (working days would give 25 Feb). */
	assert_value(qval("SELECT to_char(pakn.due_at('calendar_test', "
	                  "'2026-02-13 10:00:00+07') AT TIME ZONE "
	                  "'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI')",
	                  NULL),
	             "2026-02-17 00:00");
	/* Saturday 23:30 local + 3 calendar days = Tuesday. */
	assert_value(qval("SELECT pakn.due_vi(pakn.due_at("
	                  "'calendar_test', '2026-11-21 16:30:00+00'))",
	                  NULL),
	             "24/11/2026");
	assert_value(qval("SELECT pakn.due_vi(pakn.due_after("
	                  "'2025-01-27 09:00:00+07', 3, false))",
	                  NULL),
	             "30/01/2025");
	free(csv);
}
END_TEST

/* Reopen on a low rating, close on a high one, all by SMS and ledger. */
START_TEST(test_full_loop)
{
	const char *phone = "0966000021", *msisdn = "+84966000021";
	struct complaint c;
	char *mark, *want, *official, due[11];

	file_complaint(phone, msisdn, &c);
	answer(&c, msisdn, "Phường đã vá ổ gà ngõ 12 ngày 20/11.");
	assert_value(qval("SELECT detail->>'on_time' FROM "
	                  "pakn.complaint_event WHERE complaint_id = "
	                  "$1::bigint AND event = 'answered'",
	                  c.id, NULL),
	             "true");

	/* "2" answers the rating question: not solved, reopened once to
	 * the same unit with a deadline counted from today. */
	mark = outbox_mark();
	sms(phone, "2");
	assert_value(cval(&c, "status"), "open");
	assert_value(cval(&c, "reopen_count"), "1");
	assert_value(cval(&c, "responsible_unit"), "00004");
	assert_value(cval(&c, "answer_text IS NULL"), "true");
	due_in(ROADS_DAYS, due);
	assert_value(cval(&c, "pakn.due_vi(due_at)"), due);
	assert_value(cval(&c, "due_at = (SELECT (detail->>'due_at')::"
	                      "timestamptz FROM pakn.complaint_event WHERE "
	                      "complaint_id = complaint.id AND event = "
	                      "'reopened')"),
	             "true");
	want =
	    strf("Cảm ơn bạn. Phản ánh %s được mở lại và chuyển lại " UNIT_NAME
	         ", hạn trả lời mới: %s.",
	         c.ticket, due);
	assert_sms(mark, msisdn, "rated_reopened", want);
	free(want);
	assert_sms_since(mark, OFFICER_E164
	                 " new_complaint, " LEADER_E164
	                 " new_complaint, " UNIT_E164
	                 " new_complaint, +84966000021 rated_reopened");
	free(mark);

	answer(&c, msisdn, "Đã vá lại bằng bê tông, đã nghiệm thu.");

	mark = outbox_mark();
	want = strf("DG %s 5", c.ticket);
	sms(phone, want);
	free(want);
	assert_value(cval(&c, "status"), "closed");
	assert_value(cval(&c, "close_reason"), "confirmed");
	assert_value(cval(&c, "closed_at IS NOT NULL"), "true");
	want =
	    strf("Cảm ơn bạn đã đánh giá phản ánh %s: 5/5. Phản ánh đã đóng.",
	         c.ticket);
	assert_sms(mark, msisdn, "rated_closed", want);
	assert_sms_since(mark, "+84966000021 rated_closed");
	free(want);
	free(mark);

	assert_value(qval("SELECT string_agg(score || ' ' || unit_code || "
	                  "' ' || dimension || ' ' || msisdn, ',' ORDER "
	                  "BY id) FROM pakn.rating WHERE complaint_id = "
	                  "$1::bigint",
	                  c.id, NULL),
	             "2 00004 6 +84966000021,5 00004 6 +84966000021");
	assert_value(ledger(&c), "received,routed,assigned,answered,rated,"
	                         "reopened,answered,rated,closed");
	official = qval("SELECT id::text FROM pakn.official WHERE phone "
	                "= $1",
	                OFFICER_E164, NULL);
	ck_assert_ptr_nonnull(official);
	want = strf("citizen -,system -,system -,official %s,citizen -,"
	            "citizen -,official %s,citizen -,citizen -",
	            official, official);
	assert_value(qval("SELECT string_agg(actor || ' ' || "
	                  "coalesce(actor_id, '-'), ',' ORDER BY id) FROM "
	                  "pakn.complaint_event WHERE complaint_id = "
	                  "$1::bigint",
	                  c.id, NULL),
	             want);
	assert_value(qval("SELECT string_agg(coalesce(detail->>'score', "
	                  "''), '' ORDER BY id) FROM "
	                  "pakn.complaint_event WHERE complaint_id = "
	                  "$1::bigint AND event = 'rated'",
	                  c.id, NULL),
	             "25");
	assert_value(qval("SELECT reason FROM pakn.complaint_event WHERE "
	                  "complaint_id = $1::bigint AND event = 'closed'",
	                  c.id, NULL),
	             "confirmed");
	free(want);
	free(official);

	/* Another phone cannot rate this complaint. */
	mark = outbox_mark();
	want = strf("DG %s 1", c.ticket);
	sms("0966000029", want);
	free(want);
	want = strf("Không tìm thấy phản ánh %s của số điện thoại này. Kiểm "
	            "tra lại mã trên tin xác nhận.",
	            c.ticket);
	assert_sms(mark, "+84966000029", "not_found", want);
	assert_sms_since(mark, "+84966000029 not_found");
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.rating WHERE "
	                       "complaint_id = $1::bigint",
	                       c.id, NULL),
	                 2);
	assert_value(cval(&c, "status"), "closed");
	free(want);
	free(mark);
}
END_TEST

/* Close as unresolved on a second low rating after a reopen. */
START_TEST(test_unresolved)
{
	const char *phone = "0966000022", *msisdn = "+84966000022";
	struct complaint c;
	char *mark, *want;

	file_complaint(phone, msisdn, &c);
	answer(&c, msisdn, "Đã báo công ty cấp thoát nước.");
	sms(phone, "1");
	assert_value(cval(&c, "status"), "open");
	assert_value(cval(&c, "reopen_count"), "1");
	answer(&c, msisdn, "Công ty hẹn tuần sau.");

	mark = outbox_mark();
	want = strf("DG %s 2", c.ticket);
	sms(phone, want);
	free(want);
	assert_value(cval(&c, "status"), "closed");
	assert_value(cval(&c, "close_reason"), "unresolved");
	assert_value(cval(&c, "reopen_count"), "1");
	want = strf("Cảm ơn bạn đã đánh giá phản ánh %s: 2/5. Phản ánh được "
	            "đóng với kết quả chưa giải quyết và được báo cáo lãnh "
	            "đạo.",
	            c.ticket);
	assert_sms(mark, msisdn, "rated_unresolved", want);
	free(want);
	free(mark);
	assert_value(ledger(&c), "received,routed,assigned,answered,rated,"
	                         "reopened,answered,rated,closed");
	assert_value(qval("SELECT reason FROM pakn.complaint_event WHERE "
	                  "complaint_id = $1::bigint AND event = 'closed'",
	                  c.id, NULL),
	             "unresolved");
	assert_value(qval("SELECT string_agg(score::text, ',' ORDER BY "
	                  "id) FROM pakn.rating WHERE complaint_id = "
	                  "$1::bigint",
	                  c.id, NULL),
	             "1,2");

	/* Nothing is left to rate: a further digit gets the usage. */
	mark = outbox_mark();
	sms(phone, "5");
	assert_sms(mark, msisdn, "no_rating_pending",
	           "Không có phản ánh nào đang chờ đánh giá. Để đánh giá, "
	           "nhắn: DG <mã> <1-5>");
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.rating WHERE "
	                       "complaint_id = $1::bigint",
	                       c.id, NULL),
	                 2);
	free(mark);
}
END_TEST

/* Refuse officials' SMS commands that are not theirs, with a reason. */
START_TEST(test_official_refusals)
{
	const char *phone = "0966000031", *msisdn = "+84966000031";
	struct complaint c;
	char *mark, *body, *want, bad[16];

	file_complaint(phone, msisdn, &c);

	/* A phone that belongs to no official and no unit. */
	mark = outbox_mark();
	body = strf("TL %s Đã xử lý xong", c.ticket);
	sms("0988000031", body);
	assert_sms(mark, "+84988000031", "official_refused",
	           "Không thực hiện được: số điện thoại này chưa đăng ký là "
	           "của cán bộ.");
	assert_sms_since(mark, "+84988000031 official_refused");
	free(mark);

	/* A mistyped ticket (last symbol changed) from the right officer. */
	snprintf(bad, sizeof bad, "%s", c.ticket);
	bad[6] = bad[6] == 'Z' ? 'Y' : 'Z';
	mark = outbox_mark();
	want = strf("TL %s Đã xử lý xong", bad);
	sms(OFFICER, want);
	free(want);
	want =
	    strf("Không thực hiện được: mã phản ánh \"%s\" không đúng.", bad);
	assert_sms(mark, OFFICER_E164, "official_refused", want);
	assert_sms_since(mark, OFFICER_E164 " official_refused");
	free(want);
	free(mark);
	assert_value(cval(&c, "status"), "open");
	assert_value(ledger(&c), "received,routed,assigned");

	/* The officer of 00070 for a complaint of 00004. */
	mark = outbox_mark();
	sms(OTHER_OFFICER, body);
	want = strf("Không thực hiện được: phản ánh %s không thuộc đơn vị "
	            "của bạn.",
	            c.ticket);
	assert_sms(mark, "+84901000070", "official_refused", want);
	assert_sms_since(mark, "+84901000070 official_refused");
	free(want);
	free(body);
	free(mark);

	/* Nothing changed. */
	assert_value(cval(&c, "status"), "open");
	assert_value(cval(&c, "answer_text IS NULL"), "true");
	assert_value(ledger(&c), "received,routed,assigned");
}
END_TEST

/* Transfer by CT to another unit; tell the citizen and the new unit. */
START_TEST(test_transfer)
{
	const char *phone = "0966000032", *msisdn = "+84966000032";
	const char *reason = "Địa chỉ thuộc phường Ngọc Hà";
	struct complaint c;
	char *mark, *body, *want, *due, *due_vi, *official;

	file_complaint(phone, msisdn, &c);
	due = cval(&c, "due_at");
	mark = outbox_mark();
	body = strf("CT %s 00008 %s", c.ticket, reason);
	sms(OFFICER, body);
	free(body);

	assert_value(cval(&c, "responsible_unit"), "00008");
	assert_value(cval(&c, "location_unit"), "00004");
	assert_value(cval(&c, "status"), "open");
	assert_value(cval(&c, "due_at"), due);
	assert_value(ledger(&c), "received,routed,assigned,transferred");
	official = qval("SELECT id::text FROM pakn.official WHERE phone "
	                "= $1",
	                OFFICER_E164, NULL);
	want = strf("official %s %s 00004 00008", official, reason);
	assert_value(qval("SELECT actor || ' ' || actor_id || ' ' || "
	                  "reason || ' ' || (detail->>'from') || ' ' || "
	                  "(detail->>'to') FROM pakn.complaint_event "
	                  "WHERE complaint_id = $1::bigint AND event = "
	                  "'transferred'",
	                  c.id, NULL),
	             want);
	free(want);
	free(official);

	due_vi = cval(&c, "pakn.due_vi(due_at)");
	want = strf("Phản ánh %s đã được chuyển tới " UNIT8_NAME
	            ". Hạn trả lời: %s.",
	            c.ticket, due_vi);
	free(due_vi);
	assert_sms(mark, msisdn, "transferred", want);
	free(want);
	want = strf("Đã chuyển phản ánh %s tới " UNIT8_NAME ".", c.ticket);
	assert_sms(mark, OFFICER_E164, "official_transferred", want);
	free(want);
	assert_sms_since(
	    mark, OFFICER_E164
	    " official_transferred, "
	    "+84912000008 new_complaint, +84966000032 transferred");
	free(mark);

	/* It is no longer the officer's to answer. */
	mark = outbox_mark();
	body = strf("TL %s Đã xử lý", c.ticket);
	sms(OFFICER, body);
	want = strf("Không thực hiện được: phản ánh %s không thuộc đơn vị "
	            "của bạn.",
	            c.ticket);
	assert_sms(mark, OFFICER_E164, "official_refused", want);
	assert_value(cval(&c, "status"), "open");
	free(want);
	free(body);
	free(mark);
	free(due);
}
END_TEST

/* Transfer by CT to a department named by its full code. */
START_TEST(test_transfer_department)
{
	const char *phone = "0966000033", *msisdn = "+84966000033";
	struct complaint c;
	char *mark, *body;

	file_complaint(phone, msisdn, &c);
	mark = outbox_mark();
	body = strf("CT %s 00004-TYT Thuộc trạm y tế phường", c.ticket);
	sms(OFFICER, body);
	free(body);
	assert_value(qval("SELECT (detail->>'from') || ' -> ' || "
	                  "(detail->>'to') || ': ' || reason FROM "
	                  "pakn.complaint_event WHERE complaint_id = "
	                  "$1::bigint AND event = 'transferred'",
	                  c.id, NULL),
	             "00004 -> 00004-TYT: Thuộc trạm y tế phường");
	assert_value(cval(&c, "responsible_unit"), "00004-TYT");
	assert_sms_since(mark, OFFICER_E164 " official_transferred, "
	                                    "+84912200004 new_complaint, "
	                                    "+84966000033 transferred");
	free(mark);
}
END_TEST

/* Remind and escalate once over two instances and a restart; at the
 * deadline the unit is asked for its apology (016). */
START_TEST(test_deadline_exactly_once)
{
	struct paknd a, b, *both[2] = {&a, &b};
	struct complaint r, e, later;
	char today[11], next[11], third[11], yesterday[11], due_next[11];
	char due_past[11];
	char *mark, *want;
	int round, worked;

	start_named(&a, "dl-a", 1);
	start_named(&b, "dl-b", 1);
	file_complaint("0977000041", SHIFTED_PREFIX "000041", &r);
	file_complaint("0977000042", SHIFTED_PREFIX "000042", &e);
	file_complaint("0977000043", SHIFTED_PREFIX "000043", &later);

	/* Simulate time passing: r is now due at the end of the next working
	 * day, later at the end of the third (one more than remind_days), e
	 * was due at the end of yesterday. */
	local_today(today);
	working_days_after(today, 1, next);
	working_days_after(today, REMIND_DAYS + 1, third);
	day_add(today, -1, yesterday);
	shifted(
	    q("UPDATE pakn.complaint SET due_at = ($2::date + 1)::timestamp AT "
	      "TIME ZONE 'Asia/Ho_Chi_Minh' WHERE id = $1::bigint",
	      r.id, next, NULL));
	shifted(
	    q("UPDATE pakn.complaint SET due_at = $2::date::timestamp AT TIME "
	      "ZONE 'Asia/Ho_Chi_Minh' WHERE id = $1::bigint",
	      e.id, today, NULL));
	shifted(
	    q("UPDATE pakn.complaint SET due_at = ($2::date + 1)::timestamp "
	      "AT TIME ZONE 'Asia/Ho_Chi_Minh' WHERE id = $1::bigint",
	      later.id, third, NULL));
	vi_date(next, due_next);
	vi_date(yesterday, due_past);
	assert_value(cval(&r, "pakn.due_vi(due_at)"), due_next);
	assert_value(cval(&e, "pakn.due_vi(due_at)"), due_past);
	mark = outbox_mark();

	/* Both instances, at the same moment, three times; then one of
	 * them restarts and both go again. */
	for (round = 0; round < 3; round++)
		deadline_round(both, 2);
	ck_assert_int_eq(paknd_stop(&b, 5), 0);
	start_named(&b, "dl-b", 0);
	for (round = 0; round < 2; round++)
		deadline_round(both, 2);

	/* One pass did the work; every other found it done or locked. */
	worked =
	    log_count(a.log, "reminded, ") + log_count(b.log, "reminded, ");
	ck_assert_msg(worked == 1, "%d deadline passes report work, want 1",
	              worked);

	/* The reminder: once, to each phone of the unit. */
	ck_assert_int_eq(events(&r, "reminded"), 1);
	ck_assert_int_eq(events(&r, "escalated"), 0);
	assert_value(cval(&r, "reminded_at IS NOT NULL AND NOT overdue"),
	             "true");
	want =
	    strf("Nhắc việc: phản ánh %s (" ROADS_NAME ") hạn trả lời %s. Trả "
	         "lời: TL %s <nội dung>",
	         r.ticket, due_next, r.ticket);
	assert_sms(mark, OFFICER_E164, "reminder", want);
	assert_sms(mark, LEADER_E164, "reminder", want);
	assert_sms(mark, UNIT_E164, "reminder", want);
	ck_assert_int_eq(sms_count(r.id, SHIFTED_PREFIX "000041", "reminder"),
	                 0);
	free(want);
	ck_assert_int_eq(events(&later, "reminded"), 0);
	assert_value(cval(&later, "reminded_at IS NULL"), "true");

	/* Escalation: once. The apology is the unit's to give, with its
	 * reason and new date (016): the unit is asked for it, the citizen
	 * told it will come; no date is invented. */
	ck_assert_int_eq(events(&e, "escalated"), 1);
	ck_assert_int_eq(events(&e, "apologised"), 0);
	ck_assert_int_eq(events(&e, "reminded"), 0);
	assert_value(cval(&e, "overdue"), "true");
	assert_value(cval(&e, "status"), "open");
	assert_value(cval(&e, "new_due_at IS NULL"), "true");
	assert_value(qval("SELECT (detail->>'unit') || ' ' || "
	                  "(detail->>'parent') FROM pakn.complaint_event "
	                  "WHERE complaint_id = $1::bigint AND event = "
	                  "'escalated'",
	                  e.id, NULL),
	             "00004 01");
	want = strf("Quá hạn: phản ánh %s (" ROADS_NAME ") giao " UNIT_NAME
	            " hạn %s chưa được trả lời.",
	            e.ticket, due_past);
	assert_sms(mark, LEADER_E164, "escalation", want);
	assert_sms(mark, UNIT_E164, "escalation", want);
	assert_sms(mark, PARENT_E164, "escalation", want);
	ck_assert_int_eq(sms_count(e.id, OFFICER_E164, "escalation"), 0);
	free(want);
	want = strf("Quá hạn %s: phản ánh %s (" ROADS_NAME "). Gửi người dân "
	            "lời xin lỗi, lý do và ngày hẹn mới: HEN %s <ngày/tháng> "
	            "<lý do>",
	            due_past, e.ticket, e.ticket);
	assert_sms(mark, OFFICER_E164, "apology_due", want);
	assert_sms(mark, UNIT_E164, "apology_due", want);
	free(want);
	want = strf("Phản ánh %s đã quá hạn trả lời %s. Đơn vị xử lý đã được "
	            "nhắc và sẽ gửi bạn lời xin lỗi, lý do và ngày hẹn mới. "
	            "Tra cứu: TT %s",
	            e.ticket, due_past, e.ticket);
	assert_sms(mark, SHIFTED_PREFIX "000042", "overdue_notice", want);
	free(want);

	/* And nothing else went out. */
	assert_sms_since(mark, PARENT_E164
	                 " escalation, " OFFICER_E164
	                 " apology_due, " OFFICER_E164 " reminder, " LEADER_E164
	                 " escalation, " LEADER_E164 " reminder, " UNIT_E164
	                 " apology_due, " UNIT_E164 " escalation, " UNIT_E164
	                 " reminder, " SHIFTED_PREFIX "000042 overdue_notice");
	free(mark);
	ck_assert_ptr_null(log_grep(a.log, 0, "[error]"));
	ck_assert_ptr_null(log_grep(b.log, 0, "[error]"));
	ck_assert_int_eq(paknd_stop(&a, 5), 0);
	ck_assert_int_eq(paknd_stop(&b, 5), 0);
}
END_TEST

/* Close an answer nobody rated after rating_wait_days, once. */
START_TEST(test_no_reply_close)
{
	struct paknd *m = harness_main();
	struct complaint w, young;
	char *mark;

	file_complaint("0966000061", "+84966000061", &w);
	answer(&w, "+84966000061", "Đã vá ổ gà.");
	file_complaint("0966000062", "+84966000062", &young);
	answer(&young, "+84966000062", "Đã vá ổ gà.");

	/* Simulate time passing: w was answered 8 days ago, young 6 days
	 * ago (rating_wait_days = 7). */
	shifted(q("UPDATE pakn.complaint SET answered_at "
	          "= answered_at - interval '8 days' "
	          "WHERE id = $1::bigint",
	          w.id, NULL));
	shifted(q("UPDATE pakn.complaint SET answered_at "
	          "= answered_at - interval '6 days' "
	          "WHERE id = $1::bigint",
	          young.id, NULL));
	mark = outbox_mark();
	deadline_round(&m, 1);
	deadline_round(&m, 1);

	assert_value(cval(&w, "status"), "closed");
	assert_value(cval(&w, "close_reason"), "no_reply");
	ck_assert_int_eq(events(&w, "closed"), 1);
	assert_value(qval("SELECT actor || ' ' || reason FROM "
	                  "pakn.complaint_event WHERE complaint_id = "
	                  "$1::bigint AND event = 'closed'",
	                  w.id, NULL),
	             "system no_reply");
	assert_value(ledger(&w), "received,routed,assigned,answered,closed");
	assert_value(cval(&young, "status"), "answered");
	ck_assert_int_eq(events(&young, "closed"), 0);
	ck_assert_int_eq(log_count(m->log, "0 escalated, 1 closed"), 1);
	assert_sms_since(mark, "");
	free(mark);

	/* The closed answer can no longer be rated by a digit. */
	mark = outbox_mark();
	sms("0966000061", "5");
	assert_sms(mark, "+84966000061", "no_rating_pending",
	           "Không có phản ánh nào đang chờ đánh giá. Để đánh giá, "
	           "nhắn: DG <mã> <1-5>");
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.rating WHERE "
	                       "complaint_id = $1::bigint",
	                       w.id, NULL),
	                 0);
	free(mark);
}
END_TEST

/* A deadline pass reads the open complaints it may remind of or
 * escalate, not every open one: with 400 more due in a month and 400
 * overdue and escalated already (made in the pass's own transaction,
 * then rolled back), it reads fewer than 400 rows of the complaints'
 * table and indexes. Before, the reminders' scan went on to the last
 * open complaint (1.5 s a pass with 1.3 million of them), and the
 * escalation's read every overdue one again. */
START_TEST(test_deadline_reads_due)
{
	struct complaint f;
	PGconn *c;
	PGresult *r;
	char ci[512];
	long read = -1;

	file_complaint("0966000091", "+84966000091", &f);
	pg_conninfo(ci, sizeof ci, "pakn");
	c = PQconnectdb(ci);
	ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
	PQclear(PQexec(c, "BEGIN"));
	r = PQexecParams(
	    c,
	    "INSERT INTO pakn.complaint OVERRIDING SYSTEM VALUE "
	    "SELECT (jsonb_populate_record(c, jsonb_build_object("
	    "'id', m.id + g, 'ticket', 'ZZ' || g, 'inbound_id', NULL, "
	    "'due_at', CASE WHEN g <= 400 THEN now() + interval '30 days' "
	    "ELSE now() - interval '10 days' END, 'new_due_at', NULL, "
	    "'reminded_for', NULL, 'escalated_for', CASE WHEN g > 400 "
	    "THEN now() - interval '10 days' END))).* "
	    "FROM pakn.complaint c, (SELECT max(id) AS id FROM "
	    "pakn.complaint) m, generate_series(1, 800) g "
	    "WHERE c.id = $1::bigint",
	    1, NULL, (const char *const[]){f.id}, NULL, NULL, 0);
	ck_assert_msg(PQresultStatus(r) == PGRES_COMMAND_OK, "%s",
	              PQresultErrorMessage(r));
	ck_assert_str_eq(PQcmdTuples(r), "800");
	PQclear(r);
	/* paknd's own pass may hold the lock a moment: then again. */
	for (int tries = 0; tries < 100 && read < 0; tries++) {
		r = PQexec(
		    c, "SELECT locked FROM pakn.deadline_run(" STR(REMIND_DAYS) ", " STR(
		           APOLOGY_DAYS) ", " STR(RATING_WAIT) ", 500)");
		ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
		if (!strcmp(PQgetvalue(r, 0, 0), "t")) {
			/* Rows returned by the table's scans and its
			 * indexes' (the insert's own reads: two). */
			PGresult *n = PQexec(
			    c, "SELECT pg_stat_get_xact_tuples_returned("
			       "'pakn.complaint'::regclass) + (SELECT "
			       "sum(pg_stat_get_xact_tuples_returned("
			       "indexrelid)) FROM pg_index WHERE indrelid = "
			       "'pakn.complaint'::regclass)");
			read = atol(PQgetvalue(n, 0, 0));
			PQclear(n);
		} else {
			sleep_ms(100);
		}
		PQclear(r);
	}
	PQclear(PQexec(c, "ROLLBACK"));
	PQfinish(c);
	ck_assert_msg(read >= 0, "the deadline pass never got its lock");
	ck_assert_msg(read < 400, "the pass read %ld rows of the complaints",
	              read);
}
END_TEST

/* Move the next due date by a day off that import-holidays adds. */
START_TEST(test_import_holiday)
{
	char today[11], off[11], before[11], after[11], want[11], *csv, *text;
	struct complaint c1, c2;
	char *v;

	local_today(today);
	working_days_after(today, 3, off);
	working_days_after(today, ROADS_DAYS, before);
	file_complaint("0966000071", "+84966000071", &c1);
	vi_date(before, want);
	assert_value(cval(&c1, "pakn.due_vi(due_at)"), want);

	text = strf("date,kind,name,source\n%s,holiday,Nghỉ lễ (kiểm "
	            "thử),Quyết định (kiểm thử)\n",
	            off);
	csv = write_tmp("acc-holidays.csv", text);
	paknctl_ok("import-holidays", csv);
	holidays_load();
	assert_value(
	    qval("SELECT pakn.is_working_day($1::date)::text", off, NULL),
	    "false");

	/* file_complaint checks the ack against the new calendar. */
	file_complaint("0966000072", "+84966000072", &c2);
	working_days_after(before, 1, after);
	vi_date(after, want);
	assert_value(cval(&c2, "pakn.due_vi(due_at)"), want);
	v = cval(&c1, "pakn.due_vi(due_at)");
	ck_assert_msg(strcmp(v, want) != 0,
	              "the holiday did not move the due date %s", v);
	free(v);
	free(csv);
	free(text);
}
END_TEST

/* Return the error of a statement run and rolled back, or NULL. */
static char *
sql_refusal(const char *stmt, char state[6])
{
	char ci[512], *msg = NULL;
	PGconn *conn;
	PGresult *res;
	const char *s;

	pg_conninfo(ci, sizeof ci, "pakn");
	conn = PQconnectdb(ci);
	ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "%s",
	              PQerrorMessage(conn));
	PQclear(PQexec(conn, "SET client_min_messages = warning"));
	PQclear(PQexec(conn, "BEGIN"));
	res = PQexec(conn, stmt);
	state[0] = '\0';
	if (PQresultStatus(res) == PGRES_FATAL_ERROR) {
		msg = strdup(PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY));
		s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		snprintf(state, 6, "%s", s != NULL ? s : "");
	}
	PQclear(res);
	PQclear(PQexec(conn, "ROLLBACK"));
	PQfinish(conn);
	return msg;
}

/* Refuse UPDATE, DELETE and TRUNCATE of the ledger, with the reason. */
START_TEST(test_ledger_append_only)
{
	static const struct {
		const char *sql;
		const char *op;
	} stmts[] = {
	    {"UPDATE pakn.complaint_event SET reason = 'edited' WHERE id = "
	     "(SELECT min(id) FROM pakn.complaint_event)",
	     "UPDATE"},
	    {"UPDATE pakn.complaint_event SET event = event", "UPDATE"},
	    {"DELETE FROM pakn.complaint_event WHERE id = (SELECT max(id) "
	     "FROM pakn.complaint_event)",
	     "DELETE"},
	    {"TRUNCATE pakn.complaint_event", "TRUNCATE"},
	};
	char *before, *after, *msg, *want, state[6];
	size_t i;

	harness_expect_pg("is append-only");
	before = qval("SELECT count(*) || ' ' || md5(string_agg("
	              "complaint_event::text, '' ORDER BY id)) FROM "
	              "pakn.complaint_event",
	              NULL);
	ck_assert_ptr_nonnull(before);
	ck_assert_msg(qlong("SELECT count(*) FROM pakn.complaint_event", NULL) >
	                  0,
	              "the ledger is empty");
	for (i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
		msg = sql_refusal(stmts[i].sql, state);
		want = strf("pakn.complaint_event is append-only (%s refused)",
		            stmts[i].op);
		ck_assert_msg(msg != NULL && strcmp(msg, want) == 0,
		              "%s: error \"%s\", want \"%s\"", stmts[i].sql,
		              msg != NULL ? msg : "(none: it succeeded)", want);
		ck_assert_msg(strcmp(state, "42501") == 0,
		              "%s: SQLSTATE %s, want 42501", stmts[i].sql,
		              state);
		free(msg);
		free(want);
	}
	after = qval("SELECT count(*) || ' ' || md5(string_agg("
	             "complaint_event::text, '' ORDER BY id)) FROM "
	             "pakn.complaint_event",
	             NULL);
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
}
END_TEST

/* What a complaint, its ledger rows and its SMS name stays (045): a
 * complaint and a message's key are never removed, a unit, category or
 * dimension a complaint names neither, nor renamed; a row naming none of
 * them is refused (outside processing's batch, which makes its names from
 * rows it read). Each refusal is SQLSTATE 23503, the foreign key's. */
START_TEST(test_references_kept)
{
	static const struct {
		const char *sql, *want;
	} stmts[] = {
	    {"TRUNCATE pakn.complaint CASCADE",
	     "pakn.complaint keeps its rows: the ledger and the outbox name "
	     "them (TRUNCATE refused)"},
	    {"DELETE FROM pakn.complaint WHERE id = (SELECT min(id) FROM "
	     "pakn.complaint)",
	     "pakn.complaint keeps its rows: the ledger and the outbox name "
	     "them (DELETE refused)"},
	    {"DELETE FROM pakn.inbound_key WHERE id = (SELECT max(inbound_id) "
	     "FROM pakn.complaint)",
	     "pakn.inbound_key keeps its rows: the complaints and the outbox "
	     "name them (DELETE refused)"},
	    {"DELETE FROM pakn.unit WHERE code = '00004'",
	     "pakn.unit 00004 is named by complaints "
	     "(complaint.location_unit; DELETE refused)"},
	    {"UPDATE pakn.unit SET code = '00004x' WHERE code = '00004'",
	     "pakn.unit 00004 is named by complaints "
	     "(complaint.location_unit; UPDATE refused)"},
	    {"TRUNCATE pakn.unit CASCADE",
	     "pakn.unit is named by complaints (TRUNCATE refused)"},
	    {"DELETE FROM pakn.category WHERE code = (SELECT category_code "
	     "FROM pakn.complaint WHERE ticket = (SELECT min(ticket) FROM "
	     "pakn.complaint))",
	     NULL},
	    {"DELETE FROM pakn.papi_dimension WHERE code = (SELECT min("
	     "dimension) FROM pakn.complaint)",
	     NULL},
	    {"INSERT INTO pakn.complaint_event (complaint_id, actor, event) "
	     "VALUES (-1, 'system', 'reminded')",
	     "pakn.complaint_event: complaint_id -1 names no row (INSERT "
	     "refused)"},
	    {"INSERT INTO pakn.outbox (gateway, msisdn, body, kind, "
	     "inbound_id) VALUES ('kannel', '" OFFICER_E164
	     "', 'x', 'ack', -1)",
	     "pakn.outbox: inbound_id -1 names no row (INSERT refused)"},
	    {"UPDATE pakn.complaint SET responsible_unit = 'nowhere' WHERE id "
	     "= (SELECT min(id) FROM pakn.complaint WHERE responsible_unit IS "
	     "NOT NULL)",
	     "pakn.complaint: responsible_unit nowhere names no row (UPDATE "
	     "refused)"},
	    {"UPDATE pakn.complaint SET category_code = 'none_such' WHERE id "
	     "= (SELECT min(id) FROM pakn.complaint)",
	     "pakn.complaint: category_code none_such names no row (UPDATE "
	     "refused)"},
	};
	char *before, *after, *msg, *id, state[6];
	PGresult *r;
	size_t i;
	int waited;

	harness_expect_pg("keeps its rows");
	harness_expect_pg("is named by complaints");
	harness_expect_pg("names no row");
	ck_assert_int_gt(qlong("SELECT count(*) FROM pakn.complaint WHERE "
	                       "location_unit = '00004'",
	                       NULL),
	                 0);
	before = qval("SELECT count(*) || ' ' || md5(string_agg("
	              "complaint::text, '' ORDER BY id)) FROM pakn.complaint",
	              NULL);
	for (i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
		msg = sql_refusal(stmts[i].sql, state);
		ck_assert_msg(msg != NULL, "%s: it succeeded", stmts[i].sql);
		if (stmts[i].want != NULL)
			ck_assert_msg(strcmp(msg, stmts[i].want) == 0,
			              "%s: error \"%s\", want \"%s\"",
			              stmts[i].sql, msg, stmts[i].want);
		else
			ck_assert_msg(strstr(msg, "is named by complaints") !=
			                  NULL,
			              "%s: error \"%s\"", stmts[i].sql, msg);
		ck_assert_msg(strcmp(state, "23503") == 0,
		              "%s: SQLSTATE %s, want 23503", stmts[i].sql,
		              state);
		free(msg);
	}
	after = qval("SELECT count(*) || ' ' || md5(string_agg("
	             "complaint::text, '' ORDER BY id)) FROM pakn.complaint",
	             NULL);
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
	/* What no complaint names goes as before. */
	ck_assert_ptr_null(sql_refusal(
	    "DELETE FROM pakn.unit WHERE code = (SELECT u.code FROM pakn.unit "
	    "u WHERE u.kind = 'commune' AND NOT EXISTS (SELECT 1 FROM "
	    "pakn.complaint c WHERE u.code IN (c.location_unit, "
	    "c.responsible_unit)) AND NOT EXISTS (SELECT 1 FROM pakn.unit k "
	    "WHERE k.parent_code = u.code OR k.desk_unit = u.code OR "
	    "k.inspection_unit = u.code) AND NOT EXISTS (SELECT 1 FROM "
	    "pakn.official o WHERE o.unit_code = u.code) AND NOT EXISTS "
	    "(SELECT 1 FROM pakn.routing_rule r WHERE u.code IN (r.unit_code, "
	    "r.area_code)) ORDER BY u.code DESC LIMIT 1)",
	    state));

	/* A unit deleted while a complaint is moved there: the delete waits
	 * for the complaint's transaction, then sees it and is refused. */
	ck_assert_int_eq(sql_exec_db("pakn", "INSERT INTO pakn.unit (code, "
	                                     "name, parent_code, kind) VALUES "
	                                     "('KEPT1', 'Xã Giữ', '01', "
	                                     "'commune')"),
	                 0);
	id = qval("SELECT max(id)::text FROM pakn.complaint WHERE "
	          "location_unit = '00004'",
	          NULL);
	msg = strf("UPDATE pakn.complaint SET location_unit = 'KEPT1' WHERE "
	           "id = %s",
	           id);
	r = sql_behind(msg, "DELETE FROM pakn.unit WHERE code = 'KEPT1'",
	               &waited);
	free(msg);
	ck_assert_msg(waited, "the delete did not wait");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(PQresultStatus(r), PGRES_FATAL_ERROR);
	ck_assert_str_eq(PQresultErrorField(r, PG_DIAG_SQLSTATE), "23503");
	ck_assert_str_eq(PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY),
	                 "pakn.unit KEPT1 is named by complaints "
	                 "(complaint.location_unit; DELETE refused)");
	PQclear(r);
	ck_assert_int_eq(
	    qlong("SELECT count(*) FROM pakn.unit WHERE code = 'KEPT1'", NULL),
	    1);
	/* The complaint back where it was; the unit goes. */
	msg = strf("UPDATE pakn.complaint SET location_unit = '00004' WHERE "
	           "id = %s; DELETE FROM pakn.unit WHERE code = 'KEPT1'",
	           id);
	ck_assert_int_eq(sql_exec_db("pakn", msg), 0);
	free(msg);
	ck_assert_int_eq(
	    qlong("SELECT count(*) FROM pakn.unit WHERE code = 'KEPT1'", NULL),
	    0);
	free(id);
}
END_TEST

/* Rebuild every complaint from its ledger and compare with its row. */
START_TEST(test_replay)
{
	const char *phone = "0966000081", *msisdn = "+84966000081";
	struct complaint c;
	char *mark, *want, *diff;
	long n;

	/* Two more ways through the ledger: a commune given later by DK,
	 * and a withdrawal. */
	mark = outbox_mark();
	sms(phone, "PA Rác thải không được thu gom cả tuần nay");
	newest_complaint(msisdn, &c);
	assert_value(cval(&c, "status"), "needs_location");
	want = strf("Đã nhận phản ánh, mã %s. Bạn ở xã/phường nào? Nhắn tên "
	            "xã/phường (VD: phường Ba Đình) hoặc mã (VD: 00004) để "
	            "chuyển đúng nơi xử lý.",
	            c.ticket);
	assert_sms(mark, msisdn, "ask_location", want);
	free(want);
	free(mark);
	sms(phone, "DK 00070");
	assert_value(cval(&c, "status"), "open");
	assert_value(cval(&c, "location_unit"), "00070");
	assert_value(ledger(&c), "received,located,routed,assigned");

	mark = outbox_mark();
	want = strf("HUY %s", c.ticket);
	sms(phone, want);
	free(want);
	want = strf("Đã rút phản ánh %s.", c.ticket);
	assert_sms(mark, msisdn, "withdrawn", want);
	free(want);
	free(mark);
	assert_value(cval(&c, "status"), "withdrawn");
	assert_value(cval(&c, "close_reason"), "withdrawn");

	n = qlong("SELECT count(*) FROM pakn.complaint", NULL);
	ck_assert_msg(n >= 10, "only %ld complaints to replay", n);

	/* The due dates that the tests moved by SQL (to simulate time
	 * passing) are not in the ledger; compare those without due_at. */
	diff = qval(
	    "SELECT string_agg(format('%s (%s):%s', c.ticket, c.status, "
	    "concat_ws('', "
	    "CASE WHEN r.status IS DISTINCT FROM c.status THEN format(' "
	    "status %s/%s', c.status, r.status) END, "
	    "CASE WHEN r.responsible_unit IS DISTINCT FROM c.responsible_unit "
	    "THEN format(' responsible_unit %s/%s', c.responsible_unit, "
	    "r.responsible_unit) END, "
	    "CASE WHEN r.location_unit IS DISTINCT FROM c.location_unit THEN "
	    "format(' location_unit %s/%s', c.location_unit, r.location_unit) "
	    "END, "
	    "CASE WHEN r.due_at IS DISTINCT FROM c.due_at AND c.msisdn NOT "
	    "LIKE $1 || '%' THEN format(' due_at %s/%s', c.due_at, r.due_at) "
	    "END, "
	    "CASE WHEN r.extended IS DISTINCT FROM c.extended THEN format(' "
	    "extended %s/%s', c.extended, r.extended) END, "
	    "CASE WHEN r.overdue IS DISTINCT FROM c.overdue THEN format(' "
	    "overdue %s/%s', c.overdue, r.overdue) END, "
	    "CASE WHEN r.reopen_count IS DISTINCT FROM c.reopen_count THEN "
	    "format(' reopen_count %s/%s', c.reopen_count, r.reopen_count) "
	    "END, "
	    "CASE WHEN r.close_reason IS DISTINCT FROM c.close_reason THEN "
	    "format(' close_reason %s/%s', c.close_reason, r.close_reason) "
	    "END)), '; ' ORDER BY c.id) "
	    "FROM pakn.complaint c, pakn.complaint_replay(c.id) r "
	    "WHERE (r.status, r.responsible_unit, r.location_unit, "
	    "CASE WHEN c.msisdn LIKE $1 || '%' THEN NULL ELSE r.due_at END, "
	    "r.extended, r.overdue, r.reopen_count, r.close_reason) IS "
	    "DISTINCT FROM (c.status, c.responsible_unit, c.location_unit, "
	    "CASE WHEN c.msisdn LIKE $1 || '%' THEN NULL ELSE c.due_at END, "
	    "c.extended, c.overdue, c.reopen_count, c.close_reason)",
	    SHIFTED_PREFIX, NULL);
	ck_assert_msg(diff == NULL,
	              "replay differs from the row (row/replay): %s", diff);
}
END_TEST

/* Build the suite, in the order the tests must run. */
static Suite *
accountability_suite(void)
{
	Suite *s = suite_create("accountability");
	TCase *tc;

	tc = tcase(s, "working_days", 20);
	tcase_add_test(tc, test_working_days);
	tcase_add_test(tc, test_calendar_days);

	tc = tcase(s, "loop", 20);
	tcase_add_test(tc, test_full_loop);
	tcase_add_test(tc, test_unresolved);

	tc = tcase(s, "officials", 20);
	tcase_add_test(tc, test_official_refusals);
	tcase_add_test(tc, test_transfer);
	tcase_add_test(tc, test_transfer_department);

	tc = tcase(s, "deadline", 40);
	tcase_add_test(tc, test_deadline_exactly_once);
	tcase_add_test(tc, test_no_reply_close);
	tcase_add_test(tc, test_deadline_reads_due);

	tc = tcase(s, "holidays", 20);
	tcase_add_test(tc, test_import_holiday);

	tc = tcase(s, "ledger", 20);
	tcase_add_test(tc, test_ledger_append_only);
	tcase_add_test(tc, test_references_kept);
	tcase_add_test(tc, test_replay);
	return s;
}

/* Start the servers, load the sample data, run the suite. */
int
main(void)
{
	struct paknd *d = harness_main();
	SRunner *sr;
	int failed, rc;

	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "accountability: cannot start PostgreSQL\n");
		return 99;
	}
	/* Name the main instance's connections, for wait_pass. */
	setenv("PGAPPNAME", "paknd-main", 1);
	rc = paknd_start(d, "main", DEADLINE_CONF);
	unsetenv("PGAPPNAME");
	if (rc == -1 || paknd_wait_ready(d, 10) == -1) {
		fprintf(stderr, "accountability: paknd does not start\n");
		return EXIT_FAILURE;
	}
	if (harness_import_samples(harness_main()->conf, 1) == -1)
		return EXIT_FAILURE;
	sr = srunner_create(accountability_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (paknd_finish(d, NULL) == -1)
		failed++;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
