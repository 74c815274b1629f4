/* migrate.h: numbered SQL migrations, compiled in from sql/. */
#ifndef PAKN_MIGRATE_H
#define PAKN_MIGRATE_H

#include <libpq-fe.h>

struct migration {
	int version;
	const char *name;
	const char *sql;
};

extern const struct migration migrations[];
extern const int nmigrations;

/* The version the schema must have for this build. */
int migrate_latest(void);
/*
 * Apply pending migrations on a blocking connection, each in its own
 * transaction, under an advisory lock so two migrators wait for each
 * other. Reports each applied one through log_info. Returns the number
 * applied, or -1 and *cause.
 */
int migrate_apply(PGconn *conn, char **cause);
/* The versions this build has, as a PostgreSQL array literal "{1,2}". */
const char *migrate_versions(void);

#endif
