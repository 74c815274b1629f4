/* csv.h: RFC 4180 CSV records, for paknctl's imports (pure). */
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

#endif
