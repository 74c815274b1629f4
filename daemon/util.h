/* util.h: allocation that never fails, growable buffers, small helpers. */
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
void buf_free(struct buf *b);

/* Compare two byte strings in time independent of where they differ. */
int ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* Set *cause to a newly allocated message (if cause is not NULL). */
void set_cause(char **cause, const char *fmt, ...) PAKN_PRINTF(2, 3);

#endif
