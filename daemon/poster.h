/* poster.h: the printable poster of a commune (pure, no I/O). */
#ifndef PAKN_POSTER_H
#define PAKN_POSTER_H

/* The SQL that gives a unit's poster data as JSON ($1: unit code). */
#define POSTER_SQL "SELECT pakn.poster($1)"

/* Write the one-page A4 HTML poster of the unit described by json (the
 * value of pakn.poster), with the short number to text and the USSD code
 * to dial; NULL and *cause if json is not such a document. */
char *poster_html(const char *json, const char *short_number,
                  const char *ussd_code, char **cause);

/* The Content-Security-Policy header of the poster (its style's hash). */
const char *poster_csp(void);

#endif
