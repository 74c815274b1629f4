/* http.h: the HTTP server (evhttp), its routes and limits. */
#ifndef PAKN_HTTP_H
#define PAKN_HTTP_H

#include <event2/event.h>
#include <event2/http.h>

#include "paknd.h"
#include "text.h"

/* How a route matches, and what the server checks before its handler. */
enum http_route_flags {
	HTTP_PREFIX = 1,    /* the path starts with the pattern */
	HTTP_JSON = 2,      /* a JSON API: errors before the handler are JSON */
	HTTP_OWN_BODY = 4,  /* the handler checks body size and draining */
	HTTP_RAW_QUERY = 8, /* a gateway's: its adapter checks the query */
	HTTP_WHILE_DRAINING = 16, /* answered while draining (health) */
};

/* A handler: path is the request's; arg is what the pattern's '*'
 * matched (a gateway's name), or NULL. */
typedef void (*http_handler)(struct paknd *d, struct evhttp_request *req,
                             const char *path, const char *arg);

/* Send the requests whose path matches pattern (exactly, or as a prefix
 * with HTTP_PREFIX; one segment may be '*') to handler. Routes are tried
 * in the order they were added; http.c names no handler. */
void http_route_add(struct paknd *d, const char *pattern, int flags,
                    http_handler handler);

/* Bind the listen address and install the routes; -1 and *cause. */
int http_start(struct paknd *d, char **cause);
/* Apply the [server] limits of the current configuration. */
void http_apply_limits(struct paknd *d);
/* Stop accepting connections (draining). */
void http_stop_accepting(struct paknd *d);
/* Free the server, its routes and connections (what http keeps in d). */
void http_clear(struct paknd *d);

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
