/* edge.h: what a request may carry into SQL as text (pure, no I/O). */
#ifndef PAKN_EDGE_H
#define PAKN_EDGE_H

#include <stddef.h>

#define EDGE_MAX_PATH   1024 /* bytes of a decoded path */
#define EDGE_MAX_VALUE  1024 /* bytes of a decoded query name or value */
#define EDGE_MAX_PARAMS 64   /* parameters in a query */
#define EDGE_MAX_TOKEN  512  /* bytes of a credential header */

/* Is s[0..len) text PostgreSQL takes as it is: UTF-8 without NUL or
 * other C0 controls (tab, CR and LF allowed when multiline)? */
int edge_text_ok(const char *s, size_t len, int multiline);
/* Check a raw query string: percent-encoding, UTF-8 names and values,
 * lengths, count. 0, or -1 and *cause (one line, for a 400). */
int edge_check_query(const char *query, char **cause);
/* Check a raw (still percent-encoded) path the same way. */
int edge_check_path(const char *path, char **cause);
/* Check a credential header's value (Authorization, X-Pakn-Token):
 * printable ASCII of sane length. */
int edge_check_token(const char *name, const char *value, char **cause);
/* A copy of s[0..len) where every byte that is not valid UTF-8 text
 * (and every control but tab and LF) is written \xNN. */
char *edge_escape(const char *s, size_t len);

#endif
