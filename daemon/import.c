/* import.c: paknctl's CSV imports (units, categories, routing rules,
 * officials, holidays, old names of places, and the services one-stop
 * shops report).
 *
 * The rows of a file go into a temporary table with their line numbers;
 * one SQL function (sql/functions/import.sql) checks them all and upserts them,
 * in the same transaction, so a bad line imports nothing.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "import.h"
#include "phone.h"
#include "util.h"

enum col_type {
	COL_TEXT,
	COL_INT,
	COL_BOOL,
	COL_LIST,   /* ';'-separated list */
	COL_PHONES, /* ';'-separated phone numbers, normalised */
	COL_PHONE,  /* one phone number, normalised */
	COL_MOBILE, /* one phone number that can receive SMS, normalised */
	COL_DATE,   /* YYYY-MM-DD */
};

struct column {
	const char *name;
	enum col_type type;
	int required;
	const char *def; /* value of an absent optional column, or NULL */
};

#define MAX_COLS 10

struct import_kind {
	const char *kind;
	const char *table; /* temporary table, with "line integer" first */
	const char *ddl;
	const char *func;
	struct column cols[MAX_COLS];
	const char *post; /* run after func in the transaction, or NULL */
	/* The tables it fills, analyzed after the commit: the plans paknd
	 * keeps for a connection are made on the statistics there are at
	 * its first call, and a table never analyzed since the whole map
	 * came in gets plans for a few rows (contrib/bench/RESULTS.md,
	 * 2026-12-04 night). */
	const char *analyze;
};

static const struct import_kind kinds[] = {
    {"units",
     "import_unit",
     "(line integer, code text, name text, parent_code text, kind text, "
     "phones text[], inspection_unit text, remote boolean, desk_unit text)",
     "pakn.import_units_remote",
     {{"code", COL_TEXT, 1, NULL},
      {"name", COL_TEXT, 1, NULL},
      {"parent_code", COL_TEXT, 1, NULL},
      {"kind", COL_TEXT, 1, NULL},
      {"phones", COL_PHONES, 0, NULL},
      {"inspection_unit", COL_TEXT, 0, NULL},
      {"remote", COL_BOOL, 0, NULL},
      {"desk_unit", COL_TEXT, 0, NULL}},
     "pakn.import_units_desk",
     "pakn.unit, pakn.unit_closure"},
    {"categories",
     "import_category",
     "(line integer, code text, name text, dimension integer, "
     "keywords text[], sensitive boolean, deadline_days integer, "
     "working_days boolean)",
     "pakn.import_categories",
     {{"code", COL_TEXT, 1, NULL},
      {"name", COL_TEXT, 1, NULL},
      {"dimension", COL_INT, 1, NULL},
      {"keywords", COL_LIST, 1, NULL},
      {"sensitive", COL_BOOL, 0, "false"},
      {"deadline_days", COL_INT, 0, "15"},
      {"working_days", COL_BOOL, 0, "true"}},
     NULL,
     "pakn.category"},
    {"officials",
     "import_official",
     "(line integer, unit_code text, name text, phone text, role text)",
     "pakn.import_officials",
     {{"unit_code", COL_TEXT, 1, NULL},
      {"name", COL_TEXT, 1, NULL},
      {"phone", COL_PHONE, 1, NULL},
      {"role", COL_TEXT, 1, NULL}},
     NULL,
     "pakn.official"},
    {"holidays",
     "import_holiday",
     "(line integer, day date, kind text, name text, source text, "
     "status text)",
     "pakn.import_holidays",
     {{"date", COL_DATE, 1, NULL},
      {"kind", COL_TEXT, 1, NULL},
      {"name", COL_TEXT, 1, NULL},
      {"source", COL_TEXT, 1, NULL},
      {"status", COL_TEXT, 0, NULL}},
     NULL,
     "pakn.holiday, pakn.holiday_year"},
    {"services",
     "import_service",
     "(line integer, phone text, procedure_code text, procedure_name text, "
     "unit text, received text, returned text, on_time text, file_id text)",
     "pakn.import_services",
     {{"phone", COL_MOBILE, 1, NULL},
      {"procedure_code", COL_TEXT, 1, NULL},
      {"procedure_name", COL_TEXT, 1, NULL},
      {"unit", COL_TEXT, 1, NULL},
      {"received", COL_TEXT, 1, NULL},
      {"returned", COL_TEXT, 1, NULL},
      {"on_time", COL_TEXT, 1, NULL},
      {"file_id", COL_TEXT, 0, NULL}},
     NULL,
     "pakn.service_record"},
    {"routing",
     "import_routing",
     "(line integer, category_code text, area_code text, unit_code text)",
     "pakn.import_routing",
     {{"category_code", COL_TEXT, 1, NULL},
      {"area_code", COL_TEXT, 1, NULL},
      {"unit_code", COL_TEXT, 1, NULL}},
     NULL,
     "pakn.routing_rule"},
    /* The statistics office's conversion table as it is published (see
     * README: Reference data); name, today's name, is for reading. */
    {"aliases",
     "import_alias",
     "(line integer, code text, name text, old_code text, old_name text, "
     "old_district text, old_province_code text, old_province text, "
     "change text, source text)",
     "pakn.import_aliases",
     {{"code", COL_TEXT, 1, NULL},
      {"name", COL_TEXT, 0, NULL},
      {"old_code", COL_TEXT, 0, NULL},
      {"old_name", COL_TEXT, 1, NULL},
      {"old_district", COL_TEXT, 0, NULL},
      {"old_province_code", COL_TEXT, 0, NULL},
      {"old_province", COL_TEXT, 0, NULL},
      {"change", COL_TEXT, 0, NULL},
      {"source", COL_TEXT, 0, NULL}},
     NULL,
     "pakn.place_alias"},
};

/* Run a statement; -1 and *cause with the server's message. */
static int
exec_ok(PGconn *conn, PGresult *r, char **cause)
{
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		const char *msg =
		    PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
		set_cause(cause, "%s", msg ? msg : PQerrorMessage(conn));
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

/* Turn "a; b ;c" into a PostgreSQL array literal of trimmed items. */
static char *
list_literal(const char *s, int phones, int line, char **cause)
{
	struct buf b;
	char *copy = xstrdup(s), *item, *save = NULL, *p, *why = NULL;
	int n = 0;

	buf_init(&b);
	buf_addc(&b, '{');
	for (item = strtok_r(copy, ";", &save); item != NULL;
	     item = strtok_r(NULL, ";", &save)) {
		while (*item == ' ')
			item++;
		for (p = item + strlen(item); p > item && p[-1] == ' ';)
			*--p = '\0';
		if (*item == '\0')
			continue;
		if (phones && (p = phone_normalize(item, &why)) == NULL) {
			set_cause(cause, "line %d: phone %s: %s", line, item,
			          why);
			free(why);
			free(copy);
			buf_clear(&b);
			return NULL;
		}
		buf_adds(&b, n++ ? ",\"" : "\"");
		for (const char *q = phones ? p : item; *q; q++) {
			if (*q == '"' || *q == '\\')
				buf_addc(&b, '\\');
			buf_addc(&b, *q);
		}
		buf_addc(&b, '"');
		if (phones)
			free(p);
	}
	buf_addc(&b, '}');
	free(copy);
	return buf_detach(&b);
}

/* A phone number in E.164, or NULL and *cause. */
static char *
phone_value(const char *v, int line, char **cause)
{
	char *why = NULL, *p = phone_normalize(v, &why);
	if (p == NULL) {
		set_cause(cause, "line %d: phone %s: %s", line, v, why);
		free(why);
	}
	return p;
}

/* A phone number in E.164 that can receive SMS, or NULL and *cause. */
static char *
mobile_value(const char *v, int line, char **cause)
{
	char *p = phone_value(v, line, cause);
	const char *flag = p != NULL ? phone_plan(p) : NULL;

	if (flag != NULL) {
		set_cause(cause, "line %d: phone %s: %s", line, v,
		          phone_flag_text(flag));
		free(p);
		return NULL;
	}
	return p;
}

/* A calendar date written YYYY-MM-DD, or NULL and *cause. */
static char *
date_value(const char *v, int line, char **cause)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30,
	                            31, 31, 30, 31, 30, 31};
	int y, m, d, n = 0;
	if (sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || v[n] != '\0' ||
	    strlen(v) != 10 || y < 1900 || m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1] ||
	    (m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 && y % 400)))) {
		set_cause(cause, "line %d: date \"%s\" is not YYYY-MM-DD", line,
		          v);
		return NULL;
	}
	return xstrdup(v);
}

/* Check one value against its column type; a new string, or NULL. */
static char *
column_value(const struct column *col, const char *v, int line, char **cause)
{
	char *end;
	if (*v == '\0')
		return col->def ? xstrdup(col->def) : NULL;
	switch (col->type) {
	case COL_INT:
		errno = 0;
		(void)strtol(v, &end, 10);
		if (errno != 0 || *end != '\0') {
			set_cause(cause, "line %d: %s must be a number", line,
			          col->name);
			return NULL;
		}
		return xstrdup(v);
	case COL_BOOL:
		if (strchr("yYtT1", *v) != NULL)
			return xstrdup("true");
		if (strchr("nNfF0", *v) != NULL)
			return xstrdup("false");
		set_cause(cause, "line %d: %s must be yes or no", line,
		          col->name);
		return NULL;
	case COL_LIST:
	case COL_PHONES:
		return list_literal(v, col->type == COL_PHONES, line, cause);
	case COL_PHONE:
		return phone_value(v, line, cause);
	case COL_MOBILE:
		return mobile_value(v, line, cause);
	case COL_DATE:
		return date_value(v, line, cause);
	case COL_TEXT:
		break;
	}
	return xstrdup(v);
}

/* Map the header's columns to the kind's; -1 on unknown or missing. */
static int
map_header(const struct import_kind *k, char **hdr, int nhdr, int *map,
           char **cause)
{
	for (int c = 0; c < MAX_COLS && k->cols[c].name; c++) {
		map[c] = -1;
		for (int h = 0; h < nhdr; h++)
			if (!strcmp(hdr[h], k->cols[c].name))
				map[c] = h;
		if (map[c] < 0 && k->cols[c].required) {
			set_cause(cause, "line 1: missing column %s",
			          k->cols[c].name);
			return -1;
		}
	}
	for (int h = 0; h < nhdr; h++) {
		int known = 0;
		for (int c = 0; c < MAX_COLS && k->cols[c].name; c++)
			known |= map[c] == h;
		if (!known) {
			set_cause(cause, "line 1: unknown column %s", hdr[h]);
			return -1;
		}
	}
	return 0;
}

/* Insert one record into the temporary table. */
static int
insert_row(PGconn *conn, const struct import_kind *k, const int *map, char **f,
           int nf, int line, char **cause)
{
	char *vals[MAX_COLS + 1] = {NULL}, *sql, lineno[16];
	int ncols = 0, rc = -1;
	struct buf b;

	snprintf(lineno, sizeof lineno, "%d", line);
	vals[0] = lineno;
	buf_init(&b);
	buf_printf(&b, "INSERT INTO pg_temp.%s VALUES ($1", k->table);
	for (int c = 0; c < MAX_COLS && k->cols[c].name; c++, ncols++) {
		const char *v = map[c] >= 0 && map[c] < nf ? f[map[c]] : "";
		char *why = NULL;
		if ((vals[c + 1] = column_value(&k->cols[c], v, line, &why)) ==
		        NULL &&
		    why != NULL) {
			*cause = why;
			goto out;
		}
		buf_printf(&b, ", $%d", c + 2);
	}
	buf_adds(&b, ")");
	sql = buf_detach(&b);
	rc = exec_ok(conn,
	             PQexecParams(conn, sql, ncols + 1, NULL,
	                          (const char *const *)vals, NULL, NULL, 0),
	             cause);
	free(sql);
out:
	buf_clear(&b);
	for (int c = 1; c <= ncols + 1 && c < MAX_COLS + 1; c++)
		free(vals[c]);
	return rc;
}

/* Read a whole file. */
static char *
read_file(const char *path, size_t *len, char **cause)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[8192];
	size_t n;

	if (f == NULL) {
		set_cause(cause, "%s", strerror(errno));
		return NULL;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return buf_detach(&b);
}

/* Load every record into the temporary table. */
static int
load_rows(PGconn *conn, const struct import_kind *k, struct csv *csv, int *rows,
          char **cause)
{
	char **f;
	int nf, r, map[MAX_COLS];

	if ((r = csv_next(csv, &f, &nf, cause)) <= 0) {
		if (r == 0)
			set_cause(cause,
			          "line 1: empty file, expected a header");
		return -1;
	}
	r = map_header(k, f, nf, map, cause);
	csv_free(f, nf);
	if (r != 0)
		return -1;
	*rows = 0;
	while ((r = csv_next(csv, &f, &nf, cause)) == 1) {
		r = insert_row(conn, k, map, f, nf, csv->line, cause);
		csv_free(f, nf);
		if (r != 0)
			return -1;
		(*rows)++;
	}
	return r;
}

/* Run the kind's function that follows its import, if it has one. */
static int
import_post(PGconn *conn, const struct import_kind *k, char **cause)
{
	char *sql;
	int rc;

	if (k->post == NULL)
		return 0;
	sql = xasprintf("SELECT %s()", k->post);
	rc = exec_ok(conn, PQexec(conn, sql), cause);
	free(sql);
	return rc;
}

/* Import a CSV file of one kind, in one transaction. */
int
import_csv(PGconn *conn, const char *kind, const char *path, char **cause)
{
	const struct import_kind *k = NULL;
	struct csv csv;
	char *text, *why = NULL, *sql, *summary = NULL;
	size_t len;
	int rows = 0;
	PGresult *res;

	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (!strcmp(kinds[i].kind, kind))
			k = &kinds[i];
	if (k == NULL)
		fatalx("import: unknown kind %s", kind);
	if ((text = read_file(path, &len, &why)) == NULL)
		goto fail;
	csv_init(&csv, text, len);
	sql = xasprintf("BEGIN; CREATE TEMPORARY TABLE %s %s ON COMMIT DROP",
	                k->table, k->ddl);
	if (exec_ok(conn, PQexec(conn, sql), &why) != 0 ||
	    load_rows(conn, k, &csv, &rows, &why) != 0) {
		free(sql);
		goto fail;
	}
	free(sql);
	sql = xasprintf("SELECT * FROM %s()", k->func);
	res = PQexec(conn, sql);
	free(sql);
	if (PQresultStatus(res) == PGRES_TUPLES_OK)
		summary =
		    xasprintf("%s: %d row%s: %s new, %s updated", path, rows,
		              rows == 1 ? "" : "s", PQgetvalue(res, 0, 0),
		              PQgetvalue(res, 0, 1));
	if (exec_ok(conn, res, &why) != 0 || import_post(conn, k, &why) != 0 ||
	    exec_ok(conn, PQexec(conn, "COMMIT"), &why) != 0)
		goto fail;
	printf("%s\n", summary);
	if (k->analyze != NULL) {
		/* Committed already: a failure here is said, not fatal. */
		sql = xasprintf("ANALYZE %s", k->analyze);
		if (exec_ok(conn, PQexec(conn, sql), &why) != 0) {
			fprintf(stderr, "%s: imported, but ANALYZE %s: %s\n",
			        path, k->analyze, why);
			free(why);
			why = NULL;
		}
		free(sql);
	}
	free(summary);
	free(text);
	return 0;
fail:
	PQclear(PQexec(conn, "ROLLBACK"));
	free(summary);
	set_cause(cause, "%s: %s", path, why);
	free(why);
	free(text);
	return -1;
}
