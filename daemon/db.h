/* db.h: an asynchronous PostgreSQL pool on the event loop, with group commit.
 */
#ifndef PAKN_DB_H
#define PAKN_DB_H

#include <event2/event.h>
#include <libpq-fe.h>

enum db_status {
	DB_OK,          /* the statement ran and its transaction committed */
	DB_UNAVAILABLE, /* no connection, timeout, or connection lost: retry */
	DB_ERROR,       /* the statement itself failed */
};

/*
 * Called once per request, only after its transaction has committed (or
 * failed). res is valid during the call only; error is a one-line reason
 * when status is not DB_OK.
 */
typedef void (*db_cb)(void *arg, enum db_status status, PGresult *res,
                      const char *error);

/* A statement prepared on every connection. */
struct db_stmt {
	const char *name;
	const char *sql;
	int nparams;
};

struct db_opts {
	long pool_size;
	long query_timeout; /* seconds */
	long max_queue;
	long batch_size;
	long reconnect_max; /* seconds */
	long lifetime;      /* seconds a connection is used (0: forever) */
};

struct db_pool;

struct db_pool *db_pool_new(struct event_base *base, const char *conninfo,
                            const struct db_stmt *stmts, int nstmts,
                            const struct db_opts *opts);
/* Change the limits (not the size or conninfo) of a running pool. */
void db_pool_set_opts(struct db_pool *pool, const struct db_opts *opts);
void db_pool_free(struct db_pool *pool);

/*
 * Queue statement stmt (an index into the table given to db_pool_new)
 * with its parameters, which are copied. Requests queued while the
 * connections are busy share one transaction. Returns -1 and *cause when
 * the database is unavailable or the queue is full; cb is then not called.
 */
int db_submit(struct db_pool *pool, int stmt, int nparams,
              const char *const *values, const int *lengths, const int *formats,
              db_cb cb, void *arg, char **cause);
/*
 * The same, for a statement whose SQL locks the rows of key (a citizen's
 * phone) before others: batches are sent sorted by key so that
 * concurrent batches take those locks in one order (see db.c).
 */
int db_submit_key(struct db_pool *pool, const char *key, int stmt, int nparams,
                  const char *const *values, const int *lengths,
                  const int *formats, db_cb cb, void *arg, char **cause);

/*
 * Let requests of stmt that share a batch run as one call of merged, a
 * statement of the same table taking one array a parameter: text[] for
 * a parameter sent as text, bytea[] for one sent in binary (the k-th
 * element is the k-th request's value, NULL for NULL). Its first column
 * is k; the others are stmt's, and each request gets the rows with its
 * k (none: an empty result). The call goes where the first of them was
 * in the batch, the requests in the batch's order (by key). If it
 * fails, its requests run again one statement each, and the usual
 * isolation finds the one at fault.
 */
void db_pool_merge(struct db_pool *pool, int stmt, int merged);
/*
 * Let requests of stmt run in a transaction of their own, never in a
 * batch with others: for a periodic job that takes long enough to hold
 * back the callbacks and USSD steps that would share its commit.
 */
void db_pool_alone(struct db_pool *pool, int stmt);

/* Give work to at most n of the pool's connections at once (0: to all
 * of them, the default); the others stay open and idle. */
void db_pool_set_busy(struct db_pool *pool, int n);

/* Connections ready for work. */
int db_pool_up(const struct db_pool *pool);
/* Requests queued or in flight. */
long db_pool_pending(const struct db_pool *pool);
/* The last connection or preparation error, or NULL. */
const char *db_pool_last_error(const struct db_pool *pool);
/* Commits and batched requests so far (for logs and benchmarks). */
void db_pool_stats(const struct db_pool *pool, long long *commits,
                   long long *requests);

/* What went wrong and was dealt with, for logs and metrics. */
struct db_counters {
	long long failed_batches; /* batches a statement error rolled back */
	long long retries;        /* batches re-run after a transient error */
	long long errors;         /* requests answered DB_ERROR */
	long long unclean;        /* idle connections found in a transaction */
	long long merged;         /* requests sent within a merged statement */
	long long retired;        /* connections made again after lifetime */
};
void db_pool_counters(const struct db_pool *pool, struct db_counters *out);

struct buf;
/* Append the metrics of n pools (queue, in flight, connections, commits,
 * failures, batch size and commit latency histograms, statement errors
 * by SQLSTATE class), each series labelled pool="names[i]". */
void db_pool_metrics(const struct db_pool *const *pools,
                     const char *const *names, int n, struct buf *b);

#endif
