/* migrate.c: bring a database to this build's SQL.
 *
 * sql/schema/NNN_name.sql files hold tables, indexes, seed data and the
 * few functions a table needs to exist (trigger functions, generated
 * columns): each is applied once, in order, and its SHA-256 is recorded
 * in pakn.schema_migration. An applied file is history: if this build's
 * copy differs from the recorded checksum, migrate refuses and names the
 * file (a change goes in a new file). Databases migrated before
 * checksums were recorded get the checksum of this build's file.
 *
 * sql/functions/name.sql files hold everything else, CREATE OR REPLACE
 * only: every file whose checksum differs from pakn.schema_function is
 * applied again, all of them in one transaction, after the schema; all
 * of them when a schema file was applied (it may have dropped some).
 *
 * A database a newer build migrated (a schema file this build does not
 * have is recorded) is left as it is: this build's function files are
 * older, and applying them would undo the newer ones under the newer
 * paknd (a rolling upgrade restarts old instances among new ones).
 */

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "migrate.h"
#include "util.h"

/* An arbitrary constant naming pakn's migration lock. */
#define MIGRATE_LOCK "7141746"

/* The version the schema must have for this build. */
int
migrate_latest(void)
{
	return nmigrations > 0 ? migrations[nmigrations - 1].version : 0;
}

/* Run statements; -1 and *cause if they did not succeed (a file of
 * comments only is an empty query, and succeeds). */
static int
exec_ok(PGconn *conn, const char *sql, char **cause)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
	    st != PGRES_EMPTY_QUERY) {
		set_cause(cause, "%s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
}

/* Run one statement with text parameters; its result or NULL and
 * *cause. */
static PGresult *
exec_params(PGconn *conn, const char *sql, int n, const char *const *params,
            char **cause)
{
	PGresult *r = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		set_cause(cause, "%s", PQresultErrorMessage(r));
		PQclear(r);
		return NULL;
	}
	return r;
}

/* The versions this build has, as a PostgreSQL array literal. */
const char *
migrate_versions(void)
{
	static char lit[1024];
	size_t n = 0;

	if (lit[0] != '\0')
		return lit;
	lit[n++] = '{';
	for (int i = 0; i < nmigrations && n < sizeof lit - 16; i++)
		n += (size_t)snprintf(lit + n, sizeof lit - n, "%s%d",
		                      i ? "," : "", migrations[i].version);
	lit[n++] = '}';
	lit[n] = '\0';
	return lit;
}

/* The function files of this build, "{name:checksum,...}". */
const char *
migrate_functions(void)
{
	static char *lit;
	struct buf b;

	if (lit != NULL)
		return lit;
	buf_init(&b);
	buf_printf(&b, "{");
	for (int i = 0; i < nsqlfuncs; i++)
		buf_printf(&b, "%s%s:%s", i ? "," : "", sqlfuncs[i].name,
		           sqlfuncs[i].checksum);
	buf_printf(&b, "}");
	lit = buf_detach(&b);
	return lit;
}

/* The bookkeeping tables, created or brought to this build's shape. */
static int
migrate_bootstrap(PGconn *conn, char **cause)
{
	return exec_ok(
	    conn,
	    "CREATE SCHEMA IF NOT EXISTS pakn; "
	    "CREATE TABLE IF NOT EXISTS pakn.schema_migration ("
	    " version integer PRIMARY KEY, name text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now()); "
	    "ALTER TABLE pakn.schema_migration"
	    " ADD COLUMN IF NOT EXISTS checksum text; "
	    "COMMENT ON COLUMN pakn.schema_migration.checksum IS"
	    " 'SHA-256 of sql/schema/NNN_name.sql as applied'; "
	    "CREATE TABLE IF NOT EXISTS pakn.schema_function ("
	    " file text PRIMARY KEY, checksum text NOT NULL,"
	    " applied_at timestamptz NOT NULL DEFAULT now()); "
	    "COMMENT ON TABLE pakn.schema_function IS"
	    " 'sql/functions/FILE.sql last applied, with its SHA-256'",
	    cause);
}

/* Apply one schema file and record it, in one transaction. */
static int
migrate_one(PGconn *conn, const struct migration *m, char **cause)
{
	char version[16];
	const char *params[3] = {version, m->name, m->checksum};
	PGresult *r;

	if (exec_ok(conn, "BEGIN", cause) != 0)
		return -1;
	if (exec_ok(conn, m->sql, cause) != 0)
		goto fail;
	snprintf(version, sizeof version, "%d", m->version);
	r = exec_params(conn,
	                "INSERT INTO pakn.schema_migration (version, name, "
	                "checksum) VALUES ($1, $2, $3)",
	                3, params, cause);
	if (r == NULL)
		goto fail;
	PQclear(r);
	return exec_ok(conn, "COMMIT", cause);
fail:
	PQclear(PQexec(conn, "ROLLBACK"));
	return -1;
}

/* Row of res (version, name, checksum, applied_at) for version v, or
 * -1. */
static int
recorded_row(PGresult *res, int v)
{
	for (int i = 0; i < PQntuples(res); i++)
		if (atoi(PQgetvalue(res, i, 0)) == v)
			return i;
	return -1;
}

/* Refuse when an applied schema file differs from this build's copy;
 * record the checksum of files applied before checksums were. */
static int
migrate_verify(PGconn *conn, PGresult *res, char **cause)
{
	for (int i = 0; i < nmigrations; i++) {
		const struct migration *m = &migrations[i];
		int row = recorded_row(res, m->version);
		const char *sum;

		if (row < 0 || PQgetisnull(res, row, 2))
			continue;
		sum = PQgetvalue(res, row, 2);
		if (strcmp(sum, m->checksum) != 0) {
			set_cause(
			    cause,
			    "sql/schema/%s.sql was changed after it was "
			    "applied to this database on %s (recorded "
			    "checksum %.12s, this build's %.12s): an "
			    "applied schema file is never edited, put the "
			    "change in a new file",
			    m->name, PQgetvalue(res, row, 3), sum, m->checksum);
			return -1;
		}
	}
	for (int i = 0; i < nmigrations; i++) {
		const struct migration *m = &migrations[i];
		int row = recorded_row(res, m->version);
		char version[16];
		const char *params[2] = {version, m->checksum};
		PGresult *r;

		if (row < 0 || !PQgetisnull(res, row, 2))
			continue;
		snprintf(version, sizeof version, "%d", m->version);
		r = exec_params(conn,
		                "UPDATE pakn.schema_migration SET checksum = "
		                "$2 WHERE version = $1 AND checksum IS NULL",
		                2, params, cause);
		if (r == NULL)
			return -1;
		PQclear(r);
		log_info("recorded the checksum of %s (applied before "
		         "checksums were)",
		         m->name);
	}
	return 0;
}

/* The newest schema version recorded in res that this build does not
 * have (a newer build applied it), or 0. */
static int
newer_version(PGresult *res)
{
	int newest = 0;

	for (int r = 0; r < PQntuples(res); r++) {
		int v = atoi(PQgetvalue(res, r, 0));

		if (v > migrate_latest() && v > newest)
			newest = v;
	}
	return newest;
}

/* Apply the missing schema files in order; the count, or -1. */
static int
migrate_schema(PGconn *conn, PGresult *res, char **cause)
{
	int applied = 0;
	char *why = NULL;

	for (int i = 0; i < nmigrations; i++) {
		const struct migration *m = &migrations[i];
		if (recorded_row(res, m->version) >= 0)
			continue;
		if (migrate_one(conn, m, &why) != 0) {
			set_cause(cause, "sql/schema/%s.sql: %s", m->name, why);
			free(why);
			return -1;
		}
		log_info("applied migration %s", m->name);
		applied++;
	}
	return applied;
}

/* Is function file f recorded in res (file, checksum) with its current
 * checksum? */
static int
function_current(PGresult *res, const struct sqlfunc *f)
{
	for (int i = 0; i < PQntuples(res); i++)
		if (!strcmp(PQgetvalue(res, i, 0), f->name))
			return !strcmp(PQgetvalue(res, i, 1), f->checksum);
	return 0;
}

/* Apply one function file and record its checksum (in the caller's
 * transaction). */
static int
function_apply(PGconn *conn, const struct sqlfunc *f, char **cause)
{
	const char *params[2] = {f->name, f->checksum};
	char *why = NULL;
	PGresult *r;

	if (exec_ok(conn, f->sql, &why) != 0) {
		set_cause(cause, "sql/functions/%s.sql: %s", f->name, why);
		free(why);
		return -1;
	}
	r = exec_params(conn,
	                "INSERT INTO pakn.schema_function (file, checksum) "
	                "VALUES ($1, $2) ON CONFLICT (file) DO UPDATE SET "
	                "checksum = excluded.checksum, applied_at = now()",
	                2, params, cause);
	if (r == NULL)
		return -1;
	PQclear(r);
	return 0;
}

/* Apply every changed function file (every one with all: a schema file
 * may have dropped functions, say to change a row type or a signature),
 * in one transaction; the count, or -1. Bodies are not checked at
 * creation (as pg_dump does), so files may call each other in any
 * order. */
static int
migrate_functions_apply(PGconn *conn, int all, char **cause)
{
	int applied = 0;
	PGresult *res;

	if (exec_ok(conn, "BEGIN; SET LOCAL check_function_bodies = off",
	            cause) != 0)
		return -1;
	if ((res = exec_params(
	         conn, "SELECT file, checksum FROM pakn.schema_function", 0,
	         NULL, cause)) == NULL)
		goto fail;
	for (int i = 0; i < nsqlfuncs; i++) {
		const struct sqlfunc *f = &sqlfuncs[i];
		if (!all && function_current(res, f))
			continue;
		if (function_apply(conn, f, cause) != 0) {
			PQclear(res);
			goto fail;
		}
		log_info("applied functions %s", f->name);
		applied++;
	}
	PQclear(res);
	if (exec_ok(conn, "COMMIT", cause) != 0)
		return -1;
	return applied;
fail:
	PQclear(PQexec(conn, "ROLLBACK"));
	return -1;
}

/* Bring the database to this build (see migrate.h). */
int
migrate_apply(PGconn *conn, int *functions, char **cause)
{
	PGresult *res = NULL;
	int applied = -1, nf = 0, newer;

	if (exec_ok(conn, "SET client_min_messages = warning", cause) != 0 ||
	    exec_ok(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", cause) !=
	        0)
		return -1;
	if (migrate_bootstrap(conn, cause) != 0)
		goto out;
	res = exec_params(conn,
	                  "SELECT version, name, checksum, "
	                  "to_char(applied_at, 'YYYY-MM-DD HH24:MI') "
	                  "FROM pakn.schema_migration",
	                  0, NULL, cause);
	if (res == NULL || migrate_verify(conn, res, cause) != 0)
		goto out;
	if ((newer = newer_version(res)) > 0) {
		log_warnx("migrate: the database's schema is at version %d, "
		          "newer than this build's %d: nothing applied, its "
		          "functions left as the newer build made them",
		          newer, migrate_latest());
		applied = 0;
		goto out;
	}
	if ((applied = migrate_schema(conn, res, cause)) < 0)
		goto out;
	if ((nf = migrate_functions_apply(conn, applied > 0, cause)) < 0)
		applied = -1;
out:
	PQclear(res);
	PQclear(PQexec(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")"));
	if (functions != NULL)
		*functions = nf > 0 ? nf : 0;
	return applied;
}
