/* util.c: allocation that never fails, growable buffers, small helpers. */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "util.h"

/* Allocate or exit. */
void *
xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);
	if (p == NULL)
		fatal("malloc %zu", size);
	return p;
}

/* Allocate zeroed memory or exit. */
void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (p == NULL)
		fatal("calloc %zu*%zu", n, size);
	return p;
}

/* Resize or exit. */
void *
xrealloc(void *p, size_t size)
{
	void *q = realloc(p, size ? size : 1);
	if (q == NULL)
		fatal("realloc %zu", size);
	return q;
}

/* Resize an array, checking the multiplication. */
void *
xreallocarray(void *p, size_t n, size_t size)
{
	if (size != 0 && n > SIZE_MAX / size)
		fatalx("reallocarray: %zu*%zu overflows", n, size);
	return xrealloc(p, n * size);
}

/* Duplicate a string or exit. */
char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* Duplicate at most n bytes of a string or exit. */
char *
xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* Format into a new string or exit. */
char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	return s;
}

/* Start an empty buffer. */
void
buf_init(struct buf *b)
{
	b->cap = 64;
	b->len = 0;
	b->data = xmalloc(b->cap);
	b->data[0] = '\0';
}

/* Make room for n more bytes and the NUL. */
static void
buf_grow(struct buf *b, size_t n)
{
	if (b->data == NULL)
		buf_init(b);
	if (n > SIZE_MAX / 2 - b->len)
		fatalx("buffer too large");
	if (b->len + n + 1 <= b->cap)
		return;
	while (b->len + n + 1 > b->cap)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

/* Append bytes. */
void
buf_add(struct buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
}

/* Append one character. */
void
buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

/* Append a string. */
void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* Append formatted text. */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n == -1)
		fatal("vasprintf");
	buf_add(b, s, (size_t)n);
	free(s);
}

/* Append text with HTML's special characters escaped. */
void
buf_add_html(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '<':
			buf_adds(b, "&lt;");
			break;
		case '>':
			buf_adds(b, "&gt;");
			break;
		case '&':
			buf_adds(b, "&amp;");
			break;
		case '"':
			buf_adds(b, "&quot;");
			break;
		default:
			buf_addc(b, *s);
		}
	}
}

/* Write the Content-Security-Policy of a page whose only active content
 * is one inline style: that style by its SHA-256, nothing else, no
 * frame around it. */
void
csp_for_style(const char *style, char *out, size_t size)
{
	unsigned char md[EVP_MAX_MD_SIZE], b64[64];
	unsigned int n;

	if (!EVP_Digest(style, strlen(style), md, &n, EVP_sha256(), NULL)) {
		snprintf(out, size,
		         "default-src 'none'; frame-ancestors 'none'");
		return;
	}
	EVP_EncodeBlock(b64, md, (int)n);
	snprintf(out, size,
	         "default-src 'none'; style-src 'sha256-%s'; base-uri 'none'; "
	         "form-action 'none'; frame-ancestors 'none'",
	         b64);
}

/* Hand the data to the caller, who frees it; the buffer is reset. */
char *
buf_detach(struct buf *b)
{
	char *p;
	if (b->data == NULL)
		buf_init(b);
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

/* Release the buffer. */
void
buf_clear(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* Compare in time that depends only on the lengths. */
int
ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char diff = alen != blen;
	size_t i;
	if (blen == 0)
		return alen == 0;
	for (i = 0; i < alen; i++)
		diff |= x[i] ^ y[blen ? i % blen : 0];
	return diff == 0 && alen == blen;
}

/* Set *cause to a new message. */
void
set_cause(char **cause, const char *fmt, ...)
{
	va_list ap;
	char *s;
	if (cause == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatal("vasprintf");
	va_end(ap);
	*cause = s;
}

/* Unix time as a timestamptz literal in UTC, or NULL for none. */
const char *
sql_time(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%d %H:%M:%S+00", &tm) == 0)
		return NULL;
	return out;
}

/* The monotonic clock in seconds. */
double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
