/* journal.c: a local append-only journal of opaque records, group-fsynced,
 * replayed in order.
 *
 * Writing. journal_append writes header and payload with one writev(2) on
 * an O_APPEND descriptor and queues the caller's callback; an event made
 * active on the first append of a loop turn runs after the turn's other
 * callbacks, calls fdatasync(2) once and then every queued callback. A
 * write that fails is undone (ftruncate) or, if it cannot be, the file is
 * set aside and the next append starts a new one: nobody appends after a
 * damaged record. A failed fdatasync fails the turn and sets the file
 * aside too (after such a failure the kernel may have dropped the pages).
 *
 * Locks. The writer holds a shared flock(2) on its file from open to
 * close. Whoever can take the exclusive lock (LOCK_NB) knows nobody
 * appends: a short or damaged tail is then a torn record (a crash mid-
 * write), else it is a write in progress and is left alone. When the
 * writer opens a day's file that has a torn tail (the process before it
 * crashed) and it is alone, it sets the file aside as YYYYMMDD-NNN.jnl and
 * starts the day's file afresh, so a torn record never ends up in the
 * middle of a file.
 *
 * Replay and the file being appended to: replay reads up to the end it
 * sees, asks the caller to commit (fn(NULL, 0)), then tries the exclusive
 * lock. Got it: nothing can be appended any more; records that came in
 * meanwhile are replayed (lock released while fn runs), then the file is
 * deleted. Not got: a writer has the file; replay writes the offset it
 * reached to NAME.off (write, fsync, rename) and the next replay starts
 * there. A record appended during a replay is thus replayed by this one
 * or the next, once; only a crash between a commit and the NAME.off
 * update replays records again, which intake's (gateway, id) dedup makes
 * harmless. The writer, opening a file, waits for the shared lock and
 * checks the path still names the file it opened, so it never appends to
 * a file replay has just deleted.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "journal.h"
#include "util.h"

#define JOURNAL_MAGIC 0x314a4b50u /* "PKJ1" as little-endian bytes */

/* A callback waiting for the turn's fdatasync. */
struct jwait {
	void (*done)(int ok, void *arg);
	void *arg;
};

struct journal {
	struct event_base *base;
	struct event *ev; /* the turn's fdatasync */
	char *dir;
	uint64_t max;   /* bytes of every file in dir */
	uint64_t bytes; /* as last counted, plus what we appended since */
	int fd;         /* the day's file, -1 before the first */
	int64_t day;    /* YYYYMMDD of fd */
	int broken;     /* set the file aside before the next append */
	int failed;     /* a sync of this turn failed already */
	struct jwait *wait;
	size_t nwait, capwait;
	int64_t (*now)(void *arg);
	void *now_arg;
};

/* The outcome of reading the record at a file's offset. */
enum jnext {
	J_REC,     /* a whole, valid record */
	J_END,     /* the end of the file */
	J_TAIL,    /* incomplete or damaged with nothing valid after it */
	J_CORRUPT, /* damaged with bytes after it */
};

/* A journal file being read. */
struct jfile {
	char *path;
	int fd;
	off_t size;
	off_t off;  /* the record to read next */
	off_t next; /* after the record read last */
	unsigned char *buf;
	size_t cap;
	const char *why; /* what is wrong at off (J_TAIL, J_CORRUPT) */
};

static uint32_t crc_table[256];

/* Fill the table of the reflected CRC-32C polynomial 0x82F63B78. */
static void
crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc_table[i] = c;
	}
}

/* The CRC-32C of n bytes, continuing from crc. */
uint32_t
journal_crc32c(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *s = p;

	if (crc_table[1] == 0)
		crc_init();
	crc = ~crc;
	while (n-- > 0)
		crc = crc_table[(crc ^ *s++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

/* Store a 32-bit value little-endian. */
static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* Load a 32-bit little-endian value. */
static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* Write the header of a payload of n bytes. */
static void
header_make(unsigned char h[JOURNAL_HEADER], const void *p, size_t n)
{
	put32(h, JOURNAL_MAGIC);
	put32(h + 4, (uint32_t)n);
	put32(h + 8, journal_crc32c(0, p, n));
	put32(h + 12, journal_crc32c(0, h, 12));
}

/* Is a header valid? Sets *len to its payload length. */
static int
header_ok(const unsigned char h[JOURNAL_HEADER], uint32_t *len)
{
	*len = get32(h + 4);
	return get32(h) == JOURNAL_MAGIC &&
	       get32(h + 12) == journal_crc32c(0, h, 12) &&
	       *len <= JOURNAL_RECORD_MAX;
}

/* Read n bytes at off; 0, or -1 (short or failed). */
static int
read_at(int fd, void *p, size_t n, off_t off)
{
	ssize_t r;

	while (n > 0) {
		if ((r = pread(fd, p, n, off)) == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p = (char *)p + r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

/* Are the bytes from off to the end of the file all zero (a tail the
 * file system extended without its data after a crash)? */
static int
zero_tail(int fd, off_t off, off_t size)
{
	unsigned char b[4096];

	while (off < size) {
		size_t n = size - off < (off_t)sizeof b ? (size_t)(size - off)
		                                        : sizeof b;
		if (read_at(fd, b, n, off) == -1)
			return 0;
		for (size_t i = 0; i < n; i++)
			if (b[i] != 0)
				return 0;
		off += (off_t)n;
	}
	return 1;
}

/* Read the record at f->off into f->buf. */
static enum jnext
jfile_next(struct jfile *f, const void **p, size_t *n)
{
	unsigned char h[JOURNAL_HEADER];
	uint32_t len;
	off_t left = f->size - f->off;

	if (left == 0)
		return J_END;
	f->why = "short header";
	if (left < JOURNAL_HEADER || read_at(f->fd, h, sizeof h, f->off) == -1)
		return J_TAIL;
	if (!header_ok(h, &len)) {
		if (zero_tail(f->fd, f->off, f->size)) {
			f->why = "zeros: the size grew, the data was lost";
			return J_TAIL;
		}
		f->why = "bad header";
		return J_CORRUPT;
	}
	f->why = "short payload";
	if ((off_t)len > left - JOURNAL_HEADER)
		return J_TAIL;
	if (len + 1 > f->cap) {
		f->cap = len + 1;
		f->buf = xrealloc(f->buf, f->cap);
	}
	if (read_at(f->fd, f->buf, len, f->off + JOURNAL_HEADER) == -1)
		return J_TAIL;
	f->next = f->off + JOURNAL_HEADER + (off_t)len;
	if (get32(h + 8) != journal_crc32c(0, f->buf, len)) {
		f->why = "payload CRC mismatch";
		return f->next == f->size ? J_TAIL : J_CORRUPT;
	}
	*p = f->buf;
	*n = len;
	return J_REC;
}

/* Try the exclusive lock without waiting: 1 if nobody else has the file. */
static int
lock_alone(int fd)
{
	while (flock(fd, LOCK_EX | LOCK_NB) == -1)
		if (errno != EINTR)
			return 0;
	return 1;
}

/* Fsync a directory (new, renamed or deleted entries); 0 or -1. */
static int
dir_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd == -1)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* Is name a journal file: YYYYMMDD.jnl or YYYYMMDD-NNN.jnl? */
static int
journal_name(const char *name)
{
	size_t i, len = strlen(name);

	if (len != 12 && len != 16)
		return 0;
	for (i = 0; i < 8; i++)
		if (!isdigit((unsigned char)name[i]))
			return 0;
	if (len == 16 && (name[8] != '-' || !isdigit((unsigned char)name[9]) ||
	                  !isdigit((unsigned char)name[10]) ||
	                  !isdigit((unsigned char)name[11])))
		return 0;
	return !strcmp(name + len - 4, ".jnl");
}

/* Is name a file set aside as corrupt (NAME.bad)? */
static int
bad_name(const char *name)
{
	size_t len = strlen(name);
	return len > 4 && !strcmp(name + len - 4, ".bad");
}

/* Compare two names for qsort. */
static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The journal (and, with bad, .bad) files of dir, sorted; -1 and *cause
 * if dir cannot be read. */
static int
journal_list(const char *dir, int bad, char ***names, size_t *n, char **cause)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t cap = 0;

	*names = NULL;
	*n = 0;
	if (d == NULL) {
		set_cause(cause, "%s: %s", dir, strerror(errno));
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (!journal_name(e->d_name) && !(bad && bad_name(e->d_name)))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			*names = xreallocarray(*names, cap, sizeof **names);
		}
		(*names)[(*n)++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (*n > 0)
		qsort(*names, *n, sizeof **names, name_cmp);
	return 0;
}

/* Free a list of names. */
static void
names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* The sum of the sizes of the regular files in dir. */
static uint64_t
dir_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat sb;
	uint64_t sum = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) ==
		        0 &&
		    S_ISREG(sb.st_mode))
			sum += (uint64_t)sb.st_size;
	closedir(d);
	return sum;
}

/* The replay offset stored in PATH.off, 0 if none. */
static off_t
offset_read(const char *path)
{
	char *p = xasprintf("%s.off", path), line[32];
	FILE *f = fopen(p, "r");
	long long v = 0;

	free(p);
	if (f == NULL)
		return 0;
	if (fgets(line, sizeof line, f) == NULL ||
	    sscanf(line, "%lld", &v) != 1 || v < 0)
		v = 0;
	fclose(f);
	return (off_t)v;
}

/* Store the replay offset of path in PATH.off (atomically); 0 or -1. */
static int
offset_write(const char *dir, const char *path, off_t off)
{
	char *p = xasprintf("%s.off", path), *tmp = xasprintf("%s.tmp", p);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int rc = -1;

	if (fd != -1) {
		dprintf(fd, "%lld\n", (long long)off);
		rc = fsync(fd);
		close(fd);
		if (rc == 0)
			rc = rename(tmp, p);
		if (rc == 0)
			rc = dir_sync(dir);
	}
	if (rc != 0)
		log_warn("journal %s: cannot record replay progress", path);
	free(tmp);
	free(p);
	return rc;
}

/* Remove PATH.off. */
static void
offset_remove(const char *path)
{
	char *p = xasprintf("%s.off", path);
	unlink(p);
	free(p);
}

/* Open a journal file for reading at its stored offset. */
static int
jfile_open(struct jfile *f, const char *dir, const char *name, char **cause)
{
	struct stat sb;

	memset(f, 0, sizeof *f);
	f->path = xasprintf("%s/%s", dir, name);
	if ((f->fd = open(f->path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(f->fd, &sb) == -1) {
		set_cause(cause, "%s: %s", f->path, strerror(errno));
		if (f->fd != -1)
			close(f->fd);
		free(f->path);
		return -1;
	}
	f->size = sb.st_size;
	if ((f->off = offset_read(f->path)) > f->size) {
		log_warnx("journal %s: replay offset %lld beyond the end, "
		          "reading from the start",
		          f->path, (long long)f->off);
		f->off = 0;
	}
	return 0;
}

/* Has the file grown since f->size was read? Updates it. */
static int
jfile_grew(struct jfile *f)
{
	struct stat sb;

	if (fstat(f->fd, &sb) == -1 || sb.st_size == f->size)
		return 0;
	f->size = sb.st_size;
	return 1;
}

/* Close a file being read. */
static void
jfile_close(struct jfile *f)
{
	close(f->fd);
	free(f->path);
	free(f->buf);
}

/* Rename a file with a corrupt record to NAME.bad (not replacing one). */
static void
jfile_set_bad(struct jfile *f, const char *dir)
{
	char *to = xasprintf("%s.bad", f->path);

	for (int i = 1; link(f->path, to) == -1 && errno == EEXIST && i < 1000;
	     i++) {
		free(to);
		to = xasprintf("%s.%d.bad", f->path, i);
	}
	if (unlink(f->path) == -1 || access(to, F_OK) == -1)
		log_warn("journal %s: cannot rename to %s", f->path, to);
	offset_remove(f->path);
	dir_sync(dir);
	free(to);
}

/* A replay in progress. */
struct jreplay {
	const char *dir;
	int (*fn)(const void *p, size_t n, void *arg);
	void *arg;
	struct journal_stats *st;
};

/* Pass the records from f->off to the end of what is there to fn;
 * -1 if fn stopped, else the outcome at the end. */
static int
replay_records(struct jreplay *r, struct jfile *f, enum jnext *at)
{
	const void *p;
	size_t n;
	int rc;

	while ((*at = jfile_next(f, &p, &n)) == J_REC) {
		if ((rc = r->fn(p, n, r->arg)) == -1)
			return -1;
		f->off = f->next;
		r->st->records++;
		r->st->bytes += n;
		if (rc == 1)
			offset_write(r->dir, f->path, f->off);
	}
	return r->fn(NULL, 0, r->arg) == -1 ? -1 : 0;
}

/* The end of a file nobody appends to: torn tail, corrupt record, or
 * fully replayed (deleted). */
static void
replay_finish(struct jreplay *r, struct jfile *f, enum jnext at)
{
	if (at == J_CORRUPT) {
		log_warnx("journal %s: corrupt record at offset %lld (%s): "
		          "file kept as .bad, records before it replayed",
		          f->path, (long long)f->off, f->why);
		r->st->bad++;
		jfile_set_bad(f, r->dir);
		return;
	}
	if (at == J_TAIL) {
		log_warnx("journal %s: torn last record at offset %lld (%s, "
		          "%lld bytes) skipped",
		          f->path, (long long)f->off, f->why,
		          (long long)(f->size - f->off));
		r->st->torn++;
	}
	if (unlink(f->path) == -1)
		log_warn("journal %s: cannot delete", f->path);
	else
		r->st->deleted++;
	offset_remove(f->path);
}

/* Replay one file; 0, or -1 when fn stopped. */
static int
replay_file(struct jreplay *r, const char *name, char **cause)
{
	struct jfile f;
	enum jnext at;
	off_t start;

	if (jfile_open(&f, r->dir, name, cause) == -1)
		return -1;
	r->st->files++;
	start = f.off;
	for (;;) {
		if (replay_records(r, &f, &at) == -1) {
			set_cause(cause, "replay stopped in %s at offset %lld",
			          f.path, (long long)f.off);
			jfile_close(&f);
			return -1;
		}
		if (!lock_alone(f.fd))
			break;
		if (!jfile_grew(&f)) {
			replay_finish(r, &f, at);
			jfile_close(&f);
			return 0;
		}
		flock(f.fd, LOCK_UN);
	}
	/* A writer has the file: keep it and where replay reached. */
	r->st->active++;
	if (at == J_CORRUPT) {
		log_warnx("journal %s: corrupt record at offset %lld (%s) in "
		          "the file being appended to: replay stops there",
		          f.path, (long long)f.off, f.why);
		r->st->bad++;
	}
	if (f.off != start)
		offset_write(r->dir, f.path, f.off);
	jfile_close(&f);
	return 0;
}

/* Take the directory's replay lock; its fd, or -1 and *cause. */
static int
replay_lock(const char *dir, char **cause)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd == -1) {
		set_cause(cause, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (!lock_alone(fd)) {
		set_cause(cause, "%s: another replay is running", dir);
		close(fd);
		return -1;
	}
	return fd;
}

/* Replay every journal file of dir in order. */
int
journal_replay(const char *dir, int (*fn)(const void *p, size_t n, void *arg),
               void *arg, struct journal_stats *st, char **cause)
{
	struct journal_stats local = {0};
	struct jreplay r = {dir, fn, arg, st != NULL ? st : &local};
	char **names;
	size_t n, i;
	int lock, rc = 0;

	if ((lock = replay_lock(dir, cause)) == -1)
		return -1;
	if (journal_list(dir, 0, &names, &n, cause) == -1) {
		close(lock);
		return -1;
	}
	for (i = 0; i < n && rc == 0; i++)
		rc = replay_file(&r, names[i], cause);
	names_free(names, n);
	close(lock);
	return rc;
}

/* Scan one file without changing it. */
static int
scan_file(const char *dir, const char *name,
          int (*fn)(const char *, const void *, size_t,
                    const struct journal_stats *, void *),
          void *arg, struct journal_stats *fs, char **cause)
{
	struct jfile f;
	enum jnext at;
	const void *p;
	size_t n;

	if (jfile_open(&f, dir, name, cause) == -1)
		return -1;
	fs->files = 1;
	if (bad_name(name)) {
		fs->bad = 1;
		jfile_close(&f);
		return fn != NULL ? fn(name, NULL, 0, fs, arg) : 0;
	}
	while ((at = jfile_next(&f, &p, &n)) == J_REC) {
		fs->records++;
		fs->bytes += n;
		f.off = f.next;
		if (fn != NULL && fn(name, p, n, fs, arg) == -1) {
			jfile_close(&f);
			return -1;
		}
	}
	if (!lock_alone(f.fd) || jfile_grew(&f))
		fs->active = 1;
	else if (at == J_TAIL)
		fs->torn = 1;
	else if (at == J_CORRUPT)
		fs->bad = 1;
	jfile_close(&f);
	return fn != NULL ? fn(name, NULL, 0, fs, arg) : 0;
}

/* Read dir without changing it. */
int
journal_scan(const char *dir,
             int (*fn)(const char *file, const void *p, size_t n,
                       const struct journal_stats *file_st, void *arg),
             void *arg, struct journal_stats *st, char **cause)
{
	char **names;
	size_t n, i;
	int rc = 0;

	if (journal_list(dir, 1, &names, &n, cause) == -1)
		return -1;
	for (i = 0; i < n && rc == 0; i++) {
		struct journal_stats fs = {0};
		if ((rc = scan_file(dir, names[i], fn, arg, &fs, cause)) == -1)
			break;
		if (st != NULL) {
			st->files += fs.files;
			st->records += fs.records;
			st->bytes += fs.bytes;
			st->torn += fs.torn;
			st->bad += fs.bad;
			st->active += fs.active;
		}
	}
	names_free(names, n);
	return rc;
}

/* Records and bytes waiting. */
int
journal_pending(const char *dir, struct journal_stats *st, char **cause)
{
	return journal_scan(dir, NULL, NULL, st, cause);
}

/* The default clock: time(2). */
static int64_t
clock_time(void *arg)
{
	(void)arg;
	return (int64_t)time(NULL);
}

/* Today's UTC date as YYYYMMDD. */
static int64_t
journal_today(struct journal *j)
{
	time_t t = (time_t)j->now(j->now_arg);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return 19700101;
	return (int64_t)(tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 +
	       tm.tm_mday;
}

/* Does a file of size bytes end with a whole, valid record (headers
 * followed, the last payload's CRC checked)? */
static int
file_clean(int fd, off_t size)
{
	struct jfile f = {.fd = fd, .size = size};
	unsigned char h[JOURNAL_HEADER];
	const void *p;
	size_t n;
	uint32_t len;
	int ok = 0;

	while (f.off < size) {
		if (size - f.off < JOURNAL_HEADER ||
		    read_at(fd, h, sizeof h, f.off) == -1 ||
		    !header_ok(h, &len) ||
		    (off_t)len > size - f.off - JOURNAL_HEADER)
			return 0;
		if (f.off + JOURNAL_HEADER + (off_t)len == size)
			break;
		f.off += JOURNAL_HEADER + (off_t)len;
	}
	if (f.off == size || jfile_next(&f, &p, &n) == J_REC)
		ok = 1;
	free(f.buf);
	return ok;
}

/* Move the day's file path aside as YYYYMMDD-NNN.jnl (the next number),
 * so it keeps its place before the day's new file; 0 or -1. */
static int
set_aside(struct journal *j, const char *path, int64_t day)
{
	char **names, *to = NULL, prefix[16];
	size_t n, i;
	int next = 1, rc = -1;

	if (journal_list(j->dir, 0, &names, &n, NULL) == -1)
		return -1;
	snprintf(prefix, sizeof prefix, "%08lld-", (long long)day);
	for (i = 0; i < n; i++)
		if (!strncmp(names[i], prefix, 9) && atoi(names[i] + 9) >= next)
			next = atoi(names[i] + 9) + 1;
	names_free(names, n);
	for (; next < 1000 && rc == -1; next++) {
		free(to);
		to = xasprintf("%s/%s%03d.jnl", j->dir, prefix, next);
		if (link(path, to) == 0)
			rc = 0;
		else if (errno != EEXIST)
			break;
	}
	if (rc == 0 && (unlink(path) == -1 || dir_sync(j->dir) == -1))
		rc = -1;
	if (rc == 0)
		log_warnx("journal %s: set aside as %s (damaged end: a crash "
		          "or a failed write); replay skips its torn record",
		          path, to);
	else
		log_warn("journal %s: cannot set aside", path);
	free(to);
	return rc;
}

/* Check a day's file opened and locked shared: 0 to append to it, 1 to
 * open again (replay deleted it, or it was set aside), -1 (errno). */
static int
file_check(struct journal *j, int fd, const char *path, int64_t day)
{
	struct stat a, b;

	if (fstat(fd, &a) == -1)
		return -1;
	if (stat(path, &b) == -1)
		return errno == ENOENT ? 1 : -1;
	if (a.st_ino != b.st_ino || a.st_dev != b.st_dev)
		return 1;
	if (a.st_size == 0)
		return dir_sync(j->dir) == -1 ? -1 : 0;
	if (file_clean(fd, a.st_size))
		return 0;
	/* A torn end: set the file aside if we are alone with it; if not,
	 * another writer has it and the end is its write in progress. */
	if (!lock_alone(fd))
		return flock(fd, LOCK_SH) == -1 ? -1 : 0;
	return set_aside(j, path, day) == -1 ? -1 : 1;
}

/* Open the file of day with the shared lock, a fresh one if the last
 * writer left a torn end; the fd, or -1 and *cause. */
static int
file_open(struct journal *j, int64_t day, char **cause)
{
	char *path = xasprintf("%s/%08lld.jnl", j->dir, (long long)day);
	int fd, rc = 1;

	for (int tries = 0; tries < 10 && rc == 1; tries++) {
		fd =
		    open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (fd == -1) {
			rc = -1;
			break;
		}
		while ((rc = flock(fd, LOCK_SH)) == -1 && errno == EINTR)
			;
		if (rc == 0)
			rc = file_check(j, fd, path, day);
		if (rc != 0) {
			int err = errno;
			close(fd);
			errno = err;
		}
	}
	if (rc != 0)
		set_cause(cause, "journal %s: %s", path,
		          rc == -1 ? strerror(errno) : "keeps changing");
	free(path);
	return rc == 0 ? fd : -1;
}

/* Sync the current file; 0, or -1 (logged; the file is then set aside
 * before the next append). */
static int
journal_sync(struct journal *j)
{
	if (j->fd == -1)
		return 0;
	while (fdatasync(j->fd) == -1) {
		if (errno == EINTR)
			continue;
		log_warn("journal %s: fdatasync of day %lld", j->dir,
		         (long long)j->day);
		j->broken = 1;
		return -1;
	}
	return 0;
}

/* The turn's fdatasync, then every callback waiting for it. */
static void
journal_flush(evutil_socket_t fd, short what, void *arg)
{
	struct journal *j = arg;
	struct jwait *w = j->wait;
	size_t n = j->nwait;
	int ok = journal_sync(j) == 0 && !j->failed;

	(void)fd;
	(void)what;
	j->wait = NULL;
	j->nwait = j->capwait = 0;
	j->failed = 0;
	for (size_t i = 0; i < n; i++)
		w[i].done(ok, w[i].arg);
	free(w);
}

/* Close the current file (synced first if records wait) and, if it is
 * damaged, set it aside. */
static void
file_close(struct journal *j)
{
	char *path;

	if (j->fd == -1)
		return;
	if (j->nwait > 0 && journal_sync(j) == -1)
		j->failed = 1;
	if (j->broken) {
		path = xasprintf("%s/%08lld.jnl", j->dir, (long long)j->day);
		if (lock_alone(j->fd))
			set_aside(j, path, j->day);
		free(path);
		j->broken = 0;
	}
	close(j->fd);
	j->fd = -1;
}

/* Make sure the file of today is open; 0 or -1 and *cause. */
static int
journal_roll(struct journal *j, char **cause)
{
	int64_t day = journal_today(j);

	if (j->fd != -1 && day == j->day && !j->broken)
		return 0;
	file_close(j);
	if ((j->fd = file_open(j, day, cause)) == -1)
		return -1;
	j->day = day;
	return 0;
}

/* Open the journal in dir. */
struct journal *
journal_open(struct event_base *base, const char *dir, uint64_t max_bytes,
             char **cause)
{
	struct journal *j;

	if ((mkdir(dir, 0700) == -1 && errno != EEXIST) ||
	    access(dir, W_OK | X_OK) == -1) {
		set_cause(cause, "journal %s: %s", dir, strerror(errno));
		return NULL;
	}
	j = xcalloc(1, sizeof *j);
	j->base = base;
	j->dir = xstrdup(dir);
	j->max = max_bytes;
	j->fd = -1;
	j->now = clock_time;
	if ((j->ev = event_new(base, -1, 0, journal_flush, j)) == NULL) {
		set_cause(cause, "journal %s: event_new failed", dir);
		journal_close(j);
		return NULL;
	}
	j->bytes = dir_bytes(dir);
	return j;
}

/* Replace the clock (UTC seconds). */
void
journal_set_clock(struct journal *j, int64_t (*now)(void *arg), void *arg)
{
	j->now = now != NULL ? now : clock_time;
	j->now_arg = arg;
}

/* Sync, call what waits, close. */
void
journal_close(struct journal *j)
{
	if (j == NULL)
		return;
	if (j->nwait > 0)
		journal_flush(-1, 0, j);
	file_close(j);
	if (j->ev != NULL)
		event_free(j->ev);
	free(j->wait);
	free(j->dir);
	free(j);
}

/* Undo a write of w bytes that did not complete; else the file is set
 * aside before the next append. */
static void
journal_undo(struct journal *j, ssize_t w)
{
	struct stat sb;
	off_t end;

	if (w <= 0)
		return;
	end = lseek(j->fd, 0, SEEK_CUR);
	/* Only our bytes end the file (no other writer came after us). */
	if (end == -1 || fstat(j->fd, &sb) == -1 || sb.st_size != end ||
	    ftruncate(j->fd, end - w) == -1)
		j->broken = 1;
}

/* Write header and payload at once; 0 or -1 and *cause. */
static int
journal_write(struct journal *j, const void *p, size_t n, char **cause)
{
	unsigned char h[JOURNAL_HEADER];
	struct iovec iov[2] = {{h, sizeof h}, {(void *)p, n}};
	ssize_t w;

	header_make(h, p, n);
	while ((w = writev(j->fd, iov, 2)) == -1 && errno == EINTR)
		;
	if (w == (ssize_t)(sizeof h + n))
		return 0;
	if (w == -1)
		set_cause(cause, "journal %s: %s", j->dir, strerror(errno));
	else
		set_cause(cause, "journal %s: short write (%zd of %zu bytes)",
		          j->dir, w, sizeof h + n);
	journal_undo(j, w);
	return -1;
}

/* Append one record and queue done for the turn's fdatasync. */
int
journal_append(struct journal *j, const void *p, size_t n,
               void (*done)(int ok, void *arg), void *arg, char **cause)
{
	uint64_t need = JOURNAL_HEADER + (uint64_t)n;

	if (n > JOURNAL_RECORD_MAX) {
		set_cause(cause, "journal: record of %zu bytes is too large",
		          n);
		return -1;
	}
	if (journal_roll(j, cause) == -1)
		return -1;
	if (j->bytes + need > j->max &&
	    (j->bytes = dir_bytes(j->dir)) + need > j->max) {
		set_cause(cause, "journal %s full (%llu of %llu bytes)", j->dir,
		          (unsigned long long)j->bytes,
		          (unsigned long long)j->max);
		return -1;
	}
	if (journal_write(j, p, n, cause) == -1)
		return -1;
	j->bytes += need;
	if (j->nwait == j->capwait) {
		j->capwait = j->capwait ? 2 * j->capwait : 16;
		j->wait = xreallocarray(j->wait, j->capwait, sizeof *j->wait);
	}
	j->wait[j->nwait].done = done;
	j->wait[j->nwait++].arg = arg;
	event_active(j->ev, 0, 0);
	return 0;
}

/* Bytes of every file in the directory. */
uint64_t
journal_bytes(struct journal *j)
{
	return j->bytes = dir_bytes(j->dir);
}
