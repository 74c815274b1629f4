/*
 * load.h: what the bench's load generators (pace.c, walk.c) share: their
 * common options, a form POSTed on a keep-alive connection, a monotonic
 * clock, and the latencies of the answers, kept and sorted for their
 * percentiles. Header-only: each generator is one file built by
 * contrib/bench/run.
 */
#ifndef PAKN_BENCH_LOAD_H
#define PAKN_BENCH_LOAD_H

#include <stdlib.h>
#include <time.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

/* -p PORT -s SECONDS -c CONNS -t TOKEN -i RUN. */
struct load_opts {
	int port, nconns;
	long secs;
	const char *token, *run;
};

/* Take option ch (its argument arg) if it is one of load_opts': 1, or
 * 0 for another. */
static int
load_opt(struct load_opts *o, int ch, const char *arg)
{
	switch (ch) {
	case 'p':
		o->port = atoi(arg);
		return 1;
	case 's':
		o->secs = atol(arg);
		return 1;
	case 'c':
		o->nconns = atoi(arg);
		return 1;
	case 't':
		o->token = arg;
		return 1;
	case 'i':
		o->run = arg;
		return 1;
	}
	return 0;
}

/* Usable: a port, seconds, 1 to max connections. */
static int
load_opts_ok(const struct load_opts *o, int max)
{
	return o->port > 0 && o->secs > 0 && o->nconns > 0 && o->nconns <= max;
}

/* POST req's body, a form, to path on http; 0 once it is on its way. */
static int
load_post(struct evhttp_connection *http, struct evhttp_request *req,
          const char *path)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Host", "127.0.0.1");
	evhttp_add_header(h, "Content-Type",
	                  "application/x-www-form-urlencoded");
	return evhttp_make_request(http, req, EVHTTP_REQ_POST, path);
}

/* Latencies in milliseconds. */
struct lat {
	double *v;
	size_t n, cap;
};

/* Monotonic seconds. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keep one latency (exits on out of memory). */
static void
lat_add(struct lat *l, double ms)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 65536;
		if ((l->v = realloc(l->v, l->cap * sizeof *l->v)) == NULL)
			exit(2);
	}
	l->v[l->n++] = ms;
}

/* For qsort. */
static int
lat_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Sort them, for lat_at. */
static void
lat_sort(struct lat *l)
{
	qsort(l->v, l->n, sizeof *l->v, lat_cmp);
}

/* The p-th percentile of the sorted latencies (0 when there are none). */
static double
lat_at(const struct lat *l, double p)
{
	size_t i = (size_t)((double)l->n * p / 100);

	if (l->n == 0)
		return 0;
	return l->v[i < l->n ? i : l->n - 1];
}

#endif
