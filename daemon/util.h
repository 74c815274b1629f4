/* util.h: allocation that never fails, growable buffers, small helpers.
 *
 * Freeing, the same way in every module (as tmux and OpenSMTPD do):
 * - x_free(struct x *p) frees the object p and everything it owns; p was
 *   allocated by x_new/x_create/x_start (or a parser returning it) and is
 *   gone after the call. x_free(NULL) does nothing, like free(3).
 * - x_clear(struct x *p) frees only what a struct the caller owns (on the
 *   stack, or a member of another struct) points to, and zeroes it (keeps
 *   what its comment says it keeps), so that clearing it again, or after a
 *   parser failed, is harmless. The struct itself is not freed. A module
 *   that keeps its state inside struct paknd clears it with MODULE_clear(d)
 *   (http_clear).
 * - A parser that fills a caller's struct clears it itself when it fails.
 */
#ifndef PAKN_UTIL_H
#define PAKN_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "log.h"

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) PAKN_PRINTF(1, 2);

/* A growable byte buffer, always NUL-terminated. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};

void buf_init(struct buf *b);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_addc(struct buf *b, char c);
void buf_adds(struct buf *b, const char *s);
void buf_printf(struct buf *b, const char *fmt, ...) PAKN_PRINTF(2, 3);
/* The Content-Security-Policy of a page whose one inline style is
 * style (by hash), written into out. */
void csp_for_style(const char *style, char *out, size_t size);
/* Append text with HTML's special characters escaped. */
void buf_add_html(struct buf *b, const char *s);
char *buf_detach(struct buf *b);
void buf_clear(struct buf *b);

/* Compare two byte strings in time independent of where they differ. */
int ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Set *cause to a newly allocated message (if cause is not NULL). */
void set_cause(char **cause, const char *fmt, ...) PAKN_PRINTF(2, 3);

/* Unix time t as a timestamptz literal in UTC ("2026-12-02 08:00:00+00")
 * in out; out, or NULL when t is 0 (none) or cannot be written. */
const char *sql_time(int64_t t, char out[32]);
/* The monotonic clock in seconds. */
double mono_now(void);

#endif
