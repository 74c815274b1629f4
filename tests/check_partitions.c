/*
 * check_partitions.c: the ledger and the outbox partitioned by month
 * (sql/023, issue 15). A database is built at the migration before 023
 * with rows in several months, upgraded by `paknctl migrate`, then
 * served by the real paknd with a fake Kannel (tests/fakegw):
 *  - every row and id kept, each in its local month's partition, ids
 *    continue;
 *  - the ledger stays append-only, on its partitions too;
 *  - pakn.partitions_ensure: N months ahead, idempotent, one caller at a
 *    time, rows waiting in DEFAULT moved to their month;
 *  - the outbox sends a message queued before the upgrade exactly once;
 *  - paknctl partitions: the list, --drop-before refused while a month
 *    holds an SMS to send, and for the ledger; dropped otherwise;
 *  - paknctl purge still anonymises old replies.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#define WAIT    15.0
#define QUEUED  "+84913500001" /* a reply queued two months before */
#define CITIZ   "+84913500002" /* texts after the upgrade */
#define FLAGGED "+84913500003" /* a gateway's own sender (a flagged SMS) */
/* Why an SMS to FLAGGED is refused, or "" */
/* A number flagged while the prune runs */
#define LATE_FLAG "+84913500007"
#define FLAG_WHY  "SELECT coalesce(pakn.outbox_refusal('" FLAGGED "'), '')"
/* Whether the outbox's partition of May 2023 exists. */
#define MAY_2023                                                               \
	"SELECT count(*) FROM pg_class WHERE relname = 'outbox_2023_05'"

static struct paknd *D;
static struct fakegw G = {.name = "partitions"};
static char upgrade_out[PATH_MAX]; /* what paknctl migrate printed */

/* Rows of the old tables, with their months, three months back (local
 * time; one a second before a month starts, one at its first instant),
 * a reply still queued, one sent, and what the sequences stood at. */
static const char *const seed_sql[] = {
    "INSERT INTO pakn.citizen (msisdn) VALUES ('" QUEUED "')",
    "CREATE TABLE public.m AS SELECT (date_trunc('month', now() AT TIME "
    "ZONE 'Asia/Ho_Chi_Minh') - make_interval(months => k))::timestamp AT "
    "TIME ZONE 'Asia/Ho_Chi_Minh' AS start, k FROM generate_series(1, 3) k",
    "INSERT INTO pakn.complaint (ticket, msisdn, gateway, category_code, "
    "dimension, status, text, created_at) SELECT 'PARTS1', '" QUEUED "', "
    "'kgw', 'general', 3, 'needs_location', 'old words', start + interval "
    "'2 days' FROM public.m WHERE k = 3",
    "INSERT INTO pakn.complaint_event (complaint_id, at, actor, event) "
    "SELECT c.id, t, 'system', 'reminded' FROM pakn.complaint c, "
    "(SELECT start + interval '2 days' FROM public.m WHERE k = 3 UNION ALL "
    "SELECT start - interval '1 second' FROM public.m WHERE k = 2 UNION ALL "
    "SELECT start FROM public.m WHERE k = 2 UNION ALL "
    "SELECT start + interval '9 days' FROM public.m WHERE k = 1) x (t) "
    "ORDER BY t",
    "INSERT INTO pakn.outbox (gateway, msisdn, body, kind, complaint_id, "
    "state, created_at, next_attempt_at, sent_at) SELECT 'kgw', '" QUEUED
    "', b, 'ack', c.id, s, t, t, CASE s WHEN 'sent' THEN t END "
    "FROM pakn.complaint c, (SELECT 'old sent reply', 'sent', start + "
    "interval '2 days' FROM public.m WHERE k = 3 UNION ALL SELECT 'old "
    "queued reply', 'queued', start + interval '3 days' FROM public.m WHERE "
    "k = 2) x (b, s, t) ORDER BY t",
    /* Two SMS of old months, one a complaint came from (025). */
    "INSERT INTO pakn.inbound_message (gateway, gateway_msg_id, msisdn, "
    "shortcode, body, received_at, raw_request, raw_body) SELECT 'kgw', "
    "'old-' || k, '" QUEUED "', '8079', 'old sms ' || k, start + interval "
    "'1 day', 'POST', '\\x' FROM public.m WHERE k IN (1, 3)",
    "UPDATE pakn.complaint SET inbound_id = (SELECT id FROM "
    "pakn.inbound_message WHERE gateway_msg_id = 'old-3')",
    /* A flagged sender's SMS (044 lists its number), in the oldest
     * month. */
    "INSERT INTO pakn.inbound_message (gateway, gateway_msg_id, msisdn, "
    "shortcode, body, received_at, raw_request, raw_body, sender_flag) "
    "SELECT 'kgw', 'flagged-3', '" FLAGGED "', '8079', 'loop', start + "
    "interval '1 day', 'POST', '\\x', 'gateway_sender' FROM public.m "
    "WHERE k = 3",
    "CREATE TABLE public.inbound_before AS SELECT id, gateway_msg_id, "
    "received_at FROM pakn.inbound_message",
    "CREATE TABLE public.before AS SELECT 'complaint_event' AS tbl, id, at "
    "AS t, event AS what FROM pakn.complaint_event UNION ALL SELECT "
    "'outbox', id, created_at, body FROM pakn.outbox",
    "CREATE TABLE public.seq AS SELECT 'complaint_event' AS tbl, last_value "
    "FROM pakn.complaint_event_id_seq UNION ALL SELECT 'outbox', last_value "
    "FROM pakn.outbox_id_seq",
    NULL,
};

/* Run one statement on conn; 0 if it succeeded. */
static int
exec_ok(PGconn *conn, const char *sql)
{
	PGresult *r = PQexec(conn, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	         PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		fprintf(stderr, "check_partitions: %s",
		        PQresultErrorMessage(r));
	PQclear(r);
	return ok ? 0 : -1;
}

/* Build the database as the release before 023 left it: 0.2.0's
 * migrations as its paknctl applied them (tests/fixtures, as
 * check_upgrade uses them). */
static int
migrate_before(void)
{
	return harness_restore("pakn", "pakn-0.2.0.sql.gz");
}

/* The old database with its rows in several months. */
static int
seed_old(void)
{
	char conninfo[256];
	PGconn *conn;
	int rc = 0;

	if (migrate_before() != 0)
		return -1;
	pg_conninfo(conninfo, sizeof conninfo, "pakn");
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK)
		rc = -1;
	for (int i = 0; rc == 0 && seed_sql[i] != NULL; i++)
		rc = exec_ok(conn, seed_sql[i]);
	PQfinish(conn);
	return rc;
}

/* The name of the partition row id of pakn.tbl is in. */
static char *
part_of(const char *tbl, const char *id)
{
	char *sql =
	    strf("SELECT c.relname::text FROM pakn.%s x JOIN pg_class c "
	         "ON c.oid = x.tableoid WHERE x.id = $1::bigint",
	         tbl);
	char *v = qval(sql, id, NULL);

	free(sql);
	return v;
}

/* The upgrade keeps every row and id, each in its local month's
 * partition (a second before a month starts is the month before), the
 * DEFAULT partitions stay empty, and new ids continue the old ones. */
START_TEST(test_upgrade_keeps_rows)
{
	char *out = file_read(upgrade_out, NULL), *id, *part;
	long before;

	assert_contains(out, "schema at version");
	free(out);
	for (const char *const *t =
	         (const char *const[]){"complaint_event", "outbox", NULL};
	     *t != NULL; t++) {
		char *sql =
		    strf("SELECT relkind::text FROM pg_class WHERE oid = "
		         "'pakn.%s'::regclass",
		         *t);
		char *kind = qval(sql, NULL);
		ck_assert_msg(kind != NULL && !strcmp(kind, "p"),
		              "pakn.%s is not partitioned", *t);
		free(kind);
		free(sql);
	}
	before = qlong("SELECT count(*) FROM public.before", NULL);
	ck_assert_int_eq(before, 6);
	/* Same ids, times and contents; each row in the partition of its
	 * local month. */
	ck_assert_int_eq(
	    qlong(
	        "SELECT count(*) FROM public.before b JOIN (SELECT "
	        "'complaint_event' AS tbl, id, at AS t, event AS what, "
	        "tableoid AS part FROM pakn.complaint_event "
	        "UNION ALL SELECT 'outbox', id, created_at, body, "
	        "tableoid FROM pakn.outbox) a USING (tbl, id, "
	        "t, what) WHERE a.part = ('pakn.' || tbl || to_char(t AT TIME "
	        "ZONE 'Asia/Ho_Chi_Minh', '_YYYY_MM'))::regclass",
	        NULL),
	    before);
	/* The month boundary: 00:00 local on the 1st is the new month. */
	ck_assert_int_eq(
	    qlong("SELECT count(DISTINCT e.tableoid) FROM pakn.complaint_event "
	          "e, "
	          "public.m WHERE k = 2 AND e.at IN (start, start - interval "
	          "'1 second')",
	          NULL),
	    2);
	ck_assert_int_eq(
	    qlong(
	        "SELECT (SELECT count(*) FROM pakn.complaint_event_default) + "
	        "(SELECT count(*) FROM pakn.outbox_default)",
	        NULL),
	    0);
	/* New ids follow the old sequences. */
	id = qval("INSERT INTO pakn.complaint_event (complaint_id, actor, "
	          "event) SELECT id, 'system', 'reminded' FROM pakn.complaint "
	          "WHERE ticket = 'PARTS1' RETURNING id::text",
	          NULL);
	ck_assert_int_eq(atol(id),
	                 qlong("SELECT last_value + 1 FROM public.seq "
	                       "WHERE tbl = 'complaint_event'",
	                       NULL));
	part = part_of("complaint_event", id);
	ck_assert_int_eq(qlong("SELECT count(*) WHERE $1 = 'complaint_event' "
	                       "|| to_char(now() AT TIME ZONE "
	                       "'Asia/Ho_Chi_Minh', '_YYYY_MM')",
	                       part, NULL),
	                 1);
	free(part);
	free(id);
	/* Indexes, foreign keys and triggers are back (the foreign keys as
	 * triggers since 045: complaint_event_references, outbox_references).
	 */
	ck_assert_int_eq(qlong("SELECT count(*) FROM pg_indexes WHERE "
	                       "schemaname = 'pakn' AND tablename = 'outbox' "
	                       "AND indexname IN ('outbox_pkey', "
	                       "'outbox_due_idx', 'outbox_ref_sent_idx', "
	                       "'outbox_complaint_idx', 'outbox_msisdn_idx')",
	                       NULL),
	                 5);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pg_constraint WHERE "
	                       "contype = 'f' AND conrelid IN "
	                       "('pakn.outbox'::regclass, "
	                       "'pakn.complaint_event'::regclass)",
	                       NULL),
	                 0);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pg_trigger WHERE tgrelid "
	                       "IN ('pakn.outbox'::regclass, "
	                       "'pakn.complaint_event'::regclass) AND NOT "
	                       "tgisinternal",
	                       NULL),
	                 6);
	/* The outbox's three triggers are one since 027. */
	ck_assert_int_eq(qlong("SELECT count(*) FROM pg_trigger WHERE tgrelid "
	                       "= 'pakn.outbox'::regclass AND tgname = "
	                       "'outbox_refuse'",
	                       NULL),
	                 1);
}
END_TEST

/* Fail unless sql (freed here) is refused with "append-only". */
static void
assert_refused(PGconn *c, char *sql)
{
	PGresult *r = PQexec(c, sql);

	ck_assert_msg(PQresultStatus(r) == PGRES_FATAL_ERROR &&
	                  strstr(PQresultErrorMessage(r), "append-only") !=
	                      NULL,
	              "%s was not refused: %s", sql, PQresultErrorMessage(r));
	PQclear(r);
	free(sql);
}

/* The ledger refuses TRUNCATE on the parent and on each partition
 * directly, and UPDATE and DELETE of their rows. */
START_TEST(test_ledger_append_only)
{
	PGresult *parts;
	PGconn *c = test_db();
	int with_rows = 0;

	harness_expect_pg("is append-only");
	parts = q("SELECT relid::regclass::text FROM pg_partition_tree("
	          "'pakn.complaint_event')",
	          NULL);
	ck_assert_int_ge(PQntuples(parts), 6);
	for (int i = 0; i < PQntuples(parts); i++) {
		const char *p = PQgetvalue(parts, i, 0);
		char *count = strf("SELECT count(*) FROM %s", p);

		assert_refused(c, strf("TRUNCATE %s", p));
		if (qlong(count, NULL) > 0) {
			assert_refused(c, strf("UPDATE %s SET event = 'x'", p));
			assert_refused(c, strf("DELETE FROM %s", p));
			with_rows++;
		}
		free(count);
	}
	ck_assert_int_ge(with_rows, 4); /* the parent and three months */
	PQclear(parts);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint_event "
	                       "WHERE event = 'x'",
	                       NULL),
	                 0);
}
END_TEST

/* partitions_ensure creates N months ahead once; a second call and a
 * concurrent one create nothing more; a row of a month without its
 * partition waits in DEFAULT and moves to its month when it is made. */
START_TEST(test_ensure)
{
	char conninfo[256], *id_e, *id_o, *p;
	PGconn *a, *b;
	PGresult *r;

	ck_assert_int_eq(qlong("SELECT pakn.partitions_ensure(3)", NULL), 0);
	/* Three more months of the ledger, the outbox and the SMS (025). */
	ck_assert_int_eq(qlong("SELECT pakn.partitions_ensure(6)", NULL), 9);
	ck_assert_int_eq(qlong("SELECT pakn.partitions_ensure(6)", NULL), 0);
	ck_assert_int_eq(
	    qlong("SELECT count(*) FROM generate_series(0, 6) k, (VALUES "
	          "('complaint_event'), ('outbox'), ('inbound_message')) t "
	          "(n) WHERE to_regclass("
	          "'pakn.' || n || to_char(now() AT TIME ZONE "
	          "'Asia/Ho_Chi_Minh' + make_interval(months => k), "
	          "'_YYYY_MM')) IS NOT NULL",
	          NULL),
	    21);
	/* Two callers at once: the second waits for the first's lock and
	 * then finds nothing to do. */
	pg_conninfo(conninfo, sizeof conninfo, "pakn");
	a = PQconnectdb(conninfo);
	b = PQconnectdb(conninfo);
	ck_assert_int_eq(exec_ok(a, "BEGIN"), 0);
	r = PQexec(a, "SELECT pakn.partitions_ensure(8)");
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "6"); /* 2 months x 3 tables */
	PQclear(r);
	ck_assert_int_eq(PQsendQuery(b, "SELECT pakn.partitions_ensure(8)"), 1);
	sleep_ms(200);
	ck_assert_int_eq(exec_ok(a, "COMMIT"), 0);
	r = PQgetResult(b);
	ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "0");
	PQclear(r);
	while ((r = PQgetResult(b)) != NULL)
		PQclear(r);
	PQfinish(a);
	PQfinish(b);

	/* March 2024 has no partition: its rows wait in DEFAULT. */
	id_e = qval("INSERT INTO pakn.complaint_event (complaint_id, at, "
	            "actor, event) SELECT id, '2024-03-31 23:30+07', 'system', "
	            "'reminded' FROM pakn.complaint WHERE ticket = 'PARTS1' "
	            "RETURNING id::text",
	            NULL);
	id_o = qval("INSERT INTO pakn.outbox (gateway, msisdn, body, kind, "
	            "state, created_at) VALUES ('kgw', '+84913500009', "
	            "'late', 'ack', 'failed', '2024-03-01 00:00+07') RETURNING "
	            "id::text",
	            NULL);
	p = part_of("outbox", id_o);
	ck_assert_str_eq(p, "outbox_default");
	free(p);
	ck_assert_int_eq(qlong("SELECT pakn.partitions_ensure(3)", NULL), 2);
	p = part_of("complaint_event", id_e);
	ck_assert_str_eq(p, "complaint_event_2024_03");
	free(p);
	p = part_of("outbox", id_o);
	ck_assert_str_eq(p, "outbox_2024_03");
	free(p);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.partition_event "
	                       "WHERE action = 'created' AND partition IN "
	                       "('outbox_2024_03', 'complaint_event_2024_03') "
	                       "AND rows = 1",
	                       NULL),
	                 2);
	ck_assert_int_eq(
	    qlong(
	        "SELECT (SELECT count(*) FROM pakn.complaint_event_default) + "
	        "(SELECT count(*) FROM pakn.outbox_default)",
	        NULL),
	    0);
	/* The month made later is append-only too. */
	harness_expect_pg("is append-only");
	ck_assert_ptr_null(
	    sql_query("TRUNCATE pakn.complaint_event_2024_03", NULL));
	ck_assert_int_eq(qlong("SELECT count(*) FROM "
	                       "pakn.complaint_event_2024_03",
	                       NULL),
	                 1);
	free(id_e);
	free(id_o);
}
END_TEST

/* The reply queued before the upgrade, two months ago, is sent exactly
 * once and its outcome recorded in its month's partition; a message
 * after the upgrade gets its ack once; a late delivery report finds an
 * old message. */
START_TEST(test_outbox_sends_once)
{
	char *state;

	ck_assert_int_eq(fakegw_wait(G.file, QUEUED, 1, WAIT), 1);
	for (double end = now_secs() + WAIT; now_secs() < end; sleep_ms(50)) {
		state = qval("SELECT state FROM pakn.outbox WHERE body = 'old "
		             "queued reply'",
		             NULL);
		if (state != NULL && !strcmp(state, "sent"))
			break;
		free(state);
		state = NULL;
	}
	ck_assert_ptr_nonnull(state);
	ck_assert_str_eq(state, "sent");
	free(state);
	ck_assert_int_eq(
	    qlong("SELECT count(*) FROM pakn.outbox o, public.m WHERE o.body = "
	          "'old queued reply' AND m.k = 2 AND o.tableoid = "
	          "('pakn.outbox' "
	          "|| to_char(m.start AT TIME ZONE 'Asia/Ho_Chi_Minh', "
	          "'_YYYY_MM'))::regclass AND o.sent_at IS NOT NULL AND "
	          "o.segments = 1 AND o.attempts = 1",
	          NULL),
	    1);
	ck_assert_int_eq(harness_kannel_sms(D->port, "kgw", "kgw-secret", CITIZ,
	                                    "8079", "HD", "parts-1"),
	                 200);
	ck_assert_int_eq(fakegw_wait(G.file, CITIZ, 1, WAIT), 1);
	sleep_ms(500);
	ck_assert_int_eq(fakegw_count(G.file, QUEUED), 1);
	ck_assert_int_eq(fakegw_count(G.file, CITIZ), 1);
	ck_assert_int_eq(
	    qlong("SELECT count(*) FROM pakn.outbox WHERE msisdn = $1 AND "
	          "tableoid = ('pakn.outbox' || to_char(now() AT TIME ZONE "
	          "'Asia/Ho_Chi_Minh', '_YYYY_MM'))::regclass",
	          CITIZ, NULL),
	    1);
	/* A delivery report for the message sent three months ago. */
	ck_assert_int_eq(qlong("SELECT pakn.outbox_dlr('kgw', id, NULL, "
	                       "'delivered', NULL) FROM pakn.outbox WHERE body "
	                       "= 'old sent reply'",
	                       NULL),
	                 1);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.outbox WHERE body = "
	                       "'old sent reply' AND state = 'delivered'",
	                       NULL),
	                 1);
}
END_TEST

/* The months of the outbox and of the inbound messages leave room on
 * their pages for the versions their rows are updated to (038): every
 * month there, and one made since; the ledger's rows are never updated
 * and fill theirs. */
START_TEST(test_update_room)
{
	char *v = sql_rolled_back(
	    "SELECT pakn.partition_create(t, '2022-03-01', 'test') FROM "
	    "unnest(ARRAY['outbox', 'inbound_message', 'complaint_event']) t",
	    "SELECT string_agg(p.name || ' ' || (SELECT string_agg(DISTINCT "
	    "coalesce(array_to_string(c.reloptions, ','), '-'), ',') FROM "
	    "pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE "
	    "i.inhparent = ('pakn.' || p.name)::regclass) || ' ' || (SELECT "
	    "count(*) FROM pg_class c WHERE c.relname = p.name || "
	    "'_2022_03'), ', ' ORDER BY p.name) FROM pakn.partitioned p");

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v,
	                 "complaint_event - 1, inbound_message fillfactor=60 "
	                 "1, outbox fillfactor=60 1");
	free(v);
}
END_TEST

/* paknctl partitions lists the months with rows and sizes;
 * --drop-before refuses the ledger, refuses while a month holds an SMS
 * being sent, and otherwise drops whole months (ledgered), never this
 * month's nor the ledger's. */
START_TEST(test_drop_before)
{
	char *out;
	long ledger;

	PQclear(q("SELECT pakn.partition_create('outbox', '2023-05-01', "
	          "'test')",
	          NULL));
	PQclear(q("INSERT INTO pakn.outbox (gateway, msisdn, body, kind, "
	          "state, lease_until, created_at) VALUES ('kgw', "
	          "'+84913500010', 'in flight', 'ack', 'sending', now() + "
	          "interval '1 day', '2023-05-20 10:00+07')",
	          NULL));
	ck_assert_int_eq(paknctl_out(NULL, &out, "partitions", NULL), 0);
	assert_contains(out, "outbox_2023_05");
	assert_contains(out, "complaint_event_default");
	assert_contains(out, "2023-05-01 2023-06-01");
	free(out);

	harness_expect_pg("are never dropped");
	ck_assert_int_ne(paknctl_out(NULL, &out, "partitions", "--drop-before",
	                             "2025-01-01", "--table", "complaint_event",
	                             NULL),
	                 0);
	assert_contains(out, "the accountability record");
	free(out);
	harness_expect_pg("nothing dropped");
	ck_assert_int_ne(paknctl_out(NULL, &out, "partitions", "--drop-before",
	                             "2024-01-01", NULL),
	                 0);
	assert_contains(out, "outbox_2023_05 holds 1 SMS still queued or "
	                     "being sent; nothing dropped");
	free(out);
	ck_assert_int_eq(qlong(MAY_2023, NULL), 1);

	PQclear(q("UPDATE pakn.outbox SET state = 'failed' WHERE body = 'in "
	          "flight'",
	          NULL));
	ck_assert_int_eq(paknctl_out(NULL, &out, "partitions", "--drop-before",
	                             "2024-01-01", "--dry-run", NULL),
	                 0);
	assert_contains(out, "\"dry_run\": true");
	free(out);
	ck_assert_int_eq(qlong(MAY_2023, NULL), 1);
	ledger = qlong("SELECT count(*) FROM pakn.complaint_event", NULL);
	ck_assert_int_eq(paknctl_out(NULL, &out, "partitions", "--drop-before",
	                             "2024-01-01", NULL),
	                 0);
	assert_contains(out, "\"partition\": \"outbox_2023_05\"");
	free(out);
	ck_assert_int_eq(qlong(MAY_2023, NULL), 0);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.outbox WHERE body = "
	                       "'in flight'",
	                       NULL),
	                 0);
	ck_assert_int_eq(
	    qlong("SELECT count(*) FROM pakn.partition_event WHERE "
	          "action = 'dropped' AND partition = "
	          "'outbox_2023_05' AND rows = 1 AND actor LIKE "
	          "'paknctl partitions%'",
	          NULL),
	    1);
	/* Younger months and the ledger are untouched. */
	ck_assert_int_eq(
	    qlong("SELECT count(*) FROM pakn.outbox_2024_03", NULL), 1);
	ck_assert_int_eq(
	    qlong("SELECT count(*) FROM pakn.complaint_event", NULL), ledger);
	ck_assert_int_eq(paknctl_out(NULL, &out, "partitions", "--ensure",
	                             "--months", "2", NULL),
	                 0);
	assert_contains(out, "0 partitions created");
	free(out);
}
END_TEST

/* paknctl purge still anonymises replies in old months' partitions. */
START_TEST(test_purge)
{
	char *out, *ps;

	char *today = qval("SELECT (now() AT TIME ZONE "
	                   "'Asia/Ho_Chi_Minh')::date::text",
	                   NULL);

	PQclear(q("UPDATE pakn.complaint SET status = 'closed', closed_at = "
	          "created_at, responsible_unit = (SELECT min(code) FROM "
	          "pakn.unit) WHERE ticket = 'PARTS1'",
	          NULL));
	/* An SMS of last month flagged afterwards (044's trigger lists its
	 * number): the purge takes the number from it, and the list. */
	PQclear(q("WITH k AS (INSERT INTO pakn.inbound_key (gateway, "
	          "gateway_msg_id, received_at) SELECT 'kgw', 'flagged-1', "
	          "start + interval '1 day' FROM public.m WHERE k = 1 "
	          "RETURNING id, received_at) INSERT INTO pakn.inbound_message "
	          "(id, received_at, gateway, gateway_msg_id, msisdn, "
	          "shortcode, body, raw_request, raw_body, state) SELECT id, "
	          "received_at, 'kgw', 'flagged-1', '" FLAGGED "', '8079', "
	          "'loop', 'POST', '\\x', 'done' FROM k",
	          NULL));
	PQclear(q("UPDATE pakn.inbound_message SET sender_flag = "
	          "'gateway_sender' WHERE gateway_msg_id = 'flagged-1'",
	          NULL));
	assert_value(qval(FLAG_WHY, NULL),
	             "refused: the number is flagged (gateway_sender)");
	ck_assert_int_eq(
	    paknctl_out(NULL, &out, "purge", "--before", today, NULL), 0);
	assert_contains(out, "\"complaints\": 1");
	assert_contains(out, "\"replies\": 2");
	free(out);
	free(today);
	ps = qval("SELECT pakn.api_pseudonym($1)", QUEUED, NULL);
	ck_assert_int_eq(
	    qlong("SELECT count(*) FROM pakn.outbox WHERE msisdn = "
	          "$1",
	          QUEUED, NULL),
	    0);
	ck_assert_int_eq(
	    qlong("SELECT count(*) FROM pakn.outbox WHERE msisdn = "
	          "$1 AND body = '-' AND created_at < now() - "
	          "interval '20 days'",
	          ps, NULL),
	    2);
	ck_assert_int_eq(
	    qlong("SELECT count(*) FROM pakn.complaint_event WHERE "
	          "event = 'purged'",
	          NULL),
	    1);
	assert_value(qval(FLAG_WHY, NULL), "");
	free(ps);
}
END_TEST

/* A number flagged while the prune runs stays listed (046): the
 * message's trigger holds its number's row until it commits; the prune
 * waits for it, then sees the message. */
START_TEST(test_flagged_meanwhile)
{
	PGresult *r;
	int waited;

	/* Listed with no flagged message left (as after a purge), and a
	 * message of the number not flagged yet. */
	PQclear(q("INSERT INTO pakn.flagged_sender (msisdn, sender_flag) "
	          "VALUES ('" LATE_FLAG "', 'gateway_sender')",
	          NULL));
	PQclear(q("WITH k AS (INSERT INTO pakn.inbound_key (gateway, "
	          "gateway_msg_id) VALUES ('kgw', 'flagged-late') RETURNING "
	          "id, received_at) INSERT INTO pakn.inbound_message (id, "
	          "received_at, gateway, gateway_msg_id, msisdn, shortcode, "
	          "body, raw_request, raw_body, state) SELECT id, received_at, "
	          "'kgw', 'flagged-late', '" LATE_FLAG "', '8079', 'loop', "
	          "'POST', '\\x', 'done' FROM k",
	          NULL));
	r = sql_behind("UPDATE pakn.inbound_message SET sender_flag = "
	               "'gateway_sender' WHERE gateway_msg_id = 'flagged-late'",
	               "SELECT pakn.flagged_sender_prune(ARRAY['" LATE_FLAG
	               "'])",
	               &waited);
	ck_assert_msg(waited, "the prune did not wait for the message");
	ck_assert_ptr_nonnull(r);
	ck_assert_int_eq(PQresultStatus(r), PGRES_TUPLES_OK);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), "0");
	PQclear(r);
	assert_value(qval("SELECT coalesce(pakn.outbox_refusal('" LATE_FLAG
	                  "'), '')",
	                  NULL),
	             "refused: the number is flagged (gateway_sender)");
	/* Its message no longer the number's (a purge): the prune takes it. */
	PQclear(q("UPDATE pakn.inbound_message SET msisdn = '+84913500008' "
	          "WHERE gateway_msg_id = 'flagged-late'",
	          NULL));
	ck_assert_int_eq(
	    qlong("SELECT pakn.flagged_sender_prune(ARRAY['" LATE_FLAG "'])",
	          NULL),
	    1);
	assert_value(qval("SELECT coalesce(pakn.outbox_refusal('" LATE_FLAG
	                  "'), '')",
	                  NULL),
	             "");
}
END_TEST

/* The received SMS (025): old rows in their months with their ids and
 * keys; a callback lands in this month, stored once; an old month is
 * dropped only when none of its SMS waits for processing, and the
 * complaint that came from it keeps its message's key. */
START_TEST(test_inbound_months)
{
	char *out, *month, *before;

	ck_assert_int_eq(
	    qlong("SELECT count(*) FROM public.inbound_before b JOIN "
	          "pakn.inbound_message m USING (id) JOIN pakn.inbound_key k "
	          "USING (id) WHERE m.received_at = b.received_at AND "
	          "k.gateway_msg_id = b.gateway_msg_id AND m.tableoid = "
	          "to_regclass('pakn.inbound_message' || to_char(b.received_at "
	          "AT TIME ZONE 'Asia/Ho_Chi_Minh', '_YYYY_MM'))",
	          NULL),
	    3);
	/* The flagged sender's number, listed by the upgrade (044). */
	assert_value(qval(FLAG_WHY, NULL),
	             "refused: the number is flagged (gateway_sender)");
	for (int i = 0; i < 2; i++)
		ck_assert_int_eq(
		    harness_kannel_sms(D->port, "kgw", "kgw-secret", CITIZ,
		                       "8079", "Mat nuoc ca tuan", "month-1"),
		    200);
	ck_assert_int_eq(
	    qlong(
	        "SELECT count(*) FROM pakn.inbound_message m JOIN "
	        "pakn.inbound_key k USING (id) WHERE m.gateway_msg_id = "
	        "'month-1' AND m.tableoid = to_regclass('pakn.inbound_message' "
	        "|| to_char(now() AT TIME ZONE 'Asia/Ho_Chi_Minh', "
	        "'_YYYY_MM'))",
	        NULL),
	    1);

	/* The oldest month: refused while its SMS waits, then dropped. */
	month =
	    qval("SELECT 'inbound_message' || to_char(start AT TIME ZONE "
	         "'Asia/Ho_Chi_Minh', '_YYYY_MM') FROM public.m WHERE k = 3",
	         NULL);
	before = qval("SELECT to_char(start AT TIME ZONE 'Asia/Ho_Chi_Minh', "
	              "'YYYY-MM-DD') FROM public.m WHERE k = 2",
	              NULL);
	PQclear(q("UPDATE pakn.inbound_message SET state = 'new', lease_until "
	          "= now() + interval '1 day' WHERE gateway_msg_id = 'old-3'",
	          NULL));
	harness_expect_pg("nothing dropped");
	ck_assert_int_ne(paknctl_out(NULL, &out, "partitions", "--drop-before",
	                             before, "--table", "inbound_message",
	                             NULL),
	                 0);
	assert_contains(out, "SMS not processed yet; nothing dropped");
	free(out);
	PQclear(q("UPDATE pakn.inbound_message SET state = 'done', "
	          "lease_until = NULL WHERE gateway_msg_id = 'old-3'",
	          NULL));
	ck_assert_int_eq(paknctl_out(NULL, &out, "partitions", "--drop-before",
	                             before, "--table", "inbound_message",
	                             NULL),
	                 0);
	assert_contains(out, month);
	free(out);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.inbound_message "
	                       "WHERE gateway_msg_id LIKE 'old-%'",
	                       NULL),
	                 1);
	/* Its only flagged SMS gone with the month, the number is no longer
	 * refused (as when the refusal read the messages). */
	assert_value(qval(FLAG_WHY, NULL), "");
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.flagged_sender "
	                       "WHERE msisdn = $1",
	                       FLAGGED, NULL),
	                 0);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint c JOIN "
	                       "pakn.inbound_key k ON k.id = c.inbound_id "
	                       "WHERE c.ticket = 'PARTS1' AND k.gateway_msg_id "
	                       "= 'old-3'",
	                       NULL),
	                 1);
	free(month);
	free(before);
}
END_TEST

/* A claim and the processing of its messages read the months that hold
 * them, not every month kept (a deployment keeps a year or two): with
 * twelve months more, 100 complaints claimed and processed in one batch
 * read a few entries of each old month's indexes for the claim (its
 * scans for waiting messages and lapsed leases), not several a message
 * (before: the test of a phone's message in flight, the claim's update,
 * the batch's lock and its update by id, the outbox's refusal by phone:
 * 5 a message and month). In one transaction, rolled back: the running
 * paknd never sees the messages. */
START_TEST(test_claim_reads_its_months)
{
	static const char setup[] =
	    "SELECT pakn.partition_create('inbound_message', d::date, 'test') "
	    "FROM generate_series('2019-01-01'::date, '2019-12-01', "
	    "'1 month') d; "
	    "WITH k AS (INSERT INTO pakn.inbound_key (gateway, gateway_msg_id) "
	    "SELECT 'kgw', 'months-' || n FROM generate_series(1, 100) n "
	    "RETURNING id, gateway_msg_id, received_at) INSERT INTO "
	    "pakn.inbound_message (id, received_at, gateway, gateway_msg_id, "
	    "msisdn, shortcode, body, raw_request, raw_body) SELECT k.id, "
	    "k.received_at, 'kgw', k.gateway_msg_id, '+8491370' || "
	    "lpad(substr(k.gateway_msg_id, 8), 4, '0'), '8079', "
	    "'PA 00004 Den duong hong', 'POST', '\\x' FROM k; "
	    "SELECT pg_stat_clear_snapshot(); "
	    "CREATE TEMPORARY TABLE claimed AS SELECT * FROM "
	    "pakn.intake_claim('test', 500, 60) WHERE gateway_msg_id LIKE "
	    "'months-%'; "
	    "CREATE TEMPORARY TABLE processed AS SELECT * FROM "
	    "pakn.intake_process_batch('test', (SELECT jsonb_agg("
	    "jsonb_build_object('id', c.id, 'kind', 'complaint', 'keyword', "
	    "true, 'ticket', '', 'ticket_ok', false, 'unit', '00004', "
	    "'rating', 0, 'text', 'Den duong hong', 'sender_flag', NULL, "
	    "'limits', '{}'::jsonb, 'category', 'general', 'at', "
	    "c.received_at) ORDER BY c.id) FROM claimed c), (SELECT version "
	    "FROM pakn.category_version), 0)";
	static const char measure[] =
	    "SELECT (SELECT count(*) FROM claimed) || ' ' || (SELECT count(*) "
	    "FROM processed p WHERE p.state = 'done' AND p.batched) || ' ' || "
	    "(SELECT count(*) FROM pakn.complaint c JOIN claimed m ON m.id = "
	    "c.inbound_id WHERE c.location_unit = '00004') || ' ' || (SELECT "
	    "count(*) FROM pakn.inbound_message m JOIN claimed c USING (id) "
	    "WHERE m.state = 'done') || ' ' || (SELECT coalesce(sum("
	    "pg_stat_get_xact_numscans(x.indexrelid)), 0) FROM pg_index x JOIN "
	    "pg_class t ON t.oid = x.indrelid WHERE t.relname LIKE "
	    "'inbound\\_message\\_2019\\_%')";
	long claimed = -1, batched = -1, made = -1, done = -1, scans = -1;
	char *v = sql_rolled_back(setup, measure);

	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(sscanf(v, "%ld %ld %ld %ld %ld", &claimed, &batched,
	                        &made, &done, &scans),
	                 5);
	ck_assert_int_eq(claimed, 100);
	ck_assert_int_eq(batched, 100);
	ck_assert_int_eq(made, 100);
	ck_assert_int_eq(done, 100);
	ck_assert_msg(scans <= 12 * 8,
	              "%ld scans of the twelve old months' indexes for 100 "
	              "messages of this month",
	              scans);
	free(v);
}
END_TEST

/* The suite, in order: each test builds on the one before. */
static Suite *
partitions_suite(void)
{
	Suite *s = suite_create("partitions");
	TCase *tc = tcase(s, "partitions", 90);

	tcase_add_test(tc, test_upgrade_keeps_rows);
	tcase_add_test(tc, test_ledger_append_only);
	tcase_add_test(tc, test_ensure);
	tcase_add_test(tc, test_outbox_sends_once);
	tcase_add_test(tc, test_drop_before);
	tcase_add_test(tc, test_update_room);
	tcase_add_test(tc, test_inbound_months);
	tcase_add_test(tc, test_purge);
	tcase_add_test(tc, test_flagged_meanwhile);
	tcase_add_test(tc, test_claim_reads_its_months);
	return s;
}

/* The old database, the upgrade by paknctl migrate, then paknd. */
static int
setup(void)
{
	char *extra, *argv[5];
	int rc;

	D = harness_main();
	if (harness_init() == -1 || pg_setup() == -1 || seed_old() == -1) {
		fprintf(stderr, "check_partitions: no database before 023\n");
		return 99;
	}
	if (fakegw_start(&G) == -1) {
		fprintf(stderr, "check_partitions: fakegw does not start\n");
		return 1;
	}
	extra = strf("[gateway.kgw]\ntype = kannel\ntoken = kgw-secret\n"
	             "send_url = http://127.0.0.1:%d/cgi-bin/sendsms\n"
	             "username = pakn\npassword = kannel-pass\n"
	             "sender = 8079\n\n[outbox]\ninterval = 100\n\n"
	             "[deadline]\ninterval = 3600\n",
	             G.port);
	rc = paknd_config(D, "main", "pakn", 1, extra);
	free(extra);
	if (rc == -1)
		return 1;
	argv[0] = (char *)paknctl_path();
	argv[1] = "-c";
	argv[2] = D->conf;
	argv[3] = "migrate";
	argv[4] = NULL;
	harness_path(upgrade_out, sizeof upgrade_out, "upgrade.out");
	if (harness_run(argv, upgrade_out, upgrade_out, 120) != 0) {
		log_tail(upgrade_out, 20);
		return 1;
	}
	if (harness_import_samples(D->conf, 0) == -1) {
		fprintf(stderr, "check_partitions: no sample units\n");
		return 1;
	}
	if (paknd_spawn(D) == -1 || paknd_wait_ready(D, 10) == -1) {
		fprintf(stderr, "check_partitions: paknd does not start\n");
		return 1;
	}
	return 0;
}

int
main(void)
{
	SRunner *sr;
	int failed, rc, status = 0;

	if ((rc = setup()) != 0)
		return rc;
	sr = srunner_create(partitions_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (paknd_finish(D, "kgw-secret", NULL) == -1)
		failed++;
	kill(G.pid, SIGTERM);
	waitpid(G.pid, &status, 0);
	if (harness_pg_clean() == -1)
		failed++;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
