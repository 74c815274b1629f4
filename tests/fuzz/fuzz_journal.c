/* fuzz_journal.c: the intake record decoder and the journal's reader.
 *
 * The input is decoded as one intake record (what decodes must encode
 * back to the same bytes), then written as a journal file and read by
 * journal_scan and journal_replay, whose records are decoded in turn:
 * both must pass the same records, and replay must leave the directory
 * empty or with the file set aside as .bad.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "intake_rec.h"
#include "journal.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

/* Remove every file of the directory. */
static void
dir_clean(void)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	while (d != NULL && (e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			unlinkat(dirfd(d), e->d_name, 0);
	if (d != NULL)
		closedir(d);
}

/* Remove the directory at exit. */
static void
dir_remove(void)
{
	dir_clean();
	rmdir(dir);
}

/* Decode; what decodes must encode to the same bytes (a version 1
 * record as version 2: the same bytes, then flags 0). */
static void
fuzz_decode(const void *p, size_t n)
{
	struct intake_rec r;
	char *cause = NULL;
	unsigned char *again;
	const unsigned char *b = p;
	size_t len;
	int v1;

	if (intake_rec_decode(p, n, &r, &cause) == -1) {
		if (cause == NULL || r.gateway != NULL || r.raw_body != NULL)
			abort();
		free(cause);
		return;
	}
	v1 = b[0] == 1;
	if (cause != NULL ||
	    (again = intake_rec_encode(&r, &len, NULL)) == NULL ||
	    len != n + (size_t)v1 || again[0] != INTAKE_REC_VERSION ||
	    memcmp(again + 1, b + 1, n - 1) != 0 || (v1 && again[n] != 0))
		abort();
	free(again);
	intake_rec_clear(&r);
}

/* journal_scan's callback: count the records. */
static int
scan_fn(const char *file, const void *p, size_t n,
        const struct journal_stats *fs, void *arg)
{
	(void)file;
	(void)fs;
	if (p != NULL) {
		++*(uint64_t *)arg;
		fuzz_decode(p, n);
	}
	return 0;
}

/* journal_replay's callback: decode, commit every other record. */
static int
replay_fn(const void *p, size_t n, void *arg)
{
	if (p == NULL)
		return 1;
	fuzz_decode(p, n);
	return (int)(++*(uint64_t *)arg & 1);
}

/* Read the input as a journal file. */
static void
fuzz_file(const uint8_t *data, size_t size)
{
	struct journal_stats scan = {0}, rep = {0};
	char path[128];
	uint64_t seen = 0, passed = 0;
	int fd;

	snprintf(path, sizeof path, "%s/20250101.jnl", dir);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    write(fd, data, size) != (ssize_t)size)
		abort();
	close(fd);
	if (journal_scan(dir, scan_fn, &seen, &scan, NULL) != 0 ||
	    journal_replay(dir, replay_fn, &passed, &rep, NULL) != 0)
		abort();
	if (seen != scan.records || passed != rep.records ||
	    scan.records != rep.records || scan.torn != rep.torn ||
	    scan.bad != rep.bad || rep.deleted + rep.bad != 1)
		abort();
	dir_clean();
}

/* One input: as a record, then as a journal file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (dir[0] == '\0') {
		snprintf(dir, sizeof dir, "/tmp/fuzz_journal.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		atexit(dir_remove);
	}
	fuzz_decode(data, size);
	fuzz_file(data, size);
	return 0;
}
