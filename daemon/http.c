/* http.c: the HTTP server (evhttp), its routes and limits. */

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "conn.h"
#include "edge.h"
#include "metrics.h"
#include "http.h"
#include "load.h"
#include "migrate.h"
#include "stmt.h"
#include "util.h"

/* What a page may load by default: its own files, no plugin, no frame
 * around it (a page with other needs sets its own policy first). */
#define HTTP_CSP                                                               \
	"default-src 'self'; object-src 'none'; base-uri 'none'; "             \
	"form-action 'self'; frame-ancestors 'none'"

/* Headers that keep browsers from guessing types, leaking our URLs in
 * Referer, and running or framing HTML other than as we mean. */
static void
http_browser_headers(struct evkeyvalq *h, const char *type)
{
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	if (type == NULL || strncmp(type, "text/html", 9) != 0)
		return;
	if (evhttp_find_header(h, "Content-Security-Policy") == NULL)
		evhttp_add_header(h, "Content-Security-Policy", HTTP_CSP);
	evhttp_add_header(h, "X-Frame-Options", "DENY");
}

/* Gateway callbacks answered, by gateway, kind and HTTP status. */
static struct mcounter callbacks = {
    .name = "pakn_callbacks_total",
    .help = "Gateway callbacks answered, by gateway, kind (sms, dlr, ussd) "
            "and HTTP status.",
    .nlabels = 3,
    .labels = {"gateway", "kind", "code"}};

/* Count an answer to /v1/gw/NAME/KIND; names no gateway has are counted
 * as "unknown" (a client must not grow the series). */
static void
http_count_callback(struct paknd *d, struct evhttp_request *req, int code)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL, *kind;
	char name[64], status[8];
	const char *slash;
	size_t n;

	if (path == NULL || strncmp(path, "/v1/gw/", 7) != 0)
		return;
	path += 7;
	slash = strchr(path, '/');
	n = slash != NULL ? (size_t)(slash - path) : strlen(path);
	snprintf(name, sizeof name, "%.*s", (int)n, path);
	kind = slash == NULL ? "other"
	       : !strcmp(slash, "/sms") || !strcmp(slash, "/dlr") ||
	               !strcmp(slash, "/ussd")
	           ? slash + 1
	           : "other";
	snprintf(status, sizeof status, "%d", code);
	mcounter_add(&callbacks, 1,
	             n < sizeof name && config_gateway(d->conf, name) != NULL
	                 ? name
	                 : "unknown",
	             kind, status);
}

/* Append the callback counters. */
void
http_metrics(struct buf *b)
{
	metrics_counter(b, &callbacks);
}

/* Send an answer and count the request as done. */
void
http_reply(struct paknd *d, struct evhttp_request *req, int code,
           const char *type, const char *body, size_t len)
{
	struct evbuffer *out = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	if (out == NULL)
		fatalx("evbuffer_new");
	if (type != NULL)
		evhttp_add_header(h, "Content-Type", type);
	http_browser_headers(h, type);
	if (code == 503)
		evhttp_add_header(h, "Retry-After", "5");
	if (d->draining)
		evhttp_add_header(h, "Connection", "close");
	evbuffer_add(out, body, len);
	http_count_callback(d, req, code);
	evhttp_send_reply(req, code, NULL, out);
	evbuffer_free(out);
	load_request(d, -1);
}

/* Send a text/plain error with a one-line reason. */
void
http_error(struct paknd *d, struct evhttp_request *req, int code,
           const char *reason)
{
	char *body = xasprintf("%s\n", reason);
	http_reply(d, req, code, "text/plain; charset=utf-8", body,
	           strlen(body));
	free(body);
}

/* The bearer token of a request. */
int
http_bearer(struct evhttp_request *req, char tok[TEXT_BEARER_MAX + 1],
            const char **reason)
{
	const char *h = evhttp_find_header(
	    evhttp_request_get_input_headers(req), "Authorization");
	const char *t;
	size_t n = text_bearer(h, &t, reason);

	tok[0] = '\0';
	if (n == 0)
		return -1;
	memcpy(tok, t, n);
	tok[n] = '\0';
	return 0;
}

/* A database answer for /readyz. */
struct readyz {
	struct paknd *d;
	struct evhttp_request *req;
};

/* Answer /readyz once the schema version is known. */
static void
readyz_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct readyz *r = arg;
	char *msg;
	int version, functions, newer;

	if (st != DB_OK) {
		msg = xasprintf("database unavailable: %s", error);
		http_error(r->d, r->req, 503, msg);
		free(msg);
		free(r);
		return;
	}
	version = atoi(PQgetvalue(res, 0, 0));
	functions = atoi(PQgetvalue(res, 0, 1));
	newer = atoi(PQgetvalue(res, 0, 2));
	/* A newer build migrated the database: its functions are not this
	 * build's files, and keep this build's calls working (migrate.c). */
	if (version != nmigrations || (functions != nsqlfuncs && newer == 0)) {
		msg =
		    xasprintf("%d of this build's %d migrations and %d of its "
		              "%d function files applied: run paknctl migrate",
		              version, nmigrations, functions, nsqlfuncs);
		http_error(r->d, r->req, 503, msg);
		free(msg);
	} else
		http_reply(r->d, r->req, 200, "text/plain", "ready\n", 6);
	free(r);
}

/* GET /readyz: the database answers and its schema is current. */
static void
route_readyz(struct paknd *d, struct evhttp_request *req, const char *path,
             const char *arg)
{
	struct readyz *r = xmalloc(sizeof *r);
	char *cause = NULL, *msg;
	const char *last,
	    *params[2] = {migrate_versions(), migrate_functions()};

	r->d = d;
	r->req = req;
	if (db_submit(d->db, STMT_SCHEMA_VERSION, 2, params, NULL, NULL,
	              readyz_done, r, &cause) == 0)
		return;
	last = db_pool_last_error(d->db);
	msg = xasprintf("%s%s%s", cause, last ? ": " : "", last ? last : "");
	http_error(d, req, 503, msg);
	free(msg);
	free(cause);
	free(r);
}

/* Refuse with 400 a request whose path, query or credentials could not
 * reach SQL as text (see edge.c); 0 if it may go on. Gateways' fields
 * are checked by their adapters, which know their encodings. */
static int
http_check_edges(struct paknd *d, struct evhttp_request *req,
                 const struct evhttp_uri *uri, const char *path, int flags)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *v;
	char *cause = NULL, *body;
	int rc = edge_check_path(path, &cause);

	if (rc == 0 && !(flags & HTTP_RAW_QUERY))
		rc = edge_check_query(evhttp_uri_get_query(uri), &cause);
	/* Bearer tokens are checked by http_bearer (401). */
	if (rc == 0 && (v = evhttp_find_header(h, "X-Pakn-Token")) != NULL)
		rc = edge_check_token("X-Pakn-Token", v, &cause);
	if (rc == 0)
		return 0;
	log_limited(&d->log_refused, 0, "refused a request: %s", cause);
	if (flags & HTTP_JSON) {
		/* The JSON APIs answer every error as JSON. */
		json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code",
		                      "bad_request", "message", cause);
		body = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(j);
		http_reply(d, req, 400, "application/json; charset=utf-8", body,
		           strlen(body));
		free(body);
	} else
		http_error(d, req, 400, cause);
	free(cause);
	return -1;
}

/* Why a request's body cannot be delimited for sure, or NULL: two
 * Content-Length headers that differ (a proxy in front could read another
 * request than we do). libevent itself refuses Transfer-Encoding with
 * Content-Length, but reads the first of several Content-Lengths. */
static const char *
http_framing_error(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	struct evkeyval *kv;
	const char *len = NULL;

	TAILQ_FOREACH(kv, h, next)
	{
		if (strcasecmp(kv->key, "Content-Length") != 0)
			continue;
		if (len != NULL && strcmp(len, kv->value) != 0)
			return "conflicting Content-Length headers";
		len = kv->value;
	}
	return NULL;
}

/* One entry of the route table. */
struct http_route {
	char *pattern;
	int flags;
	http_handler handler;
};

/* Add a route (see http.h). */
void
http_route_add(struct paknd *d, const char *pattern, int flags,
               http_handler handler)
{
	struct http_route *r;

	d->routes = xreallocarray(d->routes, d->nroutes + 1, sizeof *d->routes);
	r = &d->routes[d->nroutes++];
	r->pattern = xstrdup(pattern);
	r->flags = flags;
	r->handler = handler;
}

/* Does path match the route? A '*' segment is copied into arg. */
static int
route_match(const struct http_route *r, const char *path, char *arg,
            size_t size)
{
	const char *p = r->pattern;
	size_t n;

	arg[0] = '\0';
	while (*p != '\0') {
		if (*p == '*') {
			n = strcspn(path, "/");
			if (n == 0 || n >= size)
				return 0;
			memcpy(arg, path, n);
			arg[n] = '\0';
			path += n;
			p++;
		} else if (*p++ != *path++)
			return 0;
	}
	return *path == '\0' || (r->flags & HTTP_PREFIX);
}

/* The first route matching path, or NULL. */
static const struct http_route *
route_find(const struct paknd *d, const char *path, char *arg, size_t size)
{
	for (size_t i = 0; i < d->nroutes; i++)
		if (route_match(&d->routes[i], path, arg, size))
			return &d->routes[i];
	return NULL;
}

/* Every request starts here: framing, text at the edge, the route's own
 * checks, then its handler. */
static void
http_route(struct evhttp_request *req, void *arg)
{
	struct paknd *d = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	const struct http_route *r;
	char name[128];
	const char *why;

	load_request(d, 1);
	conn_request(d->conns, req);
	if ((why = http_framing_error(req)) != NULL) {
		log_limited(&d->log_refused, 0, "refused a request for %s: %s",
		            path ? path : "?", why);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		                  "Connection", "close");
		http_error(d, req, 400, why);
		return;
	}
	if (path == NULL) {
		http_error(d, req, 400, "bad request URI");
		return;
	}
	r = route_find(d, path, name, sizeof name);
	if (http_check_edges(d, req, uri, path, r ? r->flags : 0) != 0)
		return;
	if (r != NULL && (r->flags & HTTP_OWN_BODY)) {
		r->handler(d, req, path, name[0] ? name : NULL);
		return;
	}
	if ((long)evbuffer_get_length(evhttp_request_get_input_buffer(req)) >
	    d->conf->max_body_size) {
		char *msg =
		    xasprintf("body over %ld bytes", d->conf->max_body_size);
		log_limited(&d->log_refused, 0, "refused a request for %s: %s",
		            path, msg);
		http_error(d, req, 413, msg);
		free(msg);
		return;
	}
	if (d->draining && (r == NULL || !(r->flags & HTTP_WHILE_DRAINING)))
		http_error(d, req, 503, "shutting down");
	else if (r == NULL)
		http_error(d, req, 404, "no such endpoint");
	else
		r->handler(d, req, path, name[0] ? name : NULL);
}

/* GET /healthz: the process runs. */
static void
route_healthz(struct paknd *d, struct evhttp_request *req, const char *path,
              const char *arg)
{
	http_reply(d, req, 200, "text/plain", "ok\n", 3);
}

/* libevent refuses bodies above this itself (with an HTML page); bodies
 * above max_body_size but below it get our one-line 413. */
static ev_ssize_t
hard_body_limit(const struct config *c)
{
	return c->max_body_size * 4 > 1 << 20 ? c->max_body_size * 4 : 1 << 20;
}

/* Apply the [server] limits of the current configuration. */
void
http_apply_limits(struct paknd *d)
{
	evhttp_set_max_body_size(d->http, hard_body_limit(d->conf));
	evhttp_set_max_headers_size(d->http,
	                            (ev_ssize_t)d->conf->max_header_size);
	evhttp_set_timeout(d->http, (int)d->conf->timeout);
	conn_limits(d->conns, d->conf);
}

/* Split "host:port" or "[v6]:port". */
static int
split_listen(const char *listen, char **host, int *port)
{
	const char *colon = strrchr(listen, ':');
	size_t n;
	if (colon == NULL)
		return -1;
	n = (size_t)(colon - listen);
	if (n >= 2 && listen[0] == '[' && listen[n - 1] == ']')
		*host = xstrndup(listen + 1, n - 2);
	else
		*host = xstrndup(listen, n);
	*port = atoi(colon + 1);
	return 0;
}

/* Bind the listen address and install the routes. */
int
http_start(struct paknd *d, char **cause)
{
	char *host;
	int port;

	if ((d->http = evhttp_new(d->base)) == NULL)
		fatalx("evhttp_new");
	evhttp_set_allowed_methods(d->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	                                        EVHTTP_REQ_HEAD);
	evhttp_set_default_content_type(d->http, "text/plain; charset=utf-8");
	evhttp_set_gencb(d->http, http_route, d);
	http_route_add(d, "/healthz", HTTP_WHILE_DRAINING, route_healthz);
	http_route_add(d, "/readyz", 0, route_readyz);
	d->conns = conn_new(d);
	evhttp_set_bevcb(d->http, conn_bev, d->conns);
	http_apply_limits(d);
	if (split_listen(d->conf->listen, &host, &port) != 0) {
		set_cause(cause, "bad listen address %s", d->conf->listen);
		return -1;
	}
	d->bound =
	    evhttp_bind_socket_with_handle(d->http, host, (ev_uint16_t)port);
	free(host);
	if (d->bound == NULL) {
		set_cause(cause, "cannot listen on %s", d->conf->listen);
		return -1;
	}
	conn_listen(d->conns, evhttp_bound_socket_get_listener(d->bound));
	log_info("listening on %s (at most %ld connections)", d->conf->listen,
	         conn_cap(d->conns));
	return 0;
}

/* Stop accepting connections. */
void
http_stop_accepting(struct paknd *d)
{
	conn_listen(d->conns, NULL);
	if (d->bound != NULL)
		evhttp_del_accept_socket(d->http, d->bound);
	d->bound = NULL;
}

/* Free the server and its connections. */
void
http_clear(struct paknd *d)
{
	if (d->conns != NULL)
		conn_listen(d->conns, NULL);
	if (d->http != NULL)
		evhttp_free(d->http);
	d->http = NULL;
	for (size_t i = 0; i < d->nroutes; i++)
		free(d->routes[i].pattern);
	free(d->routes);
	d->routes = NULL;
	d->nroutes = 0;
	conn_free(d->conns);
	d->conns = NULL;
	mcounter_clear(&callbacks);
}
