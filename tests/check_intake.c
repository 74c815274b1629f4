/* check_intake.c: intake and processing apart (issue 12), against the
 * real paknd and PostgreSQL. A callback answered 2xx is stored, and
 * processed exactly once (one reply per message), whatever happens after
 * the answer: paknd killed mid-stream, PostgreSQL stopped for 10 s (the
 * journal keeps the callbacks; a torn last record is skipped), two paknd
 * sharing the work (a phone's messages in order), a message whose
 * command fails (marked failed with the reason, its batch goes on), the
 * set-based processing of a group (the same rows as one by one; a group
 * that fails goes one by one). */

#include <check.h>
#include <libpq-fe.h>
#include <glob.h>
#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "intake_rec.h"
#include "journal.h"
#include "util.h"

#define AT_PATH "/v1/gw/at/sms?token=at-secret"
/* Short leases: a killed paknd's claims are taken again soon. Small
 * claims and groups: a backlog takes many claims, the next made while
 * the last groups of one are processed (test_claims_in_flight; with two
 * connections, that is while one group is left: with four, the next
 * claim came with four left, and reached a phone's later message
 * beside its earlier one, both then one by one).
 * test_connections_by_backlog has its own. */
#define CLAIM 64
#define GROUP 8
#define CONF_EXTRA                                                             \
	"[intake]\nlease = 2\ninterval = 200\nbatch = 64\n"                    \
	"process_batch = 8\nconnections = 2\n"

static struct paknd *D;

/* The form body of an Africa's Talking SMS callback (malloc'd). */
static char *
at_body(const char *from, const char *text, const char *id)
{
	const char *kv[] = {"from", from, "to",     "8079",
	                    "text", text, "date",   "2026-12-02 08:00:00",
	                    "id",   id,   "linkId", "L1",
	                    NULL};
	return form_encode(kv);
}

/* n Africa's Talking callbacks at once to port: ids PREFIX-i from phone
 * +8491350xxxx (phones different ones, i % phones), text text. Writes
 * each answer's status into status[]. */
static void
at_burst(int port, const char *prefix, int first, int n, int phones,
         const char *text, long *status)
{
	static const char *const hdrs[] = {
	    "Content-Type: application/x-www-form-urlencoded", NULL};
	struct http_req *reqs = calloc((size_t)n, sizeof *reqs);
	char **bodies = calloc((size_t)n, sizeof *bodies);
	char id[64], from[32];

	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "%s-%d", prefix, first + i);
		snprintf(from, sizeof from, "+849135%05d",
		         (first + i) % phones);
		bodies[i] = at_body(from, text, id);
		reqs[i].method = "POST";
		reqs[i].path = AT_PATH;
		reqs[i].headers = hdrs;
		reqs[i].body = bodies[i];
		reqs[i].len = strlen(bodies[i]);
	}
	http_multi(port, reqs, (size_t)n, status);
	for (int i = 0; i < n; i++)
		free(bodies[i]);
	free(bodies);
	free(reqs);
}

/* Messages with ids like pattern: how many are stored / done, and how
 * many of them do not have exactly one reply queued. */
static long
count_where(const char *pattern, const char *cond)
{
	char *q = strf("SELECT count(*) FROM pakn.inbound_message m WHERE "
	               "m.gateway_msg_id LIKE $1 AND %s",
	               cond);
	long n = sql_long(q, pattern, NULL);

	free(q);
	return n;
}

/* Wait (up to timeout s) until no message like pattern waits. */
static void
wait_processed(const char *pattern, double timeout)
{
	double end = now_secs() + timeout;

	while (count_where(pattern, "m.state = 'new'") != 0 && now_secs() < end)
		sleep_ms(50);
}

/* Wait (up to timeout s) until want messages like pattern are done.
 * (Waiting for none to be 'new' is not enough where rows move between
 * partitions: test_torn_journal's are a year old, stored in DEFAULT,
 * and moved to their month's new partition by paknd's partition upkeep;
 * a statement planned while the move waits for its lock can miss the
 * moved rows, and count none 'new' while they are.) */
static void
wait_done(const char *pattern, long want, double timeout)
{
	double end = now_secs() + timeout;

	while (count_where(pattern, "m.state = 'done'") < want &&
	       now_secs() < end)
		sleep_ms(50);
}

/* Each message like pattern is done with exactly one reply queued. */
static void
assert_once(const char *pattern, long want)
{
	long done;

	ck_assert_int_eq(count_where(pattern, "true"), want);
	done = count_where(pattern, "m.state = 'done'");
	if (done != want) {
		/* Say what the others are, and what else waits (a claim
		 * takes the buckets of the oldest waiting messages); short
		 * enough for Check's message. */
		char *why = sql_value(
		    "SELECT left(concat_ws('; ', (SELECT string_agg(x, ', ') "
		    "FROM (SELECT concat_ws(' ', m.state, m.attempts, "
		    "m.lease_owner, m.lease_until - now(), m.error) || ' x' || "
		    "count(*) AS x FROM pakn.inbound_message m WHERE "
		    "m.gateway_msg_id LIKE $1 AND m.state <> 'done' GROUP BY "
		    "m.state, m.attempts, m.lease_owner, m.lease_until, "
		    "m.error) y), (SELECT 'other waiting: ' || count(*) || ' "
		    "oldest ' || min(m.gateway_msg_id) FROM "
		    "pakn.inbound_message m WHERE m.state = 'new' AND "
		    "m.gateway_msg_id NOT LIKE $1)), 1500)",
		    pattern, NULL);

		ck_assert_msg(0, "%ld of %ld %s done: %s", done, want, pattern,
		              why ? why : "?");
	}
	ck_assert_int_eq(count_where(pattern,
	                             "(SELECT count(*) FROM pakn.outbox o "
	                             "WHERE o.inbound_id = m.id) <> 1"),
	                 0);
}

/* Sender child: bursts of 20 callbacks until stop_after seconds; writes
 * "id status" lines to path. */
static void
sender(int port, const char *prefix, double seconds, const char *path)
{
	FILE *f = fopen(path, "w");
	double end = now_secs() + seconds;
	long status[20];
	int first = 0;

	harness_no_settle = 1;
	while (now_secs() < end) {
		/* Every other burst names the commune: those complaints are
		 * processed set-based (unless their phone has another message
		 * in the group), the others one by one. */
		at_burst(port, prefix, first, 20, 97,
		         first / 20 % 2 ? "PA Duong ngap nuoc #00004"
		                        : "Duong ngap nuoc",
		         status);
		for (int i = 0; i < 20; i++)
			fprintf(f, "%s-%d %ld\n", prefix, first + i, status[i]);
		fflush(f);
		first += 20;
		sleep_ms(50);
	}
	fclose(f);
	_exit(0);
}

/* Run sender() in a child; its pid. */
static pid_t
sender_start(int port, const char *prefix, double seconds, const char *path)
{
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == 0)
		sender(port, prefix, seconds, path);
	ck_assert_int_gt(pid, 0);
	return pid;
}

/* The ids the sender got 2xx for, as a PostgreSQL array literal; the
 * counts of answers in *ok and *all. */
static char *
answered_ok(const char *path, long *ok, long *all)
{
	FILE *f = fopen(path, "r");
	char id[64];
	long st;
	struct buf b;

	*ok = *all = 0;
	buf_init(&b);
	buf_adds(&b, "{");
	ck_assert_ptr_nonnull(f);
	while (fscanf(f, "%63s %ld", id, &st) == 2) {
		(*all)++;
		if (st < 200 || st > 299)
			continue;
		buf_printf(&b, "%s%s", *ok ? "," : "", id);
		(*ok)++;
	}
	fclose(f);
	buf_adds(&b, "}");
	return buf_detach(&b);
}

/* SIGKILL of paknd mid-stream: every callback answered 2xx is processed
 * exactly once after the restart (no lost and no double reply). */
START_TEST(test_kill_mid_stream)
{
	char path[PATH_MAX], *ids;
	long ok, all, stored;
	int status;
	pid_t pid;

	harness_expect_log("not processed yet");
	harness_expect_log("claim failed");
	harness_path(path, sizeof path, "kill.txt");
	pid = sender_start(D->port, "kill", 3.0, path);
	sleep_ms(1200);
	ck_assert_int_eq(paknd_signal(D, SIGKILL), 0);
	waitpid(D->pid, &status, 0);
	D->pid = 0;
	waitpid(pid, &status, 0);
	ck_assert_int_eq(paknd_spawn(D), 0);
	ck_assert_int_eq(paknd_wait_ready(D, 10), 0);
	ids = answered_ok(path, &ok, &all);
	ck_assert_msg(ok >= 20, "only %ld of %ld callbacks answered 2xx", ok,
	              all);
	wait_processed("kill-%", 30);
	stored = sql_long("SELECT count(*) FROM pakn.inbound_message WHERE "
	                  "gateway_msg_id = ANY ($1::text[])",
	                  ids, NULL);
	ck_assert_int_eq(stored, ok);
	/* Stored ones (2xx or not: some may be stored and unanswered when
	 * paknd died) are processed once each. */
	assert_once("kill-%", count_where("kill-%", "true"));
	free(ids);
}
END_TEST

/* PostgreSQL stopped for 10 s under Africa's Talking-style load: every
 * callback is answered 2xx (the journal keeps them), and every one is
 * stored and processed once after PostgreSQL returns. */
START_TEST(test_database_outage)
{
	char path[PATH_MAX], *ids, *found;
	long ok, all, stored;
	int status;
	pid_t pid;

	harness_expect_log("db conn ");
	harness_expect_log("database unavailable");
	harness_expect_log("not processed yet");
	harness_expect_log("claim failed");
	harness_path(path, sizeof path, "outage.txt");
	pid = sender_start(D->port, "down", 14.0, path);
	sleep_ms(2000);
	ck_assert_int_eq(pg_stop(), 0);
	sleep_ms(10000);
	ck_assert_int_eq(pg_start(), 0);
	waitpid(pid, &status, 0);
	ids = answered_ok(path, &ok, &all);
	ck_assert_msg(ok == all, "%ld of %ld callbacks answered 2xx", ok, all);
	ck_assert_int_gt(all, 200);
	found = log_grep(D->log, 0, "kept in the journal");
	ck_assert_msg(found != NULL, "no callback went to the journal");
	free(found);
	/* Replayed and processed: wait until all are stored and done. */
	for (double end = now_secs() + 60;
	     (stored = sql_long("SELECT count(*) FROM pakn.inbound_message "
	                        "WHERE gateway_msg_id = ANY ($1::text[])",
	                        ids, NULL)) < ok &&
	     now_secs() < end;)
		sleep_ms(100);
	ck_assert_int_eq(stored, ok);
	wait_processed("down-%", 30);
	assert_once("down-%", ok);
	free(ids);
}
END_TEST

/* PostgreSQL crashes (an immediate shutdown) while the worker processes
 * a backlog, its groups committed without waiting for the disk: once it
 * is back, every message is processed once, one complaint and one
 * acknowledgement each, no ticket given twice. */
START_TEST(test_crash_mid_processing)
{
	enum { N = 400 };
	static long st[N];
	PGconn *hold;
	long done;

	harness_expect_log("db conn ");
	harness_expect_log("database unavailable");
	harness_expect_log("claim failed");
	hold = harness_hold_processing();
	at_burst(D->port, "crash", 0, N, N, "PA Den duong hong #00004", st);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(st[i], 200);
	harness_release_processing(hold);
	/* Some groups committed, most not yet. */
	for (double end = now_secs() + 30;
	     (done = count_where("crash-%", "m.state = 'done'")) < 16 &&
	     now_secs() < end;)
		sleep_ms(5);
	ck_assert_int_ge(done, 16);
	ck_assert_int_eq(pg_crash(), 0);
	ck_assert_int_eq(pg_start(), 0);
	wait_processed("crash-%", 60);
	assert_once("crash-%", N);
	ck_assert_int_eq(
	    sql_long("SELECT count(DISTINCT c.ticket) FROM pakn.complaint c "
	             "JOIN pakn.inbound_message m ON m.id = c.inbound_id WHERE "
	             "m.gateway_msg_id LIKE 'crash-%'",
	             NULL),
	    N);
}
END_TEST

/* Twelve new complaints to 00004 processed in one group (an instance
 * with process_batch 64; D is stopped meanwhile): its official gets one
 * SMS that counts them, lists the first eight tickets and says how many
 * more there are. */
START_TEST(test_digest_lists_eight)
{
	enum { N = 12 };
	static long st[N];
	struct paknd e = {0};
	PGconn *hold;
	char *body, *rest;

	ck_assert_int_ge(paknd_stop(D, 10), 0);
	ck_assert_int_eq(
	    paknd_start(&e, "wide",
	                "[intake]\nprocess_batch = 64\nlease = 2\n"),
	    0);
	ck_assert_int_eq(paknd_wait_ready(&e, 10), 0);
	hold = harness_hold_processing();
	at_burst(e.port, "wide", 0, N, N, "PA Cay do chan duong #00004", st);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(st[i], 200);
	harness_release_processing(hold);
	wait_processed("wide-%", 30);
	assert_once("wide-%", N);
	body = sql_value("SELECT string_agg(o.body, ' | ') FROM pakn.outbox o "
	                 "WHERE o.msisdn = '+84912000004' AND o.kind = "
	                 "'new_complaints' AND o.body LIKE '12 %'",
	                 NULL);
	ck_assert_msg(body != NULL && !strchr(body, '|'), "digests: %s",
	              body ? body : "none");
	ck_assert_msg(strstr(body, " và 4 phản ánh khác.") != NULL, "%s", body);
	/* The first eight tickets by complaint, not the last four. */
	rest = sql_value("SELECT string_agg(CASE WHEN strpos($1, c.ticket) > 0 "
	                 "THEN 'y' ELSE 'n' END, '' ORDER BY c.id) FROM "
	                 "pakn.complaint c JOIN pakn.inbound_message m ON m.id "
	                 "= c.inbound_id WHERE m.gateway_msg_id LIKE 'wide-%'",
	                 body, NULL);
	ck_assert_str_eq(rest, "yyyyyyyynnnn");
	free(rest);
	free(body);
	ck_assert_int_eq(paknd_finish(&e, NULL), 0);
	ck_assert_int_eq(paknd_spawn(D), 0);
	ck_assert_int_eq(paknd_wait_ready(D, 10), 0);
}
END_TEST

/* The official of 00004, and the times of SMS to it (seconds since the
 * epoch) of kind KIND for the complaint of message ID (NULL: the lists,
 * which name no complaint), in order, comma-separated: those queued
 * after the outbox's row notices_after. */
#define OFFICIAL "+84912000004"
static long digests_to(const char *phone, const char *ids, const char *head);
static char notices_after[24];
static char *
notice_times(const char *kind, const char *id)
{
	return sql_value(
	    "SELECT string_agg(extract(epoch FROM o.created_at)::text, ',' "
	    "ORDER BY o.id) FROM pakn.outbox o WHERE o.msisdn = '" OFFICIAL
	    "' AND o.id > $3::bigint AND o.kind = $1 AND o.complaint_id IS "
	    "NOT DISTINCT FROM "
	    "(SELECT c.id FROM pakn.complaint c JOIN pakn.inbound_message m ON "
	    "m.id = c.inbound_id WHERE m.gateway_msg_id = nullif($2, ''))",
	    kind, id != NULL ? id : "", notices_after, NULL);
}

/* Wait (up to timeout s) for one SMS as notice_times finds; its time. */
static double
notice_wait(const char *kind, const char *id, double timeout)
{
	double end = now_secs() + timeout, t = 0;
	char *v = NULL;

	while ((v = notice_times(kind, id)) == NULL && now_secs() < end)
		sleep_ms(100);
	ck_assert_msg(v != NULL, "no %s to " OFFICIAL " for %s", kind,
	              id ? id : "the list");
	ck_assert_msg(strchr(v, ',') == NULL, "%s twice: %s", kind, v);
	t = atof(v);
	free(v);
	return t;
}

/* [sms] notice_gather (5 s here): the official of 00004 gets its first
 * new complaint's notice at once; the next four within 5 s (two
 * processed set-based in one group, held as one row; two from one phone
 * one by one, a row each) are held and come in one SMS that lists them,
 * 5 s after the first; a sixth right after that list is held alone and
 * comes as its own notice 5 s later. Each complaint is notified once;
 * /metrics counts the held notices and the SMS that took them. (D is
 * stopped meanwhile.) */
START_TEST(test_notices_gathered)
{
	static long st[2];
	struct paknd e = {0};
	PGconn *hold;
	double first, list, alone;
	char *quiet, *rows;

	ck_assert_int_ge(paknd_stop(D, 10), 0);
	ck_assert_int_eq(
	    paknd_start(&e, "gather", CONF_EXTRA "[sms]\nnotice_gather = 5\n"),
	    0);
	ck_assert_int_eq(paknd_wait_ready(&e, 10), 0);
	/* Other tests' notices to the official are 5 s old first. */
	quiet = sql_value("SELECT greatest(0, 5.2 - extract(epoch FROM now() - "
	                  "max(created_at))) FROM pakn.outbox WHERE msisdn = "
	                  "'" OFFICIAL "'",
	                  NULL);
	if (quiet != NULL)
		sleep_ms((int)(atof(quiet) * 1000));
	free(quiet);
	snprintf(
	    notices_after, sizeof notices_after, "%ld",
	    sql_long("SELECT coalesce(max(id), 0) FROM pakn.outbox", NULL));

	at_burst(e.port, "gath", 0, 1, 1000, "PA Cay do chan duong #00004", st);
	ck_assert_int_eq(st[0], 200);
	wait_processed("gath-%", 10);
	first = notice_wait("new_complaint", "gath-0", 1);

	hold = harness_hold_processing();
	at_burst(e.port, "gath", 1, 2, 1000, "PA Cay do chan duong #00004", st);
	ck_assert_int_eq(st[0], 200);
	ck_assert_int_eq(st[1], 200);
	at_burst(e.port, "gathp", 0, 2, 1, "PA Den duong hong #00004", st);
	ck_assert_int_eq(st[0], 200);
	ck_assert_int_eq(st[1], 200);
	harness_release_processing(hold);
	wait_processed("gath%", 10);
	rows = sql_value("SELECT string_agg(complaints::text, ',' ORDER BY "
	                 "complaint_id) FROM pakn.notice_held WHERE msisdn = "
	                 "'" OFFICIAL "'",
	                 NULL);
	ck_assert_str_eq(rows != NULL ? rows : "none", "2,1,1");
	free(rows);
	list = notice_wait("new_complaints", NULL, 10);
	ck_assert_int_eq(digests_to(OFFICIAL, "gath-1,gath-2,gathp-0,gathp-1",
	                            "4 phản ánh mới giao Phường Ba Đình"),
	                 1);
	ck_assert_msg(list - first >= 5, "the list %.1f s after the first",
	              list - first);

	at_burst(e.port, "gath", 3, 1, 1000, "PA Cay do chan duong #00004", st);
	ck_assert_int_eq(st[0], 200);
	wait_processed("gath-%", 10);
	alone = notice_wait("new_complaint", "gath-3", 10);
	ck_assert_msg(alone - list >= 5, "the last %.1f s after the list",
	              alone - list);
	ck_assert_int_eq(
	    sql_long("SELECT count(*) FROM pakn.notice_held", NULL), 0);
	assert_once("gath%", 6);
	ck_assert_int_eq(metric_value(e.port, "pakn_notices_gathered_total"),
	                 5);
	ck_assert_int_eq(
	    metric_value(e.port, "pakn_notices_gathered_sms_total"), 2);
	ck_assert_int_eq(paknd_finish(&e, NULL), 0);
	ck_assert_int_eq(paknd_spawn(D), 0);
	ck_assert_int_eq(paknd_wait_ready(D, 10), 0);
}
END_TEST

/* Intake first: while [intake] yield_requests HTTP requests wait for
 * their answer and callbacks come at [intake] surge_rate, the processing
 * worker makes one call at a time (it never stops, and each message is
 * processed once). An instance with yield_requests 0 does not yield
 * under a burst of 40 callbacks; reloaded with 8 and a surge_rate of 10
 * a second (40 at once are a burst at that rate, not at the default
 * 5 000), it yields under the next (pakn_processing_yields_total), and
 * both bursts are processed once. (D is stopped meanwhile.) */
START_TEST(test_yields_to_intake)
{
	enum { N = 40 };
	static long st[N];
	struct paknd e = {0};
	double end;
	char *found = NULL;

	ck_assert_int_ge(paknd_stop(D, 10), 0);
	ck_assert_int_eq(
	    paknd_start(&e, "yield", CONF_EXTRA "yield_requests = 0\n"), 0);
	ck_assert_int_eq(paknd_wait_ready(&e, 10), 0);
	at_burst(e.port, "yield", 0, N, N, "PA Cay do chan duong #00004", st);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(st[i], 200);
	wait_processed("yield-%", 30);
	ck_assert_int_eq(metric_value(e.port, "pakn_processing_yields_total"),
	                 0);

	ck_assert_int_eq(paknd_rewrite(&e, "pakn", 1,
	                               CONF_EXTRA
	                               "yield_requests = 8\nsurge_rate = 10\n"),
	                 0);
	ck_assert_int_eq(paknd_signal(&e, SIGHUP), 0);
	for (end = now_secs() + 5; found == NULL && now_secs() < end;
	     sleep_ms(50))
		found = log_grep(e.log, 0, "configuration reloaded");
	ck_assert_ptr_nonnull(found);
	free(found);
	at_burst(e.port, "yield", N, N, N, "PA Cay do chan duong #00004", st);
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(st[i], 200);
	wait_processed("yield-%", 30);
	assert_once("yield-%", 2 * N);
	ck_assert_int_ge(metric_value(e.port, "pakn_processing_yields_total"),
	                 1);
	ck_assert_int_eq(paknd_finish(&e, NULL), 0);
	ck_assert_int_eq(paknd_spawn(D), 0);
	ck_assert_int_eq(paknd_wait_ready(D, 10), 0);
}
END_TEST

/* [intake] burst_rate: while intake is under a surge (the requests in
 * flight average yield_requests, 1 here, over two quarters of a second,
 * and callbacks come at surge_rate, 10 a second here: eight children
 * send one callback again and again), the worker claims
 * at most burst_rate messages a second, a group at a time (4 a second,
 * groups of GROUP: a claim every two seconds); once intake is quiet the
 * rest is processed at once, each message once. Without the limit the
 * worker processed all 40 while intake was busy (one call at a time).
 * /metrics shows the surge (pakn_intake_surge) while it lasts.
 * (D is stopped meanwhile.) */
START_TEST(test_burst_rate)
{
	enum { N = 40, RATE = 4 };
	static long st[N];
	struct paknd e = {0};
	double t0, t1, end;
	long during;
	pid_t pid[8];

	ck_assert_int_ge(paknd_stop(D, 10), 0);
	ck_assert_int_eq(paknd_start(&e, "paced",
	                             CONF_EXTRA "yield_requests = 1\n"
	                                        "surge_rate = 10\n"
	                                        "burst_rate = 4\n"),
	                 0);
	ck_assert_int_eq(paknd_wait_ready(&e, 10), 0);
	ck_assert_int_eq(metric_value(e.port, "pakn_intake_surge"), 0);
	http_hammers(e.port,
	             "/v1/gw/kannel/sms?token=kannel-secret&"
	             "from=%2B84913600001&to=1022&text=TT&"
	             "id=busy-paced",
	             pid, 8);
	/* Two windows of the average with them in flight: the gauge of
	 * the surge says when. */
	for (end = now_secs() + 10;
	     metric_value(e.port, "pakn_intake_surge") != 1 && now_secs() < end;
	     sleep_ms(50))
		;
	ck_assert_int_eq(metric_value(e.port, "pakn_intake_surge"), 1);
	t0 = now_secs();
	/* (Not waiting for them to be processed.) */
	harness_no_settle = 1;
	at_burst(e.port, "paced", 0, N, N, "PA Cay do chan duong #00004", st);
	harness_no_settle = 0;
	for (int i = 0; i < N; i++)
		ck_assert_int_eq(st[i], 200);
	sleep_ms(2500);
	during = count_where("paced-%", "m.state <> 'new'");
	t1 = now_secs();
	http_hammers_stop(pid, 8);
	/* The first claim at once, then RATE a second. */
	ck_assert_msg(during >= 1 && during <= GROUP + RATE * (t1 - t0),
	              "%ld of %d processed in the %.2f s intake was busy",
	              during, N, t1 - t0);
	ck_assert_int_ge(metric_value(e.port, "pakn_processing_paced_total"),
	                 1);
	/* The surge over: no request for a window. */
	for (end = now_secs() + 10;
	     metric_value(e.port, "pakn_intake_surge") != 0 && now_secs() < end;
	     sleep_ms(50))
		;
	ck_assert_int_eq(metric_value(e.port, "pakn_intake_surge"), 0);
	wait_processed("paced-%", 30);
	assert_once("paced-%", N);
	ck_assert_int_eq(paknd_finish(&e, NULL), 0);
	ck_assert_int_eq(paknd_spawn(D), 0);
	ck_assert_int_eq(paknd_wait_ready(D, 10), 0);
}
END_TEST

/* journal_append's callback: the record is on disk. */
static void
appended(int ok, void *arg)
{
	ck_assert_int_eq(ok, 1);
}

/* Write n records to a journal in dir, then half a record (a crash in
 * the middle of a write). */
static void
journal_torn(const char *dir, int n)
{
	struct event_base *base = event_base_new();
	char *cause = NULL, id[32], path[PATH_MAX + 16], from[32];
	glob_t g;
	struct journal *j = journal_open(base, dir, 1 << 20, &cause);
	unsigned char *rec;
	size_t len;
	FILE *f;

	ck_assert_msg(j != NULL, "journal_open: %s", cause);
	for (int i = 0; i < n; i++) {
		struct intake_rec r = {.gateway = "at",
		                       .msg_id = id,
		                       .from = from,
		                       .to = "8079",
		                       .text = "Mat dien ca xom",
		                       .raw_request = "POST /v1/gw/at/sms\n",
		                       .raw_body = (unsigned char *)"x",
		                       .raw_body_len = 1,
		                       .received_at_us = 1764662400000000LL,
		                       /* The first had its text cut. */
		                       .flags = i == 0 ? INTAKE_REC_CUT : 0};
		snprintf(id, sizeof id, "torn-%d", i);
		snprintf(from, sizeof from, "+8491360%04d", i);
		rec = intake_rec_encode(&r, &len, &cause);
		ck_assert_ptr_nonnull(rec);
		ck_assert_int_eq(
		    journal_append(j, rec, len, appended, NULL, &cause), 0);
		free(rec);
	}
	event_base_loop(base, EVLOOP_NONBLOCK);
	journal_close(j);
	event_base_free(base);
	/* The torn record: a header's first bytes at the end of the file. */
	snprintf(path, sizeof path, "%s/*.jnl", dir);
	ck_assert_int_eq(glob(path, 0, NULL, &g), 0);
	ck_assert_int_eq((int)g.gl_pathc, 1);
	f = fopen(g.gl_pathv[0], "a");
	ck_assert_ptr_nonnull(f);
	fwrite("\x50\x4b\x4e\x4a\x00\x01", 1, 6, f);
	fclose(f);
	globfree(&g);
}

/* A journal left with a torn last record (paknd died writing it) is
 * replayed at the next start: every whole record is stored and
 * processed, the torn one is skipped with a warning. */
START_TEST(test_torn_journal)
{
	struct paknd e = {0};
	char dir[PATH_MAX], extra[PATH_MAX + 128];

	harness_expect_log("torn");
	harness_path(dir, sizeof dir, "journal-torn");
	journal_torn(dir, 25);
	/* A short lease, as D's: a claim of rows being moved to their
	 * month's partition finds them gone and skips them until the lease
	 * runs out (30 s by default). */
	snprintf(extra, sizeof extra, "[intake]\njournal_dir = %s\nlease = 2\n",
	         dir);
	ck_assert_int_eq(paknd_start(&e, "torn", extra), 0);
	ck_assert_int_eq(paknd_wait_ready(&e, 10), 0);
	for (double end = now_secs() + 20;
	     count_where("torn-%", "true") < 25 && now_secs() < end;)
		sleep_ms(100);
	wait_done("torn-%", 25, 20);
	assert_once("torn-%", 25);
	/* The record's flag survives the replay. */
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.inbound_message "
	                          "WHERE gateway_msg_id LIKE 'torn-%' AND "
	                          "text_cut",
	                          NULL),
	                 1);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.inbound_message "
	                          "WHERE gateway_msg_id = 'torn-0' AND "
	                          "text_cut",
	                          NULL),
	                 1);
	ck_assert_msg(log_wait(e.log, 0, "torn record", 5) == 0,
	              "the torn record is not reported");
	ck_assert_int_eq(paknd_finish(&e, NULL), 0);
}
END_TEST

/* A full journal ([intake] journal_max, 1 MiB here, nearly all of it a
 * file already in its directory: every file there counts): while
 * PostgreSQL is down, callbacks are kept while they fit and answered
 * 2xx, then refused with 503 and the reason (the gateway must send them
 * again); /metrics counts both and shows the journal's size. Once the
 * database is back, those kept are stored and processed once; those
 * refused are not stored. (D runs on, without callbacks.) */
START_TEST(test_journal_full)
{
	enum { N = 20, ROOM = 6 * 1024 };
	static const char *const hdrs[] = {
	    "Content-Type: application/x-www-form-urlencoded", NULL};
	struct paknd e = {0};
	char dir[PATH_MAX], filler[PATH_MAX + 16], extra[PATH_MAX + 128];
	char from[32], id[32], *body;
	long kept = 0, refused = 0, n, replays;
	struct http_resp r;
	FILE *f;

	harness_expect_log("db conn ");
	harness_expect_log("database unavailable");
	harness_expect_log("not processed yet");
	harness_expect_log("claim failed");
	harness_expect_log("not stored");
	harness_path(dir, sizeof dir, "journal-full");
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	snprintf(filler, sizeof filler, "%s/filler", dir);
	ck_assert_ptr_nonnull(f = fopen(filler, "w"));
	for (long i = 0; i < (1L << 20) - ROOM; i++)
		fputc('x', f);
	ck_assert_int_eq(fclose(f), 0);
	snprintf(extra, sizeof extra,
	         "[intake]\njournal_dir = %s\njournal_max = 1M\nlease = 2\n",
	         dir);
	ck_assert_int_eq(paknd_start(&e, "full", extra), 0);
	ck_assert_int_eq(paknd_wait_ready(&e, 10), 0);
	ck_assert_int_eq(metric_value(e.port, "pakn_journal_max_bytes"),
	                 1L << 20);
	ck_assert_int_eq(pg_stop(), 0);
	harness_no_settle = 1;
	for (int i = 0; i < N; i++) {
		snprintf(from, sizeof from, "+8491372%04d", i);
		snprintf(id, sizeof id, "jfull-%d", i);
		body = at_body(from, "PA Den duong hong #00004", id);
		http_request(e.port, "POST", AT_PATH, hdrs, body, strlen(body),
		             &r);
		if (r.status == 200)
			ck_assert_msg(refused == 0, "%s kept after one refused",
			              id);
		else {
			ck_assert_int_eq(r.status, 503);
			ck_assert_ptr_nonnull(
			    strstr(r.body, "journal cannot keep it"));
		}
		kept += r.status == 200;
		refused += r.status == 503;
		http_resp_free(&r);
		free(body);
	}
	harness_no_settle = 0;
	ck_assert_msg(kept >= 1 && refused >= 1, "%ld kept, %ld refused", kept,
	              refused);
	ck_assert_int_eq(metric_value(e.port, "pakn_journal_kept_total"), kept);
	ck_assert_int_eq(metric_value(e.port, "pakn_intake_unstored_total"),
	                 refused);
	ck_assert_int_gt(metric_value(e.port, "pakn_journal_bytes"),
	                 (1L << 20) - ROOM);
	ck_assert_int_eq(pg_start(), 0);
	for (double end = now_secs() + 30;
	     count_where("jfull-%", "true") < kept && now_secs() < end;)
		sleep_ms(100);
	wait_done("jfull-%", kept, 30);
	assert_once("jfull-%", kept);
	for (double end = now_secs() + 10;
	     (replays = metric_value(e.port, "pakn_journal_replays_total{"
	                                     "result=\"ok\"}")) < 1 &&
	     now_secs() < end;)
		sleep_ms(100);
	ck_assert_int_ge(replays, 1);
	sleep_ms(500);
	n = count_where("jfull-%", "true");
	ck_assert_msg(n == kept, "%ld stored, %ld kept in the journal", n,
	              kept);
	ck_assert_int_eq(unlink(filler), 0);
	ck_assert_int_eq(paknd_finish(&e, NULL), 0);
}
END_TEST

/* Two paknd on one database: each message processed once, and a phone's
 * messages in the order they came even when they arrive through
 * different instances ("PA ..." then the bare commune code completes
 * it). */
START_TEST(test_two_instances)
{
	struct paknd e = {0};
	char from[32], id[32], *body, *found;
	struct http_resp r;
	static const char *const hdrs[] = {
	    "Content-Type: application/x-www-form-urlencoded", NULL};

	ck_assert_int_eq(paknd_start(&e, "second", CONF_EXTRA), 0);
	ck_assert_int_eq(paknd_wait_ready(&e, 10), 0);
	harness_no_settle = 1;
	for (int i = 0; i < 20; i++) {
		snprintf(from, sizeof from, "+8491370%04d", i);
		snprintf(id, sizeof id, "two-%d-a", i);
		body = at_body(from, "PA Duong ngap nuoc sau mua", id);
		http_request(D->port, "POST", AT_PATH, hdrs, body, strlen(body),
		             &r);
		ck_assert_int_eq(r.status, 200);
		http_resp_free(&r);
		free(body);
		snprintf(id, sizeof id, "two-%d-b", i);
		body = at_body(from, "00004", id);
		http_request(e.port, "POST", AT_PATH, hdrs, body, strlen(body),
		             &r);
		ck_assert_int_eq(r.status, 200);
		http_resp_free(&r);
		free(body);
	}
	harness_no_settle = 0;
	wait_processed("two-%", 30);
	assert_once("two-%", 40);
	/* In order: each "PA" processed before its code, which located it. */
	ck_assert_int_eq(
	    sql_long("SELECT count(*) FROM pakn.inbound_message a JOIN "
	             "pakn.inbound_message b ON b.msisdn = a.msisdn AND "
	             "b.gateway_msg_id = replace(a.gateway_msg_id, '-a', '-b') "
	             "WHERE a.gateway_msg_id LIKE 'two-%-a' AND a.processed_at "
	             "< b.processed_at",
	             NULL),
	    20);
	ck_assert_int_eq(
	    sql_long("SELECT count(*) FROM pakn.complaint c JOIN "
	             "pakn.inbound_message m ON m.id = c.inbound_id WHERE "
	             "m.gateway_msg_id LIKE 'two-%' AND c.location_unit = "
	             "'00004'",
	             NULL),
	    20);
	/* Both did some of the work. */
	found = log_grep(e.log, 0, "message two-");
	ck_assert_ptr_nonnull(found);
	free(found);
	ck_assert_int_eq(paknd_finish(&e, NULL), 0);
}
END_TEST

/* From now on a complaint whose text holds BOOM fails (a trigger raises
 * "test refuses"), until refuse_boom_end. */
static void
refuse_boom(void)
{
	harness_expect_log("failed: test refuses");
	harness_expect_log("test refuses"); /* the pool's warning */
	harness_expect_pg("test refuses");
	ck_assert_int_eq(
	    sql_exec_db("pakn",
	                "CREATE OR REPLACE FUNCTION pakn.test_refuse() RETURNS "
	                "trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.text LIKE "
	                "'%BOOM%' THEN RAISE EXCEPTION 'test refuses %', "
	                "NEW.text; END IF; RETURN NEW; END $$"),
	    0);
	ck_assert_int_eq(sql_exec_db("pakn",
	                             "CREATE TRIGGER test_refuse BEFORE INSERT "
	                             "ON pakn.complaint FOR EACH ROW EXECUTE "
	                             "FUNCTION pakn.test_refuse()"),
	                 0);
}

/* Complaints holding BOOM are taken again. */
static void
refuse_boom_end(void)
{
	ck_assert_int_eq(
	    sql_exec_db("pakn", "DROP TRIGGER test_refuse ON pakn.complaint"),
	    0);
}

/* A message whose command fails is marked failed with the reason; the
 * other messages of its batch are processed. */
START_TEST(test_failed_message)
{
	long status[30];
	char *err;

	refuse_boom();
	at_burst(D->port, "fail", 0, 29, 29, "Den duong hong ca thang", status);
	at_burst(D->port, "fail", 29, 1, 1000, "PA BOOM o day", status + 29);
	for (int i = 0; i < 30; i++)
		ck_assert_int_eq(status[i], 200);
	wait_processed("fail-%", 20);
	refuse_boom_end();
	err = sql_value("SELECT state || ': ' || error FROM "
	                "pakn.inbound_message WHERE gateway_msg_id = 'fail-29'",
	                NULL);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "failed: test refuses") == err, "%s", err);
	free(err);
	ck_assert_int_eq(count_where("fail-%", "m.state = 'done'"), 29);
	ck_assert_int_eq(count_where("fail-%",
	                             "m.state = 'done' AND (SELECT count(*) "
	                             "FROM pakn.outbox o WHERE o.inbound_id = "
	                             "m.id) = 1"),
	                 29);
	/* Not retried: still failed a while later, no reply for it. */
	sleep_ms(1000);
	ck_assert_int_eq(count_where("fail-29", "m.state = 'failed' AND "
	                                        "m.attempts = 1"),
	                 1);
}
END_TEST

/* An operator lists the failed messages (paknctl failed) and, once what
 * failed is mended, puts them back (paknctl retry): each is processed
 * once then (its ack once), or fails again with its reason; every retry
 * is recorded with the error it had; a message not failed is refused. */
START_TEST(test_failed_retry)
{
	long status[2];
	char *id, *got;
	struct ctl c;

	refuse_boom();
	at_burst(D->port, "fretry", 71000, 1, 100000,
	         "PA BOOM-retry o cho #00004", status);
	at_burst(D->port, "fretry", 71001, 1, 100000,
	         "PA Den hong o cho #00004", status + 1);
	ck_assert_int_eq(status[0], 200);
	ck_assert_int_eq(status[1], 200);
	wait_processed("fretry-%", 20);
	id = sql_value("SELECT id FROM pakn.inbound_message WHERE "
	               "gateway_msg_id = 'fretry-71000' AND state = 'failed'",
	               NULL);
	ck_assert_ptr_nonnull(id);

	c = paknctl("failed", NULL);
	ck_assert_msg(c.status == 0, "failed: 0x%x %s%s", c.status, c.out,
	              c.err);
	assert_contains(c.out, id);
	assert_contains(c.out, "text:  PA BOOM-retry o cho #00004");
	assert_contains(c.out, "error: ");
	assert_contains(c.out, "test refuses");
	assert_contains(strstr(c.out, "error: "), "BOOM-retry");
	assert_contains(c.out, "claimed 1 time, put back 0 times");
	ctl_clear(&c);

	/* Put back before the cause is mended: it fails again, once. */
	c = paknctl("retry", id, "--by", "op-an", NULL);
	ck_assert_msg(c.status == 0, "retry: 0x%x %s%s", c.status, c.out,
	              c.err);
	assert_contains(c.out, "1 message put back for processing");
	ctl_clear(&c);
	for (double end = now_secs() + 20;
	     count_where("fretry-71000",
	                 "m.state = 'failed' AND m.attempts = 1") != 1 &&
	     now_secs() < end;
	     sleep_ms(50))
		;
	ck_assert_int_eq(
	    count_where("fretry-71000",
	                "m.state = 'failed' AND m.attempts = 1 AND "
	                "m.error LIKE '%test refuses%'"),
	    1);
	refuse_boom_end();

	/* Mended: all those failing so, by the text of their error. */
	c = paknctl("retry", "--all", "--error", "BOOM-retry", "--by",
	            "op-binh", NULL);
	ck_assert_msg(c.status == 0, "retry --all: 0x%x %s%s", c.status, c.out,
	              c.err);
	assert_contains(c.out, "1 message put back for processing");
	ctl_clear(&c);
	wait_done("fretry-71000", 1, 20);
	ck_assert_int_eq(
	    count_where("fretry-%", "m.state = 'done' AND m.error IS NULL AND "
	                            "(SELECT count(*) FROM pakn.outbox o WHERE "
	                            "o.inbound_id = m.id) = 1 AND (SELECT "
	                            "count(*) FROM pakn.complaint k WHERE "
	                            "k.inbound_id = m.id) = 1"),
	    2);
	got = sql_value("SELECT string_agg(actor || ':' || attempts || ':' || "
	                "(error LIKE '%test refuses%BOOM-retry%'), ',' "
	                "ORDER BY id) FROM pakn.inbound_retry WHERE "
	                "message_id = $1::bigint",
	                id, NULL);
	ck_assert_str_eq(got, "op-an:1:true,op-binh:1:true");
	free(got);

	/* Processed: not failed any more, nothing put back. */
	c = paknctl("retry", id, "999999999999", NULL);
	ck_assert_msg(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 1,
	              "retry of a message done: 0x%x", c.status);
	assert_contains(c.err, "not failed (done)");
	assert_contains(c.err, "999999999999: no such message");
	assert_contains(c.out, "0 messages put back for processing");
	ctl_clear(&c);
	c = paknctl("failed", "--since", "2000-01-01", NULL);
	ck_assert_int_eq(c.status, 0);
	ck_assert_msg(strstr(c.out, "BOOM-retry") == NULL, "%s", c.out);
	ctl_clear(&c);
	ck_assert_int_eq(count_where("fretry-%", "m.state = 'done'"), 2);
	free(id);
}
END_TEST

/* One Africa's Talking callback from phone from; its status. */
static long
at_one(const char *id, const char *from, const char *text)
{
	static const char *const hdrs[] = {
	    "Content-Type: application/x-www-form-urlencoded", NULL};
	char *body = at_body(from, text, id);
	struct http_resp r;
	long st;

	http_request(D->port, "POST", AT_PATH, hdrs, body, strlen(body), &r);
	st = r.status;
	http_resp_free(&r);
	free(body);
	return st;
}

/* A counter of D's /metrics. */
static long
metric(const char *series)
{
	long n = metric_value(D->port, series);

	ck_assert_int_ge(n, 0);
	return n;
}

/* pakn_processed_batched_total of D's /metrics. */
static long
batched_total(void)
{
	return metric("pakn_processed_batched_total");
}

/* While the messages stored cannot be claimed (another instance has
 * their phones: here the test holds them), a store does not cost a
 * claim each: after a claim that found nothing, the next waits 20 ms.
 * Once they can be, they are processed. */
START_TEST(test_kicks_quiet)
{
	enum { N = 60 };
	PGconn *hold = harness_hold_processing();
	long before, claims, st[N + 1];
	double t0, took;

	/* A claim that finds nothing first. */
	st[N] = at_one("quiet-x", "+84913850999", "PA Den duong hong #00004");
	sleep_ms(100);
	before = metric("pakn_processing_claims_total");
	t0 = now_secs();
	for (int i = 0; i < N; i++) {
		char id[32], from[32];

		snprintf(id, sizeof id, "quiet-%d", i);
		snprintf(from, sizeof from, "+8491385%04d", i);
		st[i] = at_one(id, from, "PA Den duong hong #00004");
	}
	took = now_secs() - t0;
	claims = metric("pakn_processing_claims_total") - before;
	/* (The suite runs unforked: let go before any check can fail.) */
	harness_release_processing(hold);
	wait_processed("quiet-%", 20);
	for (int i = 0; i <= N; i++)
		ck_assert_int_eq(st[i], 200);
	/* One claim at most every 20 ms, and the timer's ([intake]
	 * interval, 200 ms). */
	ck_assert_msg(claims <= (long)(took / 0.02) + (long)(took / 0.2) + 4,
	              "%ld claims for %d stores in %.3f s", claims, N, took);
	ck_assert_int_eq(count_where("quiet-%", "m.state = 'done'"), N + 1);
}
END_TEST

/* What a complaint left, for comparing two (its own phone, ticket and
 * text replaced): the row's routing, the ledger, the SMS queued (with
 * notices "all", else all but the unit's new-complaint notices). */
static char *
complaint_trace_of(const char *msg_id, const char *notices)
{
	char *t = sql_value(
	    "SELECT concat_ws(' | ', c.category_code, c.dimension, c.status, "
	    "c.sensitive, c.triage, c.location_unit, c.responsible_unit, "
	    "c.due_at, c.desk_reason, c.routed_at = c.created_at, "
	    "(SELECT string_agg(concat_ws(' ', e.event, e.actor, e.actor_id, "
	    "e.reason, e.detail, e.at = c.created_at), '; ' ORDER BY e.id) "
	    "FROM pakn.complaint_event e WHERE e.complaint_id = c.id), "
	    "(SELECT string_agg(concat_ws(' ', o.kind, o.gateway, "
	    "CASE WHEN o.msisdn = c.msisdn THEN 'citizen' ELSE o.msisdn END, "
	    "CASE WHEN o.last_error LIKE 'refused:%' THEN o.state || ' ' || "
	    "o.last_error END, "
	    "o.inbound_id = m.id, replace(replace(o.body, c.ticket, 'TICKET'), "
	    "left(c.text, 100), 'TEXT')), '; ' "
	    "ORDER BY o.id) FROM pakn.outbox o WHERE o.complaint_id = c.id "
	    "AND ($2 = 'all' OR o.kind NOT LIKE 'new\\_complaint%'))) "
	    "FROM pakn.complaint c JOIN pakn.inbound_message m ON m.id = "
	    "c.inbound_id WHERE m.gateway_msg_id = $1",
	    msg_id, notices, NULL);

	ck_assert_msg(t != NULL, "no complaint for %s", msg_id);
	return t;
}

static char *
complaint_trace(const char *msg_id)
{
	return complaint_trace_of(msg_id, "all");
}

/* The SMS to PHONE that list the new complaints of the messages IDS
 * (comma-separated) in one, starting HEAD ("N phản ánh mới giao UNIT,
 * ..."), each ticket named, and none of those complaints notified alone
 * there. */
static long
digests_to(const char *phone, const char *ids, const char *head)
{
	long n = sql_long(
	    "SELECT count(*) FROM pakn.outbox o WHERE o.msisdn = $1 AND "
	    "o.kind = 'new_complaints' AND o.complaint_id IS NULL AND "
	    "starts_with(o.body, $3) AND (SELECT bool_and(strpos(o.body, "
	    "c.ticket) > 0) AND count(*) = cardinality(string_to_array($2, "
	    "',')) FROM pakn.complaint c JOIN pakn.inbound_message m ON "
	    "m.id = c.inbound_id WHERE m.gateway_msg_id = ANY "
	    "(string_to_array($2, ','))) AND NOT EXISTS (SELECT 1 FROM "
	    "pakn.outbox x JOIN pakn.complaint c ON c.id = x.complaint_id "
	    "JOIN pakn.inbound_message m ON m.id = c.inbound_id WHERE "
	    "x.msisdn = $1 AND m.gateway_msg_id = ANY (string_to_array($2, "
	    "',')))",
	    phone, ids, head, NULL);

	if (n != 1) {
		char *b = sql_value("SELECT string_agg(kind || ' ' || state || "
		                    "' ' || body, '; ') FROM pakn.outbox WHERE "
		                    "msisdn = $1 AND kind LIKE 'new%'",
		                    phone, NULL);

		fprintf(stderr, "to %s (%s): %s\n", phone, ids, b ? b : "none");
		free(b);
	}
	return n;
}

/* ALONE from its own phone (set-based), then FIRST and SECOND from one
 * phone PAIR (one by one, in order): ALONE and FIRST text TEXT. */
static void
at_alone_and_pair(const char *alone, const char *alone_from, const char *first,
                  const char *second, const char *pair_from, const char *text,
                  const char *second_text)
{
	ck_assert_int_eq(at_one(alone, alone_from, text), 200);
	ck_assert_int_eq(at_one(first, pair_from, text), 200);
	ck_assert_int_eq(at_one(second, pair_from, second_text), 200);
}

/* The complaints of messages x and y left the same rows; x's trace
 * (malloc'd). */
static char *
same_trace(const char *x, const char *y)
{
	char *a = complaint_trace(x), *b = complaint_trace(y);

	ck_assert_str_eq(a, b);
	free(b);
	return a;
}

/* The same but for the unit's notices. */
static void
same_but_notices(const char *x, const char *y)
{
	char *a = complaint_trace_of(x, "none");
	char *b = complaint_trace_of(y, "none");

	ck_assert_str_eq(a, b);
	free(a);
	free(b);
}

/* Once the n messages like pattern wait, let hold go: each is then
 * done, want_batched of them set-based (batched_total() was before). */
static void
release_all_done(PGconn *hold, const char *pattern, long n, long before,
                 long want_batched)
{
	sleep_ms(300);
	ck_assert_int_eq(count_where(pattern, "m.state = 'new'"), n);
	harness_release_processing(hold);
	wait_processed(pattern, 20);
	ck_assert_int_eq(count_where(pattern, "m.state = 'done'"), n);
	ck_assert_int_eq(batched_total() - before, want_batched);
}

/* A new complaint naming its commune's code, with the keyword or
 * without, is processed set-based with the others of its group; a phone
 * with two messages in the group goes one by one. Both leave the same
 * rows: the complaint routed, the ledger, the acknowledgement and the
 * unit's notices. Set-based ones alike but for their text, or their
 * commune, share the template's variables, each SMS with its own
 * ticket, text and unit. */
START_TEST(test_batched_same_rows)
{
	static const char text[] = "PA Den duong hong truoc nha so 12 #00004";
	static const char text3[] = "PA Den duong hong truoc nha so 14 #00004";
	static const char text8[] = "PA Den duong hong truoc nha so 12 #00008";
	long before = batched_total(), received;
	PGconn *hold;
	char *a, *due, *head;

	/* Two officials of 00004, and a third whose number is banned: his
	 * notices are kept failed, set-based as one by one. */
	ck_assert_int_eq(
	    sql_exec_db("pakn", "INSERT INTO pakn.official (unit_code, name, "
	                        "phone, role) VALUES ('00004', 'Cán bộ A', "
	                        "'+84913699001', 'officer'), ('00004', "
	                        "'Chủ tịch B', '+84913699002', 'leader'), "
	                        "('00004', 'Cán bộ C', '+84913699003', "
	                        "'officer'); INSERT INTO pakn.ban (msisdn, "
	                        "reason, banned_by) VALUES ('+84913699003', "
	                        "'test', 'test')"),
	    0);
	hold = harness_hold_processing();
	received = sql_long("SELECT coalesce(sum(received), 0) FROM "
	                    "pakn.stat_day_all",
	                    NULL);
	/* same-0 and same-3 set-based, same-1 and same-2 one by one. */
	at_alone_and_pair("same-0", "+84913800000", "same-1", "same-2",
	                  "+84913800001", text,
	                  "PA Rac thai ngap duong #00004");
	ck_assert_int_eq(at_one("same-3", "+84913800003", text3), 200);
	/* The same without the keyword. */
	at_alone_and_pair("same-4", "+84913800004", "same-5", "same-6",
	                  "+84913800005", text + 3,
	                  "PA Rac thai ngap duong #00004");
	/* Alike but for the commune (another unit answers): same-7
	 * set-based in the group of same-0 and same-3. */
	at_alone_and_pair("same-7", "+84913800007", "same-8", "same-9",
	                  "+84913800008", text8,
	                  "PA Rac thai ngap duong #00008");
	/* A text holding placeholders: pakn.render fills those too (the
	 * texts alike are rendered once a group, but not this one). */
	at_alone_and_pair("same-10", "+84913800010", "same-11", "same-12",
	                  "+84913800011",
	                  "PA Den duong hong {ticket}, {unit} {x} #00004",
	                  "PA Rac thai ngap duong #00004");
	release_all_done(hold, "same-%", 13, before, 5);
	/* Each routed once in the statistics, set-based (the batch writes
	 * them, the ledger's trigger skips it) as one by one. */
	ck_assert_int_eq(sql_long("SELECT coalesce(sum(received), 0) FROM "
	                          "pakn.stat_day_all",
	                          NULL) -
	                     received,
	                 13);
	/* same-1, one by one, has the unit's notices of its own; same-0,
	 * same-3 and same-4, set-based to 00004 in the first group (of
	 * process_batch 8), are listed in one SMS to each of its officials
	 * (a burst: not three each); same-10, alone there in the second,
	 * has its own (below). */
	same_but_notices("same-0", "same-1");
	a = complaint_trace("same-1");
	ck_assert_msg(strstr(a, "new_complaint") != NULL &&
	                  strstr(a, "+84913699001 Phản ánh") != NULL &&
	                  strstr(a, "+84913699002 Phản ánh") != NULL &&
	                  strstr(a, "+84913699003 failed refused: the number "
	                            "is banned") != NULL &&
	                  strstr(a, "ack at citizen t") != NULL,
	              "%s", a);
	free(a);
	a = complaint_trace("same-0");
	ck_assert_msg(strstr(a, "new_complaint") == NULL &&
	                  strstr(a, "ack at citizen t") != NULL,
	              "%s", a);
	free(a);
	/* The earliest date of the three (today's, whatever the day). */
	due = sql_value("SELECT pakn.due_vi(min(c.due_at)) FROM pakn.complaint "
	                "c JOIN pakn.inbound_message m ON m.id = c.inbound_id "
	                "WHERE m.gateway_msg_id IN ('same-0', 'same-3', "
	                "'same-4')",
	                NULL);
	ck_assert_ptr_nonnull(due);
	head =
	    strf("3 phản ánh mới giao Phường Ba Đình, hạn sớm nhất %s: ", due);
	for (int i = 1; i <= 2; i++) {
		char phone[16];

		snprintf(phone, sizeof phone, "+8491369900%d", i);
		ck_assert_int_eq(
		    digests_to(phone, "same-0,same-3,same-4", head), 1);
	}
	free(head);
	free(due);
	ck_assert_int_eq(digests_to("+84912000004", "same-0,same-3,same-4",
	                            "3 phản ánh mới"),
	                 1);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.outbox WHERE "
	                          "msisdn = '+84913699003' AND kind = "
	                          "'new_complaints' AND state = 'failed' AND "
	                          "last_error LIKE 'refused:%'",
	                          NULL),
	                 1);
	same_but_notices("same-0", "same-3");
	/* same-7, the only one set-based to 00008: its notices as one by
	 * one. */
	a = same_trace("same-7", "same-8");
	ck_assert_msg(strstr(a, "Phường Ngọc Hà") != NULL &&
	                  strstr(a, "Ba Đình") == NULL,
	              "%s", a);
	free(a);
	a = same_trace("same-10", "same-11");
	ck_assert_msg(strstr(a, "hong TICKET, Phường Ba Đình {x}") != NULL,
	              "%s", a);
	free(a);
	same_but_notices("same-4", "same-5");
	a = complaint_trace("same-4");
	ck_assert_msg(strstr(a, "ack_nokeyword") != NULL &&
	                  strstr(a, "\"keyword\": false") != NULL,
	              "%s", a);
	free(a);
	/* The phone's two in the order they came. */
	ck_assert_int_eq(
	    sql_long("SELECT count(*) FROM pakn.complaint c1, pakn.complaint "
	             "c2, pakn.inbound_message m1, pakn.inbound_message m2 "
	             "WHERE m1.gateway_msg_id = 'same-1' AND c1.inbound_id = "
	             "m1.id AND m2.gateway_msg_id = 'same-2' AND c2.inbound_id "
	             "= m2.id AND c1.id < c2.id AND m1.processed_at <= "
	             "m2.processed_at",
	             NULL),
	    1);
	ck_assert_int_eq(sql_exec_db("pakn",
	                             "DELETE FROM pakn.official WHERE phone IN "
	                             "('+84913699001', '+84913699002', "
	                             "'+84913699003'); DELETE FROM pakn.ban "
	                             "WHERE msisdn = '+84913699003'"),
	                 0);
}
END_TEST

/* A new complaint whose place is found as pakn.complaint_locate finds it
 * without asking (the one commune its text names; the citizen's
 * registered commune when it names none) is processed set-based too, and
 * leaves the rows the one-by-one path leaves: the ledger's located (by
 * name), the complaint routed there, the acknowledgement and notices;
 * with no place and none registered, the complaint waiting for it and
 * the question. One naming two communes of one name goes one by one, to
 * the list to choose from. */
START_TEST(test_batched_by_name)
{
	static const char named[] = "PA Den duong hong o phuong Ba Dinh";
	static const char bare[] = "PA Den duong hong truoc nha";
	long before = batched_total();
	PGconn *hold;
	char *a;

	ck_assert_int_eq(
	    sql_exec_db("pakn",
	                "INSERT INTO pakn.unit (code, name, parent_code, kind) "
	                "VALUES ('90001', 'Xã Tân Hòa', '01', 'commune'), "
	                "('90002', 'Xã Tân Hòa', '79', 'commune'); "
	                "INSERT INTO pakn.citizen (msisdn, home_unit) VALUES "
	                "('+84913870004', '00070'), ('+84913870005', '00070'), "
	                "('+84913870007', '00070')"),
	    0);
	hold = harness_hold_processing();
	/* name-0 set-based, name-1 and name-2 one by one. */
	at_alone_and_pair("name-0", "+84913870000", "name-1", "name-2",
	                  "+84913870001", named,
	                  "PA Rac thai o phuong Ba Dinh");
	/* Two communes of that name: the question, one by one. */
	ck_assert_int_eq(
	    at_one("name-3", "+84913870003", "PA Den duong hong o xa Tan Hoa"),
	    200);
	/* No place named: the registered commune (name-4 set-based, name-5
	 * one by one); a place named: that one (name-7). */
	at_alone_and_pair("name-4", "+84913870004", "name-5", "name-6",
	                  "+84913870005", bare, "PA Rac thai");
	ck_assert_int_eq(at_one("name-7", "+84913870007", named), 200);
	/* No place and none registered: the question (name-8 set-based,
	 * name-9 one by one). */
	at_alone_and_pair("name-8", "+84913870008", "name-9", "name-10",
	                  "+84913870009", bare, "PA Rac thai");
	release_all_done(hold, "name-%", 11, before, 4);
	same_but_notices("name-0", "name-1");
	a = complaint_trace("name-1");
	ck_assert_msg(strstr(a, "| open | ") != NULL &&
	                  strstr(a, "located citizen {\"how\": \"name\", "
	                            "\"unit\": \"00004\"}") != NULL &&
	                  strstr(a, "new_complaint") != NULL &&
	                  strstr(a, "ack") != NULL,
	              "%s", a);
	free(a);
	/* name-0 and name-7, set-based to 00004: one SMS lists both. */
	free(same_trace("name-0", "name-7"));
	ck_assert_int_eq(digests_to("+84912000004", "name-0,name-7",
	                            "2 phản ánh mới giao Phường Ba Đình"),
	                 1);
	a = same_trace("name-4", "name-5");
	ck_assert_msg(strstr(a, "located") == NULL &&
	                  strstr(a, "| 00070 | 00070 |") != NULL &&
	                  strstr(a, "new_complaint") != NULL,
	              "%s", a);
	free(a);
	a = same_trace("name-8", "name-9");
	ck_assert_msg(strstr(a, "| needs_location | f | f | received "
	                        "citizen") != NULL &&
	                  strstr(a, "; ") == NULL &&
	                  strstr(a, "ask_location at citizen t") != NULL,
	              "%s", a);
	free(a);
	a = complaint_trace("name-3");
	ck_assert_msg(strstr(a, "| needs_location |") != NULL &&
	                  strstr(a, "place_asked") != NULL &&
	                  strstr(a, "ask_place_choice") != NULL &&
	                  strstr(a, "new_complaint") == NULL,
	              "%s", a);
	free(a);
}
END_TEST

/* Routing and notices set-based are what the functions give one by one
 * (pakn.route_unit, pakn.notice_recipients): a complaint of each
 * category (its first keyword) at each unit a citizen can name by its
 * code, each from its own phone, all set-based. Routing rules of the
 * province and of a ward, the commune-level unit, a unit with its own
 * officials and phones, one with none (its province's leader, as a
 * fallback) and one with nobody above it either, sensitive categories
 * (the inspectorate) among them. */
START_TEST(test_batched_routes)
{
	long before = batched_total(), n;
	PGconn *hold;
	PGresult *res;
	char *want, *got;

	/* A commune with no phone of its own (its province's leader), one
	 * whose province has no leader (nobody), one below a ward (the
	 * ward's officer, the nearer); a rule for any category and one
	 * for health stations at one ward (the latter first). Taken away
	 * at the end. */
	ck_assert_int_eq(
	    sql_exec_db("pakn",
	                "INSERT INTO pakn.unit (code, name, parent_code, kind) "
	                "VALUES ('90011', 'Xã Thử Một', '01', 'commune'), "
	                "('90012', 'Xã Thử Hai', '79', 'commune'), "
	                "('90013', 'Xã Thử Ba', '00004', 'commune') "
	                "ON CONFLICT DO NOTHING; "
	                "INSERT INTO pakn.official (unit_code, name, phone, "
	                "role) VALUES ('01', 'Lãnh đạo thử', '+84912990001', "
	                "'leader'), ('00004', 'Cán bộ thử', '+84912990004', "
	                "'officer'); "
	                "INSERT INTO pakn.routing_rule (category_code, "
	                "area_code, unit_code) VALUES (NULL, '00008', "
	                "'01-UBND'), ('health_station', '00008', '01-SYT')"),
	    0);
	res = PQexec(test_db(),
	             "SELECT 'PA ' || btrim(c.patterns[1]) || ' #' || u.code "
	             "FROM pakn.unit u, pakn.category c WHERE u.code ~ "
	             "'^[0-9]+$' AND cardinality(c.patterns) > 0 ORDER BY "
	             "u.code, c.code");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	n = PQntuples(res);
	ck_assert_int_ge(n, 100);
	hold = harness_hold_processing();
	for (long i = 0; i < n; i++) {
		char id[32], from[24];

		snprintf(id, sizeof id, "route-%ld", i);
		snprintf(from, sizeof from, "+849138%05ld", i % 100000);
		ck_assert_int_eq(at_one(id, from, PQgetvalue(res, i, 0)), 200);
	}
	PQclear(res);
	release_all_done(hold, "route-%", n, before, n);
	/* Each where pakn.route_unit sends it, due when pakn.due_at says. */
	ck_assert_int_eq(
	    sql_long("SELECT count(*) FROM pakn.complaint c JOIN "
	             "pakn.inbound_message m ON m.id = c.inbound_id CROSS JOIN "
	             "LATERAL pakn.route_unit(c, c.location_unit) r WHERE "
	             "m.gateway_msg_id LIKE 'route-%' AND c.responsible_unit "
	             "IS NOT DISTINCT FROM r.unit AND c.desk_reason IS NOT "
	             "DISTINCT FROM r.desk_reason AND c.due_at = "
	             "pakn.due_at(c.category_code, c.created_at)",
	             NULL),
	    n);
	ck_assert_int_ge(
	    sql_long("SELECT count(DISTINCT c.responsible_unit) FROM "
	             "pakn.complaint c JOIN pakn.inbound_message m ON m.id = "
	             "c.inbound_id WHERE m.gateway_msg_id LIKE 'route-%'",
	             NULL),
	    8);
	/* Each acknowledgement as pakn.complaint_vars and pakn.render write
	 * it for that complaint alone: the batch renders the template once
	 * for the complaints alike, and every category is here. */
	ck_assert_int_eq(
	    sql_long("SELECT count(*) FROM pakn.complaint c JOIN "
	             "pakn.inbound_message m ON m.id = c.inbound_id JOIN "
	             "pakn.outbox o ON o.inbound_id = m.id AND o.kind = 'ack' "
	             "WHERE m.gateway_msg_id LIKE 'route-%' AND o.body = "
	             "pakn.render('ack', pakn.complaint_vars(c.id))",
	             NULL),
	    n);
	/* The notices to whom pakn.notice_recipients names, as a fallback
	 * where it says so (alone or in a digest of the group). */
	want = sql_value(
	    "SELECT string_agg(DISTINCT r.r_phone || ' ' || r.r_fallback, ', "
	    "') "
	    "FROM pakn.complaint c JOIN pakn.inbound_message m ON m.id = "
	    "c.inbound_id CROSS JOIN LATERAL pakn.notice_recipients("
	    "c.responsible_unit, '{officer,leader}') r WHERE m.gateway_msg_id "
	    "LIKE 'route-%'",
	    NULL);
	got = sql_value(
	    "SELECT string_agg(DISTINCT o.msisdn || ' ' || (o.kind LIKE "
	    "'%fallback'), ', ') FROM pakn.outbox o WHERE o.kind LIKE "
	    "'new_complaint%' AND o.created_at >= (SELECT min(m.received_at) "
	    "FROM pakn.inbound_message m WHERE m.gateway_msg_id LIKE "
	    "'route-%')",
	    NULL);
	ck_assert_ptr_nonnull(want);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	ck_assert_msg(strstr(want, " true") != NULL && strstr(want, " false"),
	              "fallbacks and not: %s", want);
	free(want);
	free(got);
	ck_assert_int_eq(
	    sql_exec_db("pakn",
	                "DELETE FROM pakn.official WHERE phone IN "
	                "('+84912990001', '+84912990004'); DELETE FROM "
	                "pakn.routing_rule WHERE area_code = '00008' AND "
	                "unit_code IN ('01-UBND', '01-SYT')"),
	    0);
}
END_TEST

/* A group whose set-based call fails goes one by one: the complaint that
 * fails is marked failed with the reason, each other one is processed
 * once (one acknowledgement); the other groups of the claim stay
 * set-based. */
START_TEST(test_batch_fails)
{
	enum { N = 3 * GROUP }; /* the last one fails, in the third group */
	long before = batched_total();
	PGconn *hold;
	char *err, *found;

	refuse_boom();
	hold = harness_hold_processing();
	for (int i = 0; i < N; i++) {
		char id[32], from[32];

		snprintf(id, sizeof id, "bfail-%d", i);
		snprintf(from, sizeof from, "+8491382%04d", i);
		ck_assert_int_eq(
		    at_one(id, from,
		           i < N - 1 ? "PA Den duong hong truoc nha #00004"
		                     : "PA BOOM o day #00004"),
		    200);
	}
	harness_release_processing(hold);
	wait_processed("bfail-%", 20);
	refuse_boom_end();
	err =
	    sql_value("SELECT state || ': ' || error FROM "
	              "pakn.inbound_message WHERE gateway_msg_id = 'bfail-23'",
	              NULL);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err, "failed: test refuses") == err, "%s", err);
	free(err);
	ck_assert_int_eq(count_where("bfail-%", "m.state = 'done' AND (SELECT "
	                                        "count(*) FROM pakn.outbox o "
	                                        "WHERE o.inbound_id = m.id "
	                                        "AND o.kind = 'ack') = 1"),
	                 N - 1);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.complaint c JOIN "
	                          "pakn.inbound_message m ON m.id = "
	                          "c.inbound_id WHERE m.gateway_msg_id LIKE "
	                          "'bfail-%'",
	                          NULL),
	                 N - 1);
	/* The failing group went one by one, the others set-based. (The
	 * held locks go one after the other as the holding session ends: a
	 * claim at that moment may take some of the messages, the next the
	 * rest, in smaller groups; the failing one's group is still at most
	 * GROUP.) */
	ck_assert_int_ge(batched_total() - before, 2 * GROUP);
	ck_assert_int_le(batched_total() - before, N - 1);
	found = log_grep(D->log, 0, "go one by one");
	ck_assert_ptr_nonnull(found);
	free(found);
}
END_TEST

/* A backlog of several claims, each made while the groups of the one
 * before are processed: each "PA" is done before the bare code that
 * locates it, though the two are a claim apart, and each message is
 * processed once. (Within one paknd the citizen's lock orders them too;
 * test_two_instances is the one a claim that ignored an earlier leased
 * message would fail.) */
START_TEST(test_claims_in_flight)
{
	enum { PHONES = 3 * CLAIM };
	PGconn *hold;
	char from[32], id[32];
	long before = batched_total();

	hold = harness_hold_processing();
	for (int b = 0; b < PHONES; b += CLAIM)
		for (int pass = 0; pass < 2; pass++)
			for (int i = b; i < b + CLAIM; i++) {
				snprintf(from, sizeof from, "+8491371%04d", i);
				snprintf(id, sizeof id, "flight-%d-%c", i,
				         pass == 0 ? 'a' : 'b');
				ck_assert_int_eq(
				    at_one(id, from,
				           pass == 0
				               ? "PA Duong ngap nuoc sau mua"
				               : "00004"),
				    200);
			}
	harness_release_processing(hold);
	wait_processed("flight-%", 60);
	assert_once("flight-%", 2 * PHONES);
	ck_assert_int_eq(
	    sql_long("SELECT count(*) FROM pakn.inbound_message a JOIN "
	             "pakn.inbound_message b ON b.msisdn = a.msisdn AND "
	             "b.gateway_msg_id = replace(a.gateway_msg_id, '-a', '-b') "
	             "WHERE a.gateway_msg_id LIKE 'flight-%-a' AND "
	             "a.processed_at < b.processed_at",
	             NULL),
	    PHONES);
	ck_assert_int_eq(
	    sql_long("SELECT count(*) FROM pakn.complaint c JOIN "
	             "pakn.inbound_message m ON m.id = c.inbound_id WHERE "
	             "m.gateway_msg_id LIKE 'flight-%' AND c.location_unit = "
	             "'00004'",
	             NULL),
	    PHONES);
	/* The "PA"s (no place: the question) went set-based, the codes
	 * that complete them one by one. */
	ck_assert_int_eq(batched_total() - before, PHONES);
}
END_TEST

/* Calls of the processing worker waiting for the test's advisory lock
 * 7141750 (a trigger of the complaints makes those holding CHO wait). */
static long
calls_waiting(void)
{
	return sql_long("SELECT count(*) FROM pg_stat_activity WHERE "
	                "wait_event_type = 'Lock' AND wait_event = 'advisory' "
	                "AND query LIKE '%intake_process_batch%'",
	                NULL);
}

/* Wait (up to timeout s) until want calls wait for the lock. */
static long
calls_waiting_reach(long want, double timeout)
{
	double end = now_secs() + timeout;
	long n;

	while ((n = calls_waiting()) < want && now_secs() < end)
		sleep_ms(20);
	return n;
}

/* The worker gives work to [intake] steady_connections of its pool
 * while claims come back with room, and to every one ([intake]
 * connections) once three in a row came back full (a backlog): 24
 * complaints claimed at once make one call at a time (the others wait
 * in paknd), a backlog of 320 three at a time; after it, one again. A
 * trigger holds the complaints that say CHO at the test's lock. */
START_TEST(test_connections_by_backlog)
{
	struct paknd e = {0};
	static long st[320];
	PGconn *lock, *hold;
	char ci[256];
	PGresult *res;
	double end;

	ck_assert_int_eq(
	    sql_exec_db("pakn",
	                "CREATE FUNCTION pakn.test_wait() RETURNS trigger "
	                "LANGUAGE plpgsql AS $$ BEGIN PERFORM "
	                "pg_advisory_xact_lock_shared(7141750); RETURN NEW; "
	                "END $$"),
	    0);
	ck_assert_int_eq(
	    sql_exec_db("pakn", "CREATE TRIGGER test_wait BEFORE INSERT ON "
	                        "pakn.complaint FOR EACH ROW WHEN (NEW.text "
	                        "LIKE '%CHO%') EXECUTE FUNCTION "
	                        "pakn.test_wait()"),
	    0);
	pg_conninfo(ci, sizeof ci, "pakn");
	lock = PQconnectdb(ci);
	ck_assert_int_eq(PQstatus(lock), CONNECTION_OK);
	res = PQexec(lock, "SELECT pg_advisory_lock(7141750)");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	ck_assert_int_ge(paknd_stop(D, 10), 0);
	ck_assert_int_eq(paknd_start(&e, "calls",
	                             "[intake]\ninterval = 200\nbatch = 64\n"
	                             "process_batch = 8\nconnections = 3\n"
	                             "steady_connections = 1\n"),
	                 0);
	ck_assert_int_eq(paknd_wait_ready(&e, 10), 0);

	/* 24 claimed at once (a claim takes 64): three groups, one call. */
	hold = harness_hold_processing();
	at_burst(e.port, "steady", 61000, 24, 100000, "PA CHO ngap nuoc #00004",
	         st);
	for (int i = 0; i < 24; i++)
		ck_assert_int_eq(st[i], 200);
	harness_release_processing(hold);
	ck_assert_int_eq(calls_waiting_reach(1, 10), 1);
	sleep_ms(1000);
	ck_assert_int_eq(calls_waiting(), 1);
	ck_assert_int_eq(metric_value(e.port, "pakn_processing_connections"),
	                 1);
	res = PQexec(lock, "SELECT pg_advisory_unlock(7141750)");
	PQclear(res);
	wait_processed("steady-%", 30);
	assert_once("steady-%", 24);

	/* A backlog: two full claims go through, the third's wait. */
	res = PQexec(lock, "SELECT pg_advisory_lock(7141750)");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	hold = harness_hold_processing();
	at_burst(e.port, "backlog", 62000, 2 * CLAIM, 100000,
	         "PA Duong ngap nuoc #00004", st);
	at_burst(e.port, "backlog", 62000 + 2 * CLAIM, 320 - 2 * CLAIM, 100000,
	         "PA CHO duong ngap nuoc #00004", st + 2 * CLAIM);
	for (int i = 0; i < 320; i++)
		ck_assert_int_eq(st[i], 200);
	/* Intake quiet first (busy for 100 ms after the burst): claims
	 * made while processing yields do not count, and the CHO messages
	 * could be claimed before the third full claim (one call waiting,
	 * not three). */
	sleep_ms(300);
	harness_release_processing(hold);
	ck_assert_int_eq(calls_waiting_reach(3, 10), 3);
	ck_assert_int_eq(metric_value(e.port, "pakn_processing_connections"),
	                 3);
	sleep_ms(500);
	ck_assert_int_eq(calls_waiting(), 3);
	res = PQexec(lock, "SELECT pg_advisory_unlock(7141750)");
	PQclear(res);
	PQfinish(lock);
	wait_processed("backlog-%", 60);
	assert_once("backlog-%", 320);
	/* Claims with room again: one connection. */
	for (end = now_secs() + 10;
	     metric_value(e.port, "pakn_processing_connections") != 1 &&
	     now_secs() < end;
	     sleep_ms(50))
		;
	ck_assert_int_eq(metric_value(e.port, "pakn_processing_connections"),
	                 1);
	ck_assert_int_eq(
	    sql_exec_db("pakn", "DROP TRIGGER test_wait ON pakn.complaint"), 0);
	ck_assert_int_eq(paknd_finish(&e, NULL), 0);
	ck_assert_int_eq(paknd_spawn(D), 0);
	ck_assert_int_eq(paknd_wait_ready(D, 10), 0);
}
END_TEST

/* The ticket of a new complaint processed set-based is computed by paknd
 * (daemon/ticket.c) from the value of pakn.ticket_seq its claim gave the
 * message: the ticket pakn.ticket_encode gives that value. One already
 * held by a complaint is not given again (the complaint gets the
 * database's next), and the batch still goes set-based. */
START_TEST(test_batched_tickets)
{
	enum { N = 6 };
	static const char tickets[] =
	    "pakn.ticket_symbols(pakn.ticket_permute(g, (SELECT "
	    "decode(s.value, 'hex') FROM pakn.setting s WHERE s.name = "
	    "'ticket_key')))";
	long before, next, after;
	PGconn *hold;
	char from[32], id[32], sql[512], *taken;

	ck_assert_int_eq(
	    at_one("ticketx", "+84913720999", "PA Den duong hong #00004"), 200);
	wait_processed("ticketx", 20);
	hold = harness_hold_processing();
	before = batched_total();
	for (int i = 0; i < N; i++) {
		snprintf(from, sizeof from, "+8491372%04d", i);
		snprintf(id, sizeof id, "tickets-%d", i);
		ck_assert_int_eq(at_one(id, from, "PA Den duong hong #00004"),
		                 200);
	}
	/* The first message's value is the sequence's next: its ticket is
	 * given to tickets-x's complaint meanwhile. */
	next = sql_long("SELECT CASE WHEN is_called THEN last_value + 1 ELSE "
	                "last_value END FROM pakn.ticket_seq",
	                NULL);
	snprintf(sql, sizeof sql, "SELECT %s FROM (SELECT %ld AS g) x", tickets,
	         next);
	taken = sql_value(sql, NULL);
	ck_assert_ptr_nonnull(taken);
	ck_assert_int_eq(
	    sql_long("UPDATE pakn.complaint c SET ticket = $1 FROM "
	             "pakn.inbound_message m WHERE m.id = "
	             "c.inbound_id AND m.gateway_msg_id = "
	             "'ticketx' RETURNING 1",
	             taken, NULL),
	    1);
	release_all_done(hold, "tickets-%", N, before, N);
	after = sql_long("SELECT last_value FROM pakn.ticket_seq", NULL);
	/* Each its own ticket, none the one taken, each one of the values
	 * drawn meanwhile. */
	snprintf(sql, sizeof sql,
	         "SELECT count(DISTINCT c.ticket) FROM pakn.complaint c JOIN "
	         "pakn.inbound_message m ON m.id = c.inbound_id WHERE "
	         "m.gateway_msg_id LIKE 'tickets-_' AND c.ticket <> $1 AND "
	         "c.ticket IN (SELECT %s FROM generate_series(%ld, %ld) g)",
	         tickets, next, after);
	ck_assert_int_eq(sql_long(sql, taken, NULL), N);
	free(taken);
}
END_TEST

/* The value of query ($1: the message id id) about the complaint of a
 * message, which must be there (malloc'd). */
static char *
of_complaint(const char *query, const char *id)
{
	char *t = sql_value(query, id, NULL);

	ck_assert_msg(t != NULL, "no complaint for %s", id);
	return t;
}

/* The ticket of the complaint of message id (malloc'd). */
static char *
ticket_of(const char *id)
{
	return of_complaint("SELECT c.ticket FROM pakn.complaint c JOIN "
	                    "pakn.inbound_message m ON m.id = c.inbound_id "
	                    "WHERE m.gateway_msg_id = $1",
	                    id);
}

/* "TT ticket of msg" from phone from, as message id. */
static void
tt_one(const char *id, const char *from, const char *of)
{
	char *t = ticket_of(of), *text = strf("TT %s", t);

	ck_assert_int_eq(at_one(id, from, text), 200);
	free(text);
	free(t);
}

/* The replies to message id: kind, state, refusal, whether for the
 * complaint whose ticket it names, the body with that ticket replaced. */
static char *
reply_trace(const char *id)
{
	char *t = sql_value(
	    "SELECT coalesce(string_agg(concat_ws(' ', o.kind, o.state, "
	    "o.last_error, o.complaint_id IS NOT DISTINCT FROM c.id, "
	    "replace(o.body, coalesce(c.ticket, '-'), 'TICKET')), '; ' "
	    "ORDER BY o.id) FILTER (WHERE o.id IS NOT NULL), 'none') FROM "
	    "pakn.inbound_message m LEFT JOIN "
	    "pakn.outbox o ON o.inbound_id = m.id LEFT JOIN pakn.complaint c "
	    "ON c.ticket = split_part(m.body, ' ', 2) WHERE "
	    "m.gateway_msg_id = $1",
	    id, NULL);

	ck_assert_ptr_nonnull(t);
	return t;
}

/* The replies to message id start with prefix. */
static void
reply_starts(const char *id, const char *prefix)
{
	char *a = reply_trace(id);

	ck_assert_msg(strncmp(a, prefix, strlen(prefix)) == 0, "%s: %s", id, a);
	free(a);
}

/* Rewrite D's configuration with extra after CONF_EXTRA and reload it. */
static void
reload_main(const char *extra)
{
	size_t from = file_size(D->log);
	char *conf = strf("%s%s", CONF_EXTRA, extra), *found = NULL;

	ck_assert_int_eq(paknd_rewrite(D, "pakn", 1, conf), 0);
	free(conf);
	ck_assert_int_eq(paknd_signal(D, SIGHUP), 0);
	for (double end = now_secs() + 5; found == NULL && now_secs() < end;
	     sleep_ms(50))
		found = log_grep(D->log, from, "configuration reloaded");
	ck_assert_ptr_nonnull(found);
	free(found);
}

/* A status query ("TT ticket") of one's own complaint is answered
 * set-based with the group's complaints, the reply pakn.sms_status
 * gives (the status, or the answer once there is one), queued, or kept
 * failed for a number the outbox refuses; a phone with two messages in
 * the group goes one by one, and so does any query that is not of one's
 * own complaint, of one waiting for its place, of a mistyped ticket, or
 * of a phone banned or at its replies' limit (one a day). */
START_TEST(test_batched_status)
{
	static const char *const phones[] = {
	    "+84913760001", "+84913760002", "+84913760003", "+84913760004",
	    "+84913760005", "+84913760006", "+84913760007", "+84913760008"};
	long before;
	PGconn *hold;
	char *a, *b, *want;

	/* Complaints of the phones 1-8 (the 6th waits for its place). */
	for (int i = 0; i < 8; i++) {
		char id[32];

		snprintf(id, sizeof id, "stq-pa-%d", i + 1);
		ck_assert_int_eq(at_one(id, phones[i],
		                        i == 5 ? "PA Den duong hong"
		                               : "PA Den duong hong #00004"),
		                 200);
	}
	wait_processed("stq-pa-%", 20);
	/* The 3rd answered; the 5th's phone banned; the 8th's at the
	 * replies' limit of the day (40), and its complaint's number
	 * flagged as an own number would be refused: not here. */
	ck_assert_int_eq(
	    sql_exec_db("pakn",
	                "UPDATE pakn.complaint SET status = 'answered', "
	                "answer_text = 'Da thay bong den', answered_at = "
	                "now() WHERE msisdn = '+84913760003'; INSERT INTO "
	                "pakn.ban (msisdn, reason, banned_by) VALUES "
	                "('+84913760005', 'test', 'test'); INSERT INTO "
	                "pakn.outbox (gateway, msisdn, body, kind, state) "
	                "SELECT 'at', '+84913760008', 'x', 'test', 'sent' "
	                "FROM generate_series(1, 40)"),
	    0);
	/* The replies' limit on (the suites' configuration has none). */
	reload_main("[abuse]\nreplies_per_day = 40\n");
	hold = harness_hold_processing();
	before = batched_total();
	/* Set-based: stt-1 (own, open), stt-3 (own, answered). */
	tt_one("stt-1", phones[0], "stq-pa-1");
	tt_one("stt-3", phones[2], "stq-pa-3");
	/* One by one: the 2nd phone's two (its own, then the 1st's). */
	tt_one("stt-2a", phones[1], "stq-pa-2");
	tt_one("stt-2b", phones[1], "stq-pa-1");
	/* Another's ticket, a banned phone, one waiting for its place, a
	 * mistyped ticket, a phone at its limit. */
	tt_one("stt-4", phones[3], "stq-pa-1");
	tt_one("stt-5", phones[4], "stq-pa-5");
	tt_one("stt-6", phones[5], "stq-pa-6");
	ck_assert_int_eq(at_one("stt-7", phones[6], "TT ABCDEFG"), 200);
	tt_one("stt-8", phones[7], "stq-pa-8");
	release_all_done(hold, "stt-%", 9, before, 2);
	/* The same reply set-based as one by one. */
	a = reply_trace("stt-1");
	b = reply_trace("stt-2a");
	ck_assert_str_eq(a, b);
	ck_assert_msg(strncmp(a, "status queued t ", 16) == 0, "%s", a);
	free(a);
	free(b);
	/* Each what pakn.sms_status renders now. */
	want = sql_value(
	    "SELECT count(*) FROM pakn.outbox o JOIN pakn.inbound_message m "
	    "ON m.id = o.inbound_id JOIN pakn.complaint c ON c.id = "
	    "o.complaint_id WHERE m.gateway_msg_id IN ('stt-1', 'stt-2a', "
	    "'stt-3') AND c.msisdn = m.msisdn AND o.body = pakn.render(o.kind, "
	    "pakn.complaint_vars(c.id)) AND o.kind = CASE WHEN "
	    "m.gateway_msg_id = 'stt-3' THEN 'status_answered' ELSE "
	    "'status' END",
	    NULL);
	ck_assert_str_eq(want, "3");
	free(want);
	a = reply_trace("stt-3");
	ck_assert_msg(strstr(a, "Da thay bong den") != NULL, "%s", a);
	free(a);
	reply_starts("stt-2b", "not_found queued");
	reply_starts("stt-4", "not_found queued");
	a = reply_trace("stt-5");
	ck_assert_str_eq(a, "none");
	free(a);
	ck_assert_int_eq(count_where("stt-5", "m.abuse_flag = 'banned'"), 1);
	reply_starts("stt-6", "ask_location_again queued");
	reply_starts("stt-7", "bad_ticket queued");
	ck_assert_int_eq(count_where("stt-8", "m.abuse_flag = 'limit_replies'"),
	                 1);
	reply_starts("stt-8", "limit_notice");
	ck_assert_int_eq(sql_exec_db("pakn", "DELETE FROM pakn.ban WHERE "
	                                     "msisdn = '+84913760005'"),
	                 0);
	reload_main("");
}
END_TEST

/* What a rating of message id left on its complaint (the one the join
 * condition complaint finds for c, from m; its own ticket replaced):
 * the complaint's state, the ledger since the answer, the rating row and
 * the replies. */
static char *
rating_trace_of(const char *id, const char *complaint)
{
	char *q = strf(
	    "SELECT concat_ws(' | ', c.status, c.close_reason, c.closed_at IS "
	    "NOT NULL, c.rating_asked_at IS NULL, c.reopen_count, (SELECT "
	    "string_agg(concat_ws(' ', e.event, e.actor, e.reason, e.detail), "
	    "'; ' ORDER BY e.id) FROM pakn.complaint_event e WHERE "
	    "e.complaint_id = c.id AND e.id > coalesce((SELECT max(x.id) FROM "
	    "pakn.complaint_event x WHERE x.complaint_id = c.id AND x.event = "
	    "'routed'), 0)), (SELECT string_agg(concat_ws(' ', r.unit_code = "
	    "c.responsible_unit, r.dimension = c.dimension, r.score, "
	    "r.inbound_id = m.id), '; ') FROM pakn.rating r WHERE "
	    "r.complaint_id = c.id), (SELECT string_agg(concat_ws(' ', o.kind, "
	    "o.state, o.complaint_id = c.id, replace(o.body, c.ticket, "
	    "'TICKET')), '; ' ORDER BY o.id) FROM pakn.outbox o WHERE "
	    "o.inbound_id = m.id)) FROM pakn.inbound_message m JOIN "
	    "pakn.complaint c ON %s WHERE m.gateway_msg_id = $1",
	    complaint);
	char *t = of_complaint(q, id);

	free(q);
	return t;
}

/* The same of the complaint whose ticket the message names. */
static char *
rating_trace(const char *id)
{
	return rating_trace_of(id, "c.ticket = split_part(m.body, ' ', 2)");
}

/* "DG ticket-of-message-of score" from phone from, as message id. */
static void
dg_one(const char *id, const char *from, const char *of, int score)
{
	char *t = ticket_of(of), *text = strf("DG %s %d", t, score);

	ck_assert_int_eq(at_one(id, from, text), 200);
	free(text);
	free(t);
}

/* A complaint from each of the n phones (message prefix-pa-i, i from
 * 1), processed; then each but the one at index skip answered, its
 * rating asked (as pakn.complaint_answer leaves it). */
static void
answered_complaints(const char *prefix, const char *const *phones, int n,
                    int skip)
{
	char *list = strf("''"), *next, *sql;

	for (int i = 0; i < n; i++) {
		char id[32];

		snprintf(id, sizeof id, "%s-pa-%d", prefix, i + 1);
		ck_assert_int_eq(
		    at_one(id, phones[i], "PA Den duong hong #00004"), 200);
		if (i == skip)
			continue;
		next = strf("%s, '%s'", list, phones[i]);
		free(list);
		list = next;
	}
	next = strf("%s-pa-%%", prefix);
	wait_processed(next, 20);
	free(next);
	sql = strf("UPDATE pakn.complaint SET status = 'answered', answer_text "
	           "= 'Da thay bong den', answered_at = now(), rating_asked_at "
	           "= now() WHERE msisdn IN (%s)",
	           list);
	ck_assert_int_eq(sql_exec_db("pakn", sql), 0);
	free(sql);
	free(list);
}

/* The ratings the statistics have counted. */
static long
ratings_counted(void)
{
	return sql_long("SELECT coalesce(sum(ratings), 0) FROM "
	                "pakn.stat_day_all",
	                NULL);
}

/* Trace a (rating_trace) is of a complaint closed as confirmed by a
 * rating of score: the ledger's rated and closed, the rating row, the
 * reply. */
static void
assert_rated_closed(const char *a, int score)
{
	char *want = strf("; rated citizen {\"score\": %d}; closed citizen "
	                  "confirmed {} | t t %d t | rated_closed queued t ",
	                  score, score);

	ck_assert_msg(strncmp(a, "closed | confirmed | t | t | 0 | ", 33) ==
	                      0 &&
	                  strstr(a, want) != NULL,
	              "%s", a);
	free(want);
}

/* Trace a is of a complaint reopened by a rating of 1 or 2. */
static void
assert_rated_reopened(const char *a)
{
	ck_assert_msg(strncmp(a, "open |", 6) == 0 &&
	                  strstr(a, "rated_reopened") != NULL,
	              "%s", a);
}

/* A rating of 3 to 5 of one's own answered complaint ("DG ticket n") is
 * processed set-based with its group, as pakn.complaint_rate does: the
 * rating counted, the ledger's rated and closed, the complaint closed
 * as confirmed, the reply. One of 1 or 2 (the complaint reopened), of
 * a complaint not answered, of another's, or of a phone with two
 * messages in the group goes one by one. */
START_TEST(test_batched_rating)
{
	static const char *const phones[] = {"+84913770001", "+84913770002",
	                                     "+84913770003", "+84913770004",
	                                     "+84913770005", "+84913770006"};
	long before, ratings;
	PGconn *hold;
	char *a, *b;

	/* All but the 6th answered, the rating asked. */
	answered_complaints("rtq", phones, 6, 5);
	ratings = ratings_counted();
	hold = harness_hold_processing();
	before = batched_total();
	/* Set-based: rt-1 (5) and rt-3 (3). */
	dg_one("rt-1", phones[0], "rtq-pa-1", 5);
	dg_one("rt-3", phones[2], "rtq-pa-3", 3);
	/* One by one: the 2nd phone's two; a 1 (reopened); another's; a
	 * complaint not answered. */
	dg_one("rt-2a", phones[1], "rtq-pa-2", 5);
	tt_one("rt-2b", phones[1], "rtq-pa-2");
	dg_one("rt-4", phones[3], "rtq-pa-4", 1);
	dg_one("rt-5", phones[4], "rtq-pa-1", 5);
	dg_one("rt-6", phones[5], "rtq-pa-6", 5);
	release_all_done(hold, "rt-%", 7, before, 2);
	a = rating_trace("rt-1");
	b = rating_trace("rt-2a");
	ck_assert_str_eq(a, b);
	assert_rated_closed(a, 5);
	free(a);
	free(b);
	a = rating_trace("rt-3");
	assert_rated_closed(a, 3);
	free(a);
	/* Each reply what pakn.complaint_rate renders. */
	ck_assert_int_eq(
	    sql_long("SELECT count(*) FROM pakn.outbox o JOIN "
	             "pakn.inbound_message m ON m.id = o.inbound_id WHERE "
	             "m.gateway_msg_id IN ('rt-1', 'rt-2a', 'rt-3') AND o.body "
	             "= pakn.render('rated_closed', pakn.vars(o.complaint_id, "
	             "jsonb_build_object('score', split_part(m.body, ' ', "
	             "3)::integer)))",
	             NULL),
	    3);
	a = rating_trace("rt-4");
	assert_rated_reopened(a);
	free(a);
	reply_starts("rt-5", "not_found queued");
	reply_starts("rt-6", "cannot_rate queued");
	/* Four ratings counted in the statistics, set-based as one by
	 * one. */
	ck_assert_int_eq(ratings_counted() - ratings, 4);
}
END_TEST

/* A bare digit of 3 to 5 answering the rating question (the phone's
 * complaint answered last whose rating was asked) is processed
 * set-based with its group, as pakn.sms_rate does one by one. A digit
 * of a phone with two messages in the group, a 1 or 2 (the complaint
 * reopened), one that a survey asked since takes, one with no rating
 * asked, or one that a list of communes asked since takes goes one by
 * one. */
START_TEST(test_batched_digit)
{
	static const char *const phones[] = {
	    "+84913780001", "+84913780002", "+84913780003", "+84913780004",
	    "+84913780005", "+84913780006", "+84913780007"};
	long before, ratings;
	PGconn *hold;
	char *a, *b, *t;

	/* All but the 6th answered, the rating asked; then a survey of a
	 * service asks the 5th phone, and a list of communes the 7th, for
	 * a complaint of no place (their questions the latest). */
	answered_complaints("rdq", phones, 7, 5);
	ck_assert_int_eq(
	    sql_exec_db(
	        "pakn",
	        "WITH r AS (INSERT INTO pakn.service_record (unit_code, "
	        "procedure_code, procedure_name, msisdn, received_at, "
	        "returned_at, on_time, source, considered) VALUES "
	        "('00004', '1.001', 'Chung thuc ban sao', "
	        "'+84913780005', now() - interval '2 hours', now() - "
	        "interval '1 hour', true, 'api', true) RETURNING id, "
	        "msisdn) INSERT INTO pakn.survey (service_id, msisdn, "
	        "gateway, state, due_at, created_at, sent_at, asked_at) "
	        "SELECT r.id, r.msisdn, 'at', 'sent', now(), now(), "
	        "clock_timestamp(), clock_timestamp() FROM r"),
	    0);
	ck_assert_int_eq(at_one("rdq-pb-7", phones[6], "PA Rac thai"), 200);
	wait_processed("rdq-pb-%", 20);
	ck_assert_int_eq(
	    sql_exec_db("pakn",
	                "INSERT INTO pakn.place_choice (complaint_id, msisdn, "
	                "candidates, asked_at) SELECT c.id, c.msisdn, "
	                "'{00004,00070,00008}', clock_timestamp() FROM "
	                "pakn.complaint c WHERE c.msisdn = '+84913780007' AND "
	                "c.status = 'needs_location'"),
	    0);
	ratings = ratings_counted();
	hold = harness_hold_processing();
	before = batched_total();
	/* Set-based: rd-1 (5) and rd-3 (4). */
	ck_assert_int_eq(at_one("rd-1", phones[0], "5"), 200);
	ck_assert_int_eq(at_one("rd-3", phones[2], "4"), 200);
	/* One by one: the 2nd phone's two; a 2 (reopened); the survey's;
	 * no rating asked; the list's. */
	ck_assert_int_eq(at_one("rd-2a", phones[1], "5"), 200);
	t = ticket_of("rdq-pa-2");
	a = strf("TT %s", t);
	ck_assert_int_eq(at_one("rd-2b", phones[1], a), 200);
	free(a);
	free(t);
	ck_assert_int_eq(at_one("rd-4", phones[3], "2"), 200);
	ck_assert_int_eq(at_one("rd-5", phones[4], "5"), 200);
	ck_assert_int_eq(at_one("rd-6", phones[5], "5"), 200);
	ck_assert_int_eq(at_one("rd-7", phones[6], "3"), 200);
	release_all_done(hold, "rd-%", 8, before, 2);
	a = rating_trace_of("rd-1", "c.msisdn = m.msisdn");
	b = rating_trace_of("rd-2a", "c.msisdn = m.msisdn");
	ck_assert_str_eq(a, b);
	assert_rated_closed(a, 5);
	free(a);
	free(b);
	a = rating_trace_of("rd-3", "c.msisdn = m.msisdn");
	assert_rated_closed(a, 4);
	free(a);
	/* Each reply what pakn.complaint_rate renders. */
	ck_assert_int_eq(
	    sql_long("SELECT count(*) FROM pakn.outbox o JOIN "
	             "pakn.inbound_message m ON m.id = o.inbound_id WHERE "
	             "m.gateway_msg_id IN ('rd-1', 'rd-2a', 'rd-3') AND o.body "
	             "= pakn.render('rated_closed', pakn.vars(o.complaint_id, "
	             "jsonb_build_object('score', btrim(m.body)::integer)))",
	             NULL),
	    3);
	a = rating_trace_of("rd-4", "c.msisdn = m.msisdn");
	assert_rated_reopened(a);
	free(a);
	/* The survey took the 5th phone's digit; its complaint waits for
	 * its rating still. */
	ck_assert_int_eq(
	    sql_long("SELECT count(*) FROM pakn.survey WHERE "
	             "msisdn = '+84913780005' AND satisfaction = 5",
	             NULL),
	    1);
	a = rating_trace_of("rd-5", "c.msisdn = m.msisdn");
	ck_assert_msg(strncmp(a, "answered |", 10) == 0, "%s", a);
	free(a);
	reply_starts("rd-6", "no_rating_pending queued");
	/* The 7th phone's digit chose the third commune of the list; its
	 * answered complaint waits for its rating still. */
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.complaint WHERE "
	                          "msisdn = '+84913780007' AND status = 'open' "
	                          "AND location_unit = '00008'",
	                          NULL),
	                 1);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.complaint WHERE "
	                          "msisdn = '+84913780007' AND status = "
	                          "'answered' AND rating_asked_at IS NOT NULL",
	                          NULL),
	                 1);
	/* Four ratings counted in the statistics (rd-4 too), set-based as one
	 * by one. */
	ck_assert_int_eq(ratings_counted() - ratings, 4);
}
END_TEST

/* A claim reads the messages waiting, not those being processed (036):
 * with 2 000 messages in flight (leased to another instance for an
 * hour), a claim takes the 5 waiting and the 3 whose lease ran out, and
 * reads a few entries of the messages' indexes, not one a message in
 * flight. (The test for a phone's message in flight, by 030's index,
 * aside: a plan made on this small table reads them all, once, to hash
 * them. In one transaction, rolled back: the running paknd, idle, never
 * sees them.) */
START_TEST(test_claim_skips_in_flight)
{
	/* The claim and the entries it read of the messages' indexes. */
	static const char measure[] =
	    "WITH c AS MATERIALIZED (SELECT count(*) AS n FROM "
	    "pakn.intake_claim('test', 500, 60) WHERE gateway_msg_id LIKE "
	    "'skip-%') SELECT c.n || ' ' || (SELECT coalesce(sum("
	    "pg_stat_get_xact_tuples_returned(x.indexrelid)), 0) FROM "
	    "pg_index x JOIN pg_inherits i ON i.inhrelid = x.indrelid "
	    "WHERE i.inhparent = 'pakn.inbound_message'::regclass AND "
	    "x.indexrelid NOT IN (SELECT inhrelid FROM pg_inherits WHERE "
	    "inhparent = 'pakn.inbound_message_in_flight_idx'::regclass)) "
	    "FROM c";
	long n = -1, base = -1, read = -1;
	/* The same claim with nothing in flight first: the entries of the
	 * messages the tests before just processed (dead, until a scan
	 * marks them so) are read by both. */
	char *b = sql_rolled_back("SELECT 1", measure);
	char *v = sql_rolled_back(
	    "WITH k AS (INSERT INTO pakn.inbound_key (gateway, "
	    "gateway_msg_id) SELECT 'at', 'skip-' || n FROM "
	    "generate_series(1, 2008) n RETURNING id, gateway_msg_id, "
	    "received_at, substr(gateway_msg_id, 6)::integer AS n) INSERT "
	    "INTO pakn.inbound_message (id, received_at, gateway, "
	    "gateway_msg_id, msisdn, shortcode, body, raw_request, raw_body, "
	    "lease_owner, lease_until, attempts) SELECT k.id, "
	    "k.received_at, 'at', k.gateway_msg_id, CASE WHEN k.n <= 2000 "
	    "THEN '+84913730' || lpad(k.n::text, 4, '0') ELSE '+849137400' "
	    "|| k.n END, '8079', 'PA Den duong hong', 'POST', '\\x00', "
	    "CASE WHEN k.n <= 2000 OR k.n > 2005 THEN 'elsewhere' END, "
	    "CASE WHEN k.n <= 2000 THEN now() + interval '1 hour' WHEN k.n "
	    "> 2005 THEN now() - interval '1 minute' END, CASE WHEN k.n <= "
	    "2000 OR k.n > 2005 THEN 1 ELSE 0 END FROM k",
	    measure);

	ck_assert_ptr_nonnull(b);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(sscanf(b, "%*d %ld", &base), 1);
	ck_assert_int_eq(sscanf(v, "%ld %ld", &n, &read), 2);
	ck_assert_int_eq(n, 8);
	ck_assert_msg(read - base < 100,
	              "%ld entries read, %ld without the "
	              "messages in flight",
	              read, base);
	free(b);
	free(v);
}
END_TEST

/* The suite. */
static Suite *
intake_suite(void)
{
	Suite *s = suite_create("intake");
	TCase *tc = tcase(s, "intake", 120);

	tcase_add_test(tc, test_failed_message);
	tcase_add_test(tc, test_failed_retry);
	tcase_add_test(tc, test_two_instances);
	tcase_add_test(tc, test_batched_same_rows);
	tcase_add_test(tc, test_batched_by_name);
	tcase_add_test(tc, test_batched_routes);
	tcase_add_test(tc, test_digest_lists_eight);
	tcase_add_test(tc, test_notices_gathered);
	tcase_add_test(tc, test_yields_to_intake);
	tcase_add_test(tc, test_burst_rate);
	tcase_add_test(tc, test_batch_fails);
	tcase_add_test(tc, test_claims_in_flight);
	tcase_add_test(tc, test_connections_by_backlog);
	tcase_add_test(tc, test_batched_tickets);
	tcase_add_test(tc, test_claim_skips_in_flight);
	tcase_add_test(tc, test_batched_status);
	tcase_add_test(tc, test_batched_rating);
	tcase_add_test(tc, test_batched_digit);
	tcase_add_test(tc, test_kicks_quiet);
	tcase_add_test(tc, test_torn_journal);
	tcase_add_test(tc, test_kill_mid_stream);
	tcase_add_test(tc, test_database_outage);
	tcase_add_test(tc, test_journal_full);
	tcase_add_test(tc, test_crash_mid_processing);
	return s;
}

/* Start PostgreSQL and paknd (samples imported), run. */
int
main(void)
{
	SRunner *sr;
	int failed;

	D = harness_main();
	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "check_intake: cannot start PostgreSQL\n");
		return 99;
	}
	if (paknd_start(D, "main", CONF_EXTRA) == -1 ||
	    paknd_wait_ready(D, 10) == -1 ||
	    harness_import_samples(D->conf, 0) != 0) {
		fprintf(stderr, "check_intake: paknd does not start\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(intake_suite());
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (paknd_finish(D, NULL) == -1)
		failed++;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
