/* journal_cmd.c: paknctl journal show|replay, over the intake journal
 * (journal.c) of intake records (intake_rec.c).
 *
 * Replay stores each record with pakn.intake_store
 * (sql/functions/inbound.sql), which stores a repeated (gateway, id) once,
 * for the processing worker, with the time intake accepted the callback.
 * Records go 500 to a transaction; after each commit the journal records
 * how far it got, so an interrupted replay resumes there and only the
 * uncommitted part of a batch can be sent again (then counted as
 * duplicates).
 */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "intake_rec.h"
#include "journal.h"
#include "journal_cmd.h"
#include "util.h"

#define JOURNAL_CMD_BATCH 500

/* Counts of paknctl journal show. */
struct show {
	int64_t oldest, newest; /* received_at_us, 0 if none */
	uint64_t undecodable;
};

/* Write Unix microseconds as UTC ISO 8601 into out. */
static const char *
time_us(int64_t us, char out[32])
{
	time_t t = (time_t)(us / 1000000);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(out, 32, "%" PRId64 " us", us);
	return out;
}

/* One record or the end of one file, for show. */
static int
show_one(const char *file, const void *p, size_t n,
         const struct journal_stats *fs, void *arg)
{
	struct show *s = arg;
	struct intake_rec r;

	if (p == NULL) {
		printf("%-20s %8" PRIu64 " records %12" PRIu64 " bytes%s%s%s\n",
		       file, fs->records, fs->bytes,
		       fs->active ? "  (being appended to)" : "",
		       fs->torn ? "  torn last record" : "",
		       fs->bad ? "  BAD: corrupt record, kept for inspection"
		               : "");
		return 0;
	}
	if (intake_rec_decode(p, n, &r, NULL) == -1) {
		s->undecodable++;
		return 0;
	}
	if (s->oldest == 0 || r.received_at_us < s->oldest)
		s->oldest = r.received_at_us;
	if (r.received_at_us > s->newest)
		s->newest = r.received_at_us;
	intake_rec_clear(&r);
	return 0;
}

/* paknctl journal show [DIR]. */
int
journal_cmd_show(const char *dir)
{
	struct journal_stats st = {0};
	struct show s = {0};
	char *cause = NULL, a[32], b[32];

	printf("journal %s\n", dir);
	if (journal_scan(dir, show_one, &s, &st, &cause) == -1) {
		fprintf(stderr, "paknctl: %s\n", cause);
		free(cause);
		return 1;
	}
	printf("total: %" PRIu64 " file%s, %" PRIu64 " record%s (%" PRIu64
	       " bytes) waiting, %" PRIu64 " torn, %" PRIu64 " bad\n",
	       st.files, st.files == 1 ? "" : "s", st.records,
	       st.records == 1 ? "" : "s", st.bytes, st.torn, st.bad);
	if (s.newest != 0)
		printf("received: oldest %s, newest %s\n", time_us(s.oldest, a),
		       time_us(s.newest, b));
	if (s.undecodable > 0)
		printf("%" PRIu64 " record%s this paknctl cannot read (a newer "
		       "version wrote them?)\n",
		       s.undecodable, s.undecodable == 1 ? "" : "s");
	return 0;
}

/* A replay into the database. */
struct replay {
	PGconn *conn;
	int in_tx;        /* BEGIN sent */
	long batch;       /* records in the open transaction */
	long stored, dup; /* in the open transaction */
	long total_stored, total_dup;
};

/* Run a statement without result rows; 0, or -1 with the error printed. */
static int
replay_exec(struct replay *r, const char *sql)
{
	PGresult *res = PQexec(r->conn, sql);
	int ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		fprintf(stderr, "paknctl: journal replay: %s: %s", sql,
		        PQresultErrorMessage(res));
	PQclear(res);
	return ok ? 0 : -1;
}

/* Mark stored message id as cut, if its record says so; 0 or -1. */
static int
replay_cut(struct replay *r, const struct intake_rec *m, const char *id)
{
	const char *v[1] = {id};
	PGresult *res;
	int rc = 0;

	if (!(m->flags & INTAKE_REC_CUT))
		return 0;
	res = PQexecParams(r->conn,
	                   "UPDATE pakn.inbound_message SET text_cut = true "
	                   "WHERE id = $1::bigint",
	                   1, NULL, v, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr,
		        "paknctl: journal replay: gateway %s message %s: %s",
		        m->gateway, m->msg_id, PQresultErrorMessage(res));
		rc = -1;
	}
	PQclear(res);
	return rc;
}

/* Store one decoded record in the open transaction. */
static int
replay_store(struct replay *r, const struct intake_rec *m)
{
	char sent_at[32], segments[16], received[32];
	const char *v[11];
	int len[11] = {0}, fmt[11] = {0}, rc = -1;
	PGresult *res;

	snprintf(segments, sizeof segments, "%d", m->segments);
	v[0] = m->gateway;
	v[1] = m->msg_id;
	v[2] = m->from;
	v[3] = m->to;
	v[4] = m->text;
	v[5] = sql_time(m->sent_at, sent_at);
	v[6] = m->segments > 0 ? segments : NULL;
	v[7] = m->smsc;
	v[8] = m->raw_request;
	v[9] = m->raw_body ? (const char *)m->raw_body : "";
	len[9] = (int)m->raw_body_len;
	fmt[9] = 1;
	/* The time intake accepted it (Unix microseconds), if known. */
	snprintf(received, sizeof received, "%" PRId64, m->received_at_us);
	v[10] = m->received_at_us > 0 ? received : NULL;
	res =
	    PQexecParams(r->conn,
	                 "SELECT message_id, duplicate FROM pakn.intake_store("
	                 "$1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
	                 "'epoch'::timestamptz + $11::bigint * "
	                 "interval '1 microsecond')",
	                 11, NULL, v, len, fmt, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1)
		fprintf(stderr,
		        "paknctl: journal replay: gateway %s message "
		        "%s: %s",
		        m->gateway, m->msg_id, PQresultErrorMessage(res));
	else if (!strcmp(PQgetvalue(res, 0, 1), "t")) {
		r->dup++;
		rc = 0;
	} else {
		r->stored++;
		rc = replay_cut(r, m, PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	return rc;
}

/* Abandon the open transaction. */
static void
replay_abort(struct replay *r)
{
	if (r->in_tx)
		PQclear(PQexec(r->conn, "ROLLBACK"));
	r->in_tx = 0;
	r->stored = r->dup = r->batch = 0;
}

/* Commit the open transaction; 1 (durable), or -1 (rolled back). */
static int
replay_commit(struct replay *r)
{
	if (!r->in_tx)
		return 1;
	if (replay_exec(r, "COMMIT") == -1) {
		replay_abort(r);
		return -1;
	}
	r->in_tx = 0;
	r->total_stored += r->stored;
	r->total_dup += r->dup;
	r->stored = r->dup = r->batch = 0;
	return 1;
}

/* Store one decoded record, in a transaction opened if need be. */
static int
replay_add(struct replay *r, const struct intake_rec *m)
{
	if (!r->in_tx) {
		if (replay_exec(r, "BEGIN") == -1)
			return -1;
		r->in_tx = 1;
	}
	if (replay_store(r, m) == -1) {
		replay_abort(r);
		return -1;
	}
	return 0;
}

/* journal_replay's callback: store a record, commit every 500 and when
 * asked (p NULL). */
static int
replay_one(const void *p, size_t n, void *arg)
{
	struct replay *r = arg;
	struct intake_rec m;
	char *cause = NULL;
	int rc;

	if (p == NULL)
		return replay_commit(r);
	if (intake_rec_decode(p, n, &m, &cause) == -1) {
		fprintf(stderr, "paknctl: journal replay: %s\n", cause);
		free(cause);
		replay_abort(r);
		return -1;
	}
	rc = replay_add(r, &m);
	intake_rec_clear(&m);
	if (rc == -1)
		return -1;
	return ++r->batch < JOURNAL_CMD_BATCH ? 0 : replay_commit(r);
}

/* Store every record of the journal in dir (see journal_cmd.h). */
int
journal_cmd_store(PGconn *conn, const char *dir, long *stored, long *dup,
                  struct journal_stats *st, char **cause)
{
	struct replay r = {.conn = conn};
	int rc = journal_replay(dir, replay_one, &r, st, cause);

	replay_abort(&r);
	*stored = r.total_stored;
	*dup = r.total_dup;
	return rc;
}

/* paknctl journal replay [DIR]. */
int
journal_cmd_replay(PGconn *conn, const char *dir)
{
	struct journal_stats st = {0};
	char *cause = NULL;
	long stored = 0, dup = 0;
	int rc = journal_cmd_store(conn, dir, &stored, &dup, &st, &cause);

	printf("journal %s: %ld stored, %ld duplicate%s; %" PRIu64
	       " file%s deleted, %" PRIu64 " kept (being appended to), %" PRIu64
	       " torn record%s skipped, %" PRIu64 " bad\n",
	       dir, stored, dup, dup == 1 ? "" : "s", st.deleted,
	       st.deleted == 1 ? "" : "s", st.active, st.torn,
	       st.torn == 1 ? "" : "s", st.bad);
	if (rc == -1) {
		fprintf(stderr, "paknctl: %s\n", cause);
		free(cause);
		return 1;
	}
	return 0;
}
