/* migrate.c: apply numbered SQL migrations in order, each in a transaction. */

#include <stdlib.h>
#include <string.h>

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

/* Run one statement; -1 and *cause if it did not succeed. */
static int
exec_ok(PGconn *conn, const char *sql, char **cause)
{
	PGresult *r = PQexec(conn, sql);
	ExecStatusType st = PQresultStatus(r);
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		set_cause(cause, "%s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	PQclear(r);
	return 0;
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

/* Apply one migration and record it, in one transaction. */
static int
migrate_one(PGconn *conn, const struct migration *m, char **cause)
{
	char version[16];
	const char *params[2] = {version, m->name};
	PGresult *r;

	if (exec_ok(conn, "BEGIN", cause) != 0)
		return -1;
	if (exec_ok(conn, m->sql, cause) != 0)
		goto fail;
	snprintf(version, sizeof version, "%d", m->version);
	r = PQexecParams(conn,
	                 "INSERT INTO pakn.schema_migration (version, name) "
	                 "VALUES ($1, $2)",
	                 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		set_cause(cause, "%s", PQresultErrorMessage(r));
		PQclear(r);
		goto fail;
	}
	PQclear(r);
	return exec_ok(conn, "COMMIT", cause);
fail:
	PQclear(PQexec(conn, "ROLLBACK"));
	return -1;
}

/* Has migration version v been recorded? -1 and *cause on error. */
static int
migrate_applied(PGconn *conn, int v, char **cause)
{
	char version[16];
	const char *params[1] = {version};
	PGresult *r;
	int n;

	snprintf(version, sizeof version, "%d", v);
	r = PQexecParams(
	    conn, "SELECT 1 FROM pakn.schema_migration WHERE version = $1", 1,
	    NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK) {
		set_cause(cause, "%s", PQresultErrorMessage(r));
		PQclear(r);
		return -1;
	}
	n = PQntuples(r);
	PQclear(r);
	return n > 0;
}

/* Apply every migration not yet recorded, in order (a gap left by a
 * migration added below the newest is filled too); the count applied,
 * or -1 and *cause. */
int
migrate_apply(PGconn *conn, char **cause)
{
	int done, applied = 0;
	char *why = NULL;

	if (exec_ok(conn, "SET client_min_messages = warning", cause) != 0 ||
	    exec_ok(conn, "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", cause) !=
	        0)
		return -1;
	if (exec_ok(conn,
	            "CREATE SCHEMA IF NOT EXISTS pakn; "
	            "CREATE TABLE IF NOT EXISTS pakn.schema_migration ("
	            " version integer PRIMARY KEY, name text NOT NULL,"
	            " applied_at timestamptz NOT NULL DEFAULT now())",
	            cause) != 0) {
		applied = -1;
		goto out;
	}
	for (int i = 0; i < nmigrations; i++) {
		const struct migration *m = &migrations[i];
		if ((done = migrate_applied(conn, m->version, cause)) < 0) {
			applied = -1;
			goto out;
		}
		if (done)
			continue;
		if (migrate_one(conn, m, &why) != 0) {
			set_cause(cause, "migration %s: %s", m->name, why);
			free(why);
			applied = -1;
			goto out;
		}
		log_info("applied migration %s", m->name);
		applied++;
	}
out:
	PQclear(PQexec(conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK ")"));
	return applied;
}
