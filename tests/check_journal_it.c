/*
 * check_journal_it.c: the intake journal replayed into the real database
 * (issue 12). A journal is written with the library as intake writes it
 * while PostgreSQL is down (records in two days' files, a torn last
 * record after a crash); `paknctl journal show` lists it and `paknctl
 * journal replay` stores its messages in pakn.inbound_message, each
 * once, with their original time received, and deletes what it replayed.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <event2/event.h>

#include "harness.h"
#include "intake_rec.h"
#include "journal.h"

#define T0      1735732800 /* 2025-01-01 12:00:00 UTC */
#define NRECORD 1201       /* three transactions of replay */

static struct paknd *D;
static char jdir[PATH_MAX];
static char ctl_conf[PATH_MAX]; /* paknctl's: journal_dir = jdir */
static int64_t clock_now;

/* The journal's clock. */
static int64_t
test_clock(void *arg)
{
	(void)arg;
	return clock_now;
}

/* The journal's done callback: count the durable records. */
static void
done(int ok, void *arg)
{
	*(int *)arg += ok;
}

/* Append message i (id prefix, sender number from i) as intake does. */
static void
append_msg(struct journal *j, const char *prefix, int i, int *durable)
{
	static const unsigned char body[] = {'t', 'e', 'x', 't', '=', 0, 0xc3};
	struct intake_rec r = {0};
	char id[32], from[32], text[64], *cause = NULL;
	unsigned char *p;
	size_t n;

	snprintf(id, sizeof id, "%s-%d", prefix, i);
	snprintf(from, sizeof from, "+8491%07d", 2000000 + i);
	snprintf(text, sizeof text, "PA đèn đường số %d bị hỏng", i);
	r.gateway = "kannel";
	r.msg_id = id;
	r.from = from;
	r.to = "8079";
	r.text = text;
	r.sent_at = i % 2 ? T0 + i : 0;
	r.segments = i % 2 ? 1 : 0;
	r.smsc = i % 2 ? "smsc-a" : NULL;
	r.raw_request = "GET /v1/gw/kannel/sms?token=REDACTED\nHost: x\n";
	r.raw_body = (unsigned char *)body;
	r.raw_body_len = sizeof body;
	r.received_at_us = (int64_t)(T0 + i) * 1000000 + 123456;
	p = intake_rec_encode(&r, &n, &cause);
	ck_assert_msg(p != NULL, "%s", cause);
	ck_assert_msg(journal_append(j, p, n, done, durable, &cause) == 0, "%s",
	              cause);
	free(p);
}

/* Write messages from..to-1 into the journal, the day changing at
 * day2 (if in range); every append durable. */
static void
write_journal(const char *prefix, int from, int to, int day2)
{
	struct event_base *base = event_base_new();
	char *cause = NULL;
	struct journal *j = journal_open(base, jdir, 1 << 30, &cause);
	int durable = 0;

	ck_assert_msg(j != NULL, "%s", cause);
	clock_now = T0;
	journal_set_clock(j, test_clock, NULL);
	for (int i = from; i < to; i++) {
		if (i == day2)
			clock_now = T0 + 86400;
		append_msg(j, prefix, i, &durable);
		if (i % 64 == 0)
			event_base_loop(base, EVLOOP_NONBLOCK);
	}
	event_base_loop(base, EVLOOP_NONBLOCK);
	ck_assert_int_eq(durable, to - from);
	journal_close(j);
	event_base_free(base);
}

/* Cut n bytes off the end of a journal file (a crash mid-write). */
static void
cut_file(const char *name, off_t n)
{
	char path[PATH_MAX * 2];
	struct stat sb;

	snprintf(path, sizeof path, "%s/%s", jdir, name);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_eq(truncate(path, sb.st_size - n), 0);
}

/* Entries of the journal directory. */
static int
jdir_files(void)
{
	DIR *d = opendir(jdir);
	struct dirent *e;
	int n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	if (d != NULL)
		closedir(d);
	return n;
}

/* Two days of messages and a torn last record: show lists them, replay
 * stores all but the torn one with their fields and times, 500 to a
 * transaction, and leaves the directory empty; a second replay of the
 * same messages (written again) stores nothing new. */
START_TEST(test_replay)
{
	char *out, *v;

	write_journal("j", 0, NRECORD, 700);
	cut_file("20250102.jnl", 9);
	ck_assert_int_eq(paknctl_out(ctl_conf, &out, "journal", "show", NULL),
	                 0);
	assert_contains(out, "20250101.jnl");
	assert_contains(out, "     700 records");
	assert_contains(out, "torn last record");
	assert_contains(out, "1200 records");
	assert_contains(out, "1 torn, 0 bad");
	assert_contains(out, "oldest 2025-01-01T12:00:00Z, newest "
	                     "2025-01-01T12:19:59Z");
	free(out);

	ck_assert_int_eq(
	    paknctl_out(ctl_conf, &out, "journal", "replay", jdir, NULL), 0);
	assert_contains(out, "1200 stored, 0 duplicates; 2 files deleted");
	assert_contains(out, "1 torn record skipped");
	assert_contains(out, "20250102.jnl: torn last record at offset");
	free(out);
	ck_assert_int_eq(jdir_files(), 0);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.inbound_message "
	                       "WHERE gateway = 'kannel' AND "
	                       "gateway_msg_id LIKE 'j-%'",
	                       NULL),
	                 NRECORD - 1);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.inbound_message "
	                       "WHERE gateway_msg_id = $1",
	                       "j-1200", NULL),
	                 0);
	v = qval(
	    "SELECT concat_ws('|', msisdn, shortcode, body, "
	    "to_char(sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'), "
	    "segments, smsc, encode(raw_body, 'hex'), "
	    "to_char(received_at AT TIME ZONE 'UTC', "
	    "'YYYY-MM-DD HH24:MI:SS.US'), raw_request) "
	    "FROM pakn.inbound_message WHERE gateway_msg_id = 'j-701'",
	    NULL);
	ck_assert_str_eq(v, "+84912000701|8079|PA đèn đường số 701 bị hỏng|"
	                    "2025-01-01 12:11:41|1|smsc-a|746578743d00c3|"
	                    "2025-01-01 12:11:41.123456|"
	                    "GET /v1/gw/kannel/sms?token=REDACTED\nHost: x\n");
	free(v);
	v = qval("SELECT concat_ws('|', sent_at IS NULL, segments IS NULL, "
	         "smsc IS NULL) FROM pakn.inbound_message "
	         "WHERE gateway_msg_id = 'j-2'",
	         NULL);
	ck_assert_str_eq(v, "t|t|t");
	free(v);

	/* The same messages again (a gateway that retried meanwhile, a
	 * journal replayed twice): nothing new is stored. */
	write_journal("j", 0, 10, -1);
	ck_assert_int_eq(
	    paknctl_out(ctl_conf, &out, "journal", "replay", jdir, NULL), 0);
	assert_contains(out, "0 stored, 10 duplicates; 1 file deleted");
	free(out);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.inbound_message "
	                       "WHERE gateway = 'kannel' AND "
	                       "gateway_msg_id LIKE 'j-%'",
	                       NULL),
	                 NRECORD - 1);
	ck_assert_int_eq(paknctl_out(ctl_conf, &out, "journal", "replay", NULL),
	                 0);
	assert_contains(out, "0 stored, 0 duplicates; 0 files deleted");
	free(out);
}
END_TEST

/* When the database cannot be reached replay fails and keeps the
 * journal whole; a file with a corrupt record is set aside as .bad and
 * the records before it are stored. */
START_TEST(test_replay_keeps)
{
	char conf[PATH_MAX], *text, *out, path[PATH_MAX * 2];
	char *argv[] = {(char *)paknctl_path(),
	                "-c",
	                conf,
	                "journal",
	                "replay",
	                jdir,
	                NULL};
	int fd, st;

	write_journal("k", 0, 20, -1);
	harness_path(conf, sizeof conf, "nodb.conf");
	text = strf("[database]\nconninfo = \"host=127.0.0.1 port=%d "
	            "dbname=pakn connect_timeout=5\"\n",
	            free_port());
	ck_assert_int_eq(file_write(conf, text), 0);
	free(text);
	harness_path(path, sizeof path, "paknctl-nodb.out");
	st = harness_run(argv, path, path, 30);
	ck_assert(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1);
	ck_assert_int_eq(jdir_files(), 1);

	/* Damage record 10's payload: records 0-9 are stored. */
	snprintf(path, sizeof path, "%s/20250101.jnl", jdir);
	fd = open(path, O_RDWR);
	ck_assert_int_ne(fd, -1);
	{
		unsigned char h[JOURNAL_HEADER], x;
		off_t off = 0;
		for (int i = 0; i < 10; i++) {
			ck_assert_int_eq(pread(fd, h, sizeof h, off),
			                 (ssize_t)sizeof h);
			off += JOURNAL_HEADER + (h[4] | h[5] << 8);
		}
		ck_assert_int_eq(pread(fd, &x, 1, off + JOURNAL_HEADER + 3), 1);
		x ^= 0x20;
		ck_assert_int_eq(pwrite(fd, &x, 1, off + JOURNAL_HEADER + 3),
		                 1);
	}
	close(fd);
	ck_assert_int_eq(
	    paknctl_out(ctl_conf, &out, "journal", "replay", jdir, NULL), 0);
	assert_contains(out, "10 stored, 0 duplicates");
	assert_contains(out, "1 bad");
	assert_contains(out, "corrupt record at offset");
	free(out);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.inbound_message "
	                       "WHERE gateway_msg_id LIKE 'k-%'",
	                       NULL),
	                 10);
	ck_assert_int_eq(paknctl_out(ctl_conf, &out, "journal", "show", NULL),
	                 0);
	assert_contains(out, "20250101.jnl.bad");
	assert_contains(out, "BAD");
	free(out);
	strcat(path, ".bad");
	ck_assert_int_eq(unlink(path), 0);
}
END_TEST

/* The suite. */
static Suite *
journal_it_suite(void)
{
	Suite *s = suite_create("journal_it");
	TCase *tc = tcase(s, "replay", 180);

	tcase_add_test(tc, test_replay);
	tcase_add_test(tc, test_replay_keeps);
	return s;
}

int
main(void)
{
	SRunner *sr;
	char *extra, *text;
	int failed;

	D = harness_main();
	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "check_journal_it: cannot start PostgreSQL\n");
		return 99;
	}
	/* paknctl's journal; paknd (which replays its own journal by
	 * itself) keeps the harness's. */
	harness_path(jdir, sizeof jdir, "journal");
	harness_path(ctl_conf, sizeof ctl_conf, "ctl.conf");
	extra = strf("[intake]\njournal_dir = %s\njournal_max = 64M\n", jdir);
	text = paknd_config_text(1, "pakn", 0, extra);
	/* Ready, and past its first check of the monthly partitions (a
	 * second after start), which moves rows of past months out of
	 * DEFAULT: the replayed messages are of January 2025, and a count
	 * running beside that move can see none of them. */
	if (file_write(ctl_conf, text) != 0 ||
	    paknd_start(D, "main", NULL) == -1 ||
	    paknd_wait_ready(D, 10) == -1 ||
	    log_wait(D->log, 0, "monthly partitions", 10) != 0) {
		fprintf(stderr, "check_journal_it: paknd does not start\n");
		return EXIT_FAILURE;
	}
	free(text);
	free(extra);
	sr = srunner_create(journal_it_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (paknd_finish(D, NULL) == -1)
		failed++;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
