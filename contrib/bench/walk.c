/*
 * walk.c: USSD sessions walked step after step, for contrib/bench/run
 * (issue 12: "USSD: >= 5 000 steps/s at 64 connections, p99 < 25 ms").
 *
 *	walk -p PORT -s SECONDS [-c CONNS] [-t TOKEN] [-i RUN]
 *
 * What ussd.lua does under wrk, on one thread: each of CONNS keep-alive
 * connections walks its own sessions of four steps, as a complaint
 * begins (the main menu, "1", "1*6", "1*6*1"), and sends a step only
 * once the last one's screen came, as a phone does. wrk needs a thread
 * a connection for that (its script cannot tell a thread's connections
 * apart), and its 64 threads on the two cores paknd and PostgreSQL use
 * took about a fifth of them (54 us a step, 22 here); here one event
 * loop does it. Prints what contrib/bench/run reads of a wrk report:
 * "Requests/sec:", the latency percentiles ("99%  12.34ms"), "non-200:"
 * and "ussd unexpected:" (answers 200 that are not a CON screen).
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

/* The texts of a session's steps, percent-encoded ("*" is %2A). */
static const char *steps[] = {"", "1", "1%2A6", "1%2A6%2A1"};

struct conn {
	struct evhttp_connection *http;
	int id;
	long answered; /* steps answered on this connection */
	int busy;
	double sent_at;
};

static struct {
	struct event_base *base;
	struct conn conns[MAXCONNS];
	struct load_opts o;
	int stopping;
	long answered, non200, unexpected;
	double start, end;
	struct lat lat;
} G = {.o = {.nconns = 64, .token = "bench", .run = "walk"}};

static void send_on(struct conn *c);

/* Stop once no connection waits for an answer. */
static void
maybe_end(void)
{
	for (int k = 0; k < G.o.nconns; k++)
		if (G.conns[k].busy)
			return;
	event_base_loopbreak(G.base);
}

/* A screen came (or a failure: req NULL): the next step. */
static void
done(struct evhttp_request *req, void *arg)
{
	struct conn *c = arg;
	double t = now(), ms = (t - c->sent_at) * 1000;
	char head[4];

	c->busy = 0;
	if (req == NULL || evhttp_request_get_response_code(req) != 200) {
		G.non200++;
	} else {
		struct evbuffer *b = evhttp_request_get_input_buffer(req);
		if (evbuffer_copyout(b, head, 4) != 4 ||
		    memcmp(head, "CON ", 4) != 0)
			G.unexpected++;
	}
	lat_add(&G.lat, ms);
	G.answered++;
	c->answered++;
	if (t - G.start >= (double)G.o.secs) {
		if (!G.stopping) {
			G.stopping = 1;
			G.end = t;
		}
		maybe_end();
		return;
	}
	send_on(c);
}

/* Send connection c's next step: session answered / 4 of the connection,
 * step answered % 4 (the counter moves when an answer comes). */
static void
send_on(struct conn *c)
{
	struct evhttp_request *req = evhttp_request_new(done, c);
	struct evbuffer *body = evhttp_request_get_output_buffer(req);
	long k = c->answered / 4 + 1;
	char path[256];

	evbuffer_add_printf(body,
	                    "sessionId=s%s-%d-%ld&serviceCode=%%2A384%%2A7%%23"
	                    "&phoneNumber=%%2B849%02d%06ld&networkCode=45204"
	                    "&text=%s",
	                    G.o.run, c->id, k, c->id % 100, k % 1000000,
	                    steps[c->answered % 4]);
	snprintf(path, sizeof path, "/v1/gw/at/ussd?token=%s", G.o.token);
	c->busy = 1;
	c->sent_at = now();
	if (load_post(c->http, req, path) != 0) {
		fprintf(stderr, "walk: cannot send on connection %d\n", c->id);
		exit(1);
	}
}

/* A percentile of the sorted latencies, as wrk --latency prints it. */
static void
pct(double p)
{
	printf("  %5.0f%%  %8.2fms\n", p, lat_at(&G.lat, p));
}

int
main(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "p:s:c:t:i:")) != -1)
		if (!load_opt(&G.o, ch, optarg))
			goto usage;
	if (!load_opts_ok(&G.o, MAXCONNS))
		goto usage;
	G.base = event_base_new();
	G.start = now();
	for (int i = 0; i < G.o.nconns; i++) {
		struct conn *c = &G.conns[i];
		c->id = i + 1;
		c->http = evhttp_connection_base_new(G.base, NULL, "127.0.0.1",
		                                     (unsigned short)G.o.port);
		evhttp_connection_set_timeout(c->http, 60);
		send_on(c);
	}
	event_base_dispatch(G.base);
	if (G.lat.n == 0) {
		fprintf(stderr, "walk: no answer\n");
		return 1;
	}
	lat_sort(&G.lat);
	printf("%ld steps in %.2fs on %d connections\n", G.answered,
	       G.end - G.start, G.o.nconns);
	printf("Latency Distribution\n");
	pct(50);
	pct(75);
	pct(90);
	pct(99);
	printf("  max  %8.2fms\n", lat_at(&G.lat, 100));
	printf("non-200: %ld\n", G.non200);
	printf("Requests/sec: %.2f\n", (double)G.answered / (G.end - G.start));
	printf("ussd unexpected: %ld\n", G.unexpected);
	return 0;
usage:
	fprintf(stderr, "usage: walk -p PORT -s SECONDS [-c CONNS] [-t TOKEN] "
	                "[-i RUN]\n");
	return 2;
}
