/* stmt.h: the SQL statements paknd prepares on every connection. */
#ifndef PAKN_STMT_H
#define PAKN_STMT_H

#include "db.h"

enum stmt_id {
	STMT_INTAKE,         /* gateway, msg id, from, to, text, sent_at,
	                        segments, smsc, raw request, raw body (binary),
	                        text cut -> id, or no row for a duplicate */
	STMT_INTAKE_MANY,    /* the same as arrays, one element a callback
	                        (db_pool_merge) -> its place, message id */
	STMT_INTAKE_CLAIM,   /* owner, limit, lease seconds -> id, gateway,
	                        msg id, msisdn, shortcode, body */
	STMT_INTAKE_PROCESS, /* 13 params: see process.c -> message id,
	                        replies, sender flag, abuse flag, state, error
	                      */
	STMT_INTAKE_PROCESS_BATCH, /* owner, messages (JSON), keywords'
	                              version -> a row per message, as
	                              STMT_INTAKE_PROCESS, and batched */
	STMT_INTAKE_FAIL,          /* id, owner, error -> marked failed */
	STMT_NOTICE_FLUSH,         /* gather, limit -> phones, notices, sms */
	STMT_SCHEMA_VERSION, /* versions of this build -> how many applied */
	STMT_OUTBOX_CLAIM,   /* limit, lease seconds -> id, gateway, msisdn,
	                        body, attempts, created_at */
	STMT_OUTBOX_RESULTS, /* outcomes (JSON: id, created_at, outcome
	                        sent|retry|failed, ref, error, segments,
	                        encoding gsm7|ucs2), max_attempts, retry_base
	                        seconds -> n, state a row for each */
	STMT_OUTBOX_DLR,     /* gateway, outbox id or NULL, gateway_ref or
	                        NULL, status (delivered|undelivered|other),
	                        detail -> rows updated */
	STMT_DEADLINE_RUN,   /* remind days, apology days, rating wait days,
	                        limit -> locked, reminded, escalated, closed,
	                        sms */
	STMT_STATS_DOC,      /* token, unit, period, by, dimension, cutoff day,
	                        on-time target, satisfaction target, public,
	                        overdue list size -> jsonb document */
	STMT_STATS_FOLD,     /* batch -> deltas folded, -1 when another folds */
	STMT_API_LIST, /* token, status, overdue, category, dimension, limit,
	                  offset, sort -> status, body, sms */
	STMT_API_SHOW, /* token, ticket -> status, body, sms */
	STMT_API_ACT,  /* token, ticket, action, args (jsonb) -> status, body,
	                  sms */
	STMT_API_TRANSFERS, /* token -> status, body, sms */
	STMT_USSD_BEGIN,    /* gateway, session, msisdn, text, code, idle
	                       seconds, menus version -> replay, expired, step,
	                       prev, state, citizen ctx, menus version, menus */
	STMT_USSD_ADVANCE,  /* gateway, session, msisdn, service code, text,
	                       step, state, answer, action, idle seconds, menus
	                       version -> answer, status, citizen ctx, menus
	                       version, menus */
	STMT_USSD_JANITOR,  /* idle seconds -> sessions removed */
	STMT_POSTER,        /* unit -> jsonb of pakn.poster, or NULL */
	STMT_DESK_RUN,    /* location wait hours, default desk, limit -> locked,
	                     moved, stuck, sms */
	STMT_API_DESK,    /* token -> status, body, sms */
	STMT_SUMMARY_RUN, /* gateway, cutoff day, weekly, monthly, on-time
	                     target, satisfaction target -> SMS queued */
	STMT_SURVEY_RUN,  /* gateway, percent, min days, delay minutes, remind
	                     hours, expire hours, max age days, quiet start,
	                     quiet end, limit, keep phone days -> locked,
	                     considered, sent,  reminded, expired, sms */
	STMT_SERVICE_NEW, /* token, msisdn, args (jsonb) -> status, body,
	                     sms */
	STMT_OPEN311,     /* op, api_key, gateway, msisdn, args (jsonb) ->
	                     status, body, sms */
	STMT_METRICS,     /* -> metric, gateway, n, age (pakn.metrics_gauges) */
	STMT_LOG_KEY,     /* -> the pseudonym secret, for log lines */
	STMT_RATE_TAKE,   /* gateway, rate, want -> granted, ms left in the
	                     second (pakn.rate_take) */
	STMT_CLASSIFIER_LOAD,   /* -> the keyword patterns (classify.h) */
	STMT_CATEGORY_VERSION,  /* -> pakn.category_version.version */
	STMT_PARTITIONS_ENSURE, /* months ahead -> partitions created */
	NSTMTS,
};

extern const struct db_stmt stmts[NSTMTS];

#endif
