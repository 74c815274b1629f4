/* text.c: percent-decoding, forms, UTF-8 and UTF-16 (pure, no I/O). */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "text.h"
#include "util.h"

/* Return the value of a hex digit, or -1. */
static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode, naming offsets in errors from base (the start of src
 * within a larger string). */
static char *
percent_decode_at(const char *src, size_t len, int plus_is_space, size_t base,
                  size_t *outlen, char **cause)
{
	const unsigned char *s = (const unsigned char *)src;
	char *out = xmalloc(len + 1);
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '+' && plus_is_space) {
			out[o++] = ' ';
			continue;
		}
		if (s[i] != '%') {
			out[o++] = (char)s[i];
			continue;
		}
		if (len - i < 3 || (hi = hexval(s[i + 1])) == -1 ||
		    (lo = hexval(s[i + 2])) == -1) {
			free(out);
			set_cause(cause, "bad percent-encoding at byte %zu",
			          base + i);
			return NULL;
		}
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	if (outlen != NULL)
		*outlen = o;
	return out;
}

/* Percent-decode src[0..len) into a new NUL-terminated buffer. */
char *
text_percent_decode(const char *src, size_t len, int plus_is_space,
                    size_t *outlen, char **cause)
{
	return percent_decode_at(src, len, plus_is_space, 0, outlen, cause);
}

/* Return the length of the UTF-8 sequence at s[0..len), 0 if invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t len)
{
	uint32_t cp, min;
	size_t n, i;

	if (s[0] < 0x80)
		return s[0] != 0;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		n = 2;
		min = 0x80;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		n = 3;
		min = 0x800;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		n = 4;
		min = 0x10000;
		cp = s[0] & 0x07;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

/* Is s[0..len) well-formed UTF-8 (no overlongs, surrogates, NUL)? */
int
text_utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;

	while (i < len) {
		if ((n = utf8_seq(p + i, len - i)) == 0)
			return 0;
		i += n;
	}
	return 1;
}

/* Append one code point as UTF-8. */
static void
utf8_put(struct buf *b, uint32_t cp)
{
	char c[4];

	if (cp < 0x80) {
		buf_addc(b, (char)cp);
	} else if (cp < 0x800) {
		c[0] = (char)(0xc0 | cp >> 6);
		c[1] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, c, 2);
	} else if (cp < 0x10000) {
		c[0] = (char)(0xe0 | cp >> 12);
		c[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		c[2] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, c, 3);
	} else {
		c[0] = (char)(0xf0 | cp >> 18);
		c[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		c[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		c[3] = (char)(0x80 | (cp & 0x3f));
		buf_add(b, c, 4);
	}
}

/* The 16-bit unit at s[i], big- or little-endian. */
static uint32_t
utf16_unit(const unsigned char *s, size_t i, int le)
{
	return le ? (uint32_t)s[i + 1] << 8 | s[i]
	          : (uint32_t)s[i] << 8 | s[i + 1];
}

/* Read one code point at s[i]; -1 and *cause on NUL or a lone surrogate. */
static int
utf16_next(const unsigned char *s, size_t len, size_t i, int le, uint32_t *cp,
           size_t *used, char **cause)
{
	uint32_t hi = utf16_unit(s, i, le), lo;

	*used = 2;
	if (hi == 0) {
		set_cause(cause, "NUL character at byte %zu", i);
		return -1;
	}
	if (hi >= 0xdc00 && hi <= 0xdfff) {
		set_cause(cause, "unpaired low surrogate at byte %zu", i);
		return -1;
	}
	if (hi < 0xd800 || hi > 0xdbff) {
		*cp = hi;
		return 0;
	}
	if (len - i < 4 || (lo = utf16_unit(s, i + 2, le)) < 0xdc00 ||
	    lo > 0xdfff) {
		set_cause(cause, "unpaired high surrogate at byte %zu", i);
		return -1;
	}
	*cp = 0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00);
	*used = 4;
	return 0;
}

/* Decode UTF-16 to UTF-8: big-endian, or little-endian after the byte
 * order mark FF FE; a leading byte order mark is not text. */
char *
text_utf16be_to_utf8(const unsigned char *s, size_t len, char **cause)
{
	struct buf b;
	uint32_t cp;
	size_t i = 0, used;
	int le = 0;

	if (len % 2 != 0) {
		set_cause(cause, "odd number of bytes (%zu) in UTF-16", len);
		return NULL;
	}
	if (len >= 2 && s[0] == 0xfe && s[1] == 0xff)
		i = 2;
	else if (len >= 2 && s[0] == 0xff && s[1] == 0xfe)
		i = 2, le = 1;
	buf_init(&b);
	while (i < len) {
		if (utf16_next(s, len, i, le, &cp, &used, cause) != 0) {
			buf_clear(&b);
			return NULL;
		}
		utf8_put(&b, cp);
		i += used;
	}
	return buf_detach(&b);
}

/* Remove leading byte order marks (U+FEFF, EF BB BF in UTF-8) in place. */
void
text_strip_bom(char *s)
{
	size_t n = 0;

	while (strncmp(s + n, "\xef\xbb\xbf", 3) == 0)
		n += 3;
	if (n > 0)
		memmove(s, s + n, strlen(s + n) + 1);
}

/* Decode ISO-8859-1 to UTF-8. */
char *
text_latin1_to_utf8(const unsigned char *s, size_t len, char **cause)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < len; i++) {
		if (s[i] == 0) {
			buf_clear(&b);
			set_cause(cause, "NUL character at byte %zu", i);
			return NULL;
		}
		utf8_put(&b, s[i]);
	}
	return buf_detach(&b);
}

/* Decode one name[=value] pair found at s[off..off+len) and append it. */
static int
form_add_pair(struct form *f, const char *s, size_t off, size_t len,
              char **cause)
{
	const char *p = s + off, *eq = memchr(p, '=', len);
	size_t klen = eq != NULL ? (size_t)(eq - p) : len, kdec;
	struct kv kv;

	kv.key = percent_decode_at(p, klen, 1, off, &kdec, cause);
	if (kv.key == NULL)
		return -1;
	if (!text_utf8_valid(kv.key, kdec)) {
		set_cause(cause, "parameter name at byte %zu is not UTF-8",
		          off);
		free(kv.key);
		return -1;
	}
	if (eq == NULL) {
		kv.val = xstrdup("");
		kv.vlen = 0;
	} else {
		kv.val = percent_decode_at(eq + 1, len - klen - 1, 1,
		                           off + klen + 1, &kv.vlen, cause);
		if (kv.val == NULL) {
			free(kv.key);
			return -1;
		}
	}
	f->v = xreallocarray(f->v, f->n + 1, sizeof *f->v);
	f->v[f->n++] = kv;
	return 0;
}

/* Drop the pairs after the first n. */
static void
form_truncate(struct form *f, size_t n)
{
	while (f->n > n) {
		f->n--;
		free(f->v[f->n].key);
		free(f->v[f->n].val);
	}
}

/* Parse application/x-www-form-urlencoded text and append the pairs;
 * on error f is left as it was. */
int
form_parse(struct form *f, const char *s, size_t len, char **cause)
{
	size_t start = 0, end, n0 = f->n;
	const char *amp;

	while (start < len) {
		amp = memchr(s + start, '&', len - start);
		end = amp != NULL ? (size_t)(amp - s) : len;
		if (end > start &&
		    form_add_pair(f, s, start, end - start, cause) != 0) {
			form_truncate(f, n0);
			return -1;
		}
		start = end + 1;
	}
	return 0;
}

/* First value of key, or NULL. */
const struct kv *
form_get(const struct form *f, const char *key)
{
	size_t i;

	if (f == NULL)
		return NULL;
	for (i = 0; i < f->n; i++) {
		if (strcmp(f->v[i].key, key) == 0)
			return &f->v[i];
	}
	return NULL;
}

/* Free every pair; the form is empty afterwards. */
void
form_clear(struct form *f)
{
	if (f == NULL)
		return;
	form_truncate(f, 0);
	free(f->v);
	f->v = NULL;
	f->n = 0;
}

/* Is c a space or a tab? */
static int
text_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Read a bearer token. */
size_t
text_bearer(const char *h, const char **token, const char **reason)
{
	const unsigned char *t;
	size_t n, end;

	*token = NULL;
	*reason = NULL;
	if (h == NULL) {
		*reason =
		    "missing token: send the header Authorization: Bearer "
		    "<token>";
		return 0;
	}
	if (strncasecmp(h, "Bearer", 6) != 0 ||
	    (h[6] != '\0' && !text_blank(h[6]))) {
		*reason = "the Authorization scheme must be Bearer";
		return 0;
	}
	for (h += 6; text_blank(*h); h++)
		;
	t = (const unsigned char *)h;
	for (n = 0; t[n] > ' ' && t[n] < 0x7f; n++)
		;
	for (end = n; text_blank(h[end]); end++)
		;
	if (h[end] != '\0')
		*reason =
		    "bearer token with a space or a character that is not "
		    "printable ASCII";
	else if (n == 0)
		*reason = "empty bearer token";
	else if (n > TEXT_BEARER_MAX)
		*reason = "bearer token longer than 256 characters";
	if (*reason != NULL)
		return 0;
	*token = h;
	return n;
}
