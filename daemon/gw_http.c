/* gw_http.c: what the gateway handlers (ingest, dlr, ussd_http) share on
 * the HTTP side: the gateway a callback names, the request framed the
 * way the adapters take it, the client's address, and the answer when
 * the database could not do the work. */

#include <stdio.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "gw_http.h"
#include "util.h"

/* Look up an input header for the adapters. */
static const char *
req_header(const void *ctx, const char *name)
{
	return evhttp_find_header(ctx, name);
}

/* The named gateway and the framed request, or NULL after an answer. */
const struct gw_conf *
gw_http_request(struct paknd *d, struct evhttp_request *req, const char *gwname,
                struct gw_request *r)
{
	const struct gw_conf *gw = config_gateway(d->conf, gwname);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evbuffer *input = evhttp_request_get_input_buffer(req);
	const char *q;

	if (gw == NULL) {
		http_error(d, req, 404, "unknown gateway");
		return NULL;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_POST) {
		http_error(d, req, 405, "use GET or POST");
		return NULL;
	}
	memset(r, 0, sizeof *r);
	r->method = cmd == EVHTTP_REQ_GET ? GW_GET : GW_POST;
	r->uri = evhttp_request_get_uri(req);
	r->query = (q = strchr(r->uri, '?')) != NULL ? q + 1 : NULL;
	r->header = req_header;
	r->hctx = evhttp_request_get_input_headers(req);
	r->content_type = req_header(r->hctx, "Content-Type");
	r->body_len = evbuffer_get_length(input);
	r->body = evbuffer_pullup(input, -1);
	return gw;
}

/* The client's address, for log lines. */
const char *
gw_http_peer(struct evhttp_request *req)
{
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	char *addr = NULL;
	ev_uint16_t port;

	if (conn == NULL)
		return "?";
	evhttp_connection_get_peer(conn, &addr, &port);
	return addr != NULL ? addr : "?";
}

/* 503 (retry) or 500 for work the database did not commit. */
void
gw_http_db_error(struct paknd *d, struct evhttp_request *req, enum db_status st,
                 const char *what)
{
	char reason[64];

	if (st == DB_UNAVAILABLE) {
		http_error(d, req, 503, "database unavailable, retry");
		return;
	}
	snprintf(reason, sizeof reason, "internal error, not %s", what);
	http_error(d, req, 500, reason);
}
