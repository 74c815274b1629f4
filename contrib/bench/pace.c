/*
 * pace.c: an open-loop load of Africa's Talking SMS callbacks, for
 * contrib/bench/run (issue 12: "at 2 000 callbacks/s offered, the ack is
 * in the outbox within 1 s at p99"). wrk sends the next request when the
 * last is answered (a closed loop: a slow server is offered less); pace
 * sends RATE requests a second whatever the answers, spread over each
 * millisecond, on up to CONNS keep-alive connections.
 *
 *	pace -p PORT -r RATE -s SECONDS [-c CONNS] [-t TOKEN] [-i RUN]
 *
 * Each request is a new complaint (message id RUN-N, a citizen per
 * request, the texts of at.lua). Prints one line: "offered N sent N
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
	int nconns, port;
	const char *token, *run;
	long rate, secs;
	long offered, sent, ok, non200, late, waiting;
	double start;
	double *lat;
	size_t nlat, caplat;
} G = {.nconns = 64, .token = "bench", .run = "pace"};

/* Monotonic seconds. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

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
	if (G.nlat == G.caplat) {
		G.caplat = G.caplat ? G.caplat * 2 : 65536;
		if ((G.lat = realloc(G.lat, G.caplat * sizeof *G.lat)) == NULL)
			exit(2);
	}
	G.lat[G.nlat++] = ms;
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
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	long n = G.sent++;
	char path[256];

	evbuffer_add_printf(body,
	                    "from=%%2B8497%07ld&to=8079&text=%s&date=2026-12-01"
	                    "+02%%3A31%%3A26&id=%s-%ld&linkId=L%ld",
	                    n % 10000000,
	                    texts[n % (long)(sizeof texts / sizeof *texts)],
	                    G.run, n, n);
	evhttp_add_header(h, "Host", "127.0.0.1");
	evhttp_add_header(h, "Content-Type",
	                  "application/x-www-form-urlencoded");
	snprintf(path, sizeof path, "/v1/gw/at/sms?token=%s", G.token);
	c->busy = 1;
	c->sent_at = now();
	if (evhttp_make_request(c->http, req, EVHTTP_REQ_POST, path) != 0) {
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
	if (t >= (double)G.secs) {
		if (G.waiting == 0) {
			int idle = 1;

			for (int k = 0; k < G.nconns; k++)
				idle &= !G.conns[k].busy;
			if (idle || t >= (double)G.secs + 30)
				event_base_loopbreak(G.base);
		}
		return;
	}
	for (; owed > 0; owed--) {
		G.offered++;
		while (i < G.nconns && G.conns[i].busy)
			i++;
		if (i == G.nconns) {
			G.late++;
			G.waiting++;
			continue;
		}
		send_on(&G.conns[i]);
	}
	(void)arg;
}

/* For qsort. */
static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	struct timeval ms = {0, 1000};
	struct event *ev;
	int ch;

	while ((ch = getopt(argc, argv, "p:r:s:c:t:i:")) != -1) {
		switch (ch) {
		case 'p':
			G.port = atoi(optarg);
			break;
		case 'r':
			G.rate = atol(optarg);
			break;
		case 's':
			G.secs = atol(optarg);
			break;
		case 'c':
			G.nconns = atoi(optarg);
			break;
		case 't':
			G.token = optarg;
			break;
		case 'i':
			G.run = optarg;
			break;
		default:
			goto usage;
		}
	}
	if (G.port <= 0 || G.rate <= 0 || G.secs <= 0 || G.nconns <= 0 ||
	    G.nconns > MAXCONNS)
		goto usage;
	G.base = event_base_new();
	for (int i = 0; i < G.nconns; i++) {
		G.conns[i].http = evhttp_connection_base_new(
		    G.base, NULL, "127.0.0.1", (unsigned short)G.port);
		evhttp_connection_set_timeout(G.conns[i].http, 60);
	}
	ev = event_new(G.base, -1, EV_PERSIST, tick, NULL);
	event_add(ev, &ms);
	G.start = now();
	event_base_dispatch(G.base);
	qsort(G.lat, G.nlat, sizeof *G.lat, cmp);
	printf("offered %ld sent %ld ok %ld non200 %ld late %ld p50 %.1f p99 "
	       "%.1f max %.1f\n",
	       G.offered, G.sent, G.ok, G.non200, G.late,
	       G.nlat ? G.lat[G.nlat / 2] : 0.0,
	       G.nlat ? G.lat[G.nlat * 99 / 100] : 0.0,
	       G.nlat ? G.lat[G.nlat - 1] : 0.0);
	return 0;
usage:
	fprintf(stderr, "usage: pace -p PORT -r RATE -s SECONDS [-c CONNS] "
	                "[-t TOKEN] [-i RUN]\n");
	return 2;
}
