/*
 * check_abuse.c: abuse and cost, officials and leaders by SMS (issue 14),
 * end to end: the real paknd on a real PostgreSQL with the sample units,
 * routing and officials, its gateway "kgw" sending to a fake Kannel
 * (tests/fakegw) whose file shows every SMS that really left.
 *
 * - Per-phone limits: over one, one SMS says so, then silence; every
 *   message is stored and flagged. Bans (paknctl ban/unban, ledgered),
 *   the same text repeated, a gateway's own service: no reply. A
 *   unit's phone has none, found among 3 000 units by its index.
 * - STOP then START / DANG KY LAI.
 * - Officials' DS, XEM, GH, TC from the right phone, a wrong phone and
 *   for another unit's complaint; a long answer refused with the limit.
 * - The leaders' summary, once per leader and period with two paknd.
 *
 * Each test uses its own phones (the limit is 3 complaints an hour).
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"
#include "kgw.h"
#include "util.h"

#ifndef PAKN_SRCDIR
#define PAKN_SRCDIR "."
#endif

#define SHORTCODE "8079"
#define SENDER    "1022" /* [gateway.kgw] sender */
#define WAIT      10.0

/* Officials of the samples (config/officials.sample.csv). */
#define LEADER01   "+84901000001" /* leader of 01, Hà Nội */
#define OFFICER4   "+84901000004" /* officer of 00004, Phường Ba Đình */
#define LEADER4    "+84901000005" /* leader of 00004 */
#define OFFICER70  "+84901000070" /* officer of 00070, Phường Hoàn Kiếm */
#define LEADERTTR  "+84901000091" /* leader of 01-TTr */
#define T_OFFICER4 "tok-abuse-officer-00004"
#define LOOP_SVC   "0900009029" /* kgw's loop_senders */

static const char *seed_sql[] = {
    "INSERT INTO pakn.api_token (official_id, token_hash)"
    " SELECT o.id, sha256(convert_to('" T_OFFICER4 "', 'UTF8'))"
    " FROM pakn.official o WHERE o.phone = '" OFFICER4 "'",
    NULL};

static char *extra; /* the configuration's extra text, for a second paknd */

static struct paknd *D;
static struct fakegw G = {.name = "abuse"}; /* the fake Kannel */

/* How many SMS the fake gateway received for number. */
static int
fg_count(const char *number)
{
	return fakegw_count(G.file, number);
}

/* Wait until the fake gateway has received at least want SMS for number;
 * returns how many it has. */
static int
fg_wait(const char *number, int want)
{
	return fakegw_wait(G.file, number, want, WAIT);
}

/* The kinds of the SMS queued to a phone, in order, comma-separated. */
static char *
kinds_to(const char *phone)
{
	return qval("SELECT coalesce(string_agg(kind, ',' ORDER BY id), '') "
	            "FROM pakn.outbox WHERE msisdn = $1",
	            phone, NULL);
}

/* The body of the last SMS of a kind queued to a phone. */
static char *
last_to(const char *phone, const char *kind)
{
	char *b = qval("SELECT body FROM pakn.outbox WHERE msisdn = $1 AND "
	               "kind = $2 ORDER BY id DESC LIMIT 1",
	               phone, kind, NULL);

	ck_assert_msg(b != NULL, "no %s SMS to %s", kind, phone);
	return b;
}

/* How many SMS were queued to a phone. */
static long
n_to(const char *phone)
{
	return qlong("SELECT count(*) FROM pakn.outbox WHERE msisdn = $1",
	             phone, NULL);
}

/* Text from phone, for i from first to last, strf(fmt, i) (a macro: fmt
 * stays a literal that the compiler checks). */
#define sms_each(phone, fmt, first, last)                                      \
	do {                                                                   \
		for (int i_ = (first); i_ <= (last); i_++) {                   \
			char *t_ = strf(fmt, i_);                              \
			sms((phone), t_);                                      \
			free(t_);                                              \
		}                                                              \
	} while (0)

/* How many complaints a phone has made. */
static long
n_complaints(const char *phone)
{
	return qlong("SELECT count(*) FROM pakn.complaint WHERE msisdn = $1",
	             phone, NULL);
}

/* How many of a phone's messages are flagged flag (NULL: flagged at
 * all). */
static long
n_flagged(const char *phone, const char *flag)
{
	if (flag == NULL) /* (NULL ends qlong's parameters) */
		return qlong("SELECT count(*) FROM pakn.inbound_message WHERE "
		             "msisdn = $1 AND abuse_flag IS NOT NULL",
		             phone, NULL);
	return qlong("SELECT count(*) FROM pakn.inbound_message WHERE msisdn "
	             "= $1 AND abuse_flag = $2",
	             phone, flag, NULL);
}

/* Characters of a UTF-8 string. */
static int
chars(const char *s)
{
	int n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Complaints over the hour's limit (3 here): the first three are acked,
 * the fourth gets one notice naming the limit, then silence; all six are
 * stored, three flagged limit_hour, no complaint made from them. */
START_TEST(test_limit_hour)
{
	const char *ph = "+84913100001";
	char *k, *b, *b2;

	sms_each(ph, "PA đèn đường số %d bị hỏng #00004", 1, 6);
	ck_assert_int_eq(n_complaints(ph), 3);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.inbound_message "
	                       "WHERE msisdn = $1",
	                       ph, NULL),
	                 6);
	ck_assert_int_eq(n_flagged(ph, "limit_hour"), 3);
	k = kinds_to(ph);
	ck_assert_str_eq(k, "ack,ack,ack,limit_notice");
	b = last_to(ph, "limit_notice");
	assert_contains(b, "3 phản ánh trong một giờ");
	ck_assert_int_eq(fg_wait(ph, 4), 4);
	sleep_ms(300);
	ck_assert_int_eq(fg_count(ph), 4);
	b2 = log_grep(D->log, 0, "not acted on (limit_hour)");
	ck_assert_msg(b2 != NULL, "no log line for the limit");
	free(b2);
	free(k);
	free(b);
}
END_TEST

/* The day's limit (5 here) counts since local midnight. */
START_TEST(test_limit_day)
{
	const char *ph = "+84913100002";
	char *k;

	if (qlong("SELECT (pakn.local_date(now() - interval '70 minutes') = "
	          "pakn.local_date(now()))::integer",
	          NULL) != 1)
		return; /* just after local midnight: no earlier hour today */
	sms_each(ph, "PA cống số %d bị tắc #00004", 1, 3);
	/* Filed more than an hour ago, today. */
	PQclear(q("UPDATE pakn.complaint SET created_at = now() - interval '61 "
	          "minutes'"
	          " WHERE msisdn = $1",
	          ph, NULL));
	sms_each(ph, "PA cống số %d bị tắc #00004", 4, 7);
	ck_assert_int_eq(n_complaints(ph), 5);
	ck_assert_int_eq(n_flagged(ph, "limit_day"), 2);
	k = kinds_to(ph);
	ck_assert_str_eq(k, "ack,ack,ack,ack,ack,limit_notice");
	free(k);
	k = last_to(ph, "limit_notice");
	assert_contains(k, "5 phản ánh trong ngày");
	free(k);
}
END_TEST

/* Replies per day (12 here): the thirteenth message gets the notice,
 * the fourteenth nothing; both are stored and flagged. */
START_TEST(test_limit_replies)
{
	const char *ph = "+84913100003";
	char *text;

	sms_each(ph, "TT 2345%03d", 1, 14);
	ck_assert_int_eq(n_to(ph), 13);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.outbox WHERE "
	                       "msisdn = $1 AND kind = 'bad_ticket'",
	                       ph, NULL),
	                 12);
	ck_assert_int_eq(n_flagged(ph, "limit_replies"), 2);
	text = last_to(ph, "limit_notice");
	assert_contains(text, "12 tin trả lời trong ngày");
	free(text);
	ck_assert_int_eq(fg_wait(ph, 13), 13);
}
END_TEST

/* The number a query with one parameter gives in database db. */
static long
db_long(const char *db, const char *query, const char *param)
{
	char *v = sql_value_db(db, query, param, NULL);
	long n;

	ck_assert_ptr_nonnull(v);
	n = atol(v);
	free(v);
	return n;
}

/* The rows tables of database db whose names are like pattern have
 * given to sequential scans. */
static long
seq_read(const char *db, const char *pattern)
{
	return db_long(db,
	               "SELECT coalesce(sum(seq_tup_read), 0) FROM "
	               "pg_stat_user_tables WHERE schemaname = 'pakn' AND "
	               "relname LIKE $1",
	               pattern);
}

/* Wait until message id of gateway kgw is processed in database db
 * (its message done: found by its key, reading none of the tables
 * test_plans_by_index watches). */
static void
wait_done(const char *db, const char *id)
{
	double end = now_secs() + WAIT;
	char *state = NULL;

	do {
		free(state);
		sleep_ms(50);
		state =
		    sql_value_db(db,
		                 "SELECT m.state FROM pakn.inbound_key k "
		                 "JOIN pakn.inbound_message m ON m.id = k.id "
		                 "WHERE k.gateway = 'kgw' AND "
		                 "k.gateway_msg_id = $1",
		                 id, NULL);
	} while ((state == NULL || strcmp(state, "done") != 0) &&
	         now_secs() < end);
	ck_assert_str_eq(state, "done");
	free(state);
}

/* Send text (percent-encoded) from phone to paknd d as message
 * prefix-phone; with wait, until it is processed in database db. */
static void
text_to(struct paknd *d, const char *db, const char *phone, const char *prefix,
        const char *text, int wait)
{
	char *path = strf(
	         "/v1/gw/kgw/sms?token=kgw-secret&from=%%2B%s&to=" SHORTCODE
	         "&text=%s&id=%s-%s",
	         phone + 1, text, prefix, phone + 1),
	     *id = strf("%s-%s", prefix, phone + 1);
	struct http_resp r;

	http_request(d->port, "GET", path, NULL, NULL, 0, &r);
	ck_assert_int_eq(r.status, 200);
	http_resp_free(&r);
	if (wait)
		wait_done(db, id);
	free(path);
	free(id);
}

/* A complaint from phone to paknd d (database db), naming its commune,
 * processed. */
static void
complaint_to(struct paknd *d, const char *db, const char *phone)
{
	text_to(d, db, phone, "lim",
	        "PA%20den%20duong%20hong%20o%20phuong%20Ba%20Dinh", 1);
}

/* Has phone one complaint, acknowledged, in database db? */
static int
acked(const char *db, const char *phone)
{
	return db_long(db,
	               "SELECT count(*) FROM pakn.complaint c JOIN pakn.outbox "
	               "o ON o.complaint_id = c.id AND o.kind = 'ack' WHERE "
	               "c.msisdn = $1",
	               phone) == 1;
}

/* A second paknd, d2, on a new database db of its own (the samples
 * imported), with one processing connection, ready. */
static void
paknd_of_own(struct paknd *d2, const char *name, const char *db)
{
	char *sql = strf("CREATE DATABASE %s", db),
	     *conf = strf("%s\n[intake]\nconnections = 1\n", extra);

	ck_assert_int_eq(sql_exec_db("postgres", sql), 0);
	ck_assert_int_eq(paknd_config(d2, name, db, 1, conf), 0);
	ck_assert_int_eq(paknd_spawn(d2), 0);
	ck_assert_int_eq(paknd_wait_ready(d2, 30), 0);
	ck_assert_int_eq(harness_import_samples(d2->conf, 0), 0);
	free(sql);
	free(conf);
}

/* 20 000 citizens of database db (phones prefix and five digits), each
 * with an open complaint to 00004 (tickets ticket and a number), then
 * what more says in the same transaction. */
static void
many_complaints(const char *db, const char *prefix, const char *ticket,
                const char *more)
{
	char *sql = strf(
	    "BEGIN; INSERT INTO pakn.citizen (msisdn) SELECT '%s' || "
	    "lpad(n::text, 5, '0') FROM generate_series(1, 20000) n; INSERT "
	    "INTO pakn.complaint (ticket, msisdn, gateway, category_code, "
	    "dimension, status, text, location_unit, responsible_unit) "
	    "SELECT '%s' || n, '%s' || lpad(n::text, 5, '0'), 'kgw', "
	    "'roads', 6, 'open', 'x', '00004', '00004' FROM "
	    "generate_series(1, 20000) n; %s COMMIT",
	    prefix, ticket, prefix, more);

	ck_assert_int_eq(sql_exec_db(db, sql), 0);
	free(sql);
}

/* Entries of an index of database db read so far, as the sessions that
 * ended (or reported) counted them. */
static long
index_read(const char *db, const char *index)
{
	return db_long(db,
	               "SELECT coalesce(sum(idx_tup_read), 0) FROM "
	               "pg_stat_user_indexes WHERE indexrelname = $1",
	               index);
}

/* Wait until no other session is connected to database db: a session
 * reports what it read when it ends (at most once a second while it
 * works). */
static void
sessions_ended(const char *db)
{
	double end = now_secs() + WAIT;

	while (db_long(db,
	               "SELECT count(*) FROM pg_stat_activity WHERE datname = "
	               "$1 AND pid <> pg_backend_pid()",
	               db) > 0 &&
	       now_secs() < end)
		sleep_ms(50);
}

/* Processing reads by the indexes, whatever the tables' sizes when its
 * plans were made, with the limits on. A new database analyzed while
 * empty (as by an install's ANALYZE): its processing connection (one)
 * makes its plans at the first complaint; then 20 000 citizens, their
 * complaints and SMS, and six complaints from new phones: no row of the
 * complaints, citizens or outbox read by a sequential scan. Those plans
 * read each phone's SMS of the day in the month's outbox, the complaints
 * for each new ticket, the citizens for each group: a drain ran at a
 * fifth of its speed. (A backend reports what it read within its next
 * 10 s idle.) */
START_TEST(test_plans_by_index)
{
	static const char db[] = "pakn_plans";
	static const char *const tables[] = {"outbox%", "complaint", "citizen"};
	struct paknd d2;
	char ph[16];
	long before[3], after[3], moved;
	double end;

	paknd_of_own(&d2, "plans", db);
	ck_assert_int_eq(sql_exec_db(db, "VACUUM ANALYZE"), 0);
	complaint_to(&d2, db, "+84913100500");
	many_complaints(db, "+8491319", "LIM",
	                "SET LOCAL pakn.outbox_checked = 'on'; INSERT INTO "
	                "pakn.outbox (gateway, msisdn, body, kind, state, "
	                "sent_at) SELECT 'kgw', '+8491319' || lpad(n::text, 5, "
	                "'0'), 'x', 'ack', 'sent', now() FROM "
	                "generate_series(1, 20000) n;");
	sleep_ms(1100);
	for (int t = 0; t < 3; t++)
		before[t] = seq_read(db, tables[t]);
	for (int i = 1; i <= 6; i++) {
		snprintf(ph, sizeof ph, "+849131005%02d", i);
		complaint_to(&d2, db, ph);
	}
	end = now_secs() + 12;
	do {
		sleep_ms(500);
		moved = 0;
		for (int t = 0; t < 3; t++)
			moved +=
			    (after[t] = seq_read(db, tables[t])) != before[t];
	} while (moved == 0 && now_secs() < end);
	for (int t = 0; t < 3; t++)
		ck_assert_msg(after[t] - before[t] < 20000,
		              "%ld rows of %s read by sequential scans",
		              after[t] - before[t], tables[t]);
	for (int i = 0; i <= 6; i++) {
		snprintf(ph, sizeof ph, "+849131005%02d", i);
		ck_assert_msg(acked(db, ph), "%s: no complaint acknowledged",
		              ph);
	}
	ck_assert_int_eq(paknd_finish(&d2, NULL), 0);
}
END_TEST

/* A bare digit rates the phone's complaint answered last, found among
 * the phone's complaints, set-based or one by one, and with a survey or
 * a list of communes asked before the rating question, whatever the
 * statistics said of the answered complaints when the plans were made:
 * 20 000 complaints analyzed while open, then answered at once (as
 * officials answering a backlog), the four phones' answered first. The
 * digits read a few entries of complaint_answered_idx, not every
 * answered complaint newest first (20 000 a digit before
 * pakn.rating_pending and pakn.rating_asked_last). */
START_TEST(test_rating_by_phone)
{
	static const char db[] = "pakn_rating";
	static const char answered[] = "complaint_answered_idx";
	struct paknd d2;
	long before;
	PGconn *hold;

	paknd_of_own(&d2, "rating", db);
	complaint_to(&d2, db, "+84913100600");
	complaint_to(&d2, db, "+84913100601");
	complaint_to(&d2, db, "+84913100602");
	complaint_to(&d2, db, "+84913100603");
	many_complaints(db, "+8491329", "RBP", "");
	ck_assert_int_eq(
	    sql_exec_db(db,
	                "ANALYZE pakn.complaint; UPDATE pakn.complaint SET "
	                "status = 'answered', answer_text = 'Da sua', "
	                "answered_at = now() - CASE WHEN ticket LIKE 'RBP%' "
	                "THEN interval '0' ELSE interval '1 hour' END, "
	                "rating_asked_at = now()"),
	    0);
	ck_assert_int_eq(
	    sql_exec_db(
	        db,
	        "WITH r AS (INSERT INTO pakn.service_record (unit_code, "
	        "procedure_code, procedure_name, msisdn, received_at, "
	        "returned_at, on_time, source, considered) VALUES ('00004', "
	        "'1.001', 'Chung thuc ban sao', '+84913100602', now() - "
	        "interval '2 hours', now() - interval '1 hour', true, 'api', "
	        "true) RETURNING id, msisdn) INSERT INTO pakn.survey "
	        "(service_id, msisdn, gateway, state, due_at, created_at, "
	        "sent_at, asked_at) SELECT r.id, r.msisdn, 'kgw', 'sent', "
	        "now(), now(), clock_timestamp(), now() - interval '1 day' "
	        "FROM r"),
	    0);
	text_to(&d2, db, "+84913100603", "pb", "PA%20Rac%20thai", 1);
	ck_assert_int_eq(
	    sql_exec_db(db, "INSERT INTO pakn.place_choice (complaint_id, "
	                    "msisdn, candidates, asked_at) SELECT c.id, "
	                    "c.msisdn, '{00004,00070,00008}', now() - interval "
	                    "'1 day' FROM pakn.complaint c WHERE c.msisdn = "
	                    "'+84913100603' AND c.status = 'needs_location'"),
	    0);
	sleep_ms(1100);
	/* Set-based: the first phone's digit, alone in its group. */
	before = index_read(db, answered);
	text_to(&d2, db, "+84913100600", "dg", "5", 1);
	/* One by one: the second phone's digit, with another message of
	 * the phone in its group. */
	hold = harness_hold_processing_in(db);
	text_to(&d2, db, "+84913100601", "dg", "4", 0);
	text_to(&d2, db, "+84913100601", "hd", "HD", 0);
	sleep_ms(300);
	PQfinish(hold);
	wait_done(db, "dg-84913100601");
	wait_done(db, "hd-84913100601");
	text_to(&d2, db, "+84913100602", "dg", "5", 1);
	text_to(&d2, db, "+84913100603", "dg", "5", 1);
	/* What paknd's sessions read, counted once they have ended (a
	 * session reports its counts at most once a second while it
	 * works). */
	ck_assert_int_eq(paknd_finish(&d2, NULL), 0);
	sessions_ended(db);
	ck_assert_int_lt(index_read(db, answered) - before, 1000);
	ck_assert_int_eq(db_long(db,
	                         "SELECT count(*) FROM pakn.complaint c JOIN "
	                         "pakn.rating r ON r.complaint_id = c.id WHERE "
	                         "c.status = 'closed' AND c.msisdn = ANY "
	                         "(string_to_array($1, ',')) AND r.score = "
	                         "CASE c.msisdn WHEN '+84913100601' THEN 4 "
	                         "ELSE 5 END",
	                         "+84913100600,+84913100601,+84913100602,"
	                         "+84913100603"),
	                 4);
}
END_TEST

/* An official's queue is read by the official's units, whatever the
 * statistics said of the open complaints when the plans were made:
 * 20 000 complaints of 00004 analyzed while answered, then open again
 * (as a backlog comes to a table analyzed after officials answered the
 * last), 12 of them moved to 00070 and 30 to Hà Nội's triage desk. DS
 * from 00070's officer (through paknd: its processing's plan) and
 * GET /v1/desk's function (seven calls: past the custom plans) list the
 * unit's and the desk's, having read few entries of complaint_due_idx
 * (every open complaint, 20 000 a statement, before pakn.sms_list and
 * pakn.api_desk read them unit by unit). */
START_TEST(test_official_list_by_unit)
{
	static const char db[] = "pakn_queue";
	static const char due[] = "complaint_due_idx";
	struct paknd d2;
	long before;
	char *b, *v;

	paknd_of_own(&d2, "queue", db);
	ck_assert_int_eq(harness_import(d2.conf, "officials",
	                                PAKN_SRCDIR
	                                "/config/officials.sample.csv"),
	                 0);
	many_complaints(db, "+8491339", "QBU", "");
	ck_assert_int_eq(
	    sql_exec_db(db,
	                "UPDATE pakn.complaint SET status = 'answered'; "
	                "ANALYZE pakn.complaint; UPDATE pakn.complaint SET "
	                "status = 'open', due_at = now() + interval '3 days' "
	                "- CASE WHEN ticket IN ('QBU7', 'QBU9') THEN "
	                "interval '5 days' ELSE interval '0' END; "
	                "UPDATE pakn.complaint SET responsible_unit = '00070' "
	                "WHERE ticket IN (SELECT 'QBU' || n FROM "
	                "generate_series(1, 12) n); UPDATE pakn.complaint SET "
	                "responsible_unit = '01-TTHC', desk_reason = "
	                "'no_place' WHERE ticket IN (SELECT 'QBU' || n FROM "
	                "generate_series(101, 130) n); INSERT INTO "
	                "pakn.api_token (official_id, token_hash) SELECT o.id, "
	                "sha256(convert_to('tok-queue-desk', 'UTF8')) FROM "
	                "pakn.official o WHERE o.phone = '+84901000100'"),
	    0);
	sleep_ms(1100);
	before = index_read(db, due);
	text_to(&d2, db, OFFICER70, "ds1", "DS", 1);
	text_to(&d2, db, OFFICER70, "ds2", "DS%202", 1);
	ck_assert_int_eq(paknd_finish(&d2, NULL), 0);
	b = sql_value_db(db,
	                 "SELECT string_agg(body, ' | ' ORDER BY id) FROM "
	                 "pakn.outbox WHERE msisdn = $1 AND kind = "
	                 "'official_list'",
	                 OFFICER70, NULL);
	assert_contains(b, "DS 00070 (12 mở, 2 quá hạn) trang 1/2: QBU7 ");
	assert_contains(b, " QH, QBU9 ");
	assert_contains(b, "trang 2/2: QBU");
	free(b);
	v = sql_value_db(
	    db,
	    "WITH c AS MATERIALIZED (SELECT pakn.api_desk($1)->'body' AS j "
	    "FROM generate_series(1, 7)) SELECT min(j->>'total') || ' ' || "
	    "min(jsonb_array_length(j->'complaints')) || ' ' || "
	    "min(j->'complaints'->0->>'ticket') || ' ' || "
	    "(pg_stat_get_xact_tuples_returned('pakn.complaint_due_idx'::"
	    "regclass) < 1000) FROM c",
	    "tok-queue-desk", NULL);
	ck_assert_str_eq(v, "30 30 QBU101 true");
	free(v);
	/* What paknd's sessions read, counted once they have ended. */
	sessions_ended(db);
	ck_assert_int_lt(index_read(db, due) - before, 1000);
}
END_TEST

/* A unit's phone has no limits, and is found among the units of a whole
 * country by its index (029): 3 000 more units, two of which list the
 * phone; five complaints from it in an hour (the limit is 3) are all
 * made and acknowledged, and pakn.official_unit names the first of the
 * two, having read unit_phones_idx. */
START_TEST(test_unit_phone)
{
	const char *ph = "+84913100090";
	char *k, *u;

	PQclear(q("INSERT INTO pakn.unit (code, name, parent_code, kind, "
	          "phones) SELECT format('scale-%s', lpad(g::text, 4, '0')), "
	          "format('Phòng %s', g), '01', 'department', "
	          "CASE WHEN g IN (7, 2000) THEN ARRAY[$1] ELSE "
	          "ARRAY[format('+849131%06s', g)] END "
	          "FROM generate_series(1, 3000) g",
	          ph, NULL));
	sms_each(ph, "PA vỉa hè số %d bị lấn chiếm #00004", 1, 5);
	ck_assert_int_eq(n_complaints(ph), 5);
	ck_assert_int_eq(n_flagged(ph, NULL), 0);
	k = kinds_to(ph);
	ck_assert_str_eq(k, "ack,ack,ack,ack,ack");
	/* The index scans of this transaction, counted after the call. */
	u = qval("WITH u AS MATERIALIZED (SELECT pakn.official_unit($1) AS "
	         "code) SELECT u.code || ' ' || (pg_stat_get_xact_numscans("
	         "'pakn.unit_phones_idx'::regclass) > 0) FROM u",
	         ph, NULL);
	ck_assert_str_eq(u, "scale-0007 true");
	free(k);
	free(u);
}
END_TEST

/* paknctl ban needs a reason; a banned phone's messages are stored,
 * flagged, never answered, and nothing already queued for it is sent;
 * unban lets it in again; both are ledgered with who and why. */
START_TEST(test_ban)
{
	const char *ph = "+84913100004";
	char *out, *t, *v;
	long before;

	t = complaint(ph, "PA rác thải chưa thu gom #00004");
	ck_assert_int_eq(paknctl_out(NULL, &out, "ban", "0913100004", NULL), 2);
	assert_contains(out, "--reason");
	free(out);
	ck_assert_int_eq(paknctl_out(NULL, &out, "ban", "0913100004",
	                             "--reason", "tin rác hàng loạt", "--by",
	                             "vận hành 1", NULL),
	                 0);
	assert_contains(out, ph);
	free(out);
	before = n_to(ph);
	sms(ph, "PA rác thải vẫn chưa thu gom #00004");
	sms(ph, "HD");
	ck_assert_int_eq(n_to(ph), before);
	ck_assert_int_eq(n_complaints(ph), 1);
	ck_assert_int_eq(n_flagged(ph, "banned"), 2);
	/* An official's answer to the banned phone is kept, not sent. */
	v = strf("TL %s Đã thu gom xong", t);
	sms(OFFICER4, v);
	free(v);
	assert_value(qval("SELECT state || ': ' || last_error FROM pakn.outbox "
	                  "WHERE msisdn = $1 AND kind = 'answer'",
	                  ph, NULL),
	             "failed: refused: the number is banned");
	ck_assert_int_eq(paknctl_out(NULL, &out, "unban", "+84913100004",
	                             "--reason", "đã xác minh", "--by",
	                             "vận hành 2", NULL),
	                 0);
	free(out);
	ck_assert_int_eq(paknctl_out(NULL, &out, "unban", "+84913100004", NULL),
	                 1);
	assert_contains(out, "not banned");
	free(out);
	v = qval("SELECT string_agg(action || '/' || actor || '/' || "
	         "coalesce(reason, ''), ', ' ORDER BY id) FROM pakn.ban_event "
	         "WHERE msisdn = $1",
	         ph, NULL);
	ck_assert_str_eq(v, "ban/vận hành 1/tin rác hàng loạt, "
	                    "unban/vận hành 2/đã xác minh");
	free(v);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.ban_event WHERE "
	                       "at IS NOT NULL AND msisdn = $1",
	                       ph, NULL),
	                 2);
	sms(ph, "PA đèn đường hỏng #00004");
	ck_assert_int_eq(n_complaints(ph), 2);
	assert_value(qval("SELECT kind FROM pakn.outbox WHERE msisdn = $1 "
	                  "ORDER BY id DESC LIMIT 1",
	                  ph, NULL),
	             "ack");
	/* The ledger refuses changes. */
	harness_expect_pg("pakn.ban_event is append-only");
	ck_assert_ptr_null(sql_query("DELETE FROM pakn.ban_event", NULL));
	free(t);
}
END_TEST

/* An auto-responder: the same text again within the window is stored,
 * flagged repeated, not acted on; a gateway's own service number
 * (loop_senders) is never answered. */
START_TEST(test_loops)
{
	const char *ph = "+84913100005";
	char *k;

	sms(ph, "Tôi đang bận, sẽ gọi lại sau.");
	sms(ph, "tôi đang bận, sẽ gọi lại sau. ");
	sms(ph, "Tôi đang bận, sẽ gọi lại sau.");
	ck_assert_int_eq(n_complaints(ph), 1);
	ck_assert_int_eq(n_flagged(ph, "repeated"), 2);
	k = kinds_to(ph);
	ck_assert_str_eq(k, "ask_location_nokeyword");
	free(k);
	sms(LOOP_SVC, "Thong bao: tai khoan cua quy khach con 5.000d");
	assert_value(qval("SELECT sender_flag FROM pakn.inbound_message WHERE "
	                  "msisdn = '+84900009029'",
	                  NULL),
	             "gateway_sender");
	ck_assert_int_eq(n_to("+84900009029"), 0);
}
END_TEST

/* STOP, then START or DANG KY LAI: the citizen is back; STOP again in the
 * repeat window still counts. */
START_TEST(test_stop_start)
{
	const char *ph = "+84913100006";
	const char *opted = "SELECT opted_out::text FROM pakn.citizen WHERE "
	                    "msisdn = $1";
	char *k, *b;

	sms(ph, "TU CHOI");
	assert_value(qval(opted, ph, NULL), "true");
	b = last_to(ph, "stopped");
	assert_contains(b, "DANG KY LAI");
	free(b);
	sms(ph, "Đăng ký lại");
	assert_value(qval(opted, ph, NULL), "false");
	sms(ph, "STOP");
	assert_value(qval(opted, ph, NULL), "true");
	sms(ph, "start");
	assert_value(qval(opted, ph, NULL), "false");
	sms(ph, "TU CHOI");
	assert_value(qval(opted, ph, NULL), "true");
	k = kinds_to(ph);
	ck_assert_str_eq(k, "stopped,restarted,stopped,restarted,stopped");
	free(k);
}
END_TEST

/* DS: the officer's open queue, overdue first, 8 a page in at most two
 * GSM-7 parts, paged; a page too far and a citizen's DS are refused. */
START_TEST(test_official_list)
{
	char *t[10], *b, *ph, *want;

	for (int i = 1; i <= 9; i++) {
		ph = strf("+8491320000%d", i);
		t[i] = complaint(ph, "PA đường hỏng nhiều ổ gà #00070");
		free(ph);
	}
	PQclear(q("UPDATE pakn.complaint SET due_at = now() - interval '1 day' "
	          "WHERE ticket IN ($1, $2)",
	          t[5], t[9], NULL));
	sms(OFFICER70, "DS");
	b = last_to(OFFICER70, "official_list");
	assert_contains(b, "DS 00070 (9 mở, 2 quá hạn) trang 1/2: ");
	/* The two overdue ones first, in due order (same due: by id). */
	want = strf("trang 1/2: %s ", t[5]);
	assert_contains(b, want);
	free(want);
	want = strf(" QH, %s ", t[9]);
	assert_contains(b, want);
	free(want);
	assert_contains(b, "Tiếp: DS 2");
	ck_assert_msg(chars(b) <= 306, "%d characters: %s", chars(b), b);
	ck_assert_msg(strstr(b, "+84") == NULL, "phone in %s", b);
	free(b);
	sms(OFFICER70, "ds 2");
	b = last_to(OFFICER70, "official_list");
	assert_contains(b, "trang 2/2: ");
	ck_assert_msg(strstr(b, "Tiếp") == NULL, "%s", b);
	free(b);
	sms(OFFICER70, "DS 3");
	b = last_to(OFFICER70, "official_refused");
	assert_contains(b, "không có trang 3");
	free(b);
	sms("+84913100007", "DS");
	b = last_to("+84913100007", "official_refused");
	assert_contains(b, "chưa đăng ký là của cán bộ");
	free(b);
	for (int i = 1; i <= 9; i++)
		free(t[i]);
}
END_TEST

/* XEM: an official sees the text and the history; another unit's
 * official, a mistyped or unknown ticket: refused alike; the citizen
 * gets the status of their own ticket, others nothing. */
START_TEST(test_official_show)
{
	const char *ph = "+84913100008";
	char *t =
	    complaint(ph, "PA lòng đường bị đào mà không hoàn trả #00004");
	char *cmd = strf("XEM %s", t), *b, *want;

	sms(OFFICER4, cmd);
	b = last_to(OFFICER4, "official_show");
	assert_contains(b, t);
	assert_contains(b, "lòng đường bị đào");
	assert_contains(b, "Lịch sử: ");
	assert_contains(b, "giao 00004");
	ck_assert_msg(strstr(b, "+84") == NULL, "phone in %s", b);
	free(b);
	sms(OFFICER70, cmd);
	b = last_to(OFFICER70, "official_refused");
	want = strf("phản ánh %s không thuộc đơn vị của bạn", t);
	assert_contains(b, want);
	free(want);
	free(b);
	sms(OFFICER70, "XEM KV7R48R");
	b = last_to(OFFICER70, "official_refused");
	assert_contains(b, "không thuộc đơn vị của bạn");
	free(b);
	sms(OFFICER4, "XEM KV7R48Q");
	b = last_to(OFFICER4, "official_refused");
	assert_contains(b, "không đúng");
	free(b);
	sms(ph, cmd);
	b = last_to(ph, "status");
	assert_contains(b, t);
	free(b);
	sms("+84913100009", cmd);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.outbox WHERE "
	                       "msisdn = '+84913100009' AND kind = 'not_found'",
	                       NULL),
	                 1);
	free(cmd);
	free(t);
}
END_TEST

/* GH: once, within the category's extension, before the deadline, with
 * a reason; ledgered; the citizen is told. */
START_TEST(test_official_extend)
{
	const char *ph = "+84913100010";
	char *t = complaint(ph, "PA xin giải thích quy hoạch #00004");
	char *t2 = complaint("+84913100011", "PA hỏi về hồ sơ #00004");
	char *cmd, *b, *want_due;
	long ext = qlong("SELECT cat.extension_days FROM pakn.complaint c JOIN "
	                 "pakn.category cat ON cat.code = c.category_code "
	                 "WHERE c.ticket = $1",
	                 t, NULL);

	ck_assert_int_gt(ext, 2);
	cmd = strf("GH %s %ld can them thoi gian", t, ext + 1);
	sms(OFFICER4, cmd);
	free(cmd);
	b = last_to(OFFICER4, "official_refused");
	want_due = strf("từ 1 đến %ld", ext);
	assert_contains(b, want_due);
	free(want_due);
	free(b);
	cmd = strf("GH %s 2", t);
	sms(OFFICER4, cmd);
	free(cmd);
	b = last_to(OFFICER4, "official_refused");
	assert_contains(b, "thiếu lý do");
	free(b);
	cmd = strf("GH %s 2", t);
	sms(OFFICER70, "GH KV7R48R 2 x");
	free(cmd);
	b = last_to(OFFICER70, "official_refused");
	assert_contains(b, "không thuộc đơn vị của bạn");
	free(b);
	want_due =
	    qval("SELECT pakn.due_vi(pakn.due_after(due_at - interval "
	         "'1 second', 2, cat.working_days)) FROM pakn.complaint c "
	         "JOIN pakn.category cat ON cat.code = c.category_code "
	         "WHERE c.ticket = $1",
	         t, NULL);
	cmd = strf("GH %s 2 cần khảo sát hiện trường", t);
	sms(OFFICER4, cmd);
	b = last_to(OFFICER4, "official_extended");
	assert_contains(b, want_due);
	free(b);
	b = last_to(ph, "extended");
	assert_contains(b, "cần khảo sát hiện trường");
	assert_contains(b, want_due);
	free(b);
	assert_value(ticket_ledger(t),
	             "extended:" OFFICER4 ":cần khảo sát hiện trường");
	sms(OFFICER4, cmd);
	free(cmd);
	b = last_to(OFFICER4, "official_refused");
	assert_contains(b, "đã được gia hạn một lần");
	free(b);
	PQclear(q("UPDATE pakn.complaint SET due_at = now() - interval '1 "
	          "hour' WHERE "
	          "ticket = $1",
	          t2, NULL));
	cmd = strf("GH %s 2 ly do", t2);
	sms(OFFICER4, cmd);
	free(cmd);
	b = last_to(OFFICER4, "official_refused");
	assert_contains(b, "đã quá hạn");
	free(b);
	sms("+84913100012", "GH KV7R48R 2 xin gia han");
	b = last_to("+84913100012", "official_refused");
	assert_contains(b, "chưa đăng ký là của cán bộ");
	free(b);
	free(want_due);
	free(t);
	free(t2);
}
END_TEST

/* TC: back to the unit that transferred it, else to the province's
 * triage desk (in triage), with the reason; from the desk up to the
 * province; at the province it is rejected. */
START_TEST(test_official_return)
{
	char *t1 = complaint("+84913100013", "PA đường hỏng nhiều ổ gà #00004");
	char *t2 = complaint("+84913100014", "PA đèn đường không sáng #00004");
	char *cmd, *b;

	cmd = strf("TC %s", t1);
	sms(OFFICER4, cmd);
	free(cmd);
	b = last_to(OFFICER4, "official_refused");
	assert_contains(b, "thiếu lý do");
	free(b);
	cmd = strf("TC %s thuộc thẩm quyền Sở Xây dựng", t1);
	sms(OFFICER70, cmd);
	b = last_to(OFFICER70, "official_refused");
	assert_contains(b, "không thuộc đơn vị của bạn");
	free(b);
	sms("+84913100015", cmd);
	b = last_to("+84913100015", "official_refused");
	assert_contains(b, "chưa đăng ký là của cán bộ");
	free(b);
	sms(OFFICER4, cmd);
	free(cmd);
	assert_value(qval("SELECT responsible_unit || ' ' || triage::text || "
	                  "' ' || status FROM pakn.complaint WHERE ticket = $1",
	                  t1, NULL),
	             "01-TTHC true open");
	assert_value(ticket_ledger(t1),
	             "returned:" OFFICER4
	             ":thuộc thẩm quyền Sở Xây dựng, transferred:" OFFICER4
	             ":thuộc thẩm quyền Sở Xây dựng");
	b = last_to(OFFICER4, "official_returned");
	assert_contains(b, "Thành phố Hà Nội");
	free(b);
	b = last_to("+84913100013", "returned");
	assert_contains(b, "thuộc thẩm quyền Sở Xây dựng");
	free(b);
	/* Transferred in, then sent back to the sender. */
	cmd = strf("CT %s 00070 vỉa hè thuộc Hoàn Kiếm", t2);
	sms(OFFICER4, cmd);
	free(cmd);
	assert_value(ticket_unit(t2), "00070");
	cmd = strf("TC %s không phải địa bàn phường", t2);
	sms(OFFICER70, cmd);
	free(cmd);
	assert_value(ticket_unit(t2), "00004");
	/* From the desk a TC goes up to the province; at the province,
	 * nobody above: rejected, the citizen told why. */
	cmd = strf("TC %s không thuộc thẩm quyền của thành phố", t1);
	sms(LEADER01, cmd);
	assert_value(ticket_unit(t1), "01");
	sms(LEADER01, cmd);
	free(cmd);
	assert_value(qval("SELECT status FROM pakn.complaint WHERE ticket = $1",
	                  t1, NULL),
	             "rejected");
	b = last_to("+84913100013", "rejected");
	assert_contains(b, "không thuộc thẩm quyền của thành phố");
	free(b);
	free(last_to(LEADER01, "official_rejected"));
	free(t1);
	free(t2);
}
END_TEST

/* An answer longer than [sms] max_answer_parts (3) is refused with the
 * limit named, by the API and by TL; a shorter one goes through. */
START_TEST(test_long_answer)
{
	char *t = complaint("+84913100016", "PA mặt đường bị lún sụt #00004");
	char *body, *text, *cmd, *b;
	struct buf lb;
	json_t *j;

	buf_init(&lb);
	for (int i = 0; i < 60; i++)
		buf_add(&lb, "Đã xử lý. ", strlen("Đã xử lý. "));
	buf_addc(&lb, '\0');
	text = strdup(lb.data);
	body = strf("{\"text\": \"%s\"}", text);
	j = api_act(t, "answer", T_OFFICER4, body, 400);
	assert_contains(jstr2(j, "error", "message"), "over the limit of 3");
	assert_contains(jstr2(j, "error", "message"), "max_answer_parts");
	json_decref(j);
	cmd = strf("TL %s %s", t, text);
	sms(OFFICER4, cmd);
	b = last_to(OFFICER4, "official_refused");
	assert_contains(b, "giới hạn 3 tin");
	free(b);
	assert_value(qval("SELECT status FROM pakn.complaint WHERE ticket = $1",
	                  t, NULL),
	             "open");
	free(cmd);
	cmd = strf("TL %s Đã xử lý xong, mời ông bà kiểm tra.", t);
	sms(OFFICER4, cmd);
	assert_value(qval("SELECT status FROM pakn.complaint WHERE ticket = $1",
	                  t, NULL),
	             "answered");
	free(cmd);
	free(body);
	free(text);
	buf_clear(&lb);
	free(t);
}
END_TEST

/* SIGUSR2 both instances at once and wait until each looked at the
 * summary schedule. */
static void
summary_round(struct paknd *const *ds)
{
	size_t off[2];

	for (int i = 0; i < 2; i++)
		off[i] = file_size(ds[i]->log);
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(paknd_signal(ds[i], SIGUSR2), 0);
	for (int i = 0; i < 2; i++)
		ck_assert_msg(
		    log_wait(ds[i]->log, off[i], "summary: ", 30) == 0,
		    "paknd %s did not look at the schedule", ds[i]->name);
}

/* How many summaries a phone got for a period. */
static long
summaries(const char *phone, const char *period)
{
	return qlong("SELECT count(*) FROM pakn.outbox o JOIN pakn.official f "
	             "ON f.phone = o.msisdn JOIN pakn.summary_claim s ON "
	             "s.official_id = f.id AND s.period = $2 WHERE o.kind = "
	             "'summary' AND o.msisdn = $1 AND o.created_at = "
	             "s.claimed_at",
	             phone, period, NULL);
}

/* The leaders' summary: due Monday 07:30 and on the cut-off day, sent
 * once per leader and period by two paknd looking at once, not to a
 * leader who turned it off (until BC BAT), nothing when nothing is due. */
START_TEST(test_summary_once)
{
	struct paknd d2;
	struct paknd *ds[2] = {D, &d2};
	char *b;
	long leaders;

	sms(LEADER4, "BC TAT");
	free(last_to(LEADER4, "summary_off"));
	ck_assert_int_eq(paknd_config(&d2, "second", "pakn", 0, extra), 0);
	ck_assert_int_eq(paknd_spawn(&d2), 0);
	ck_assert_int_eq(paknd_wait_ready(&d2, 10), 0);
	leaders = qlong("SELECT count(*) FROM pakn.official WHERE active AND "
	                "role = 'leader' AND summary_sms",
	                NULL);
	ck_assert_int_ge(leaders, 2);
	/* Monday 7 December 2026, 07:31 in Hà Nội. */
	PQclear(q("INSERT INTO pakn.setting VALUES ('summary_now', "
	          "'2026-12-07 07:31:00+07')",
	          NULL));
	summary_round(ds);
	summary_round(ds);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.summary_claim WHERE "
	                       "period = 'week 2026-12-07'",
	                       NULL),
	                 leaders);
	ck_assert_int_eq(summaries(LEADER01, "week 2026-12-07"), 1);
	ck_assert_int_eq(summaries(LEADERTTR, "week 2026-12-07"), 1);
	ck_assert_int_eq(summaries(LEADER4, "week 2026-12-07"), 0);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.outbox WHERE kind = "
	                       "'summary'",
	                       NULL),
	                 leaders);
	b = last_to(LEADER01, "summary");
	assert_contains(b, "Tuần 30/11-06/12 Thành phố Hà Nội: nhận ");
	assert_contains(b, "đúng hạn");
	assert_contains(b, "Yếu nhất: ");
	ck_assert_int_eq(fg_wait(LEADER01, 1) >= 1, 1);
	free(b);
	/* Too early on Monday: last week's is no longer due either. */
	PQclear(
	    q("UPDATE pakn.setting SET value = '2026-12-14 07:00:00+07' WHERE "
	      "name = 'summary_now'",
	      NULL));
	summary_round(ds);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.summary_claim", NULL),
	                 leaders);
	/* The cut-off day ([stats] cutoff_day = 0: the month's last day). */
	PQclear(
	    q("UPDATE pakn.setting SET value = '2026-12-31 07:45:00+07' WHERE "
	      "name = 'summary_now'",
	      NULL));
	summary_round(ds);
	summary_round(ds);
	ck_assert_int_eq(summaries(LEADER01, "month 2026-12"), 1);
	b = last_to(LEADER01, "summary");
	assert_contains(b, "Kỳ 2026-12 (01/12-31/12)");
	free(b);
	ck_assert_int_eq(summaries(LEADER4, "month 2026-12"), 0);
	sms(LEADER4, "BC BAT");
	free(last_to(LEADER4, "summary_on"));
	summary_round(ds);
	summary_round(ds);
	ck_assert_int_eq(summaries(LEADER4, "month 2026-12"), 1);
	ck_assert_int_eq(summaries(LEADER01, "month 2026-12"), 1);
	PQclear(q("DELETE FROM pakn.setting WHERE name = 'summary_now'", NULL));
	ck_assert_int_eq(paknd_finish(&d2, NULL), 0);
	/* A citizen cannot turn anything off. */
	sms("+84913100017", "BC TAT");
	free(last_to("+84913100017", "report_refused"));
}
END_TEST

/* Build the suite. */
static Suite *
abuse_suite(void)
{
	Suite *s = suite_create("abuse");

	tcase_add_test(tcase(s, "limit_hour", 60), test_limit_hour);
	tcase_add_test(tcase(s, "limit_day", 60), test_limit_day);
	tcase_add_test(tcase(s, "limit_replies", 60), test_limit_replies);
	tcase_add_test(tcase(s, "plans_by_index", 90), test_plans_by_index);
	tcase_add_test(tcase(s, "rating_by_phone", 90), test_rating_by_phone);
	tcase_add_test(tcase(s, "unit_phone", 60), test_unit_phone);
	tcase_add_test(tcase(s, "ban", 60), test_ban);
	tcase_add_test(tcase(s, "loops", 60), test_loops);
	tcase_add_test(tcase(s, "stop_start", 60), test_stop_start);
	tcase_add_test(tcase(s, "official_list", 60), test_official_list);
	tcase_add_test(tcase(s, "official_list_by_unit", 90),
	               test_official_list_by_unit);
	tcase_add_test(tcase(s, "official_show", 60), test_official_show);
	tcase_add_test(tcase(s, "official_extend", 60), test_official_extend);
	tcase_add_test(tcase(s, "official_return", 60), test_official_return);
	tcase_add_test(tcase(s, "long_answer", 60), test_long_answer);
	tcase_add_test(tcase(s, "summary_once", 120), test_summary_once);
	return s;
}

/* Start the servers, seed them, run the suite, check how paknd ended. */
int
main(void)
{
	SRunner *sr;
	int failed, status = 0;

	D = harness_main();
	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "check_abuse: cannot start PostgreSQL\n");
		return 99;
	}
	if (fakegw_start(&G) == -1) {
		fprintf(stderr, "check_abuse: fakegw does not start\n");
		return EXIT_FAILURE;
	}
	extra =
	    strf("[gateway.kgw]\ntype = kannel\ntoken = kgw-secret\n"
	         "send_url = http://127.0.0.1:%d/cgi-bin/sendsms\n"
	         "username = pakn\npassword = kannel-pass\n"
	         "sender = " SENDER "\nloop_senders = 9029 " LOOP_SVC "\n"
	         /* The rate is shared by the two instances of the summary
	          * test: 10 a second would outlast a 5 s drain. */
	         "rate = 1000\n\n"
	         "[outbox]\ninterval = 100\n\n"
	         "[deadline]\ninterval = 3600\n\n"
	         "[abuse]\ncomplaints_per_hour = 3\ncomplaints_per_day = 5\n"
	         "replies_per_day = 12\nrepeat_window = 600\n\n"
	         "[summary]\ninterval = 3600\nweekly = yes\nmonthly = yes\n",
	         G.port);
	if (paknd_start(D, "main", extra) == -1 ||
	    paknd_wait_ready(D, 10) == -1 ||
	    harness_seed(D->conf, 1, seed_sql) == -1) {
		fprintf(stderr, "check_abuse: paknd does not start\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(abuse_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (paknd_finish(D, "tok-", NULL) == -1)
		failed++;
	kill(G.pid, SIGTERM);
	waitpid(G.pid, &status, 0);
	free(extra);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
