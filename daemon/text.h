/* text.h: percent-decoding, forms, UTF-8 and UTF-16 (pure, no I/O). */
#ifndef PAKN_TEXT_H
#define PAKN_TEXT_H

#include <stddef.h>

/*
 * Percent-decode src[0..len) into a new NUL-terminated buffer; with
 * plus_is_space, '+' becomes ' ' (forms). The result may hold NUL bytes;
 * its length is stored in *outlen. NULL and *cause on a bad escape.
 */
char *text_percent_decode(const char *src, size_t len, int plus_is_space,
                          size_t *outlen, char **cause);

/* Is s[0..len) well-formed UTF-8 (no overlongs, surrogates, NUL)? */
int text_utf8_valid(const char *s, size_t len);

/* Decode UTF-16BE to UTF-8; NULL and *cause on odd length, lone
 * surrogates or NUL characters. A leading byte order mark is dropped:
 * FE FF, or FF FE, after which the text is read as UTF-16LE. */
char *text_utf16be_to_utf8(const unsigned char *s, size_t len, char **cause);

/* Remove leading byte order marks (U+FEFF) from UTF-8 text, in place. */
void text_strip_bom(char *s);

/* Decode ISO-8859-1 to UTF-8; NULL and *cause on NUL characters. */
char *text_latin1_to_utf8(const unsigned char *s, size_t len, char **cause);

/* The longest bearer token accepted. */
#define TEXT_BEARER_MAX 256

/*
 * Read an Authorization header value "Bearer TOKEN" (h may be NULL: no
 * header): the scheme in any case, one or more spaces or tabs, then 1 to
 * TEXT_BEARER_MAX printable ASCII characters without spaces; spaces and
 * tabs after it are ignored. Returns the token's length with *token
 * pointing into h, or 0 and *reason, a one-line explanation (a constant).
 */
size_t text_bearer(const char *h, const char **token, const char **reason);

/* One name=value pair; values are decoded and NUL-terminated. */
struct kv {
	char *key;
	char *val;
	size_t vlen;
};

struct form {
	struct kv *v;
	size_t n;
};

/* Parse application/x-www-form-urlencoded text and append the pairs to
 * f (so a query and a body can be merged). -1 and *cause on error. */
int form_parse(struct form *f, const char *s, size_t len, char **cause);
/* First value of key, or NULL. */
const struct kv *form_get(const struct form *f, const char *key);
/* Free the pairs and clear the form (it may be parsed into again). */
void form_clear(struct form *f);

#endif
