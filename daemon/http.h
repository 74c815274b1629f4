/* http.h: the HTTP server (evhttp), its routes and limits. */
#ifndef PAKN_HTTP_H
#define PAKN_HTTP_H

#include <event2/event.h>
#include <event2/http.h>

#include "config.h"
#include "db.h"
#include "outbox.h"
#include "text.h"

/* The daemon's state, shared by the modules on the event loop. */
struct paknd {
	struct event_base *base;
	struct config *conf;
	struct db_pool *db;
	struct db_pool *read_db; /* a streaming replica for statistics, or
	                            NULL: see stats.c */
	struct outbox *outbox;
	struct deadline *deadline;
	struct stats *stats;
	struct metrics *metrics; /* /metrics: the cached database gauges */
	struct notify *notify;   /* sd_notify: ready, reloading, stopping */
	struct evhttp *http;
	struct evhttp_bound_socket *bound;
	struct conns *conns; /* the connections: cap, deadlines */
	long inflight;       /* HTTP requests not yet answered */
	int draining;        /* SIGTERM received: finish, accept nothing new */
};

/* Bind the listen address and install the routes; -1 and *cause. */
int http_start(struct paknd *d, char **cause);
/* Apply the [server] limits of the current configuration. */
void http_apply_limits(struct paknd *d);
/* Stop accepting connections (draining). */
void http_stop_accepting(struct paknd *d);
void http_free(struct paknd *d);

/* Send an answer and count the request as done. */
void http_reply(struct paknd *d, struct evhttp_request *req, int code,
                const char *type, const char *body, size_t len);
/* The bearer token of a request's Authorization header (text_bearer's
 * rules) copied into tok; 0, or -1 and *reason. */
int http_bearer(struct evhttp_request *req, char tok[TEXT_BEARER_MAX + 1],
                const char **reason);
/* Send a text/plain error with a one-line reason. */
void http_error(struct paknd *d, struct evhttp_request *req, int code,
                const char *reason);
/* Append the gateway callbacks answered (for /metrics). */
struct buf;
void http_metrics(struct buf *b);

#endif
