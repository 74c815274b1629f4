/* paknd.h: the daemon's state, shared by the modules on its event loop.
 *
 * main (paknd.c) makes it and wires the modules; each module keeps its own
 * state behind an opaque pointer here. Modules that answer HTTP include
 * http.h, which includes this; the others (outbox, deadline) only this.
 */
#ifndef PAKN_PAKND_H
#define PAKN_PAKND_H

#include <event2/event.h>
#include <event2/http.h>

#include "config.h"
#include "db.h"
#include "log.h"

struct outbox;
struct process;
struct journal;
struct deadline;
struct summary;
struct stats;
struct survey;
struct metrics;
struct notify;
struct conns;
struct http_route;
struct classifier;

/* The daemon's state, shared by the modules on the event loop. */
struct paknd {
	struct event_base *base;
	struct config *conf;
	struct db_pool *db;
	struct db_pool *read_db; /* a streaming replica for statistics, or
	                            NULL: see stats.c */
	struct db_pool *proc_db; /* the processing worker's (process.c), so
	                            that intake never waits behind it */
	struct outbox *outbox;
	struct process *process; /* the processing worker: see process.c */
	struct journal *journal; /* callbacks kept while the database is
	                            down ([intake] journal_dir), or NULL */
	int journal_dirty;       /* the journal may hold records to replay */
	/* Callbacks the database could not take: kept in the journal, or
	 * answered 503 (no journal, full, or its disk failed). */
	long long journal_kept, unstored;
	struct deadline *deadline;
	struct summary *summary;
	struct stats *stats;
	struct survey *survey;
	struct metrics *metrics; /* /metrics: the cached database gauges */
	struct notify *notify;   /* sd_notify: ready, reloading, stopping */
	struct classifier *classifier; /* categories' keywords (classify.h),
	                                  or NULL until read: swapped when
	                                  they change, between events */
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct conns *conns;       /* the connections: cap, deadlines */
	struct http_route *routes; /* http_route_add's table */
	size_t nroutes;
	long inflight; /* HTTP requests not yet answered */
	/* When the requests in flight last came to [intake] yield_requests
	 * (mono_now; 0: never): intake is busy, processing yields for a
	 * moment after (process.c). */
	double busy_at;
	/* The requests in flight averaged over time (load_surge): the
	 * current window's start, its sum of count x seconds, when the
	 * count last changed (mono_now), and the averages of the last two
	 * whole windows. */
	double load_from, load_sum, load_at, load_avg, load_prev;
	/* The requests that came in the current window, and the rates
	 * (a second) they came at in the last two whole windows. */
	long load_came;
	double came_rate, came_prev;
	int draining; /* SIGTERM received: finish, accept nothing new */
	/* The lines written for each message, at most [server]
	 * log_messages a second each (log_limited): processed (process.c),
	 * sent and not sent (outbox.c), delivery reports (dlr.c),
	 * callbacks stored already (ingest.c), requests refused (http.c,
	 * the gateways' handlers). */
	struct log_limit log_processed, log_sent, log_unsent, log_dlr, log_dup,
	    log_refused;
};

#endif
