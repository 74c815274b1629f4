/* db.c: an asynchronous PostgreSQL pool on the event loop, with group commit.
 *
 * Each connection runs in libpq pipeline mode. Requests wait in one queue;
 * an idle connection takes all of them (up to batch_size) and sends
 *
 *	BEGIN; EXECUTE s1; EXECUTE s2; ...; COMMIT; Sync
 *
 * in one write, so many callbacks share one commit. A request's callback
 * runs only once the COMMIT has succeeded.
 *
 * When a statement fails, the rest of the pipeline is skipped up to the
 * Sync, but a Sync does not end an explicit BEGIN block: the session is
 * left in an aborted transaction. So a failed batch is followed by
 * ROLLBACK (and its own Sync) before the connection takes other work, and
 * a connection is only given a batch while PQtransactionStatus says idle.
 * Then:
 *  - a transient error (deadlock 40P01, serialization failure 40001, lock
 *    not available 55P03) re-runs the same batch after a short jittered
 *    backoff, up to DB_RETRIES times, then each request alone with the
 *    same budget; only then does a request get DB_ERROR;
 *  - a permanent error isolates the request that raised it: it runs
 *    alone ("solo") and answers DB_ERROR if it fails again; the others of
 *    the batch go back to the head of the queue and commit without it.
 * A lost connection fails its batch with DB_UNAVAILABLE (the callers
 * answer 503 and the gateway retries; storage is idempotent) and
 * reconnects with backoff.
 *
 * Merged statements (db_pool_merge): the requests of a statement that
 * share a batch (a callback's store) are sent as one call of its merged
 * form, their parameters as arrays in PostgreSQL's binary format (no
 * quoting, whatever the text), at the place of the first and in the
 * batch's order. One statement instead of a few dozen halves the
 * server's time a store. Each request gets the rows of the result whose
 * first column is its place. If the merged call fails, its requests go
 * back to the queue marked to run a statement each, so that the
 * isolation above finds the one at fault.
 *
 * Lock order: concurrent batches must take the row locks they share in
 * one order, or they deadlock. Each request may carry an order key (the
 * citizen's phone for USSD steps and processing, the gateway's message
 * key for a callback's store); a batch is sent sorted
 * by key, requests with the same key (or none) keeping their order, and
 * the SQL functions lock the rows of one key before any other (the
 * citizen row, then that citizen's messages and complaints). Rows shared
 * by every key (statistics, counters) are not updated in these
 * transactions: they are appended as deltas and folded later.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/time.h>

#include "db.h"
#include "metrics.h"
#include "util.h"

enum conn_state {
	CONN_DOWN,       /* waiting to reconnect */
	CONN_CONNECTING, /* PQconnectPoll in progress */
	CONN_PREPARING,  /* statements being prepared */
	CONN_IDLE,
	CONN_BUSY,     /* a batch in flight */
	CONN_ROLLBACK, /* ending the aborted transaction of a failed batch */
	CONN_WAIT,     /* holding a batch for a retry after a transient error */
};

/* Re-runs of a batch (then of each of its requests alone) after a
 * transient error, and the first backoff in seconds (doubled each time,
 * with jitter). */
#define DB_RETRIES       5
#define DB_RETRY_BACKOFF 0.005

struct db_req {
	TAILQ_ENTRY(db_req) entry;
	int stmt;
	int nparams;
	char **values;
	int *lengths;
	int *formats;
	db_cb cb;
	void *arg;
	PGresult *res;
	struct timeval queued;
	unsigned long long seq; /* submission order */
	char *key;              /* lock order key, or NULL */
	int solo;
	int attempts; /* transient failures so far */
	int qslot;    /* the batch's statement that carries it (1 first) */
	int part;     /* its place in a merged statement (1 first), or 0 */
	int nomerge;  /* a merged statement of it failed: alone next time */
};
TAILQ_HEAD(db_reqs, db_req);

struct db_conn {
	struct db_pool *pool;
	int id;
	enum conn_state state;
	PGconn *pg;
	struct event *rev;   /* socket readable (persistent once up) */
	struct event *wev;   /* socket writable (flush or connect) */
	struct event *timer; /* backoff, connect and batch timeouts */
	struct db_reqs batch;
	int nbatch;
	int nq;       /* statements sent for the batch's requests */
	int qidx;     /* query whose results are being read: 0 is BEGIN */
	int failed;   /* a statement of the batch failed */
	int conn_err; /* the failure was the connection's */
	int fail_idx; /* query that failed first (1 is the first request) */
	char sqlstate[6];
	int committed;
	struct timeval sent; /* when the batch in flight was sent */
	char *error;
	double backoff;
	double retire_at; /* mono_now() after which it is made again, or 0 */
};

struct db_pool {
	struct event_base *base;
	char *conninfo;
	const struct db_stmt *stmts;
	int nstmts;
	int *merge;  /* by statement: the statement merging it, or -1 */
	char *alone; /* by statement: runs in a transaction of its own */
	struct db_opts opts;
	struct db_conn *conns;
	int nconns;
	struct db_reqs queue;
	long nqueue;
	long ninflight;
	int busy_max;          /* connections given work at once (0: all) */
	struct event *kick;    /* dispatch queued requests */
	struct event *janitor; /* expire requests waiting too long */
	char *last_error;
	long long commits, requests;
	unsigned long long seq;
	struct db_counters counters;
	long long conn_failures;  /* connections lost or refused */
	struct mhist batch_hist;  /* requests per batch sent */
	struct mhist commit_hist; /* seconds from send to commit */
	struct mcounter sqlstate; /* failed statements by SQLSTATE class */
};

/* Bounds of the batch size and commit latency histograms. */
static const double batch_le[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
static const double commit_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                   0.1,   0.25,   0.5,   1,    2.5,   5};

static void conn_start(struct db_conn *c);
static void conn_fail(struct db_conn *c, const char *why);
static void conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void pool_kick(struct db_pool *pool);
static int pool_may_queue(const struct db_pool *pool);
static void conn_send(struct db_conn *c);

/* Remember the latest connection error for /readyz and logs. */
static void
pool_set_error(struct db_pool *pool, const char *error)
{
	free(pool->last_error);
	pool->last_error = error ? xstrdup(error) : NULL;
}

/* Return libpq's error text on one line. */
static char *
one_line(const char *s)
{
	char *p, *out = xstrdup(s && *s ? s : "unknown error");
	while ((p = strpbrk(out, "\r\n\t")) != NULL)
		*p = ' ';
	for (p = out + strlen(out); p > out && p[-1] == ' ';)
		*--p = '\0';
	return out;
}

/* A failed statement's error on one line: the primary message only,
 * since DETAIL may quote a row (a citizen's number, a message's text)
 * and the text goes to logs and clients. */
static char *
res_error(const PGresult *res)
{
	const char *m = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

	return one_line(m != NULL ? m : PQresultErrorMessage(res));
}

/* Free a request (its result too). */
static void
req_free(struct db_req *r)
{
	PQclear(r->res);
	free(r->key);
	free(r);
}

/* Answer a request and free it. */
static void
req_finish(struct db_pool *pool, struct db_req *r, enum db_status st,
           const char *error)
{
	r->cb(r->arg, st, st == DB_OK ? r->res : NULL, error);
	req_free(r);
}

/* Fail every queued request: the database cannot be reached. */
static void
pool_fail_queue(struct db_pool *pool, const char *why)
{
	struct db_req *r;
	while ((r = TAILQ_FIRST(&pool->queue)) != NULL) {
		TAILQ_REMOVE(&pool->queue, r, entry);
		pool->nqueue--;
		req_finish(pool, r, DB_UNAVAILABLE, why);
	}
}

/* Connections ready for work. */
int
db_pool_up(const struct db_pool *pool)
{
	int n = 0;
	for (int i = 0; i < pool->nconns; i++)
		if (pool->conns[i].state == CONN_IDLE ||
		    pool->conns[i].state == CONN_BUSY)
			n++;
	return n;
}

/* Arm the connection's timer. */
static void
conn_timer(struct db_conn *c, double seconds)
{
	struct timeval tv;
	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	evtimer_add(c->timer, &tv);
}

/* Drop the socket events and the libpq connection. */
static void
conn_close(struct db_conn *c)
{
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	c->rev = c->wev = NULL;
	evtimer_del(c->timer);
	if (c->pg != NULL)
		PQfinish(c->pg);
	c->pg = NULL;
}

/* Fail or requeue the requests of the batch in flight. */
static void
conn_end_batch(struct db_conn *c, enum db_status st, const char *why)
{
	struct db_pool *pool = c->pool;
	struct db_reqs done;
	struct db_req *r;

	TAILQ_INIT(&done);
	TAILQ_CONCAT(&done, &c->batch, entry);
	pool->ninflight -= c->nbatch;
	c->nbatch = 0;
	while ((r = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, r, entry);
		req_finish(pool, r, st, why);
	}
}

/* Lose the connection: fail its batch, schedule a reconnection. */
static void
conn_fail(struct db_conn *c, const char *why)
{
	struct db_pool *pool = c->pool;
	char *msg = one_line(why);
	int was_up = c->state == CONN_IDLE || c->state == CONN_BUSY;

	pool->conn_failures++;
	if (was_up || pool->last_error == NULL ||
	    strcmp(pool->last_error, msg) != 0)
		log_warnx("db conn %d: %s", c->id, msg);
	pool_set_error(pool, msg);
	conn_close(c);
	c->state = CONN_DOWN;
	conn_end_batch(c, DB_UNAVAILABLE, "database unavailable");
	c->backoff = c->backoff == 0 ? 0.1 : c->backoff * 2;
	if (!pool_may_queue(pool))
		pool_fail_queue(pool, "database unavailable");
	if (c->backoff > (double)pool->opts.reconnect_max)
		c->backoff = (double)pool->opts.reconnect_max;
	/* Jitter of +-25 % so instances do not reconnect in step. */
	conn_timer(c,
	           c->backoff * (0.75 + 0.5 * (random() / (double)RAND_MAX)));
	free(msg);
}

/* Flush pending output; arm the write event if libpq could not. */
static int
conn_flush(struct db_conn *c)
{
	int rc = PQflush(c->pg);
	if (rc < 0)
		return -1;
	if (rc > 0)
		event_add(c->wev, NULL);
	return 0;
}

/* Write event while up: flush the rest of the batch. */
static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	if (conn_flush(c) != 0)
		conn_fail(c, PQerrorMessage(c->pg));
}

/* The connection is open: go to pipeline mode and prepare statements. */
static void
conn_prepare(struct db_conn *c)
{
	struct db_pool *pool = c->pool;
	evutil_socket_t fd = PQsocket(c->pg);

	if (c->rev != NULL)
		event_free(c->rev);
	if (c->wev != NULL)
		event_free(c->wev);
	c->rev =
	    event_new(pool->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->wev = event_new(pool->base, fd, EV_WRITE, conn_write_cb, c);
	event_add(c->rev, NULL);
	if (PQsetnonblocking(c->pg, 1) != 0 || PQenterPipelineMode(c->pg) != 1)
		goto fail;
	for (int i = 0; i < pool->nstmts; i++)
		if (PQsendPrepare(c->pg, pool->stmts[i].name,
		                  pool->stmts[i].sql, pool->stmts[i].nparams,
		                  NULL) != 1)
			goto fail;
	if (PQpipelineSync(c->pg) != 1 || conn_flush(c) != 0)
		goto fail;
	c->state = CONN_PREPARING;
	c->qidx = 0;
	c->failed = 0;
	free(c->error);
	c->error = NULL;
	return;
fail:
	conn_fail(c, PQerrorMessage(c->pg));
}

/* Socket event while connecting: advance PQconnectPoll. */
static void
conn_connect_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	PostgresPollingStatusType st;
	short ev;

	if (what & EV_TIMEOUT) {
		conn_fail(c, "connection timed out");
		return;
	}
	st = PQconnectPoll(c->pg);
	if (st == PGRES_POLLING_FAILED) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (st == PGRES_POLLING_OK) {
		conn_prepare(c);
		return;
	}
	ev = st == PGRES_POLLING_READING ? EV_READ : EV_WRITE;
	if (c->wev != NULL)
		event_free(c->wev);
	/* The socket may change between attempts (several hosts). */
	c->wev =
	    event_new(c->pool->base, PQsocket(c->pg), ev, conn_connect_cb, c);
	event_add(c->wev, NULL);
}

/* Timer: reconnect after backoff, or give up on a slow connect/batch. */
static void
conn_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	switch (c->state) {
	case CONN_DOWN:
		conn_start(c);
		break;
	case CONN_CONNECTING:
	case CONN_PREPARING:
		conn_fail(c, "connection timed out");
		break;
	case CONN_BUSY:
	case CONN_ROLLBACK:
		conn_fail(c, "query timed out");
		break;
	case CONN_WAIT:
		conn_send(c);
		break;
	case CONN_IDLE:
		break;
	}
}

/* Begin a non-blocking connection. */
static void
conn_start(struct db_conn *c)
{
	c->pg = PQconnectStart(c->pool->conninfo);
	if (c->pg == NULL)
		fatalx("PQconnectStart: out of memory");
	c->state = CONN_CONNECTING;
	if (PQstatus(c->pg) == CONNECTION_BAD) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	conn_timer(c, 10);
	c->wev = event_new(c->pool->base, PQsocket(c->pg), EV_WRITE,
	                   conn_connect_cb, c);
	event_add(c->wev, NULL);
}

/* Append a big-endian 32-bit integer. */
static unsigned char *
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
	return p + 4;
}

/* Send the requests of slot q (first, then those after it) as one call
 * of the merged statement: parameter j is a one-dimensional array in
 * PostgreSQL's binary format (text, or bytea for a binary parameter)
 * of the requests' values in order. */
static int
conn_send_merged(struct db_conn *c, struct db_req *first, int q, int n)
{
	struct db_pool *pool = c->pool;
	int np = first->nparams, rc;
	char **values = xcalloc((size_t)np, sizeof *values);
	int *lengths = xcalloc((size_t)np, sizeof *lengths);
	int *formats = xcalloc((size_t)np, sizeof *formats);
	struct db_req *r;

	for (int j = 0; j < np; j++) {
		size_t size = 20;
		unsigned char *p;
		int hasnull = 0, bin = 0;
		for (r = first; r != NULL; r = TAILQ_NEXT(r, entry))
			if (r->qslot == q) {
				size += 4 + (r->values[j] != NULL
				                 ? (size_t)r->lengths[j]
				                 : 0);
				hasnull |= r->values[j] == NULL;
				bin |= r->formats[j];
			}
		p = (unsigned char *)xmalloc(size);
		values[j] = (char *)p;
		lengths[j] = (int)size;
		formats[j] = 1;
		/* Dimensions, NULLs or not, the element type (bytea or text),
		 * elements, lower bound; then each element's length (-1:
		 * NULL) and bytes. */
		p = put32(p, 1);
		p = put32(p, (uint32_t)hasnull);
		p = put32(p, bin ? 17 : 25);
		p = put32(p, (uint32_t)n);
		p = put32(p, 1);
		for (r = first; r != NULL; r = TAILQ_NEXT(r, entry)) {
			if (r->qslot != q)
				continue;
			if (r->values[j] == NULL) {
				p = put32(p, 0xffffffffu);
				continue;
			}
			p = put32(p, (uint32_t)r->lengths[j]);
			memcpy(p, r->values[j], (size_t)r->lengths[j]);
			p += r->lengths[j];
		}
	}
	rc = PQsendQueryPrepared(
	    c->pg, pool->stmts[pool->merge[first->stmt]].name, np,
	    (const char *const *)values, lengths, formats, 0);
	for (int j = 0; j < np; j++)
		free(values[j]);
	free(values);
	free(lengths);
	free(formats);
	pool->counters.merged += n;
	return rc;
}

/* Send one batch: BEGIN, each request (requests of a merged statement
 * together, at the first one's place), COMMIT, Sync. */
static void
conn_send(struct db_conn *c)
{
	struct db_pool *pool = c->pool;
	struct db_req *r, *s;
	int q = 0;

	TAILQ_FOREACH(r, &c->batch, entry)
	{
		r->qslot = 0;
		r->part = 0;
	}
	if (PQsendQueryParams(c->pg, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) !=
	    1)
		goto fail;
	TAILQ_FOREACH(r, &c->batch, entry)
	{
		int n = 1;
		if (r->qslot != 0)
			continue;
		r->qslot = ++q;
		if (pool->merge[r->stmt] >= 0 && !r->nomerge && !r->solo) {
			for (s = TAILQ_NEXT(r, entry); s != NULL;
			     s = TAILQ_NEXT(s, entry))
				if (s->qslot == 0 && s->stmt == r->stmt &&
				    !s->nomerge && !s->solo) {
					s->qslot = q;
					s->part = ++n;
				}
		}
		if (n > 1) {
			r->part = 1;
			if (conn_send_merged(c, r, q, n) != 1)
				goto fail;
			continue;
		}
		if (PQsendQueryPrepared(c->pg, pool->stmts[r->stmt].name,
		                        r->nparams,
		                        (const char *const *)r->values,
		                        r->lengths, r->formats, 0) != 1)
			goto fail;
	}
	c->nq = q;
	if (PQsendQueryParams(c->pg, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) !=
	        1 ||
	    PQpipelineSync(c->pg) != 1 || conn_flush(c) != 0)
		goto fail;
	c->state = CONN_BUSY;
	gettimeofday(&c->sent, NULL);
	mhist_observe(&pool->batch_hist, (double)c->nbatch);
	c->qidx = 0;
	c->failed = c->conn_err = c->committed = c->fail_idx = 0;
	c->sqlstate[0] = '\0';
	free(c->error);
	c->error = NULL;
	conn_timer(c, (double)pool->opts.query_timeout);
	return;
fail:
	conn_fail(c, PQerrorMessage(c->pg));
}

/* Order requests by lock key (none first), then by submission. */
static int
req_cmp(const void *a, const void *b)
{
	const struct db_req *x = *(struct db_req *const *)a;
	const struct db_req *y = *(struct db_req *const *)b;
	int k;

	if (x->key != NULL && y->key != NULL)
		k = strcmp(x->key, y->key);
	else
		k = (x->key != NULL) - (y->key != NULL);
	if (k != 0)
		return k;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sort the connection's batch by lock key (see the header comment). */
static void
conn_sort_batch(struct db_conn *c)
{
	struct db_req **v, *r;
	int n = 0;

	if (c->nbatch < 2)
		return;
	v = xcalloc((size_t)c->nbatch, sizeof *v);
	while ((r = TAILQ_FIRST(&c->batch)) != NULL) {
		TAILQ_REMOVE(&c->batch, r, entry);
		v[n++] = r;
	}
	qsort(v, (size_t)n, sizeof *v, req_cmp);
	for (int i = 0; i < n; i++)
		TAILQ_INSERT_TAIL(&c->batch, v[i], entry);
	free(v);
}

/* Is the idle connection outside any transaction? It must be before it
 * takes a batch; one that is not is dropped and made again. */
static int
conn_clean(struct db_conn *c)
{
	PGTransactionStatusType st = PQtransactionStatus(c->pg);

	if (st == PQTRANS_IDLE)
		return 1;
	c->pool->counters.unclean++;
	log_warnx("db conn %d: idle in transaction state %d, reconnecting",
	          c->id, (int)st);
	conn_fail(c, "connection left in a transaction");
	return 0;
}

/* A connection just made: when it is to be made again ([database]
 * lifetime, each connection 80-100 % of it, so that a pool's are not
 * made again together). The plans PostgreSQL keeps for a session are
 * made on the tables as they were at its first call of each statement;
 * a new session plans on today's, and gives back what the old one
 * grew. */
static void
conn_born(struct db_conn *c)
{
	long life = c->pool->opts.lifetime;

	c->retire_at =
	    life <= 0
	        ? 0
	        : mono_now() + (double)life *
	                           (0.8 + 0.2 * (random() / (double)RAND_MAX));
}

/* Is the idle connection past its lifetime? Then it is closed and made
 * again at once (its requests wait in the queue meanwhile). */
static int
conn_retire(struct db_conn *c)
{
	if (c->retire_at == 0 || mono_now() < c->retire_at)
		return 0;
	log_info("db conn %d: made again ([database] lifetime)", c->id);
	c->pool->counters.retired++;
	conn_close(c);
	c->state = CONN_DOWN;
	c->retire_at = 0;
	conn_start(c);
	return 1;
}

/* Connections with requests in flight. */
static int
pool_busy(const struct db_pool *pool)
{
	int n = 0;

	for (int i = 0; i < pool->nconns; i++)
		if (pool->conns[i].nbatch > 0)
			n++;
	return n;
}

/* Take queued requests for an idle connection and send them (while
 * fewer than busy_max connections have work, when it is set). */
static void
pool_dispatch(struct db_pool *pool)
{
	int busy = pool->busy_max > 0 ? pool_busy(pool) : 0;

	for (int i = 0; i < pool->nconns && pool->nqueue > 0; i++) {
		struct db_conn *c = &pool->conns[i];
		struct db_req *r;
		if (pool->busy_max > 0 && busy >= pool->busy_max)
			break;
		if (c->state != CONN_IDLE || !conn_clean(c) || conn_retire(c))
			continue;
		busy++;
		while ((r = TAILQ_FIRST(&pool->queue)) != NULL &&
		       c->nbatch < pool->opts.batch_size) {
			if (r->solo && c->nbatch > 0)
				break;
			TAILQ_REMOVE(&pool->queue, r, entry);
			pool->nqueue--;
			TAILQ_INSERT_TAIL(&c->batch, r, entry);
			c->nbatch++;
			pool->ninflight++;
			if (r->solo)
				break;
		}
		conn_sort_batch(c);
		conn_send(c);
	}
}

/* Is this SQLSTATE a failure of the connection or server, not the query? */
static int
sqlstate_is_conn(const char *state)
{
	if (state == NULL)
		return 1;
	return !strncmp(state, "08", 2) || !strncmp(state, "57", 2) ||
	       !strncmp(state, "53", 2) || !strncmp(state, "58", 2);
}

/* Count a failed statement by the class of its SQLSTATE (two
 * characters; "none" when the server sent none). */
static void
sqlstate_count(struct db_pool *pool, const char *state)
{
	char cls[3] = "";

	if (strlen(state) >= 2) {
		cls[0] = state[0];
		cls[1] = state[1];
	}
	mcounter_add(&pool->sqlstate, 1, cls[0] != '\0' ? cls : "none");
}

/* Give each request of a merged statement (first and those after it in
 * the same slot) the rows of its part: the result's first column. */
static void
conn_split(struct db_conn *c, struct db_req *first, const PGresult *res)
{
	int nf = PQnfields(res), nt = PQntuples(res), n = 0;
	PGresAttDesc *att = xcalloc((size_t)(nf > 1 ? nf - 1 : 1), sizeof *att);
	struct db_req **part, *r;

	for (int f = 1; f < nf; f++) {
		att[f - 1].name = PQfname(res, f);
		att[f - 1].tableid = PQftable(res, f);
		att[f - 1].columnid = PQftablecol(res, f);
		att[f - 1].format = PQfformat(res, f);
		att[f - 1].typid = PQftype(res, f);
		att[f - 1].typlen = PQfsize(res, f);
		att[f - 1].atttypmod = PQfmod(res, f);
	}
	for (r = first; r != NULL; r = TAILQ_NEXT(r, entry))
		if (r->qslot == first->qslot && r->part > n)
			n = r->part;
	part = xcalloc((size_t)n + 1, sizeof *part);
	for (r = first; r != NULL; r = TAILQ_NEXT(r, entry)) {
		if (r->qslot != first->qslot)
			continue;
		PQclear(r->res);
		r->res = PQmakeEmptyPGresult(c->pg, PGRES_TUPLES_OK);
		if (r->res == NULL ||
		    !PQsetResultAttrs(r->res, nf - 1, nf > 1 ? att : NULL))
			fatalx("db: out of memory");
		part[r->part] = r;
	}
	for (int t = 0; t < nt; t++) {
		long k = strtol(PQgetvalue(res, t, 0), NULL, 10);
		PGresult *to;
		if (k < 1 || k > n || part[k] == NULL) {
			log_warnx("db conn %d: merged statement %s: row of "
			          "part %ld, not one of the %d sent",
			          c->id, c->pool->stmts[first->stmt].name, k,
			          n);
			continue;
		}
		to = part[k]->res;
		for (int f = 1; f < nf; f++)
			if (!PQsetvalue(to, PQntuples(to), f - 1,
			                PQgetisnull(res, t, f)
			                    ? NULL
			                    : PQgetvalue(res, t, f),
			                PQgetisnull(res, t, f)
			                    ? -1
			                    : PQgetlength(res, t, f)))
				fatalx("db: out of memory");
	}
	free(part);
	free(att);
}

/* Keep the result of query qidx of the batch in flight. */
static void
conn_result(struct db_conn *c, PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);
	struct db_req *r;

	if (st == PGRES_FATAL_ERROR) {
		if (!c->failed) {
			const char *state =
			    PQresultErrorField(res, PG_DIAG_SQLSTATE);
			c->error = res_error(res);
			c->conn_err = sqlstate_is_conn(state);
			c->fail_idx = c->qidx;
			snprintf(c->sqlstate, sizeof c->sqlstate, "%s",
			         state ? state : "");
			sqlstate_count(c->pool, c->sqlstate);
		}
		c->failed = 1;
	} else if (st == PGRES_PIPELINE_ABORTED) {
		c->failed = 1;
	} else if (c->qidx == c->nq + 1) {
		c->committed = st == PGRES_COMMAND_OK &&
		               !strcmp(PQcmdStatus(res), "COMMIT");
	} else if (c->qidx >= 1 && c->qidx <= c->nq) {
		TAILQ_FOREACH(r, &c->batch, entry)
		{
			if (r->qslot != c->qidx)
				continue;
			if (r->part != 0) {
				conn_split(c, r, res);
				break;
			}
			PQclear(r->res);
			r->res = res;
			return;
		}
	}
	PQclear(res);
}

/* Is this SQLSTATE worth running the same work again for? */
static int
sqlstate_is_transient(const char *state)
{
	return !strcmp(state, "40P01") || !strcmp(state, "40001") ||
	       !strcmp(state, "55P03");
}

/* Put requests back at the head of the queue, in their order. */
static void
pool_requeue_head(struct db_pool *pool, struct db_reqs *reqs)
{
	struct db_req *r;

	while ((r = TAILQ_LAST(reqs, db_reqs)) != NULL) {
		TAILQ_REMOVE(reqs, r, entry);
		PQclear(r->res);
		r->res = NULL;
		TAILQ_INSERT_HEAD(&pool->queue, r, entry);
		pool->nqueue++;
	}
}

/* Hold the batch on this connection and send it again after a backoff
 * that doubles with each attempt (+-50 % jitter). */
static void
conn_retry_later(struct db_conn *c, int attempt)
{
	double wait = DB_RETRY_BACKOFF * (double)(1 << (attempt - 1));
	struct db_req *r;

	TAILQ_FOREACH(r, &c->batch, entry)
	{
		PQclear(r->res);
		r->res = NULL;
	}
	c->pool->counters.retries++;
	wait *= 0.5 + random() / (double)RAND_MAX;
	/* The error's start: its context can fill the line (2 KB). */
	log_info("db conn %d: %.400s (%s); batch of %d again in %.0f ms, "
	         "attempt %d",
	         c->id, c->error, c->sqlstate, c->nbatch, wait * 1000,
	         attempt + 1);
	c->state = CONN_WAIT;
	conn_timer(c, wait);
}

/* A transient error: the same batch again, later; past the budget,
 * each request alone; past that too, the error. */
static void
conn_transient(struct db_conn *c)
{
	struct db_pool *pool = c->pool;
	struct db_reqs again;
	struct db_req *r;
	int attempt = 0;

	TAILQ_FOREACH(r, &c->batch, entry)
	{
		r->attempts++;
		if (r->attempts > attempt)
			attempt = r->attempts;
	}
	if (attempt <= DB_RETRIES) {
		conn_retry_later(c, attempt);
		return;
	}
	if (c->nbatch == 1) {
		log_warnx("db conn %d: %s (%s), still after %d attempts", c->id,
		          c->error, c->sqlstate, attempt);
		conn_end_batch(c, DB_ERROR, c->error);
		return;
	}
	/* Each alone, with a fresh budget. */
	TAILQ_INIT(&again);
	TAILQ_CONCAT(&again, &c->batch, entry);
	pool->ninflight -= c->nbatch;
	c->nbatch = 0;
	TAILQ_FOREACH(r, &again, entry)
	{
		r->solo = 1;
		r->attempts = 0;
	}
	pool_requeue_head(pool, &again);
}

/* A permanent error: the request that raised it runs again alone (and
 * answers the error if it fails there too); the others go back to the
 * queue as they were and commit without it. */
static void
conn_permanent(struct db_conn *c)
{
	struct db_pool *pool = c->pool;
	struct db_reqs again;
	struct db_req *r;

	if (c->nbatch == 1) {
		pool->counters.errors++;
		log_debug("db conn %d: request failed: %s", c->id, c->error);
		conn_end_batch(c, DB_ERROR, c->error);
		return;
	}
	TAILQ_INIT(&again);
	TAILQ_CONCAT(&again, &c->batch, entry);
	pool->ninflight -= c->nbatch;
	c->nbatch = 0;
	TAILQ_FOREACH(r, &again, entry)
	{
		/* An error in BEGIN or COMMIT names no request: all alone.
		 * One in a merged statement: its requests a statement each
		 * (in a batch again, which finds the one at fault). */
		if (c->fail_idx < 1 || c->fail_idx > c->nq)
			r->solo = 1;
		else if (r->qslot == c->fail_idx && r->part != 0)
			r->nomerge = 1;
		else if (r->qslot == c->fail_idx)
			r->solo = 1;
	}
	log_debug("db conn %d: request %d of a batch failed (%s): %s", c->id,
	          c->fail_idx, c->sqlstate, c->error);
	pool_requeue_head(pool, &again);
}

/* The failed batch's transaction is over: retry, isolate or answer. */
static void
conn_after_failure(struct db_conn *c)
{
	c->state = CONN_IDLE;
	if (c->error == NULL)
		c->error = xstrdup("commit failed");
	if (sqlstate_is_transient(c->sqlstate))
		conn_transient(c);
	else
		conn_permanent(c);
	if (c->state == CONN_IDLE)
		pool_kick(c->pool);
}

/* End the aborted transaction a failed batch left behind. */
static void
conn_rollback(struct db_conn *c)
{
	if (PQsendQueryParams(c->pg, "ROLLBACK", 0, NULL, NULL, NULL, NULL,
	                      0) != 1 ||
	    PQpipelineSync(c->pg) != 1 || conn_flush(c) != 0) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	c->state = CONN_ROLLBACK;
	conn_timer(c, (double)c->pool->opts.query_timeout);
}

/* The batch's Sync arrived: answer, or end the failed transaction. */
static void
conn_batch_done(struct db_conn *c)
{
	struct db_pool *pool = c->pool;

	evtimer_del(c->timer);
	c->state = CONN_IDLE;
	if (c->committed && !c->failed) {
		struct timeval now, took;
		gettimeofday(&now, NULL);
		timersub(&now, &c->sent, &took);
		mhist_observe(&pool->commit_hist,
		              (double)took.tv_sec + (double)took.tv_usec / 1e6);
		pool->commits++;
		pool->requests += c->nbatch;
		conn_end_batch(c, DB_OK, NULL);
		pool_kick(pool);
		return;
	}
	if (c->failed && c->sqlstate[0] != '\0')
		pool->counters.failed_batches++;
	if (c->conn_err) {
		log_debug("db conn %d: batch failed: %s", c->id,
		          c->error ? c->error : "commit failed");
		conn_end_batch(c, DB_UNAVAILABLE,
		               c->error ? c->error : "commit failed");
		pool_kick(pool);
		return;
	}
	if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		conn_rollback(c);
		return;
	}
	conn_after_failure(c);
}

/* ROLLBACK's Sync arrived: the connection must be idle now. */
static void
conn_rollback_done(struct db_conn *c)
{
	evtimer_del(c->timer);
	if (PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
		conn_fail(c, "ROLLBACK left the connection in a transaction");
		return;
	}
	conn_after_failure(c);
}

/* Read the results that have arrived, without blocking. */
static void
conn_read_results(struct db_conn *c)
{
	PGresult *res;
	while (c->pg != NULL && !PQisBusy(c->pg)) {
		res = PQgetResult(c->pg);
		if (res == NULL) {
			c->qidx++;
			continue;
		}
		if (PQresultStatus(res) == PGRES_PIPELINE_SYNC) {
			PQclear(res);
			if (c->state == CONN_PREPARING) {
				if (c->failed) {
					conn_fail(c, c->error);
					return;
				}
				c->state = CONN_IDLE;
				c->backoff = 0;
				conn_born(c);
				pool_set_error(c->pool, NULL);
				log_info("db conn %d: ready", c->id);
				pool_kick(c->pool);
			} else if (c->state == CONN_ROLLBACK)
				conn_rollback_done(c);
			else
				conn_batch_done(c);
			return;
		}
		if (c->state == CONN_ROLLBACK) {
			PQclear(res);
		} else if (c->state == CONN_PREPARING) {
			if (PQresultStatus(res) != PGRES_COMMAND_OK &&
			    !c->failed) {
				c->failed = 1;
				c->error = res_error(res);
			}
			PQclear(res);
		} else
			conn_result(c, res);
	}
}

/* Socket readable: consume input, then handle complete results. */
static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_conn *c = arg;
	PGnotify *n;

	if (PQconsumeInput(c->pg) != 1 || PQstatus(c->pg) == CONNECTION_BAD) {
		conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	while ((n = PQnotifies(c->pg)) != NULL)
		PQfreemem(n);
	if (c->state == CONN_IDLE || c->state == CONN_WAIT) {
		/* Nothing is expected; a closing server says so here. */
		if (PQstatus(c->pg) == CONNECTION_BAD)
			conn_fail(c, PQerrorMessage(c->pg));
		return;
	}
	conn_read_results(c);
}

/* Kick handler: dispatch queued work. */
static void
pool_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	pool_dispatch(arg);
}

/* Dispatch soon, outside the caller's stack. */
static void
pool_kick(struct db_pool *pool)
{
	event_active(pool->kick, EV_TIMEOUT, 0);
}

/* Janitor: answer 503 to requests that waited longer than query_timeout. */
static void
pool_janitor_cb(evutil_socket_t fd, short what, void *arg)
{
	struct db_pool *pool = arg;
	struct timeval now, age;
	struct db_req *r;

	gettimeofday(&now, NULL);
	while ((r = TAILQ_FIRST(&pool->queue)) != NULL) {
		timersub(&now, &r->queued, &age);
		if (age.tv_sec < pool->opts.query_timeout)
			break;
		TAILQ_REMOVE(&pool->queue, r, entry);
		pool->nqueue--;
		req_finish(pool, r, DB_UNAVAILABLE, "database busy");
	}
}

/* Create the pool and start connecting. */
struct db_pool *
db_pool_new(struct event_base *base, const char *conninfo,
            const struct db_stmt *stmts, int nstmts, const struct db_opts *opts)
{
	struct db_pool *pool = xcalloc(1, sizeof *pool);
	struct timeval tick = {0, 250000};

	pool->base = base;
	pool->conninfo = xstrdup(conninfo);
	pool->stmts = stmts;
	pool->nstmts = nstmts;
	pool->merge = xcalloc((size_t)nstmts, sizeof *pool->merge);
	for (int i = 0; i < nstmts; i++)
		pool->merge[i] = -1;
	pool->alone = xcalloc((size_t)nstmts, 1);
	pool->opts = *opts;
	pool->batch_hist = (struct mhist){
	    .name = "pakn_db_batch_size",
	    .help = "Requests sent in one transaction (group commit).",
	    .le = batch_le,
	    .nle = (int)(sizeof batch_le / sizeof *batch_le)};
	pool->commit_hist = (struct mhist){
	    .name = "pakn_db_commit_seconds",
	    .help = "Seconds from sending a batch to its commit.",
	    .le = commit_le,
	    .nle = (int)(sizeof commit_le / sizeof *commit_le)};
	pool->sqlstate = (struct mcounter){
	    .name = "pakn_db_statement_errors_total",
	    .help = "Statements that failed, by SQLSTATE class.",
	    .nlabels = 1,
	    .labels = {"class"}};
	TAILQ_INIT(&pool->queue);
	pool->kick = event_new(base, -1, 0, pool_kick_cb, pool);
	pool->janitor = event_new(base, -1, EV_PERSIST, pool_janitor_cb, pool);
	evtimer_add(pool->janitor, &tick);
	pool->nconns = (int)opts->pool_size;
	pool->conns = xcalloc((size_t)pool->nconns, sizeof *pool->conns);
	for (int i = 0; i < pool->nconns; i++) {
		struct db_conn *c = &pool->conns[i];
		c->pool = pool;
		c->id = i;
		TAILQ_INIT(&c->batch);
		c->timer = evtimer_new(base, conn_timer_cb, c);
		conn_start(c);
	}
	return pool;
}

/* Let requests of stmt sharing a batch run as one call of merged. */
void
db_pool_merge(struct db_pool *pool, int stmt, int merged)
{
	pool->merge[stmt] = merged;
}

/* Let requests of stmt (a periodic job) run in no other's transaction. */
void
db_pool_alone(struct db_pool *pool, int stmt)
{
	pool->alone[stmt] = 1;
}

/* Give work to at most n connections at once (0: to all); the others
 * stay open. */
void
db_pool_set_busy(struct db_pool *pool, int n)
{
	if (n == pool->busy_max)
		return;
	if (n == 0 || (pool->busy_max > 0 && n > pool->busy_max))
		pool_kick(pool);
	pool->busy_max = n;
}

/* Change the limits of a running pool. */
void
db_pool_set_opts(struct db_pool *pool, const struct db_opts *opts)
{
	long size = pool->opts.pool_size;
	pool->opts = *opts;
	pool->opts.pool_size = size;
}

/* Close every connection and fail what is left. */
void
db_pool_free(struct db_pool *pool)
{
	for (int i = 0; i < pool->nconns; i++) {
		struct db_conn *c = &pool->conns[i];
		conn_close(c);
		c->state = CONN_DOWN;
		conn_end_batch(c, DB_UNAVAILABLE, "shutting down");
		event_free(c->timer);
		free(c->error);
	}
	pool_fail_queue(pool, "shutting down");
	event_free(pool->kick);
	event_free(pool->janitor);
	free(pool->conns);
	free(pool->merge);
	free(pool->alone);
	free(pool->conninfo);
	free(pool->last_error);
	mcounter_clear(&pool->sqlstate);
	free(pool);
}

/* Can a request wait for a connection? Yes if one is up, or one is
 * being made whose last attempt did not fail (at start). */
static int
pool_may_queue(const struct db_pool *pool)
{
	for (int i = 0; i < pool->nconns; i++) {
		const struct db_conn *c = &pool->conns[i];
		if (c->state == CONN_IDLE || c->state == CONN_BUSY)
			return 1;
		if ((c->state == CONN_CONNECTING ||
		     c->state == CONN_PREPARING) &&
		    c->backoff == 0)
			return 1;
	}
	return 0;
}

/* Queue a statement; -1 and *cause if it cannot be taken now. */
int
db_submit(struct db_pool *pool, int stmt, int nparams,
          const char *const *values, const int *lengths, const int *formats,
          db_cb cb, void *arg, char **cause)
{
	return db_submit_key(pool, NULL, stmt, nparams, values, lengths,
	                     formats, cb, arg, cause);
}

/* Queue a statement that locks the rows of key first. */
int
db_submit_key(struct db_pool *pool, const char *key, int stmt, int nparams,
              const char *const *values, const int *lengths, const int *formats,
              db_cb cb, void *arg, char **cause)
{
	struct db_req *r;
	size_t size = sizeof *r, off;
	char *p;

	if (!pool_may_queue(pool)) {
		set_cause(cause, "database unavailable");
		return -1;
	}
	if (pool->nqueue >= pool->opts.max_queue) {
		set_cause(cause, "database queue full");
		return -1;
	}
	/* One allocation: the request, the arrays, then the values. */
	size += (size_t)nparams * (sizeof(char *) + 2 * sizeof(int));
	off = size;
	for (int i = 0; i < nparams; i++)
		if (values[i] != NULL)
			size += (formats && formats[i] ? (size_t)lengths[i]
			                               : strlen(values[i])) +
			        1;
	r = xcalloc(1, size);
	r->values = (char **)(r + 1);
	r->lengths = (int *)(r->values + nparams);
	r->formats = r->lengths + nparams;
	p = (char *)r + off;
	for (int i = 0; i < nparams; i++) {
		int bin = formats != NULL && formats[i];
		size_t n;
		if (values[i] == NULL)
			continue;
		n = bin ? (size_t)lengths[i] : strlen(values[i]);
		memcpy(p, values[i], n);
		r->values[i] = p;
		r->lengths[i] = (int)n;
		r->formats[i] = bin;
		p += n + 1;
	}
	r->stmt = stmt;
	r->nparams = nparams;
	r->cb = cb;
	r->arg = arg;
	r->key = key != NULL ? xstrdup(key) : NULL;
	r->solo = pool->alone[stmt];
	r->seq = pool->seq++;
	gettimeofday(&r->queued, NULL);
	TAILQ_INSERT_TAIL(&pool->queue, r, entry);
	pool->nqueue++;
	pool_kick(pool);
	return 0;
}

/* Requests queued or in flight. */
long
db_pool_pending(const struct db_pool *pool)
{
	return pool->nqueue + pool->ninflight;
}

/* The last connection error, or NULL while all is well. */
const char *
db_pool_last_error(const struct db_pool *pool)
{
	return pool->last_error;
}

/* Commits and requests so far. */
void
db_pool_stats(const struct db_pool *pool, long long *commits,
              long long *requests)
{
	*commits = pool->commits;
	*requests = pool->requests;
}

/* What the pool retried, isolated and failed so far. */
void
db_pool_counters(const struct db_pool *pool, struct db_counters *out)
{
	*out = pool->counters;
}

/* Write one gauge or counter family with a sample per pool. */
static void
pool_family(struct buf *b, const char *name, const char *type, const char *help,
            const struct db_pool *const *pools, const char *const *names, int n,
            int which)
{
	metrics_head(b, name, type, help);
	for (int i = 0; i < n; i++) {
		const struct db_pool *p = pools[i];
		const long long v[] = {
		    p->nqueue,
		    p->ninflight,
		    db_pool_up(p),
		    p->nconns,
		    p->commits,
		    p->requests,
		    p->counters.failed_batches,
		    p->counters.retries,
		    p->counters.errors,
		    p->counters.unclean,
		    p->conn_failures,
		    p->counters.merged,
		    p->counters.retired,
		};
		char lab[64];
		snprintf(lab, sizeof lab, "pool=\"%s\"", names[i]);
		metrics_sample(b, name, lab, (double)v[which]);
	}
}

/* Write the metrics of the pools, each labelled pool="NAME". */
void
db_pool_metrics(const struct db_pool *const *pools, const char *const *names,
                int n, struct buf *b)
{
	static const struct {
		const char *name, *type, *help;
	} fam[] = {
	    {"pakn_db_queue", "gauge", "Requests waiting for a connection."},
	    {"pakn_db_inflight", "gauge", "Requests sent, not yet answered."},
	    {"pakn_db_connections_up", "gauge", "Connections ready for work."},
	    {"pakn_db_connections", "gauge", "Connections of the pool."},
	    {"pakn_db_commits_total", "counter", "Batches committed."},
	    {"pakn_db_requests_total", "counter",
	     "Requests committed in those batches."},
	    {"pakn_db_failed_batches_total", "counter",
	     "Batches a statement error rolled back."},
	    {"pakn_db_retries_total", "counter",
	     "Batches run again after a transient error."},
	    {"pakn_db_request_errors_total", "counter",
	     "Requests answered with a statement error."},
	    {"pakn_db_unclean_total", "counter",
	     "Idle connections found inside a transaction and remade."},
	    {"pakn_db_connection_failures_total", "counter",
	     "Connections lost, refused or timed out."},
	    {"pakn_db_merged_requests_total", "counter",
	     "Requests sent within one statement for several."},
	    {"pakn_db_connections_retired_total", "counter",
	     "Connections closed and made again after [database] lifetime."},
	};
	char lab[64];

	for (int f = 0; f < (int)(sizeof fam / sizeof *fam); f++)
		pool_family(b, fam[f].name, fam[f].type, fam[f].help, pools,
		            names, n, f);
	for (int k = 0; k < 2; k++) {
		const struct mhist *h0 =
		    k == 0 ? &pools[0]->batch_hist : &pools[0]->commit_hist;
		metrics_head(b, h0->name, "histogram", h0->help);
		for (int i = 0; i < n; i++) {
			snprintf(lab, sizeof lab, "pool=\"%s\"", names[i]);
			metrics_hist_series(b,
			                    k == 0 ? &pools[i]->batch_hist
			                           : &pools[i]->commit_hist,
			                    lab);
		}
	}
	metrics_head(b, pools[0]->sqlstate.name, "counter",
	             pools[0]->sqlstate.help);
	for (int i = 0; i < n; i++) {
		snprintf(lab, sizeof lab, "pool=\"%s\"", names[i]);
		metrics_counter_series(b, &pools[i]->sqlstate, lab);
	}
}
