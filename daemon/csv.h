/* csv.h: RFC 4180 CSV records: read for paknctl's imports, written for
 * the statistics (pure). */
#ifndef PAKN_CSV_H
#define PAKN_CSV_H

#include <stddef.h>

struct csv {
	const char *p;
	const char *end;
	int line; /* line of the record last read (1-based) */
	int next_line;
};

/* Start reading text (a UTF-8 byte order mark is skipped). */
void csv_init(struct csv *c, const char *text, size_t len);
/*
 * Read the next record into *fields (n strings, freed with csv_free).
 * Returns 1 for a record, 0 at the end, -1 and *cause ("line N: ...") on
 * a malformed record or invalid UTF-8. Blank lines are skipped.
 */
int csv_next(struct csv *c, char ***fields, int *n, char **cause);
void csv_free(char **fields, int n);

struct buf;

/*
 * Append s to out as one CSV cell: quoted when it holds a comma, a
 * semicolon, a quote or a line break. A cell a spreadsheet would run as
 * a formula (first character = + - @, tab or CR) is written as OWASP
 * advises: a single quote first and the whole cell quoted; a plain
 * decimal number ("-5", "+1.5") stays a number.
 */
void csv_cell(struct buf *out, const char *s);

#endif
