/* stmt.c: the SQL statements paknd prepares on every connection. Each is
 * one call of a function of the pakn schema, so one round trip. */

#include "poster.h"
#include "report.h"
#include "stmt.h"

const struct db_stmt stmts[NSTMTS] = {
    [STMT_HANDLE_SMS] =
        {"handle_sms",
         "SELECT message_id, duplicate, replies, sender_flag FROM "
         "pakn.handle_inbound($1, $2, $3, $4, $5, $6::timestamptz, "
         "$7::integer, $8, $9, $10::bytea, $11, $12::boolean, $13, "
         "$14::boolean, $15, $16::integer, $17, $18, $19::boolean)",
         19},
    [STMT_SCHEMA_VERSION] = {"schema_version",
                             "SELECT count(*) FROM pakn.schema_migration "
                             "WHERE version = ANY ($1::integer[])",
                             1},
    [STMT_OUTBOX_CLAIM] = {"outbox_claim",
                           "SELECT id, gateway, msisdn, body, attempts "
                           "FROM pakn.outbox_claim($1::integer, $2::integer)",
                           2},
    [STMT_OUTBOX_RESULT] =
        {"outbox_result",
         "SELECT pakn.outbox_result($1::bigint, $2, $3, $4, $5::integer, $6, "
         "$7::integer, $8::double precision)",
         8},
    [STMT_OUTBOX_DLR] = {"outbox_dlr",
                         "SELECT pakn.outbox_dlr($1, $2::bigint, $3, $4, $5)",
                         5},
    [STMT_DEADLINE_RUN] =
        {"deadline_run",
         "SELECT locked, reminded, escalated, closed, sms FROM "
         "pakn.deadline_run($1::integer, $2::integer, $3::integer, "
         "$4::integer)",
         4},
    [STMT_STATS_DOC] = {"stats_doc", REPORT_DOC_SQL, 10},
    [STMT_STATS_FOLD] = {"stats_fold", "SELECT pakn.stats_fold($1::integer)",
                         1},
    [STMT_API_LIST] =
        {"api_list",
         "SELECT (r->>'status')::integer, r->'body', (r->>'sms')::integer "
         "FROM pakn.api_list($1, $2, $3::boolean, $4, $5::integer, "
         "$6::integer, $7::integer, $8) r",
         8},
    [STMT_API_SHOW] =
        {"api_show",
         "SELECT (r->>'status')::integer, r->'body', (r->>'sms')::integer "
         "FROM pakn.api_show($1, $2) r",
         2},
    [STMT_API_ACT] =
        {"api_act",
         "SELECT (r->>'status')::integer, r->'body', (r->>'sms')::integer "
         "FROM pakn.api_act_scoped($1, $2, $3, $4::jsonb) r",
         4},
    [STMT_API_TRANSFERS] =
        {"api_transfers",
         "SELECT (r->>'status')::integer, r->'body', (r->>'sms')::integer "
         "FROM pakn.api_transfers($1) r",
         1},
    [STMT_USSD_LOAD] = {"ussd_load",
                        "SELECT replay, expired, step, prev, state, ctx FROM "
                        "pakn.ussd_load($1, $2, $3, $4, $5, $6::integer)",
                        6},
    [STMT_USSD_SAVE] = {"ussd_save",
                        "SELECT pakn.ussd_save($1, $2, $3, $4, $5, "
                        "$6::integer, $7::jsonb, $8, "
                        "$9::jsonb, $10::integer)",
                        10},
    [STMT_POSTER] = {"poster", POSTER_SQL, 1},
    [STMT_METRICS] = {"metrics",
                      "SELECT metric, gateway, n, age FROM "
                      "pakn.metrics_gauges()",
                      0},
    [STMT_LOG_KEY] = {"log_key",
                      "SELECT value FROM pakn.setting WHERE name = "
                      "'pseudonym_secret'",
                      0},
    [STMT_RATE_TAKE] = {"rate_take",
                        "SELECT granted, ms_left FROM pakn.rate_take($1, "
                        "$2::integer, $3::integer)",
                        3},
};
