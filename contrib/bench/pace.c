/*
 * pace.c: an open-loop load of Africa's Talking SMS callbacks, for
 * contrib/bench/run (issue 12: "at 2 000 callbacks/s offered, the ack is
 * in the outbox within 1 s at p99"). wrk sends the next request when the
 * last is answered (a closed loop: a slow server is offered less); pace
 * sends RATE requests a second whatever the answers, spread over each
 * millisecond, on up to CONNS keep-alive connections.
 *
 *	pace -p PORT -r RATE -s SECONDS [-c CONNS] [-t TOKEN] [-i RUN] [-R]
 *
 * Each request is a new complaint (message id RUN-N, a citizen per
 * request, the texts of at.lua). The Nth request's phone is +8497 and N
 * on seven digits; with -R, N scattered over the seven digits (a
 * bijection: still a citizen per request), as a deployment's citizens
 * are, so that the indexes by phone take their entries all over, not at
 * their end. Prints one line: "offered N sent N
 * ok N non200 N late N p50 MS p99 MS max MS" (latency of the answers;
 * late: requests that found every connection busy and waited for one).
 */

#define _POSIX_C_SOURCE 200809L /* getopt, clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "load.h"

#define MAXCONNS 1024

static const char *texts[] = {
    "PA+Duong+ngap+nuoc+sau+mua+%2300004",
    "PA+Rac+thai+khong+duoc+thu+gom+3+ngay+%2300070",
    "PA+Den+duong+hong+truoc+so+12+%2300008",
    "PA+Nuoc+may+co+mui%2C+nuoc+ban+%2300376",
    "PA+O+ga+lon+tren+duong+vao+cho+%2326737",
    "PA+Trom+xe+may+dem+qua+o+ngo+5+%2300082",
};

struct conn {
	struct evhttp_connection *http;
	int busy;
	double sent_at;
};

static struct {
	struct event_base *base;
	struct conn conns[MAXCONNS];
	struct load_opts o;
	long rate;
	int scatter; /* -R */
	long offered, sent, ok, non200, late, waiting;
	double start;
	struct lat lat;
} G = {.o = {.nconns = 64, .token = "bench", .run = "pace"}};

static void send_on(struct conn *c);

/* An answer (or a failure: req NULL). */
static void
done(struct evhttp_request *req, void *arg)
{
	struct conn *c = arg;
	double ms = (now() - c->sent_at) * 1000;

	if (req != NULL && evhttp_request_get_response_code(req) == 200)
		G.ok++;
	else
		G.non200++;
	lat_add(&G.lat, ms);
	c->busy = 0;
	if (G.waiting > 0) {
		G.waiting--;
		send_on(c);
	}
}

/* Send the next callback on idle connection c. */
static void
send_on(struct conn *c)
{
	struct evhttp_request *req = evhttp_request_new(done, c);
	struct evbuffer *body = evhttp_request_get_output_buffer(req);
	long n = G.sent++;
	/* 7 919 731 is prime to 10^7: n -> phone is one to one. */
	long phone = G.scatter ? (n % 10000000 * 7919731L + 1234567) % 10000000
	                       : n % 10000000;
	char path[256];

	evbuffer_add_printf(body,
	                    "from=%%2B8497%07ld&to=8079&text=%s&date=2026-12-01"
	                    "+02%%3A31%%3A26&id=%s-%ld&linkId=L%ld",
	                    phone,
	                    texts[n % (long)(sizeof texts / sizeof *texts)],
	                    G.o.run, n, n);
	snprintf(path, sizeof path, "/v1/gw/at/sms?token=%s", G.o.token);
	c->busy = 1;
	c->sent_at = now();
	if (load_post(c->http, req, path) != 0) {
		c->busy = 0;
		G.non200++;
	}
}

/* Every millisecond: offer what the rate owes by now. */
static void
tick(evutil_socket_t fd, short what, void *arg)
{
	double t = now() - G.start;
	long owed = (long)(t * (double)G.rate) - G.offered;
	int i = 0;

	(void)fd;
	(void)what;
	if (t >= (double)G.o.secs) {
		if (G.waiting == 0) {
			int idle = 1;

			for (int k = 0; k < G.o.nconns; k++)
				idle &= !G.conns[k].busy;
			if (idle || t >= (double)G.o.secs + 30)
				event_base_loopbreak(G.base);
		}
		return;
	}
	for (; owed > 0; owed--) {
		G.offered++;
		while (i < G.o.nconns && G.conns[i].busy)
			i++;
		if (i == G.o.nconns) {
			G.late++;
			G.waiting++;
			continue;
		}
		send_on(&G.conns[i]);
	}
	(void)arg;
}

int
main(int argc, char **argv)
{
	struct timeval ms = {0, 1000};
	struct event *ev;
	int ch;

	while ((ch = getopt(argc, argv, "p:r:s:c:t:i:R")) != -1) {
		if (ch == 'r')
			G.rate = atol(optarg);
		else if (ch == 'R')
			G.scatter = 1;
		else if (!load_opt(&G.o, ch, optarg))
			goto usage;
	}
	if (G.rate <= 0 || !load_opts_ok(&G.o, MAXCONNS))
		goto usage;
	G.base = event_base_new();
	for (int i = 0; i < G.o.nconns; i++) {
		G.conns[i].http = evhttp_connection_base_new(
		    G.base, NULL, "127.0.0.1", (unsigned short)G.o.port);
		evhttp_connection_set_timeout(G.conns[i].http, 60);
	}
	ev = event_new(G.base, -1, EV_PERSIST, tick, NULL);
	event_add(ev, &ms);
	G.start = now();
	event_base_dispatch(G.base);
	lat_sort(&G.lat);
	printf("offered %ld sent %ld ok %ld non200 %ld late %ld p50 %.1f p99 "
	       "%.1f max %.1f\n",
	       G.offered, G.sent, G.ok, G.non200, G.late, lat_at(&G.lat, 50),
	       lat_at(&G.lat, 99), lat_at(&G.lat, 100));
	return 0;
usage:
	fprintf(stderr, "usage: pace -p PORT -r RATE -s SECONDS [-c CONNS] "
	                "[-t TOKEN] [-i RUN] [-R]\n");
	return 2;
}
