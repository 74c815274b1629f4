/*
 * check_ops.c: what an operator runs paknd with (issue 15). The real
 * paknd against a real PostgreSQL and a fake Kannel (tests/fakegw):
 *  - GET /metrics in the Prometheus text format, checked by promtool
 *    (Debian package prometheus), counters that move, no personal data;
 *  - logs at info level without phone numbers, tokens or texts;
 *  - sd_notify: READY, STOPPING, WATCHDOG on a socket of the test's own;
 *  - reads (statistics, public report) from a real streaming replica;
 *  - two paknd on one database: the outbox, the statistics fold, the
 *    gateway's send rate.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#ifndef PAKN_SRCDIR
#define PAKN_SRCDIR "."
#endif

#define WAIT        15.0 /* seconds for something to happen */
#define SHARED_RATE "3"  /* [gateway.shared] rate, in every instance */
/* [gateway.kannel] rate: 30 sends take 3 s, so both instances claim. */
#define KANNEL_RATE 10

static struct paknd D; /* the paknd most tests talk to */
/* The fake Kannel; its file has what it received, a line per send. */
static struct fakegw G = {.name = "kannel"};

/* How many sends to msisdn the fake Kannel received. */
static int
fg_count(const char *msisdn)
{
	return fakegw_count(G.file, msisdn);
}

/* Write an instance's configuration: the fake Kannel at rate, outbox
 * and folds polled often, extra appended. */
static int
write_conf(struct paknd *d, long rate, const char *extra)
{
	char conninfo[256], *text;
	FILE *f;
	int rc;

	pg_conninfo(conninfo, sizeof conninfo, "pakn");
	text = strf("[server]\nlisten = 127.0.0.1:%d\ntimeout = 10\n"
	            "drain_timeout = 5\n\n"
	            "[database]\nconninfo = \"%s\"\npool_size = 3\n"
	            "migrate = yes\nreconnect_max = 1\n%s\n"
	            "[outbox]\ninterval = 100\nbatch = 2\nmax_attempts = 3\n"
	            "retry_base = 1\nlease = 30\nsend_timeout = 2\n"
	            "max_inflight = 4\n\n"
	            "[stats]\nfold_interval = 1\nfold_batch = 100\n\n"
	            "[gateway.kannel]\ntype = kannel\ntoken = kannel-secret\n"
	            "send_url = http://127.0.0.1:%d/cgi-bin/sendsms\n"
	            "username = pakn\npassword = kannel-pass\nsender = 1022\n"
	            "rate = %ld\n\n"
	            "[gateway.shared]\ntype = kannel\ntoken = shared-secret\n"
	            "send_url = http://127.0.0.1:%d/cgi-bin/sendsms\n"
	            "rate = " SHARED_RATE "\n\n"
	            "[gateway.at]\ntype = africastalking\ntoken = at-secret\n",
	            d->port, conninfo, extra != NULL ? extra : "", G.port, rate,
	            G.port);
	if ((f = fopen(d->conf, "w")) == NULL)
		return -1;
	fputs(text, f);
	rc = fclose(f);
	free(text);
	return rc;
}

/* Send an inbound SMS through the Kannel callback of instance d; the
 * HTTP status. */
static long
kannel_sms(const struct paknd *d, const char *token, const char *from,
           const char *text, const char *id)
{
	struct http_resp r;
	char *f = url_encode(from, strlen(from)),
	     *t = url_encode(text, strlen(text));
	char *path = strf("/v1/gw/kannel/sms?token=%s&from=%s&to=1022&text=%s"
	                  "&id=%s",
	                  token, f, t, id);
	long st = http_get(d->port, path, &r);

	http_resp_free(&r);
	free(path);
	free(f);
	free(t);
	return st;
}

/* GET /metrics of d; the body (malloc'd); fails the test unless 200. */
static char *
metrics_get(const struct paknd *d)
{
	struct http_resp r;
	char *body;

	ck_assert_int_eq(http_get(d->port, "/metrics", &r), 200);
	assert_contains(r.ctype, "text/plain; version=0.0.4");
	body = strdup(r.body);
	http_resp_free(&r);
	return body;
}

/* The value of the sample line "series value" in a page; -1 if absent. */
static double
metric(const char *page, const char *series)
{
	char *needle = strf("\n%s ", series);
	const char *p = strstr(page, needle);
	double v = -1;

	if (p != NULL)
		v = strtod(p + strlen(needle), NULL);
	free(needle);
	return v;
}

/* Run promtool check metrics on a page; its output, or NULL if clean. */
static char *
promtool_check(const char *page)
{
	char in[PATH_MAX], out[PATH_MAX], *cmd, *text;
	FILE *f;
	int st;

	harness_path(in, sizeof in, "metrics.txt");
	harness_path(out, sizeof out, "promtool.out");
	f = fopen(in, "w");
	ck_assert(f != NULL);
	fputs(page, f);
	fclose(f);
	cmd = strf("promtool check metrics < %s", in);
	{
		char *argv[] = {"/bin/sh", "-c", cmd, NULL};
		st = harness_run(argv, out, out, 30);
	}
	free(cmd);
	text = file_read(out, NULL);
	if (st == 0) {
		free(text);
		return NULL;
	}
	return text != NULL ? text : strdup("promtool failed");
}

/* /metrics passes promtool, its counters move with the traffic, and it
 * holds no phone number, text or token. */
START_TEST(test_metrics)
{
	const char *phone = "+84912000101";
	char *before = metrics_get(&D), *after, *lint;
	const char *ok = "pakn_callbacks_total{gateway=\"kannel\",kind=\"sms\","
	                 "code=\"200\"}";
	const char *bad =
	    "pakn_callbacks_total{gateway=\"kannel\",kind=\"sms\","
	    "code=\"403\"}";
	const char *sent = "pakn_outbox_sends_total{gateway=\"kannel\","
	                   "result=\"sent\"}";
	double commits;

	lint = promtool_check(before);
	ck_assert_msg(lint == NULL, "promtool: %s", lint);
	ck_assert_int_eq(kannel_sms(&D, "kannel-secret", phone,
	                            "PA den duong hong secret-text-101",
	                            "ops-m-1"),
	                 200);
	ck_assert_int_eq(kannel_sms(&D, "wrong-token", phone, "x", "ops-m-2"),
	                 403);
	for (double end = now_secs() + WAIT;
	     fg_count(phone) < 1 && now_secs() < end;)
		sleep_ms(50);
	ck_assert_int_ge(fg_count(phone), 1);
	sleep_ms(300); /* the outcome is recorded after the send */
	after = metrics_get(&D);
	lint = promtool_check(after);
	ck_assert_msg(lint == NULL, "promtool: %s", lint);
	ck_assert_double_eq(metric(after, ok),
	                    (metric(before, ok) < 0 ? 0 : metric(before, ok)) +
	                        1);
	ck_assert_double_eq(
	    metric(after, bad),
	    (metric(before, bad) < 0 ? 0 : metric(before, bad)) + 1);
	ck_assert_double_ge(metric(after, sent), 1);
	commits = metric(after, "pakn_db_commits_total{pool=\"primary\"}");
	ck_assert_double_gt(
	    commits, metric(before, "pakn_db_commits_total{pool=\"primary\"}"));
	ck_assert_double_ge(
	    metric(after, "pakn_db_batch_size_count{pool=\"primary\"}"), 1);
	ck_assert_double_ge(
	    metric(after, "pakn_db_commit_seconds_count{pool=\"primary\"}"), 1);
	ck_assert_double_ge(metric(after, "pakn_complaints_overdue"), 0);
	ck_assert_double_ge(
	    metric(after, "pakn_outbox_depth{gateway=\"kannel\"}"), 0);
	ck_assert_ptr_null(strstr(after, "912000101"));
	ck_assert_ptr_null(strstr(after, "secret-text"));
	ck_assert_ptr_null(strstr(after, "kannel-secret"));
	ck_assert_ptr_null(strstr(after, "kannel-pass"));
	free(before);
	free(after);
}
END_TEST

/* The gauges read from the database: an overdue complaint and a queued
 * message appear once the cache (5 s) has expired. */
START_TEST(test_metrics_gauges)
{
	char *page;

	PQclear(q("INSERT INTO pakn.outbox (gateway, msisdn, body, kind, "
	          "next_attempt_at) VALUES ('kannel', '+84912000102', 'later', "
	          "'test', now() + interval '1 day')",
	          NULL));
	ck_assert_int_eq(kannel_sms(&D, "kannel-secret", "+84912000104",
	                            "PA den duong hong #00004", "ops-g-1"),
	                 200);
	PQclear(q("UPDATE pakn.complaint SET due_at = now() - interval "
	          "'2 hours' WHERE msisdn = '+84912000104' AND status = 'open'",
	          NULL));
	sleep_ms(5500);
	page = metrics_get(&D);
	ck_assert_double_ge(
	    metric(page, "pakn_outbox_depth{gateway=\"kannel\"}"), 1);
	ck_assert_double_ge(
	    metric(page, "pakn_outbox_oldest_seconds{gateway=\"kannel\"}"), 0);
	ck_assert_double_ge(metric(page, "pakn_complaints_overdue"), 1);
	ck_assert_double_ge(
	    metric(page, "pakn_complaints_overdue_oldest_seconds"), 7000);
	ck_assert_double_ge(metric(page, "pakn_outbox_depth{gateway=\"at\"}"),
	                    0);
	PQclear(
	    q("DELETE FROM pakn.outbox WHERE msisdn = '+84912000102'", NULL));
	free(page);
}
END_TEST

/* A USSD session counts as started, then ended or continued. */
START_TEST(test_metrics_ussd)
{
	const char *kv[] = {
	    "sessionId",   "ops-ussd-1", "phoneNumber", "+84912000103",
	    "serviceCode", "*123#",      "text",        "",
	    NULL};
	const char *const hdr[] = {"X-Pakn-Token: at-secret", NULL};
	char *body = form_encode(kv), *page;
	struct http_resp r;

	ck_assert_int_eq(http_request(D.port, "POST", "/v1/gw/at/ussd", hdr,
	                              body, strlen(body), &r),
	                 200);
	http_resp_free(&r);
	page = metrics_get(&D);
	ck_assert_double_eq(
	    metric(page,
	           "pakn_ussd_steps_total{gateway=\"at\",result=\"started\"}"),
	    1);
	free(page);
	free(body);
}
END_TEST

/* The lines of a log above debug that contain needle, malloc'd; NULL if
 * none. */
static char *
log_grep_info(const char *path, const char *needle)
{
	char *text = file_read(path, NULL), *line, *next, *found = NULL;
	size_t n = 0;

	if (text == NULL)
		return NULL;
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strstr(line, "[debug]") != NULL ||
		    strstr(line, needle) == NULL)
			continue;
		found = realloc(found, n + strlen(line) + 2);
		n += (size_t)sprintf(found + n, "%s\n", line);
	}
	free(text);
	return found;
}

/* Traffic that carries phone numbers, texts and tokens: a complaint, a
 * USSD step, a sender the numbering plan refuses, an SMS the outbox
 * refuses, an official's API calls. The log above debug names no number
 * (but the pseudonyms officials see), no text, no token. */
START_TEST(test_logs_private)
{
	const char *phone = "+84912000201", *text = "PA rac thai private-words";
	const char *tok = "ops-token-3f9a1c77d2";
	const char *kv[] = {
	    "sessionId",   "ops-ussd-2", "phoneNumber", "+84912000202",
	    "serviceCode", "*123#",      "text",        "",
	    NULL};
	const char *const ussd_hdr[] = {"X-Pakn-Token: at-secret", NULL};
	char *auth = strf("Authorization: Bearer %s", tok), *body, *ps, *want;
	const char *const api_hdr[] = {auth, NULL};
	const char *needles[] = {
	    "912000201",     "912000202",     "301234567",
	    "912000203",     "private-words", tok,
	    "kannel-secret", "at-secret",     "kannel-pass"};
	struct http_resp r;
	long id;

	ck_assert_int_eq(
	    kannel_sms(&D, "kannel-secret", phone, text, "ops-l-1"), 200);
	ck_assert_int_eq(kannel_sms(&D, "kannel-secret", "+8491200020399999",
	                            "HD", "ops-l-2"),
	                 200);
	body = form_encode(kv);
	ck_assert_int_eq(http_request(D.port, "POST", "/v1/gw/at/ussd",
	                              ussd_hdr, body, strlen(body), &r),
	                 200);
	http_resp_free(&r);
	free(body);
	PQclear(q("INSERT INTO pakn.api_token (official_id, token_hash) "
	          "SELECT id, sha256(convert_to($1, 'UTF8')) FROM "
	          "pakn.official WHERE phone = '+84901000001'",
	          tok, NULL));
	http_request(D.port, "GET", "/v1/complaints", api_hdr, NULL, 0, &r);
	ck_assert_int_eq(r.status, 200);
	http_resp_free(&r);
	http_request(D.port, "GET", "/v1/stats?unit=01&period=2026", api_hdr,
	             NULL, 0, &r);
	ck_assert_int_eq(r.status, 200);
	http_resp_free(&r);
	id = qlong("INSERT INTO pakn.outbox (gateway, msisdn, body, kind) "
	           "VALUES ('kannel', '+84301234567', 'private-words', "
	           "'test') RETURNING id",
	           NULL);
	ck_assert_int_gt(id, 0);
	ps = qval("SELECT pakn.api_pseudonym('+84301234567')", NULL);
	want = strf("not sent to %s", ps);
	ck_assert_int_eq(log_wait(D.log, 0, want, WAIT), 0);
	ck_assert_int_eq(log_wait(D.log, 0, "flagged sender (too_long", WAIT),
	                 0);
	ck_assert_int_eq(log_wait(D.log, 0, "message ops-l-1 stored", WAIT), 0);
	for (size_t i = 0; i < sizeof needles / sizeof *needles; i++) {
		char *hit = log_grep_info(D.log, needles[i]);
		ck_assert_msg(hit == NULL, "the log shows \"%s\":\n%s",
		              needles[i], hit);
	}
	free(want);
	free(ps);
	free(auth);
}
END_TEST

/* Bind a unix datagram socket at path (systemd's notify socket). */
static int
notify_socket(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (strlen(path) >= sizeof sa.sun_path)
		return -1;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	unlink(path);
	if (fd == -1 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		return -1;
	return fd;
}

/* Read notifications until one contains needle; 0 if it came within
 * timeout seconds. Every datagram read is appended to seen. */
static int
notify_wait(int fd, const char *needle, double timeout, char *seen, size_t size)
{
	double end = now_secs() + timeout;
	char buf[1024];
	ssize_t n;

	while (now_secs() < end) {
		n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
		if (n <= 0) {
			sleep_ms(20);
			continue;
		}
		buf[n] = '\0';
		if (strlen(seen) + (size_t)n + 2 < size) {
			strcat(seen, buf);
			strcat(seen, "|");
		}
		if (strstr(buf, needle) != NULL)
			return 0;
	}
	return -1;
}

/* Under systemd (Type=notify): READY=1 once it listens and the database
 * is up, WATCHDOG=1 at half of WATCHDOG_USEC, RELOADING=1 and READY=1
 * around SIGHUP, STOPPING=1 when it drains. */
START_TEST(test_sd_notify)
{
	struct paknd n;
	char path[PATH_MAX], seen[8192] = "";
	int fd;

	harness_path(path, sizeof path, "notify.sock");
	ck_assert_int_ge(fd = notify_socket(path), 0);
	setenv("NOTIFY_SOCKET", path, 1);
	setenv("WATCHDOG_USEC", "400000", 1);
	ck_assert_int_eq(paknd_config(&n, "notify", "pakn", 0, NULL), 0);
	ck_assert_int_eq(write_conf(&n, KANNEL_RATE, NULL), 0);
	ck_assert_int_eq(paknd_spawn(&n), 0);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	ck_assert_msg(notify_wait(fd, "READY=1", WAIT, seen, sizeof seen) == 0,
	              "no READY=1: %s", seen);
	assert_contains(seen, "STATUS=serving on 127.0.0.1:");
	ck_assert_int_eq(notify_wait(fd, "WATCHDOG=1", 5, seen, sizeof seen),
	                 0);
	ck_assert_int_eq(notify_wait(fd, "WATCHDOG=1", 5, seen, sizeof seen),
	                 0);
	paknd_signal(&n, SIGHUP);
	ck_assert_msg(notify_wait(fd, "RELOADING=1", WAIT, seen, sizeof seen) ==
	                  0,
	              "no RELOADING=1: %s", seen);
	ck_assert_msg(notify_wait(fd, "READY=1", WAIT, seen, sizeof seen) == 0,
	              "no READY=1 after the reload: %s", seen);
	/* paknd_finish's own SIGTERM may come while this one drains. */
	harness_expect_log("second signal: exiting now");
	paknd_signal(&n, SIGTERM);
	ck_assert_msg(notify_wait(fd, "STOPPING=1", WAIT, seen, sizeof seen) ==
	                  0,
	              "no STOPPING=1: %s", seen);
	ck_assert_int_eq(paknd_finish(&n, NULL), 0);
	close(fd);
}
END_TEST

/* Start a second paknd on the same database, named name. */
static void
second_start(struct paknd *e, const char *name)
{
	ck_assert_int_eq(paknd_config(e, name, "pakn", 1, NULL), 0);
	ck_assert_int_eq(write_conf(e, KANNEL_RATE, NULL), 0);
	ck_assert_int_eq(paknd_spawn(e), 0);
	ck_assert_int_eq(paknd_wait_ready(e, 10), 0);
}

/* A sample of an instance's /metrics, 0 when absent. */
static double
metric_of(const struct paknd *d, const char *series)
{
	char *page = metrics_get(d);
	double v = metric(page, series);

	free(page);
	return v < 0 ? 0 : v;
}

/* Queue n messages through gateway gw to prefix001..: by SQL, as the
 * SQL functions do. */
static void
queue_many(const char *gw, const char *prefix, int n)
{
	char count[16];

	snprintf(count, sizeof count, "%d", n);
	PQclear(q("INSERT INTO pakn.outbox (gateway, msisdn, body, kind) "
	          "SELECT $1, $2 || lpad(i::text, 3, '0'), 'Tin ' || i, 'ops' "
	          "FROM generate_series(1, $3::integer) i",
	          gw, prefix, count, NULL));
}

/* Wait until every message to prefix... left the outbox as sent. */
static void
wait_all_sent(const char *prefix, int n)
{
	double end = now_secs() + 3 * WAIT;
	char *like = strf("%s%%", prefix);
	long sent = 0;

	while ((sent = qlong("SELECT count(*) FROM pakn.outbox WHERE msisdn "
	                     "LIKE $1 AND state = 'sent'",
	                     like, NULL)) < n &&
	       now_secs() < end)
		sleep_ms(100);
	ck_assert_int_eq(sent, n);
	free(like);
}

/* Two paknd on one database share the outbox: every message reaches the
 * gateway once, and both sent some. */
START_TEST(test_two_outbox)
{
	const char *kannel = "pakn_outbox_sends_total{gateway=\"kannel\","
	                     "result=\"sent\"}";
	const char *prefix = "+84913100";
	double d0 = metric_of(&D, kannel), dn, en;
	struct paknd e;
	char num[32];

	second_start(&e, "two-outbox");
	queue_many("kannel", prefix, 30);
	wait_all_sent(prefix, 30);
	for (int i = 1; i <= 30; i++) {
		snprintf(num, sizeof num, "%s%03d", prefix, i);
		ck_assert_msg(fg_count(num) == 1, "%s sent %d times", num,
		              fg_count(num));
	}
	dn = metric_of(&D, kannel) - d0;
	en = metric_of(&e, kannel);
	ck_assert_double_eq(dn + en, 30);
	ck_assert_msg(dn > 0 && en > 0, "one instance sent all: %g and %g", dn,
	              en);
	ck_assert_int_eq(paknd_finish(&e, "kannel-secret", NULL), 0);
}
END_TEST

/* Two paknd fold the statistics of complaints taken by both: each is
 * counted once. */
START_TEST(test_two_fold)
{
	long before, after = -1;
	double end;
	struct paknd e;
	char from[32], id[32];

	second_start(&e, "two-fold");
	before = qlong("SELECT (SELECT coalesce(sum(received), 0) FROM "
	               "pakn.stat_day) + (SELECT coalesce(sum(received), 0) "
	               "FROM pakn.stat_delta)",
	               NULL);
	for (int i = 0; i < 12; i++) {
		snprintf(from, sizeof from, "+84913200%03d", i);
		snprintf(id, sizeof id, "ops-fold-%d", i);
		ck_assert_int_eq(kannel_sms(i % 2 ? &e : &D, "kannel-secret",
		                            from, "PA duong hong #00004", id),
		                 200);
	}
	end = now_secs() + WAIT;
	while (qlong("SELECT count(*) FROM pakn.stat_delta", NULL) > 0 &&
	       now_secs() < end)
		sleep_ms(100);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.stat_delta", NULL),
	                 0);
	after =
	    qlong("SELECT coalesce(sum(received), 0) FROM pakn.stat_day", NULL);
	ck_assert_int_eq(after, before + 12);
	/* e folds too (or finds d folding): still counted once. */
	end = now_secs() + WAIT;
	while (metric_of(&e, "pakn_stats_folds_total{result=\"run\"}") +
	               metric_of(&e, "pakn_stats_folds_total{result="
	                             "\"locked_out\"}") <
	           2 &&
	       now_secs() < end)
		sleep_ms(200);
	ck_assert_double_ge(
	    metric_of(&e, "pakn_stats_folds_total{result=\"run\"}") +
	        metric_of(&e, "pakn_stats_folds_total{result=\"locked_out\"}"),
	    2);
	ck_assert_int_eq(qlong("SELECT coalesce(sum(received), 0) FROM "
	                       "pakn.stat_day",
	                       NULL),
	                 before + 12);
	ck_assert_int_eq(paknd_finish(&e, "kannel-secret", NULL), 0);
}
END_TEST

/* The send times (Unix seconds) the fake gateway logged for numbers
 * starting with prefix; their count. */
static int
fg_times(const char *prefix, double *t, int max)
{
	char *text = file_read(G.file, NULL), *line, *next;
	char *needle = strf("\tto=%s", prefix);
	int n = 0;

	for (line = text; line != NULL && *line != '\0' && n < max;
	     line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (strstr(line, needle) != NULL)
			t[n++] = strtod(line, NULL);
	}
	free(needle);
	free(text);
	return n;
}

/* The gateway's rate is shared by the instances: no second is granted
 * more than the rate, and no one second of sends holds more than twice
 * the rate (one second's grants sent at its end, the next one's at its
 * start); each instance alone would send its own rate. */
START_TEST(test_two_rate)
{
	const char *prefix = "+84913300";
	const char *shared = "pakn_outbox_sends_total{gateway=\"shared\","
	                     "result=\"sent\"}";
	double t[64], d0 = metric_of(&D, shared);
	int rate = atoi(SHARED_RATE), n, most = 0;
	struct paknd e;

	second_start(&e, "two-rate");
	queue_many("shared", prefix, 15);
	wait_all_sent(prefix, 15);
	ck_assert_int_eq(n = fg_times(prefix, t, 64), 15);
	for (int i = 0; i < n; i++) {
		int in = 0;
		for (int j = 0; j < n; j++)
			in += t[j] >= t[i] && t[j] < t[i] + 1;
		most = in > most ? in : most;
	}
	ck_assert_msg(most <= 2 * rate, "%d sends within one second", most);
	ck_assert_int_le(qlong("SELECT max(granted) FROM pakn.send_rate "
	                       "WHERE gateway = 'shared'",
	                       NULL),
	                 rate);
	ck_assert_int_ge(qlong("SELECT sum(granted) FROM pakn.send_rate "
	                       "WHERE gateway = 'shared'",
	                       NULL),
	                 15);
	ck_assert_double_gt(metric_of(&e, shared), 0);
	ck_assert_double_gt(metric_of(&D, shared), d0);
	ck_assert_int_eq(paknd_finish(&e, "kannel-secret", NULL), 0);
}
END_TEST

/* A unit added on the primary by paknctl import-units (one CSV row). */
static void
unit_add(const char *csv)
{
	char path[PATH_MAX], out[PATH_MAX];
	FILE *f;

	harness_path(path, sizeof path, "replica-units.csv");
	harness_path(out, sizeof out, "replica-units.log");
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fprintf(f, "code,name,parent_code,kind\n%s\n", csv);
	fclose(f);
	{
		char *argv[] = {(char *)paknctl_path(), "-c", D.conf,
		                "import-units",         path, NULL};
		ck_assert_int_eq(harness_run(argv, out, out, 30), 0);
	}
}

/* A query on the replica; its first value (malloc'd) or NULL. */
static char *
replica_value(const char *sql)
{
	char conninfo[256], *v = NULL;
	PGconn *c;
	PGresult *r;

	pg_replica_conninfo(conninfo, sizeof conninfo, "pakn");
	c = PQconnectdb(conninfo);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "replica: %s",
	              PQerrorMessage(c));
	r = PQexec(c, sql);
	ck_assert_msg(PQresultStatus(r) == PGRES_TUPLES_OK, "replica: %s",
	              PQresultErrorMessage(r));
	if (PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
		v = strdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(c);
	return v;
}

/* GET path on d as a leader; the status, and the body in *body. */
static long
get_report(const struct paknd *d, const char *path, char **body)
{
	const char *auth = "Authorization: Bearer ops-token-replica-77";
	const char *const hdr[] = {auth, NULL};
	struct http_resp r;
	long st = http_request(d->port, "GET", path, hdr, NULL, 0, &r);

	*body = strdup(r.body != NULL ? r.body : "");
	http_resp_free(&r);
	return st;
}

/* Wait until the replica has replayed everything the primary wrote. */
static void
replica_catch_up(void)
{
	char *lsn = qval("SELECT pg_current_wal_insert_lsn()::text", NULL),
	     *sql;
	double end = now_secs() + WAIT;
	char *ok = NULL;

	sql = strf("SELECT pg_last_wal_replay_lsn() >= '%s'::pg_lsn", lsn);
	while (now_secs() < end) {
		free(ok);
		if ((ok = replica_value(sql)) != NULL && !strcmp(ok, "t"))
			break;
		sleep_ms(50);
	}
	ck_assert_msg(ok != NULL && !strcmp(ok, "t"), "the replica lags");
	free(ok);
	free(sql);
	free(lsn);
}

/* With read_conninfo, the public report and /v1/stats are read from a
 * real streaming replica: a unit the primary has and the (paused)
 * replica has not yet is missing from them until replay resumes; and
 * they still answer when the primary is down. Runs last: it stops the
 * primary. */
START_TEST(test_replica_reads)
{
	char conninfo[256], *extra, *body, *month, *path;
	struct paknd r;

	ck_assert_int_eq(pg_replica_start(), 0);
	PQclear(q("INSERT INTO pakn.api_token (official_id, token_hash) "
	          "SELECT id, sha256(convert_to('ops-token-replica-77', "
	          "'UTF8')) FROM pakn.official WHERE phone = '+84901000001'",
	          NULL));
	pg_replica_conninfo(conninfo, sizeof conninfo, "pakn");
	extra = strf("read_conninfo = \"%s\"\n", conninfo);
	ck_assert_int_eq(paknd_config(&r, "replica", "pakn", 1, NULL), 0);
	ck_assert_int_eq(write_conf(&r, KANNEL_RATE, extra), 0);
	ck_assert_int_eq(paknd_spawn(&r), 0);
	ck_assert_int_eq(paknd_wait_ready(&r, 10), 0);
	month = qval("SELECT to_char(now() AT TIME ZONE 'Asia/Ho_Chi_Minh', "
	             "'YYYY-MM')",
	             NULL);
	path = strf("/public/report/%s", month);
	replica_catch_up();
	ck_assert_int_eq(get_report(&r, path, &body), 200);
	ck_assert_ptr_null(strstr(body, "Bản Sao"));
	free(body);

	/* Replay paused: the primary has the unit, the answers do not. */
	free(replica_value("SELECT pg_wal_replay_pause()"));
	unit_add("99901,Xã Bản Sao,01,commune");
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.unit WHERE code = "
	                       "'99901'",
	                       NULL),
	                 1);
	ck_assert_int_eq(get_report(&r, path, &body), 200);
	ck_assert_msg(strstr(body, "Bản Sao") == NULL,
	              "the report was read from the primary");
	free(body);
	ck_assert_int_eq(get_report(&r, "/v1/stats?unit=01&by=unit", &body),
	                 200);
	ck_assert_ptr_null(strstr(body, "99901"));
	free(body);
	free(replica_value("SELECT pg_wal_replay_resume()"));
	replica_catch_up();
	ck_assert_int_eq(get_report(&r, path, &body), 200);
	assert_contains(body, "Bản Sao");
	free(body);
	ck_assert_double_gt(metric_of(&r, "pakn_db_commits_total{pool="
	                                  "\"read\"}"),
	                    0);

	/* The primary down: the replica still answers. */
	harness_expect_log("db conn");
	harness_expect_log("database unavailable");
	harness_expect_log("claim failed");
	harness_expect_log("pass failed");
	harness_expect_log("fold failed");
	harness_expect_log("not recorded");
	ck_assert_int_eq(pg_stop(), 0);
	ck_assert_int_eq(get_report(&r, path, &body), 200);
	assert_contains(body, "Bản Sao");
	free(body);
	ck_assert_int_eq(get_report(&r, "/v1/stats?unit=01&by=unit", &body),
	                 200);
	assert_contains(body, "99901");
	free(body);
	ck_assert_int_eq(get_report(&r, "/readyz", &body), 503);
	free(body);
	ck_assert_int_eq(pg_start(), 0);
	ck_assert_int_eq(paknd_wait_ready(&r, 15), 0);
	ck_assert_int_eq(paknd_finish(&r, "kannel-secret", NULL), 0);
	free(path);
	free(month);
	free(extra);
}
END_TEST

/* Run paknctl purge with args; its exit status, output in *out. */
static int
purge_run(const char *const *args, char **out)
{
	char path[PATH_MAX];
	char *argv[8] = {(char *)paknctl_path(), "-c", D.conf, "purge"};
	int i = 4, st;

	for (; *args != NULL && i < 7; args++)
		argv[i++] = (char *)*args;
	argv[i] = NULL;
	harness_path(path, sizeof path, "purge.out");
	unlink(path);
	st = harness_run(argv, path, path, 60);
	*out = file_read(path, NULL);
	return st;
}

/* paknctl purge --before DATE: a complaint closed before the date loses
 * the citizen's number, its texts and its messages' bodies; its ticket,
 * ledger (with a 'purged' event) and statistics stay; an open complaint
 * is untouched; a dry run and a second run change nothing; a date in
 * the future is refused. */
START_TEST(test_purge)
{
	const char *old = "+84913400001", *open_ = "+84913400002";
	const char *dry[] = {"--before", "2025-06-01", "--dry-run", NULL};
	const char *run[] = {"--before", "2025-06-01", NULL};
	const char *future[] = {"--before", "2999-01-01", NULL};
	const char *sum = "SELECT (SELECT coalesce(sum(received), 0) FROM "
	                  "pakn.stat_day) + (SELECT coalesce(sum(received), "
	                  "0) FROM pakn.stat_delta)";
	char *out, *ps, *ticket, *ids, *got, *want;
	long id, stats;

	ck_assert_int_eq(kannel_sms(&D, "kannel-secret", old,
	                            "PA purge-words-xyz #00004", "ops-p-1"),
	                 200);
	ck_assert_int_eq(kannel_sms(&D, "kannel-secret", open_,
	                            "PA still-open-words #00004", "ops-p-2"),
	                 200);
	for (double end = now_secs() + WAIT;
	     fg_count(old) < 1 && now_secs() < end;)
		sleep_ms(50);
	sleep_ms(300); /* the ack's outcome is recorded after the send */
	id =
	    qlong("SELECT id FROM pakn.complaint WHERE msisdn = $1", old, NULL);
	ck_assert_int_gt(id, 0);
	ticket = qval("SELECT ticket FROM pakn.complaint WHERE msisdn = $1",
	              old, NULL);
	/* Closed in January 2025, its messages of then too. */
	PQclear(q("UPDATE pakn.complaint SET status = 'closed', closed_at = "
	          "'2025-01-10' WHERE msisdn = $1",
	          old, NULL));
	PQclear(q("UPDATE pakn.inbound_message SET received_at = "
	          "'2025-01-10' WHERE msisdn = $1",
	          old, NULL));
	/* An error that quotes the text, as a failed message's can, and
	 * the copy an operator's retry kept of it. */
	PQclear(q("UPDATE pakn.inbound_message SET error = 'P0001: test "
	          "refuses purge-words-xyz' WHERE msisdn = $1",
	          old, NULL));
	PQclear(q("INSERT INTO pakn.inbound_retry (message_id, error, "
	          "attempts, actor) SELECT id, error, 1, 'test' FROM "
	          "pakn.inbound_message WHERE msisdn = $1",
	          old, NULL));
	stats = qlong(sum, NULL);

	ck_assert_int_eq(purge_run(dry, &out), 0);
	assert_contains(out, "\"complaints\": 1");
	assert_contains(out, "\"dry_run\": true");
	free(out);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint WHERE "
	                       "msisdn = $1",
	                       old, NULL),
	                 1);

	ck_assert_int_eq(purge_run(run, &out), 0);
	assert_contains(out, "\"complaints\": 1");
	free(out);
	ps = qval("SELECT pakn.api_pseudonym($1)", old, NULL);
	ids = strf("%ld", id);
	got = qval("SELECT msisdn || '|' || text || '|' || ticket FROM "
	           "pakn.complaint WHERE id = $1::bigint",
	           ids, NULL);
	want = strf("%s||%s", ps, ticket);
	ck_assert_str_eq(got, want);
	for (const char *const *t =
	         (const char *const[]){"pakn.complaint", "pakn.inbound_message",
	                               "pakn.outbox", "pakn.rating",
	                               "pakn.citizen", NULL};
	     *t != NULL; t++) {
		char *sql =
		    strf("SELECT count(*) FROM %s WHERE msisdn = $1", *t);
		ck_assert_msg(qlong(sql, old, NULL) == 0, "%s keeps the number",
		              *t);
		free(sql);
	}
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.inbound_message "
	                       "WHERE body LIKE '%purge-words%' OR "
	                       "position('purge-words' IN "
	                       "encode(raw_body, 'escape')) > 0 OR "
	                       "error LIKE '%purge-words%'",
	                       NULL),
	                 0);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.inbound_retry WHERE "
	                       "error LIKE '%purge-words%'",
	                       NULL),
	                 0);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.inbound_retry WHERE "
	                       "error = 'purged' AND actor = 'test'",
	                       NULL),
	                 1);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint_event "
	                       "WHERE complaint_id = $1::bigint AND event = "
	                       "'purged' AND actor_id LIKE 'paknctl purge%'",
	                       ids, NULL),
	                 1);
	ck_assert_int_eq(qlong(sum, NULL), stats);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint WHERE "
	                       "msisdn = $1 AND text LIKE '%still-open%'",
	                       open_, NULL),
	                 1);

	ck_assert_int_eq(purge_run(run, &out), 0);
	assert_contains(out, "\"complaints\": 0");
	free(out);
	harness_expect_pg("is in the future");
	ck_assert_int_ne(purge_run(future, &out), 0);
	assert_contains(out, "is in the future");
	free(out);
	free(ps);
	free(ticket);
	free(ids);
	free(got);
	free(want);
}
END_TEST

/* The suite. */
static Suite *
ops_suite(void)
{
	Suite *s = suite_create("ops");
	TCase *tc;

	tc = tcase(s, "metrics", 60);
	tcase_add_test(tc, test_metrics);
	tcase_add_test(tc, test_metrics_gauges);
	tcase_add_test(tc, test_metrics_ussd);
	tc = tcase(s, "logs", 60);
	tcase_add_test(tc, test_logs_private);
	tc = tcase(s, "systemd", 60);
	tcase_add_test(tc, test_sd_notify);
	tc = tcase(s, "two instances", 120);
	tcase_add_test(tc, test_two_outbox);
	tcase_add_test(tc, test_two_fold);
	tcase_add_test(tc, test_two_rate);
	tc = tcase(s, "retention", 60);
	tcase_add_test(tc, test_purge);
	tc = tcase(s, "replica", 120);
	tcase_add_test(tc, test_replica_reads);
	return s;
}

/* Start the cluster, the fake gateway and the daemon. */
static int
setup(void)
{
	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "ops: cannot start PostgreSQL\n");
		return 99;
	}
	if (fakegw_start(&G) == -1) {
		fprintf(stderr, "ops: fakegw does not start\n");
		return 99;
	}
	if (paknd_config(&D, "ops", "pakn", 1, NULL) == -1 ||
	    write_conf(&D, KANNEL_RATE, NULL) == -1 || paknd_spawn(&D) == -1 ||
	    paknd_wait_ready(&D, 10) == -1) {
		fprintf(stderr, "ops: paknd does not start\n");
		return 1;
	}
	if (harness_import_samples(D.conf, 1) == -1) {
		fprintf(stderr, "ops: cannot import the sample units\n");
		return 1;
	}
	return 0;
}

int
main(void)
{
	SRunner *sr;
	int failed, rc;

	if ((rc = setup()) != 0)
		return rc;
	sr = srunner_create(ops_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (paknd_finish(&D, "kannel-secret", "kannel-pass", NULL) == -1)
		failed++;
	if (fakegw_stop(&G) == -1)
		failed++;
	if (harness_pg_clean() == -1)
		failed++;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
