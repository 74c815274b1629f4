/* gw_http.h: what the gateway handlers share on the HTTP side. */
#ifndef PAKN_GW_HTTP_H
#define PAKN_GW_HTTP_H

#include "gw.h"
#include "http.h"

/* The gateway a callback names, with its request framed for the adapters
 * (gw_*.c, pure); NULL after answering 404 (no such gateway) or 405 (not
 * GET or POST). */
const struct gw_conf *gw_http_request(struct paknd *d,
                                      struct evhttp_request *req,
                                      const char *gwname, struct gw_request *r);
/* The client's address, for log lines. */
const char *gw_http_peer(struct evhttp_request *req);
/* Answer a callback whose work could not be committed: 503 when the
 * database is unavailable (the gateway retries), 500 otherwise; what
 * names the work in the reason ("stored", "recorded"). */
void gw_http_db_error(struct paknd *d, struct evhttp_request *req,
                      enum db_status st, const char *what);

#endif
