/* edge.c: what a request may carry into SQL as text (pure, no I/O).
 *
 * Every text paknd passes to a statement must be something PostgreSQL
 * accepts, or the statement fails: a query parameter with invalid UTF-8
 * (%C3%28) or a NUL (%00) must be refused at the HTTP edge with a 400
 * and its reason, and never reach the database. Gateways' own fields are
 * checked by their adapters (gw_*.c); this covers the rest: the paths,
 * query strings and credentials of the API, statistics and reports.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edge.h"
#include "text.h"
#include "util.h"

/* Is s[0..len) text PostgreSQL takes as it is? */
int
edge_text_ok(const char *s, size_t len, int multiline)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != 0x7f)
			continue;
		if (!multiline || (c != '\t' && c != '\n' && c != '\r'))
			return 0;
	}
	return text_utf8_valid(s, len);
}

/* Check one decoded name or value of a query. */
static int
check_part(const char *what, const char *s, size_t len, char **cause)
{
	if (len > EDGE_MAX_VALUE) {
		set_cause(cause, "query %s longer than %d bytes", what,
		          EDGE_MAX_VALUE);
		return -1;
	}
	if (!edge_text_ok(s, len, 0)) {
		set_cause(cause, "query %s is not UTF-8 text", what);
		return -1;
	}
	return 0;
}

/* Check a raw query string. */
int
edge_check_query(const char *query, char **cause)
{
	struct form f = {NULL, 0};
	char *why = NULL;
	int rc = 0;

	if (query == NULL || *query == '\0')
		return 0;
	if (form_parse(&f, query, strlen(query), &why) != 0) {
		set_cause(cause, "query: %s", why);
		free(why);
		form_clear(&f);
		return -1;
	}
	if (f.n > EDGE_MAX_PARAMS) {
		set_cause(cause, "more than %d query parameters",
		          EDGE_MAX_PARAMS);
		rc = -1;
	}
	for (size_t i = 0; i < f.n && rc == 0; i++) {
		if (check_part("parameter name", f.v[i].key, strlen(f.v[i].key),
		               cause) != 0 ||
		    check_part("value", f.v[i].val, f.v[i].vlen, cause) != 0)
			rc = -1;
	}
	form_clear(&f);
	return rc;
}

/* Check a raw path. */
int
edge_check_path(const char *path, char **cause)
{
	char *why = NULL, *dec;
	size_t n;
	int rc = 0;

	if ((dec = text_percent_decode(path, strlen(path), 0, &n, &why)) ==
	    NULL) {
		set_cause(cause, "path: %s", why);
		free(why);
		return -1;
	}
	if (n > EDGE_MAX_PATH) {
		set_cause(cause, "path longer than %d bytes", EDGE_MAX_PATH);
		rc = -1;
	} else if (!edge_text_ok(dec, n, 0)) {
		set_cause(cause, "path is not UTF-8 text");
		rc = -1;
	}
	free(dec);
	return rc;
}

/* Check a credential header's value (tabs allowed: "Bearer<TAB>x"). */
int
edge_check_token(const char *name, const char *value, char **cause)
{
	size_t n = strlen(value);

	if (n > EDGE_MAX_TOKEN) {
		set_cause(cause, "%s header longer than %d bytes", name,
		          EDGE_MAX_TOKEN);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)value[i];
		if ((c < 0x20 && c != '\t') || c > 0x7e) {
			set_cause(cause, "%s header is not printable ASCII",
			          name);
			return -1;
		}
	}
	return 0;
}

/* Return the length of the valid UTF-8 sequence at s, or 0. */
static size_t
utf8_len(const char *s, size_t len)
{
	unsigned char c = (unsigned char)s[0];
	size_t n = c < 0x80                 ? 1
	           : c >= 0xc2 && c <= 0xdf ? 2
	           : c >= 0xe0 && c <= 0xef ? 3
	           : c >= 0xf0 && c <= 0xf4 ? 4
	                                    : 0;

	if (n == 0 || n > len || !text_utf8_valid(s, n))
		return 0;
	return n;
}

/* A copy with every byte that is not valid text written \xNN. */
char *
edge_escape(const char *s, size_t len)
{
	struct buf b;
	size_t i = 0, n;

	buf_init(&b);
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		n = utf8_len(s + i, len - i);
		if (n == 0 || (c < 0x20 && c != '\t' && c != '\n') ||
		    c == 0x7f) {
			buf_printf(&b, "\\x%02x", c);
			i++;
			continue;
		}
		buf_add(&b, s + i, n);
		i += n;
	}
	return buf_detach(&b);
}
