/* stmt.c: the SQL statements paknd prepares on every connection. Each is
 * one call of a function of the pakn schema, so one round trip. */

#include "stmt.h"

const struct db_stmt stmts[NSTMTS] = {
    [STMT_INGEST_SMS] = {"ingest_sms",
	"SELECT message_id, duplicate FROM pakn.ingest_sms($1, $2, $3, $4, "
	"$5, $6::timestamptz, $7::integer, $8, $9, $10::bytea)",
	10},
    [STMT_SCHEMA_VERSION] = {"schema_version",
	"SELECT coalesce(max(version), 0) FROM pakn.schema_migration", 0},
};
