/* csv.c: RFC 4180 CSV records: read for paknctl's imports, written for
 * the statistics (pure). */

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "text.h"
#include "util.h"

#define CSV_MAX_FIELDS 64

/* Start reading text. */
void
csv_init(struct csv *c, const char *text, size_t len)
{
	c->p = text;
	c->end = text + len;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		c->p += 3;
	c->line = 0;
	c->next_line = 1;
}

/* Read a quoted field after its opening quote; -1 if never closed. */
static int
csv_quoted(struct csv *c, struct buf *b)
{
	while (c->p < c->end) {
		char ch = *c->p++;
		if (ch == '"') {
			if (c->p < c->end && *c->p == '"') {
				buf_addc(b, '"');
				c->p++;
				continue;
			}
			return 0;
		}
		if (ch == '\n')
			c->next_line++;
		buf_addc(b, ch);
	}
	return -1;
}

/* Read one field; sets *eol at the end of the record. */
static int
csv_field(struct csv *c, struct buf *b, int *eol, char **cause)
{
	if (c->p < c->end && *c->p == '"') {
		c->p++;
		if (csv_quoted(c, b) != 0) {
			set_cause(cause, "line %d: quote not closed", c->line);
			return -1;
		}
		if (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
		    *c->p != '\r') {
			set_cause(cause, "line %d: text after a closing quote",
			          c->line);
			return -1;
		}
	} else {
		while (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
		       *c->p != '\r') {
			if (*c->p == '"') {
				set_cause(cause,
				          "line %d: quote inside an "
				          "unquoted field",
				          c->line);
				return -1;
			}
			buf_addc(b, *c->p++);
		}
	}
	if (c->p < c->end && *c->p == ',') {
		c->p++;
		*eol = 0;
		return 0;
	}
	if (c->p < c->end && *c->p == '\r')
		c->p++;
	if (c->p < c->end && *c->p == '\n')
		c->p++;
	c->next_line++;
	*eol = 1;
	return 0;
}

/* Skip empty lines and comment lines (starting with '#': no code pakn
 * imports starts so) before a record. */
static void
csv_skip_blank(struct csv *c)
{
	while (c->p < c->end &&
	       (*c->p == '\n' || *c->p == '\r' || *c->p == '#')) {
		if (*c->p == '#')
			while (c->p + 1 < c->end && c->p[1] != '\n')
				c->p++;
		else if (*c->p == '\n')
			c->next_line++;
		c->p++;
	}
}

/* Read the next record. */
int
csv_next(struct csv *c, char ***fields, int *n, char **cause)
{
	struct buf b;
	int eol = 0;

	*fields = NULL;
	*n = 0;
	csv_skip_blank(c);
	if (c->p >= c->end)
		return 0;
	c->line = c->next_line;
	*fields = xcalloc(CSV_MAX_FIELDS, sizeof **fields);
	while (!eol) {
		buf_init(&b);
		if (*n == CSV_MAX_FIELDS) {
			set_cause(cause, "line %d: more than %d fields",
			          c->line, CSV_MAX_FIELDS);
			goto fail;
		}
		if (csv_field(c, &b, &eol, cause) != 0)
			goto fail;
		if (!text_utf8_valid(b.data, b.len)) {
			set_cause(cause, "line %d: field %d is not valid UTF-8",
			          c->line, *n + 1);
			goto fail;
		}
		(*fields)[(*n)++] = buf_detach(&b);
	}
	return 1;
fail:
	buf_clear(&b);
	csv_free(*fields, *n);
	*fields = NULL;
	*n = 0;
	return -1;
}

/* Free a record. */
void
csv_free(char **fields, int n)
{
	for (int i = 0; i < n; i++)
		free(fields[i]);
	free(fields);
}

/* Is s a plain decimal number: sign, digits, at most one point? */
static int
csv_number(const char *s)
{
	int digits = 0, point = 0;

	if (*s == '+' || *s == '-')
		s++;
	for (; *s != '\0'; s++) {
		if (isdigit((unsigned char)*s))
			digits++;
		else if (*s == '.' && !point)
			point = 1;
		else
			return 0;
	}
	return digits > 0;
}

/* Would a spreadsheet take s as a formula? */
static int
csv_formula(const char *s)
{
	return s[0] != '\0' && strchr("=+-@\t\r", s[0]) != NULL &&
	       !csv_number(s);
}

/* Append one cell. */
void
csv_cell(struct buf *out, const char *s)
{
	int formula = csv_formula(s);

	if (!formula && strpbrk(s, ",\"\r\n;") == NULL) {
		buf_adds(out, s);
		return;
	}
	buf_addc(out, '"');
	if (formula)
		buf_addc(out, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			buf_addc(out, '"');
		buf_addc(out, *s);
	}
	buf_addc(out, '"');
}
