/* journal.h: a local append-only journal of opaque records, group-fsynced,
 * replayed in order (intake writes to it while PostgreSQL is down).
 *
 * Files: one per UTC day in the directory, YYYYMMDD.jnl; a file set aside
 * after a crash or a failed write is YYYYMMDD-NNN.jnl (it sorts before
 * the day's current file). Each record is a 16-byte header (magic, payload
 * length, CRC-32C of the payload, CRC-32C of the header's first 12 bytes;
 * little-endian) and the payload. The writer holds a shared flock(2) on
 * the file it appends to; a reader that can take the exclusive lock knows
 * nobody appends, so only then is a short or damaged tail a torn record
 * rather than a write in progress. See journal.c for replay's progress
 * files (NAME.off) and the .bad files.
 */
#ifndef PAKN_JOURNAL_H
#define PAKN_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

struct event_base;
struct journal;

#define JOURNAL_HEADER     16
#define JOURNAL_RECORD_MAX (256u << 20) /* largest payload */

/* What a replay, scan or pending count saw (added to, never reset). */
struct journal_stats {
	uint64_t files;   /* journal files read */
	uint64_t records; /* records passed on (waiting, for pending) */
	uint64_t bytes;   /* their payload bytes */
	uint64_t torn;    /* torn last records skipped */
	uint64_t bad;     /* files stopped at a corrupt record, or .bad */
	uint64_t deleted; /* files replayed whole and removed */
	uint64_t active;  /* files a writer has open (kept) */
};

/* The CRC-32C (Castagnoli) of n bytes, continuing from crc (0 to start). */
uint32_t journal_crc32c(uint32_t crc, const void *p, size_t n);

/*
 * Open the journal in dir (made 0700 if missing, must be writable) on
 * base, bounded to max_bytes (every file in dir counts). NULL and *cause
 * on error. The day's file is made by the first append of the day, named
 * by the clock (UTC seconds): journal_set_clock replaces time(2) (tests).
 */
struct journal *journal_open(struct event_base *base, const char *dir,
                             uint64_t max_bytes, char **cause);
void journal_set_clock(struct journal *j, int64_t (*now)(void *arg), void *arg);
/* Sync what is pending, call its callbacks, close. Not from a callback. */
void journal_close(struct journal *j);
/*
 * Append one record of n bytes (written at once) and queue done: once
 * per event-loop turn one fdatasync serves every record of the turn, then
 * each done runs with ok 1 (durable) or 0 (write or sync failed: answer
 * 503). Returns -1 and *cause, done never called, when the journal is
 * full or the write fails: no record is then half accepted.
 */
int journal_append(struct journal *j, const void *p, size_t n,
                   void (*done)(int ok, void *arg), void *arg, char **cause);
/* Bytes of every file in the directory (counted again now). */
uint64_t journal_bytes(struct journal *j);

/*
 * Replay dir: files in name (date) order, records in order, each passed
 * to fn. fn returns -1 to stop (the file stays, replay returns -1 with
 * *cause "stopped"), 0 when it took the record, 1 when it took it and
 * every record so far is durable (a commit): replay then records its
 * progress in NAME.off, so the next replay starts after it. At the end
 * of each file fn(NULL, 0, arg) asks for that commit (>= 0: done); then a
 * file nobody appends to is deleted, and the one being appended to keeps
 * its progress. A torn last record is counted and skipped with a
 * warning; a corrupt record in the middle stops its file, renamed
 * NAME.bad (warning; kept as is while a writer has it open). One replay
 * at a time per directory (-1 otherwise). st may be NULL.
 */
int journal_replay(const char *dir,
                   int (*fn)(const void *p, size_t n, void *arg), void *arg,
                   struct journal_stats *st, char **cause);
/*
 * Read dir without changing it: fn(file, p, n, file_st, arg) for each
 * record waiting, then fn(file, NULL, 0, file_st, arg) at the end of each
 * file (.bad files included, with no records), file_st being that file's
 * counts. fn returns -1 to stop. fn may be NULL.
 */
int journal_scan(const char *dir,
                 int (*fn)(const char *file, const void *p, size_t n,
                           const struct journal_stats *file_st, void *arg),
                 void *arg, struct journal_stats *st, char **cause);
/* Records and bytes waiting in dir (a scan without fn); 0 or -1. */
int journal_pending(const char *dir, struct journal_stats *st, char **cause);

#endif
