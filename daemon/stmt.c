/* stmt.c: the SQL statements paknd prepares on every connection. Each is
 * one call of a function of the pakn schema, so one round trip. */

#include "classify.h"
#include "poster.h"
#include "report.h"
#include "stmt.h"

const struct db_stmt stmts[NSTMTS] = {
    /* The only statement of intake: the message's key (a repeated one
     * stores nothing) and its row, nothing else. */
    [STMT_INTAKE] =
        {"intake",
         "WITH k AS (INSERT INTO pakn.inbound_key AS k (gateway, "
         "gateway_msg_id) VALUES ($1, $2) ON CONFLICT DO NOTHING "
         "RETURNING k.id, k.received_at) "
         "INSERT INTO pakn.inbound_message AS m (id, received_at, gateway, "
         "gateway_msg_id, msisdn, shortcode, body, sent_at, segments, smsc, "
         "raw_request, raw_body, text_cut) SELECT k.id, k.received_at, $1, "
         "$2, $3, $4, $5, $6::timestamptz, $7::integer, $8, $9, $10::bytea, "
         "$11::boolean FROM k RETURNING m.id",
         11},
    /* Several callbacks' stores in one statement (db_pool_merge): the
     * same rows, a tenth of the statements (half the server's time a
     * callback). A key given twice is stored for its first only, as by
     * two statements; the keys go in in the batch's order (db.c). */
    [STMT_INTAKE_MANY] =
        {"intake_many",
         "WITH a AS (SELECT * FROM unnest($1::text[], $2::text[], "
         "$3::text[], $4::text[], $5::text[], $6::text[], $7::text[], "
         "$8::text[], $9::text[], $10::bytea[], $11::text[]) WITH ORDINALITY "
         "AS a (gateway, msg_id, msisdn, shortcode, body, sent_at, segments, "
         "smsc, raw_request, raw_body, text_cut, n)), "
         "f AS (SELECT DISTINCT ON (a.gateway, a.msg_id) a.* FROM a "
         "ORDER BY a.gateway, a.msg_id, a.n), "
         "k AS (INSERT INTO pakn.inbound_key AS k (gateway, gateway_msg_id) "
         "SELECT f.gateway, f.msg_id FROM f ORDER BY f.n "
         "ON CONFLICT DO NOTHING "
         "RETURNING k.id, k.received_at, k.gateway, k.gateway_msg_id), "
         "m AS (INSERT INTO pakn.inbound_message AS m (id, received_at, "
         "gateway, gateway_msg_id, msisdn, shortcode, body, sent_at, "
         "segments, smsc, raw_request, raw_body, text_cut) "
         "SELECT k.id, k.received_at, f.gateway, f.msg_id, f.msisdn, "
         "f.shortcode, f.body, f.sent_at::timestamptz, f.segments::integer, "
         "f.smsc, f.raw_request, f.raw_body, f.text_cut::boolean "
         "FROM k JOIN f ON f.gateway = k.gateway "
         "AND f.msg_id = k.gateway_msg_id ORDER BY f.n "
         "RETURNING m.id, m.gateway, m.gateway_msg_id) "
         "SELECT f.n, m.id FROM m JOIN f ON f.gateway = m.gateway "
         "AND f.msg_id = m.gateway_msg_id",
         11},
    [STMT_INTAKE_CLAIM] = {"intake_claim",
                           "SELECT id, gateway, gateway_msg_id, msisdn, "
                           "shortcode, body, ticket_seq, ticket_key, "
                           "received_at FROM "
                           "pakn.intake_claim($1, "
                           "$2::integer, $3::integer)",
                           3},
    [STMT_INTAKE_PROCESS] =
        {"intake_process",
         "SELECT message_id, replies, sender_flag, abuse_flag, state, error "
         "FROM pakn.intake_process($1::bigint, $2, $3, $4::boolean, $5, "
         "$6::boolean, $7, $8::integer, $9, $10, $11::jsonb, $12, "
         "$13::bigint, $14::integer)",
         14},
    [STMT_INTAKE_PROCESS_BATCH] =
        {"intake_process_batch",
         "SELECT message_id, replies, sender_flag, abuse_flag, state, error, "
         "batched FROM pakn.intake_process_batch($1, $2::jsonb, $3::bigint, "
         "$4::integer)",
         4},
    [STMT_INTAKE_FAIL] = {"intake_fail",
                          "SELECT pakn.intake_fail($1::bigint, $2, $3)", 3},
    [STMT_NOTICE_FLUSH] = {"notice_flush",
                           "SELECT phones, notices, sms FROM "
                           "pakn.notice_flush($1::integer, $2::integer)",
                           2},
    [STMT_SCHEMA_VERSION] =
        {"schema_version",
         "SELECT (SELECT count(*) FROM pakn.schema_migration "
         "WHERE version = ANY ($1::integer[])), "
         "(SELECT count(*) FROM pakn.schema_function "
         "WHERE file || ':' || checksum = ANY ($2::text[])), "
         "(SELECT count(*) FROM pakn.schema_migration WHERE version > "
         "(SELECT max(v) FROM unnest($1::integer[]) v))",
         2},
    [STMT_OUTBOX_CLAIM] = {"outbox_claim",
                           "SELECT id, gateway, msisdn, body, attempts, "
                           "created_at, reply "
                           "FROM pakn.outbox_claim($1::integer, $2::integer)",
                           2},
    [STMT_OUTBOX_RESULTS] = {"outbox_results",
                             "SELECT n, state FROM pakn.outbox_results("
                             "$1::jsonb, $2::integer, $3::double precision)",
                             3},
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
         "FROM pakn.api_act_clock($1, $2, $3, $4::jsonb) r",
         4},
    [STMT_API_TRANSFERS] =
        {"api_transfers",
         "SELECT (r->>'status')::integer, r->'body', (r->>'sms')::integer "
         "FROM pakn.api_transfers($1) r",
         1},
    [STMT_USSD_BEGIN] = {"ussd_begin",
                         "SELECT replay, expired, step, prev, state, ctx, "
                         "menus_version, menus FROM pakn.ussd_begin($1, $2, "
                         "$3, $4, $5, $6::integer, $7::bigint)",
                         7},
    [STMT_USSD_ADVANCE] = {"ussd_advance",
                           "SELECT answer, status, ctx, menus_version, menus "
                           "FROM pakn.ussd_advance($1, $2, $3, $4, $5, "
                           "$6::integer, $7::jsonb, $8, $9::jsonb, "
                           "$10::integer, $11::bigint, $12::boolean, "
                           "$13::integer)",
                           13},
    [STMT_USSD_JANITOR] = {"ussd_janitor",
                           "SELECT pakn.ussd_janitor($1::integer)", 1},
    [STMT_POSTER] = {"poster", POSTER_SQL, 1},
    [STMT_DESK_RUN] = {"desk_run",
                       "SELECT locked, moved, stuck, sms FROM "
                       "pakn.desk_run($1::integer, $2, $3::integer)",
                       3},
    [STMT_API_DESK] =
        {"api_desk",
         "SELECT (r->>'status')::integer, r->'body', (r->>'sms')::integer "
         "FROM pakn.api_desk($1) r",
         1},
    [STMT_SUMMARY_RUN] = {"summary_run",
                          "SELECT pakn.summary_run($1, $2::integer, "
                          "$3::boolean, $4::boolean, $5::numeric, "
                          "$6::numeric)",
                          6},
    [STMT_SURVEY_RUN] =
        {"survey_run",
         "SELECT locked, considered, sent, reminded, expired, sms FROM "
         "pakn.survey_run($1, $2::numeric, $3::integer, $4::integer, "
         "$5::integer, $6::integer, $7::integer, $8::integer, $9::integer, "
         "$10::integer, $11::integer)",
         11},
    [STMT_SERVICE_NEW] =
        {"service_new",
         "SELECT (r->>'status')::integer, r->'body', (r->>'sms')::integer "
         "FROM pakn.api_service_new($1, $2, $3::jsonb) r",
         3},
    [STMT_OPEN311] =
        {"open311",
         "SELECT (r->>'status')::integer, r->'body', (r->>'sms')::integer "
         "FROM pakn.open311($1, $2, $3, $4, $5::jsonb) r",
         5},
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
    [STMT_CLASSIFIER_LOAD] = {"classifier_load", CLASSIFIER_SQL, 0},
    [STMT_CATEGORY_VERSION] = {"category_version", CLASSIFIER_VERSION_SQL, 0},
    [STMT_PARTITIONS_ENSURE] = {"partitions_ensure",
                                "SELECT pakn.partitions_ensure($1::integer)",
                                1},
};
