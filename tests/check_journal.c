/* check_journal.c: the intake journal (daemon/journal.c) and its records
 * (daemon/intake_rec.c), on real files in a temporary directory. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "intake_rec.h"
#include "journal.h"
#include "util.h"

#define DAY1 1735732800 /* 2025-01-01 12:00:00 UTC */
#define DAY2 (DAY1 + 86400)

static char dir[64];
static struct event_base *base;
static int64_t clock_now = DAY1;

/* The test clock. */
static int64_t
test_clock(void *arg)
{
	(void)arg;
	return clock_now;
}

/* A fresh directory and event base for each test. */
static void
setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/check_journal.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	base = event_base_new();
	clock_now = DAY1;
}

/* Remove the directory and its files. */
static void
teardown(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	if (d != NULL)
		closedir(d);
	rmdir(dir);
	event_base_free(base);
}

/* Open the journal on the test clock. */
static struct journal *
jopen(uint64_t max)
{
	char *cause = NULL;
	struct journal *j = journal_open(base, dir, max, &cause);

	ck_assert_msg(j != NULL, "%s", cause);
	journal_set_clock(j, test_clock, NULL);
	return j;
}

/* Does dir/name exist? */
static int
exists(const char *name)
{
	char path[128];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* How many entries dir has (dot files aside). */
static int
count_files(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)) != NULL)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* Callbacks of appended records: how often each was called, and how. */
struct slot {
	int n;
	int ok;
};
struct calls {
	struct slot s[2000];
};

/* The done callback: count. */
static void
done(int ok, void *arg)
{
	struct slot *slot = arg;
	if (slot == NULL)
		return;
	slot->n++;
	slot->ok = ok;
}

/* Append "record N" padded to len bytes; 0 or -1. */
static int
append_n(struct journal *j, struct calls *c, int i, size_t len, char **cause)
{
	char buf[4096];

	memset(buf, 'x', sizeof buf);
	snprintf(buf, sizeof buf, "record %d", i);
	if (len < strlen(buf))
		len = strlen(buf);
	return journal_append(j, buf, len, done, c != NULL ? &c->s[i] : NULL,
	                      cause);
}

/* Run the event loop until nothing is active (the turn's fdatasync). */
static void
turn(void)
{
	event_base_loop(base, EVLOOP_NONBLOCK);
}

/* What a replay saw: the record numbers in order. */
struct seen {
	int num[4000];
	int n;
	int stop_at; /* return -1 at this record number (0: never) */
	int commit;  /* return 1 after each record */
	struct journal *j;
	struct calls *calls;
	int append_at; /* append record append_at + 1000 at this one */
};

/* journal_replay's callback: note the number, maybe stop or append. */
static int
seen_fn(const void *p, size_t n, void *arg)
{
	struct seen *s = arg;
	char text[32];
	int num;

	if (p == NULL)
		return 1;
	snprintf(text, sizeof text, "%.*s", (int)(n < 31 ? n : 31),
	         (const char *)p);
	ck_assert_int_eq(sscanf(text, "record %d", &num), 1);
	if (s->stop_at != 0 && num == s->stop_at)
		return -1;
	s->num[s->n++] = num;
	if (s->j != NULL && num == s->append_at) {
		ck_assert_int_eq(append_n(s->j, s->calls, num + 1000, 10, NULL),
		                 0);
		turn();
	}
	return s->commit;
}

/* Replay dir into s; the return of journal_replay. */
static int
replay(struct seen *s, struct journal_stats *st)
{
	char *cause = NULL;
	int rc = journal_replay(dir, seen_fn, s, st, &cause);
	free(cause);
	return rc;
}

/* Test vectors of CRC-32C (RFC 3720, B.4, and the check value). */
START_TEST(test_crc32c)
{
	unsigned char zeros[32] = {0}, ones[32], inc[32];

	memset(ones, 0xff, sizeof ones);
	for (int i = 0; i < 32; i++)
		inc[i] = (unsigned char)i;
	ck_assert_uint_eq(journal_crc32c(0, "123456789", 9), 0xE3069283u);
	ck_assert_uint_eq(journal_crc32c(0, zeros, 32), 0x8A9136AAu);
	ck_assert_uint_eq(journal_crc32c(0, ones, 32), 0x62A8AB43u);
	ck_assert_uint_eq(journal_crc32c(0, inc, 32), 0x46DD794Eu);
	ck_assert_uint_eq(
	    journal_crc32c(journal_crc32c(0, "1234", 4), "56789", 5),
	    0xE3069283u);
}
END_TEST

/* Many records across a day change come back in order, from two files,
 * which are deleted once replayed; each callback ran once, ok. */
START_TEST(test_round_trip_day_change)
{
	static struct calls c;
	static struct seen s;
	struct journal_stats st = {0};
	struct journal *j = jopen(1 << 30);

	memset(&c, 0, sizeof c);
	memset(&s, 0, sizeof s);
	for (int i = 0; i < 1500; i++) {
		if (i == 700)
			clock_now = DAY2;
		ck_assert_int_eq(append_n(j, &c, i, (size_t)(i % 300), NULL),
		                 0);
		if (i % 100 == 99)
			turn();
	}
	turn();
	for (int i = 0; i < 1500; i++) {
		ck_assert_int_eq(c.s[i].n, 1);
		ck_assert_int_eq(c.s[i].ok, 1);
	}
	ck_assert(exists("20250101.jnl"));
	ck_assert(exists("20250102.jnl"));
	journal_close(j);
	ck_assert_int_eq(replay(&s, &st), 0);
	ck_assert_int_eq(s.n, 1500);
	for (int i = 0; i < 1500; i++)
		ck_assert_int_eq(s.num[i], i);
	ck_assert_uint_eq(st.files, 2);
	ck_assert_uint_eq(st.records, 1500);
	ck_assert_uint_eq(st.deleted, 2);
	ck_assert_uint_eq(st.torn + st.bad, 0);
	ck_assert_int_eq(count_files(), 0);
}
END_TEST

/* Records of one turn wait for its fdatasync; then each callback runs
 * once; the next turn's records wait for the next. */
START_TEST(test_group_fsync)
{
	static struct calls c;
	struct journal *j = jopen(1 << 30);

	memset(&c, 0, sizeof c);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(append_n(j, &c, i, 100, NULL), 0);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(c.s[i].n, 0);
	turn();
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(c.s[i].n, 1);
	ck_assert_int_eq(append_n(j, &c, 50, 100, NULL), 0);
	ck_assert_int_eq(c.s[50].n, 0);
	turn();
	turn();
	for (int i = 0; i <= 50; i++) {
		ck_assert_int_eq(c.s[i].n, 1);
		ck_assert_int_eq(c.s[i].ok, 1);
	}
	/* Closing with records waiting runs their callbacks too. */
	ck_assert_int_eq(append_n(j, &c, 51, 100, NULL), 0);
	journal_close(j);
	ck_assert_int_eq(c.s[51].n, 1);
	ck_assert_int_eq(c.s[51].ok, 1);
}
END_TEST

/* A full journal refuses at once (no callback), and takes records again
 * once replay has made room. */
START_TEST(test_full)
{
	static struct calls c;
	static struct seen s;
	struct journal *j = jopen(4096);
	char *cause = NULL;
	int i;

	memset(&c, 0, sizeof c);
	memset(&s, 0, sizeof s);
	for (i = 0; i < 100; i++)
		if (append_n(j, &c, i, 200, &cause) == -1)
			break;
	ck_assert_int_eq(i, 4096 / 216);
	ck_assert_ptr_nonnull(strstr(cause, "full"));
	free(cause);
	turn();
	ck_assert_int_eq(c.s[i].n, 0);
	ck_assert_uint_le(journal_bytes(j), 4096);
	/* The writer keeps its file; replay takes its records. */
	ck_assert_int_eq(replay(&s, NULL), 0);
	ck_assert_int_eq(s.n, i);
	clock_now = DAY2; /* the next append closes day 1 ... */
	ck_assert_int_eq(append_n(j, &c, 100, 200, &cause), -1);
	free(cause);
	ck_assert_int_eq(replay(&s, NULL), 0); /* ... which replay deletes */
	ck_assert_int_eq(s.n, i);
	ck_assert_int_eq(append_n(j, &c, 101, 200, NULL), 0);
	turn();
	ck_assert_int_eq(c.s[101].n, 1);
	journal_close(j);
}
END_TEST

/* Write three records of the given payload size to day 1 and close; the
 * file's bytes. */
static char *
three_records(size_t len, size_t *size)
{
	struct journal *j = jopen(1 << 30);
	char path[128], *data;
	int fd;
	struct stat sb;

	for (int i = 1; i <= 3; i++)
		ck_assert_int_eq(append_n(j, NULL, i, len, NULL), 0);
	turn();
	journal_close(j);
	snprintf(path, sizeof path, "%s/20250101.jnl", dir);
	fd = open(path, O_RDONLY);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(fstat(fd, &sb), 0);
	*size = (size_t)sb.st_size;
	data = xmalloc(*size);
	ck_assert_int_eq(read(fd, data, *size), (ssize_t)*size);
	close(fd);
	return data;
}

/* Write a file of the journal. */
static void
put_file(const char *name, const void *data, size_t n)
{
	char path[128];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
}

/* The record size used by the torn and corrupt tests. */
#define PAYLOAD 40
#define RECORD  (JOURNAL_HEADER + PAYLOAD)

/* A torn last record of every length is counted and skipped, the two
 * before it replayed, the file deleted. */
START_TEST(test_torn_every_length)
{
	size_t size;
	char *data = three_records(PAYLOAD, &size);

	ck_assert_uint_eq(size, 3 * RECORD);
	for (size_t k = 1; k < RECORD; k++) {
		static struct seen s;
		struct journal_stats st = {0};

		memset(&s, 0, sizeof s);
		put_file("20250101.jnl", data, 2 * RECORD + k);
		ck_assert_int_eq(replay(&s, &st), 0);
		ck_assert_msg(s.n == 2 && s.num[0] == 1 && s.num[1] == 2,
		              "torn at %zu: %d records", k, s.n);
		ck_assert_uint_eq(st.torn, 1);
		ck_assert_uint_eq(st.bad, 0);
		ck_assert_uint_eq(st.deleted, 1);
		ck_assert_int_eq(count_files(), 0);
	}
	free(data);
}
END_TEST

/* A damaged last payload (CRC mismatch) and a zero-filled end (a crash
 * after the size grew) are torn records too. */
START_TEST(test_torn_crc_and_zeros)
{
	static struct seen s;
	struct journal_stats st = {0};
	size_t size;
	char *data = three_records(PAYLOAD, &size), *z;

	data[size - 1] ^= 1;
	put_file("20250101.jnl", data, size);
	z = xcalloc(1, 3 * RECORD);
	memcpy(z, data, 2 * RECORD);
	put_file("20250102.jnl", z, 3 * RECORD);
	memset(&s, 0, sizeof s);
	ck_assert_int_eq(replay(&s, &st), 0);
	ck_assert_int_eq(s.n, 4);
	ck_assert_uint_eq(st.torn, 2);
	ck_assert_uint_eq(st.deleted, 2);
	free(z);
	free(data);
}
END_TEST

/* A corrupt record in the middle stops its file, renamed .bad and kept;
 * the next file is still replayed. */
START_TEST(test_corrupt_middle)
{
	static struct seen s;
	struct journal_stats st = {0};
	size_t size;
	char *data = three_records(PAYLOAD, &size);

	put_file("20250102.jnl", data, size);
	data[RECORD + JOURNAL_HEADER + 5] ^= 0x40; /* record 2's payload */
	put_file("20250101.jnl", data, size);
	memset(&s, 0, sizeof s);
	ck_assert_int_eq(replay(&s, &st), 0);
	ck_assert_int_eq(s.n, 4);
	ck_assert_int_eq(s.num[0], 1);
	ck_assert_int_eq(s.num[1], 1); /* from day 2 */
	ck_assert_uint_eq(st.bad, 1);
	ck_assert_uint_eq(st.deleted, 1);
	ck_assert(exists("20250101.jnl.bad"));
	ck_assert(!exists("20250101.jnl"));
	/* A damaged header in the middle, too. */
	memset(&st, 0, sizeof st);
	data[RECORD + JOURNAL_HEADER + 5] ^= 0x40;
	data[RECORD + 2] ^= 1;
	put_file("20250101.jnl", data, size);
	ck_assert_int_eq(replay(&s, &st), 0);
	ck_assert_uint_eq(st.bad, 1);
	ck_assert(exists("20250101.jnl.1.bad"));
	free(data);
}
END_TEST

/* A record appended while replay runs is replayed once: by this replay
 * or the next; the file being appended to is kept, then deleted once
 * the writer left it. */
START_TEST(test_append_during_replay)
{
	static struct calls c;
	static struct seen s;
	struct journal_stats st = {0};
	struct journal *j = jopen(1 << 30);

	memset(&c, 0, sizeof c);
	memset(&s, 0, sizeof s);
	for (int i = 1; i <= 5; i++)
		ck_assert_int_eq(append_n(j, &c, i, 30, NULL), 0);
	turn();
	s.j = j;
	s.calls = &c;
	s.append_at = 2; /* appends record 1002 */
	ck_assert_int_eq(replay(&s, &st), 0);
	ck_assert_uint_eq(st.active, 1);
	ck_assert_uint_eq(st.deleted, 0);
	ck_assert(exists("20250101.jnl"));
	ck_assert(exists("20250101.jnl.off"));
	ck_assert_int_eq(c.s[1002].n, 1);
	ck_assert_int_eq(append_n(j, &c, 6, 30, NULL), 0);
	turn();
	s.j = NULL;
	ck_assert_int_eq(replay(&s, NULL), 0);
	journal_close(j);
	ck_assert_int_eq(replay(&s, NULL), 0);
	ck_assert_int_eq(count_files(), 0);
	ck_assert_int_eq(s.n, 7);
	{
		int want[7] = {1, 2, 3, 4, 5, 1002, 6}, seen1002 = 0;
		for (int i = 0; i < 5; i++)
			ck_assert_int_eq(s.num[i], want[i]);
		for (int i = 5; i < 7; i++)
			seen1002 += s.num[i] == 1002;
		ck_assert_int_eq(seen1002, 1);
		ck_assert_int_eq(s.num[6], 6);
	}
}
END_TEST

/* When fn stops, replay returns -1 and the file stays; what was
 * committed is not replayed again. */
START_TEST(test_stop_and_resume)
{
	static struct seen s;
	size_t size;
	char *data = three_records(PAYLOAD, &size);

	free(data);
	memset(&s, 0, sizeof s);
	s.commit = 1;
	s.stop_at = 3;
	ck_assert_int_eq(replay(&s, NULL), -1);
	ck_assert_int_eq(s.n, 2);
	ck_assert(exists("20250101.jnl"));
	s.stop_at = 0;
	ck_assert_int_eq(replay(&s, NULL), 0);
	ck_assert_int_eq(s.n, 3);
	ck_assert_int_eq(s.num[2], 3);
	ck_assert_int_eq(count_files(), 0);
}
END_TEST

/* A writer that finds its day's file with a torn end (a crash) sets it
 * aside and starts afresh: nothing is appended after a torn record. */
START_TEST(test_open_after_crash)
{
	static struct calls c;
	static struct seen s;
	struct journal_stats st = {0}, pend = {0};
	size_t size;
	char *data = three_records(PAYLOAD, &size), *cause = NULL;
	struct journal *j;

	put_file("20250101.jnl", data, size - 7);
	free(data);
	memset(&c, 0, sizeof c);
	j = jopen(1 << 30);
	ck_assert_int_eq(append_n(j, &c, 4, 30, NULL), 0);
	ck_assert(exists("20250101-001.jnl"));
	turn();
	ck_assert_int_eq(journal_pending(dir, &pend, &cause), 0);
	ck_assert_uint_eq(pend.records, 3);
	ck_assert_uint_eq(pend.torn, 1);
	ck_assert_uint_eq(pend.active, 1);
	journal_close(j);
	memset(&s, 0, sizeof s);
	ck_assert_int_eq(replay(&s, &st), 0);
	ck_assert_int_eq(s.n, 3);
	ck_assert_int_eq(s.num[0], 1);
	ck_assert_int_eq(s.num[1], 2);
	ck_assert_int_eq(s.num[2], 4);
	ck_assert_uint_eq(st.torn, 1);
	ck_assert_int_eq(count_files(), 0);
}
END_TEST

/* A write that fails part way (the file size limit here, a full disk in
 * life) is refused and undone: the records around it replay cleanly. */
START_TEST(test_write_failure)
{
	static struct calls c;
	static struct seen s;
	struct journal_stats st = {0};
	struct journal *j = jopen(1 << 30);
	struct rlimit rl;
	char *cause = NULL;

	signal(SIGXFSZ, SIG_IGN);
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(append_n(j, &c, 1, 100, NULL), 0);
	turn();
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &rl), 0);
	rl.rlim_cur = 116 + 50;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_eq(append_n(j, &c, 2, 100, &cause), -1);
	ck_assert_ptr_nonnull(cause);
	free(cause);
	rl.rlim_cur = rl.rlim_max;
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &rl), 0);
	ck_assert_int_eq(append_n(j, &c, 3, 100, NULL), 0);
	turn();
	ck_assert_int_eq(c.s[2].n, 0);
	ck_assert_int_eq(c.s[3].n, 1);
	journal_close(j);
	memset(&s, 0, sizeof s);
	ck_assert_int_eq(replay(&s, &st), 0);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(s.num[0], 1);
	ck_assert_int_eq(s.num[1], 3);
	ck_assert_uint_eq(st.torn + st.bad, 0);
}
END_TEST

/* Only one replay at a time per directory. */
START_TEST(test_one_replay)
{
	char *cause = NULL;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	static struct seen s;

	ck_assert_int_eq(flock(fd, LOCK_EX), 0);
	ck_assert_int_eq(journal_replay(dir, seen_fn, &s, NULL, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "another replay"));
	free(cause);
	close(fd);
}
END_TEST

/* A record with every field, and one with the optional ones empty. */
static void
sample(struct intake_rec *r, int full)
{
	static unsigned char body[] = {'a', 0, 'b', 0xff, '\n'};

	memset(r, 0, sizeof *r);
	r->gateway = "kannel";
	r->msg_id = "id-42";
	r->from = "+84912345678";
	r->to = "8079";
	r->text = full ? "PA đường hỏng" : "";
	r->sent_at = full ? 1735732800 : 0;
	r->segments = full ? 2 : 0;
	r->smsc = full ? "smsc1" : NULL;
	r->raw_request = "POST /v1/gw/kannel/sms\nHost: x\n";
	r->raw_body = full ? body : NULL;
	r->raw_body_len = full ? sizeof body : 0;
	r->received_at_us = full ? 1735732800123456LL : -1;
	r->flags = full ? INTAKE_REC_CUT : 0;
}

/* Encode then decode gives the same fields. */
START_TEST(test_rec_round_trip)
{
	for (int full = 0; full < 2; full++) {
		struct intake_rec in, out;
		char *cause = NULL;
		size_t n;
		unsigned char *p;

		sample(&in, full);
		p = intake_rec_encode(&in, &n, &cause);
		ck_assert_msg(p != NULL, "%s", cause);
		ck_assert_int_eq(intake_rec_decode(p, n, &out, &cause), 0);
		ck_assert_str_eq(out.gateway, in.gateway);
		ck_assert_str_eq(out.msg_id, in.msg_id);
		ck_assert_str_eq(out.from, in.from);
		ck_assert_str_eq(out.to, in.to);
		ck_assert_str_eq(out.text, in.text);
		ck_assert_int_eq(out.sent_at, in.sent_at);
		ck_assert_int_eq(out.segments, in.segments);
		if (full)
			ck_assert_str_eq(out.smsc, in.smsc);
		else
			ck_assert_ptr_null(out.smsc);
		ck_assert_str_eq(out.raw_request, in.raw_request);
		ck_assert_uint_eq(out.raw_body_len, in.raw_body_len);
		ck_assert_ptr_nonnull(out.raw_body);
		ck_assert_mem_eq(out.raw_body,
		                 full ? (const void *)in.raw_body : "",
		                 in.raw_body_len);
		ck_assert_int_eq(out.received_at_us, in.received_at_us);
		ck_assert_uint_eq(out.flags, in.flags);
		intake_rec_clear(&out);
		ck_assert_ptr_null(out.gateway);
		free(p);
	}
}
END_TEST

/* Every truncation, a trailing byte, an unknown version, a NUL in a
 * string, a NULL where none may be, and lengths past the end are
 * refused with a cause and nothing to free. */
START_TEST(test_rec_rejects)
{
	struct intake_rec in, out;
	char *cause = NULL;
	size_t n;
	unsigned char *p, *q;

	sample(&in, 1);
	p = intake_rec_encode(&in, &n, NULL);
	for (size_t k = 0; k < n; k++) {
		ck_assert_msg(intake_rec_decode(p, k, &out, &cause) == -1,
		              "a prefix of %zu bytes decoded", k);
		ck_assert_ptr_nonnull(cause);
		ck_assert_ptr_null(out.gateway);
		free(cause);
		cause = NULL;
	}
	q = xmalloc(n + 1);
	memcpy(q, p, n);
	q[n] = 0;
	ck_assert_int_eq(intake_rec_decode(q, n + 1, &out, NULL), -1);
	q[0] = 3;
	ck_assert_int_eq(intake_rec_decode(q, n, &out, &cause), -1);
	ck_assert_ptr_nonnull(strstr(cause, "version"));
	free(cause);
	q[0] = 1;
	q[5] = 0; /* "kannel" -> "\0annel" */
	ck_assert_int_eq(intake_rec_decode(q, n, &out, NULL), -1);
	memcpy(q, p, n);
	memset(q + 1, 0xff, 4); /* gateway NULL */
	ck_assert_int_eq(intake_rec_decode(q, n, &out, NULL), -1);
	memset(q + 1, 0xfe, 4); /* gateway longer than the record */
	ck_assert_int_eq(intake_rec_decode(q, n, &out, NULL), -1);
	/* Encoding refuses a missing field. */
	in.msg_id = NULL;
	ck_assert_ptr_null(intake_rec_encode(&in, &n, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "msg_id"));
	free(cause);
	free(q);
	free(p);
}
END_TEST

/* A version 1 record (written before the flags were: no last byte) is
 * still read, with no flag; a version 2 record without them is not. */
START_TEST(test_rec_version1)
{
	struct intake_rec in, out;
	char *cause = NULL;
	size_t n;
	unsigned char *p;

	sample(&in, 1);
	p = intake_rec_encode(&in, &n, NULL);
	ck_assert_int_eq(p[0], 2);
	ck_assert_int_eq(p[n - 1], INTAKE_REC_CUT);
	ck_assert_int_eq(intake_rec_decode(p, n - 1, &out, NULL), -1);
	p[0] = 1;
	ck_assert_msg(intake_rec_decode(p, n - 1, &out, &cause) == 0, "%s",
	              cause);
	ck_assert_str_eq(out.text, in.text);
	ck_assert_int_eq(out.received_at_us, in.received_at_us);
	ck_assert_uint_eq(out.flags, 0);
	intake_rec_clear(&out);
	ck_assert_int_eq(intake_rec_decode(p, n, &out, NULL), -1);
	free(p);
}
END_TEST

/* The suite. */
static Suite *
journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("journal");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_crc32c);
	tcase_add_test(tc, test_round_trip_day_change);
	tcase_add_test(tc, test_group_fsync);
	tcase_add_test(tc, test_full);
	tcase_add_test(tc, test_torn_every_length);
	tcase_add_test(tc, test_torn_crc_and_zeros);
	tcase_add_test(tc, test_corrupt_middle);
	tcase_add_test(tc, test_append_during_replay);
	tcase_add_test(tc, test_stop_and_resume);
	tcase_add_test(tc, test_open_after_crash);
	tcase_add_test(tc, test_write_failure);
	tcase_add_test(tc, test_one_replay);
	suite_add_tcase(s, tc);
	tc = tcase_create("intake_rec");
	tcase_add_test(tc, test_rec_round_trip);
	tcase_add_test(tc, test_rec_rejects);
	tcase_add_test(tc, test_rec_version1);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(journal_suite());
	int failed;

	log_init("check_journal", 1, 0);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
