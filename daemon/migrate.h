/* migrate.h: the SQL compiled in from sql/ (schema files and function
 * files) and how it is applied to a database. */
#ifndef PAKN_MIGRATE_H
#define PAKN_MIGRATE_H

#include <libpq-fe.h>

/* A schema file (sql/schema/NNN_name.sql): applied once, never edited. */
struct migration {
	int version;
	const char *name;
	const char *checksum; /* SHA-256 of the file, hex */
	const char *sql;
};

/* A function file (sql/functions/name.sql): CREATE OR REPLACE only,
 * applied again whenever its checksum changes. */
struct sqlfunc {
	const char *name;
	const char *checksum;
	const char *sql;
};

extern const struct migration migrations[];
extern const int nmigrations;
extern const struct sqlfunc sqlfuncs[];
extern const int nsqlfuncs;

/* The version the schema must have for this build. */
int migrate_latest(void);
/*
 * Bring a database to this build, on a blocking connection and under an
 * advisory lock so two migrators wait for each other: check that no
 * applied schema file was changed since (refuse with the file's name if
 * one was), apply the missing schema files in order, each in its own
 * transaction, then every function file whose checksum differs from the
 * one recorded, all in one transaction. Reports what it applied through
 * log_info. Returns the number of schema files applied, or -1 and
 * *cause; *functions (if not NULL) gets the number of function files.
 */
int migrate_apply(PGconn *conn, int *functions, char **cause);
/* The versions this build has, as a PostgreSQL array literal "{1,2}". */
const char *migrate_versions(void);
/* The function files of this build as an array literal of
 * "name:checksum" elements, to compare with pakn.schema_function. */
const char *migrate_functions(void);

#endif
