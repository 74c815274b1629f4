/* conn.h: the HTTP connections: a cap, a deadline for every request,
 * accept back-off when descriptors run out. */
#ifndef PAKN_CONN_H
#define PAKN_CONN_H

#include <event2/bufferevent.h>
#include <event2/http.h>
#include <event2/listener.h>

struct paknd;
struct config;
struct conns;

/* Track the connections of d's server (d->base must exist). */
struct conns *conn_new(struct paknd *d);
/* Everything still tracked is let go; call after evhttp_free. */
void conn_free(struct conns *cs);
/* Fit the cap to the configuration and RLIMIT_NOFILE (raising the soft
 * limit when the hard one allows); warns when the limit lowers it. */
void conn_limits(struct conns *cs, const struct config *c);
/* The cap in force. */
long conn_cap(const struct conns *cs);
/* Watch the listener evhttp accepts on: pause it when full or out of
 * descriptors. NULL: no listener any more (before it is freed). */
void conn_listen(struct conns *cs, struct evconnlistener *lev);
/* evhttp's bufferevent callback: called once for every accepted socket. */
struct bufferevent *conn_bev(struct event_base *base, void *arg);
/* A whole request arrived: its connection is busy until it is answered. */
void conn_request(struct conns *cs, struct evhttp_request *req);

#endif
