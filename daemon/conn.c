/*
 * conn.c: the HTTP connections: a cap, a deadline for every request,
 * accept back-off when descriptors run out.
 *
 * libevent 2.1's evhttp has no connection limit, its timeout restarts with
 * every byte read (a client sending a byte every 10 s stays for ever) and
 * it hides the accepted socket. We see each connection through evhttp's
 * bufferevent callback (conn_bev), learn its evhttp_connection right after
 * (evhttp makes it the argument of the bufferevent's callbacks; checked
 * with evhttp_connection_get_bufferevent) and its end through the close
 * callback. A connection is either waiting for a request (since it was
 * accepted or last answered) or busy (a request is with the routes).
 *
 * Over the cap, the connection waiting longest is closed, so slow clients
 * cannot keep others out; when every connection is busy, the new one is
 * answered 503. A connection waiting longer than request_timeout is
 * closed. When accept() fails for want of descriptors, the listener
 * pauses (100 ms, doubling to 2 s) and a reserve descriptor is given up to
 * accept-and-close the connection at the head of the queue, so the loop
 * does not spin on a listening socket it cannot empty.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "conn.h"
#include "log.h"
#include "paknd.h"
#include "util.h"

#define TICK_MS        250
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
/* Descriptors paknd needs besides connections and those of the pool and
 * the sends: standard streams, listener, reserve, epoll, signals, logs. */
#define FD_SPARE 32

/* The answer to a connection refused at the cap. */
static const char busy_reply[] = "HTTP/1.1 503 Service Unavailable\r\n"
                                 "Content-Type: text/plain; charset=utf-8\r\n"
                                 "Content-Length: 21\r\n"
                                 "Retry-After: 5\r\n"
                                 "Connection: close\r\n"
                                 "\r\n"
                                 "too many connections\n";

TAILQ_HEAD(conn_list, conn);

/* One accepted connection. */
struct conn {
	struct conns *cs;
	struct bufferevent *bev;         /* made by conn_bev; one ref ours */
	struct evhttp_connection *evcon; /* NULL until conn_resolve */
	evutil_socket_t fd;
	long long since;        /* ms: waiting for a request since */
	unsigned long round;    /* of the conn_resolve that knew it */
	struct conn_list *list; /* fresh, waiting or busy */
	TAILQ_ENTRY(conn) entry;
};

struct conns {
	struct paknd *d;
	struct evconnlistener *lev; /* evhttp's; NULL when not listening */
	struct event *resolve;      /* learns what new connections are */
	struct event *tick;         /* deadlines, sweep, log summaries */
	struct event *resume;       /* end of a pause of accept() */
	struct conn_list fresh, waiting, busy;
	struct conn **byfd; /* tracked connections by descriptor */
	size_t nbyfd;
	long count, cap;
	long long request_ms;
	long backoff_ms;       /* length of the last pause */
	int paused, accepting; /* accept() paused; listener enabled */
	int reserve;           /* given up to accept-and-close */
	struct conn *closing;  /* being closed by conn_close */
	unsigned long round;   /* conn_resolve calls */
	struct log_limit accept_log, full_log, slow_log;
};

/* The listener's error callback gets evhttp's argument, not ours: there
 * is one server per process. */
static struct conns *listening;

/* The monotonic clock in milliseconds. */
static long long
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Enable the listener unless paused or over the cap. */
static void
conn_update(struct conns *cs)
{
	int want = !cs->paused && cs->count <= cs->cap;

	if (cs->lev == NULL || want == cs->accepting)
		return;
	if (want)
		evconnlistener_enable(cs->lev);
	else
		evconnlistener_disable(cs->lev);
	cs->accepting = want;
}

/* Move a connection to the tail of a list. */
static void
conn_move(struct conn *c, struct conn_list *to)
{
	TAILQ_REMOVE(c->list, c, entry);
	TAILQ_INSERT_TAIL(to, c, entry);
	c->list = to;
}

/* Forget a connection: closed, or gone before we knew it. */
static void
conn_drop(struct conn *c)
{
	struct conns *cs = c->cs;

	TAILQ_REMOVE(c->list, c, entry);
	if (c->fd >= 0 && (size_t)c->fd < cs->nbyfd && cs->byfd[c->fd] == c)
		cs->byfd[c->fd] = NULL;
	if (cs->closing == c)
		cs->closing = NULL;
	bufferevent_decref(c->bev);
	free(c);
	cs->count--;
	conn_update(cs);
}

/* evhttp closes a connection. */
static void
conn_closed(struct evhttp_connection *evcon, void *arg)
{
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	conn_drop(arg);
}

/* Close a known connection through evhttp. */
static void
conn_close(struct conn *c)
{
	struct conns *cs = c->cs;

	cs->closing = c;
	evhttp_connection_free(c->evcon);
	if (cs->closing == c) /* evhttp did not call the close callback */
		conn_drop(c);
}

/* The peer of a connection, "address:port", in buf. */
static const char *
conn_peer(const struct conn *c, char *buf, size_t size)
{
	char *addr = NULL;
	ev_uint16_t port = 0;

	evhttp_connection_get_peer(c->evcon, &addr, &port);
	snprintf(buf, size, "%s:%u", addr != NULL ? addr : "?", port);
	return buf;
}

/* Remember a connection under its descriptor. */
static void
conn_index(struct conns *cs, struct conn *c)
{
	size_t n = cs->nbyfd;

	if (c->fd < 0)
		return;
	if ((size_t)c->fd >= n) {
		cs->nbyfd =
		    (size_t)c->fd + 1 > 2 * n ? (size_t)c->fd + 1 : 2 * n;
		cs->byfd = xreallocarray(cs->byfd, cs->nbyfd, sizeof *cs->byfd);
		memset(cs->byfd + n, 0, (cs->nbyfd - n) * sizeof *cs->byfd);
	}
	cs->byfd[c->fd] = c;
}

/* Over the cap: close the connection waiting longest for a request, or
 * refuse a new one with a 503 when every other connection is busy. */
static void
conn_hold_cap(struct conns *cs)
{
	struct conn *c;
	char peer[96];

	while (cs->count > cs->cap && (c = TAILQ_FIRST(&cs->waiting)) != NULL) {
		if (c->round == cs->round) { /* new, all others busy */
			log_limited(&cs->full_log, 0,
			            "refused %s: all %ld connections are busy",
			            conn_peer(c, peer, sizeof peer), cs->cap);
			(void)send(c->fd, busy_reply, sizeof busy_reply - 1,
			           MSG_NOSIGNAL | MSG_DONTWAIT);
		} else
			log_limited(&cs->full_log, 0,
			            "over the cap of %ld connections: closed "
			            "%s, waiting %.1f s for a request",
			            cs->cap, conn_peer(c, peer, sizeof peer),
			            (double)(now_ms() - c->since) / 1000);
		conn_close(c);
	}
}

/* Learn the evhttp connection of every new socket, then hold the cap. */
static void
conn_resolve(evutil_socket_t fd, short what, void *arg)
{
	struct conns *cs = arg;
	struct conn *c;
	void *evcon;

	while ((c = TAILQ_FIRST(&cs->fresh)) != NULL) {
		evcon = NULL;
		bufferevent_getcb(c->bev, NULL, NULL, NULL, &evcon);
		if (evcon == NULL ||
		    evhttp_connection_get_bufferevent(evcon) != c->bev) {
			conn_drop(c); /* closed already */
			continue;
		}
		c->evcon = evcon;
		c->fd = bufferevent_getfd(c->bev);
		c->round = cs->round;
		conn_index(cs, c);
		evhttp_connection_set_closecb(c->evcon, conn_closed, c);
		conn_move(c, &cs->waiting);
	}
	conn_hold_cap(cs);
	cs->round++;
}

/* evhttp accepted a socket: give it a bufferevent we can follow. */
struct bufferevent *
conn_bev(struct event_base *base, void *arg)
{
	struct conns *cs = arg;
	struct conn *c = xcalloc(1, sizeof *c);

	if ((c->bev = bufferevent_socket_new(base, -1, 0)) == NULL)
		fatalx("bufferevent_socket_new");
	bufferevent_incref(c->bev);
	c->cs = cs;
	c->fd = -1;
	c->since = now_ms();
	c->list = &cs->fresh;
	TAILQ_INSERT_TAIL(&cs->fresh, c, entry);
	cs->count++;
	cs->backoff_ms = 0;
	event_active(cs->resolve, EV_TIMEOUT, 0);
	conn_update(cs);
	return c->bev;
}

/* The tracked connection of a request, or NULL. */
static struct conn *
conn_of(struct conns *cs, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct conn *c;
	evutil_socket_t fd;

	if (evcon == NULL)
		return NULL;
	fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	if (fd < 0 || (size_t)fd >= cs->nbyfd || (c = cs->byfd[fd]) == NULL ||
	    c->evcon != evcon)
		return NULL;
	return c;
}

/* A request was answered: its connection waits for the next one. */
static void
conn_answered(struct evhttp_request *req, void *arg)
{
	struct conns *cs = arg;
	struct conn *c = conn_of(cs, req);

	if (c == NULL || c->list != &cs->busy)
		return;
	c->since = now_ms();
	conn_move(c, &cs->waiting);
}

/* A whole request arrived: its connection is busy until it is answered. */
void
conn_request(struct conns *cs, struct evhttp_request *req)
{
	struct conn *c = conn_of(cs, req);

	if (c == NULL)
		return;
	conn_move(c, &cs->busy);
	evhttp_request_set_on_complete_cb(req, conn_answered, cs);
}

/* Drop connections evhttp closed without telling (a safety net: their
 * bufferevent, kept by our reference, lost its callbacks). */
static void
conn_sweep(struct conns *cs, struct conn_list *list)
{
	struct conn *c, *next;
	void *evcon;

	for (c = TAILQ_FIRST(list); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		evcon = NULL;
		bufferevent_getcb(c->bev, NULL, NULL, NULL, &evcon);
		if (evcon != c->evcon) {
			log_debug("http: connection on fd %d closed unseen",
			          (int)c->fd);
			conn_drop(c);
		}
	}
}

/* Close the connections past their request deadline; sweep; summaries. */
static void
conn_tick(evutil_socket_t fd, short what, void *arg)
{
	struct conns *cs = arg;
	long long now = now_ms();
	struct conn *c;
	char peer[96];

	while ((c = TAILQ_FIRST(&cs->waiting)) != NULL &&
	       now - c->since >= cs->request_ms) {
		log_limited(&cs->slow_log, 0,
		            "closed %s: no whole request within %lld s",
		            conn_peer(c, peer, sizeof peer),
		            cs->request_ms / 1000);
		conn_close(c);
	}
	conn_sweep(cs, &cs->waiting);
	conn_sweep(cs, &cs->busy);
	log_limit_flush(&cs->accept_log, 0);
	log_limit_flush(&cs->full_log, 0);
	log_limit_flush(&cs->slow_log, 0);
}

/* The pause of accept() is over. */
static void
conn_resume(evutil_socket_t fd, short what, void *arg)
{
	struct conns *cs = arg;

	cs->paused = 0;
	conn_update(cs);
}

/* Out of descriptors: give up the reserve one to accept the connection
 * at the head of the queue, answer it 503 and close it. */
static void
conn_shed(struct conns *cs, evutil_socket_t lfd)
{
	int fd;

	if (cs->reserve >= 0)
		close(cs->reserve);
	if ((fd = accept(lfd, NULL, NULL)) >= 0) {
		(void)send(fd, busy_reply, sizeof busy_reply - 1,
		           MSG_NOSIGNAL | MSG_DONTWAIT);
		close(fd);
	}
	cs->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/* accept() failed (other than a retry): log it at a bounded rate and
 * pause accepting for a while. */
static void
conn_accept_error(struct evconnlistener *lev, void *arg)
{
	struct conns *cs = listening;
	int err = EVUTIL_SOCKET_ERROR();
	struct timeval tv;

	if (cs == NULL || cs->lev != lev)
		return;
	log_limited(&cs->accept_log, err, "accept on %s", cs->d->conf->listen);
	if (err == EMFILE || err == ENFILE)
		conn_shed(cs, evconnlistener_get_fd(lev));
	cs->backoff_ms =
	    cs->backoff_ms == 0 ? BACKOFF_MIN_MS : 2 * cs->backoff_ms;
	if (cs->backoff_ms > BACKOFF_MAX_MS)
		cs->backoff_ms = BACKOFF_MAX_MS;
	tv.tv_sec = cs->backoff_ms / 1000;
	tv.tv_usec = (cs->backoff_ms % 1000) * 1000;
	cs->paused = 1;
	conn_update(cs);
	evtimer_add(cs->resume, &tv);
}

/* Watch the listener evhttp accepts on. */
void
conn_listen(struct conns *cs, struct evconnlistener *lev)
{
	cs->lev = lev;
	cs->accepting = lev != NULL;
	listening = lev != NULL ? cs : NULL;
	if (lev == NULL)
		return;
	evconnlistener_set_error_cb(lev, conn_accept_error);
	conn_update(cs);
}

/* Fit the cap to the configuration and RLIMIT_NOFILE. */
void
conn_limits(struct conns *cs, const struct config *c)
{
	long spare = FD_SPARE + c->pool_size + c->outbox_max_inflight;
	rlim_t need = (rlim_t)(c->max_connections + spare);
	struct rlimit rl;
	long have;

	cs->request_ms = (long long)c->request_timeout * 1000;
	cs->cap = c->max_connections;
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		log_warn("getrlimit RLIMIT_NOFILE");
		return;
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need &&
	    rl.rlim_max != rl.rlim_cur) {
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need
		                  ? rl.rlim_max
		                  : need;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1 ||
		    getrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("raising RLIMIT_NOFILE");
		else
			log_info("RLIMIT_NOFILE raised to %ld for %ld "
			         "connections",
			         (long)rl.rlim_cur, c->max_connections);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		have = (long)rl.rlim_cur;
		cs->cap = have > 2 * spare ? have - spare : have / 2;
		log_warnx("RLIMIT_NOFILE is %ld, below the %ld descriptors "
		          "max_connections = %ld needs: serving at most %ld "
		          "connections (raise LimitNOFILE)",
		          have, (long)need, c->max_connections, cs->cap);
	}
	conn_update(cs);
}

/* The cap in force. */
long
conn_cap(const struct conns *cs)
{
	return cs->cap;
}

/* Track the connections of d's server. */
struct conns *
conn_new(struct paknd *d)
{
	struct conns *cs = xcalloc(1, sizeof *cs);
	struct timeval tick = {0, TICK_MS * 1000};

	cs->d = d;
	TAILQ_INIT(&cs->fresh);
	TAILQ_INIT(&cs->waiting);
	TAILQ_INIT(&cs->busy);
	cs->resolve = event_new(d->base, -1, 0, conn_resolve, cs);
	cs->tick = event_new(d->base, -1, EV_PERSIST, conn_tick, cs);
	cs->resume = evtimer_new(d->base, conn_resume, cs);
	if (cs->resolve == NULL || cs->tick == NULL || cs->resume == NULL)
		fatalx("event_new");
	event_add(cs->tick, &tick);
	cs->reserve = open("/dev/null", O_RDONLY | O_CLOEXEC);
	cs->accept_log =
	    (struct log_limit){.what = "accept", .interval = 10, .warn = 1};
	cs->full_log = (struct log_limit){
	    .what = "connection cap", .interval = 10, .warn = 1};
	cs->slow_log =
	    (struct log_limit){.what = "slow clients", .interval = 10};
	return cs;
}

/* Let go of everything still tracked (after evhttp_free). */
void
conn_free(struct conns *cs)
{
	struct conn_list *lists[] = {&cs->fresh, &cs->waiting, &cs->busy};
	struct conn *c;

	if (cs == NULL)
		return;
	for (size_t i = 0; i < 3; i++)
		while ((c = TAILQ_FIRST(lists[i])) != NULL)
			conn_drop(c);
	event_free(cs->resolve);
	event_free(cs->tick);
	event_free(cs->resume);
	if (cs->reserve >= 0)
		close(cs->reserve);
	if (listening == cs)
		listening = NULL;
	free(cs->byfd);
	free(cs);
}
