/* stmt.h: the SQL statements paknd prepares on every connection. */
#ifndef PAKN_STMT_H
#define PAKN_STMT_H

#include "db.h"

enum stmt_id {
	STMT_INGEST_SMS,
	STMT_SCHEMA_VERSION,
	NSTMTS,
};

extern const struct db_stmt stmts[NSTMTS];

#endif
