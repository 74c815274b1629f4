/* report.h: statistics documents as CSV, HTML and text; paknctl report
 * and rebuild-stats. */
#ifndef PAKN_REPORT_H
#define PAKN_REPORT_H

#include <stdio.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "util.h"

/* What a report is computed with (the [stats] section). */
struct report_opts {
	long cutoff_day;   /* 0: calendar months */
	long on_time;      /* target, percent */
	long satisfaction; /* target, percent */
};

/* The SQL that computes a statistics document (pakn.stats_doc, with the
 * survey figures of 020). */
#define REPORT_DOC_SQL                                                         \
	"SELECT pakn.stats_doc_surveys($1, $2, $3, $4, $5::integer, "          \
	"$6::integer, "                                                        \
	"$7::numeric, $8::numeric, $9::boolean, $10::integer)"

/* Append the rows and the total of a document as CSV (UTF-8 with BOM, CRLF
 * line ends, as spreadsheets expect). */
void report_csv(const json_t *doc, struct buf *out);
/* Append the public monthly report page of a document. */
void report_html(const json_t *doc, struct buf *out);
/* The Content-Security-Policy header of that page (its style's hash). */
const char *report_csp(void);
/* Print a document as an aligned text table. */
void report_text(const json_t *doc, FILE *f);
/* Is s a month written YYYY-MM? */
int report_month_ok(const char *s);

/* paknctl report --month YYYY-MM [--unit CODE] [--csv]: 0 or 1. */
int report_cmd(PGconn *conn, const struct report_opts *o, const char *month,
               const char *unit, int csv);
/* paknctl rebuild-stats: 0 or 1. */
int report_rebuild(PGconn *conn);

#endif
