/* check_load.c: when intake is under a surge, and when it is busy
 * (load.c), fed with the arrivals and answers of callbacks at chosen
 * times: a burst from many connections is both, a steady rate answered
 * slowly or a stall is neither. */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "load.h"
#include "paknd.h"

/* One request coming (delta 1) or answered (-1) at time t. */
struct ev {
	double t;
	int delta;
};

static struct config conf;
static struct paknd d;
static struct ev *evs;
static size_t nevs, capevs;

/* A fresh intake: [intake] yield_requests and surge_rate. */
static void
reset(long yield, long rate)
{
	memset(&d, 0, sizeof d);
	memset(&conf, 0, sizeof conf);
	conf.intake_yield_requests = yield;
	conf.intake_surge_rate = rate;
	d.conf = &conf;
	nevs = 0;
}

static void
add(double t, int delta)
{
	if (nevs == capevs) {
		capevs = capevs ? 2 * capevs : 1024;
		evs = realloc(evs, capevs * sizeof *evs);
		ck_assert_ptr_nonnull(evs);
	}
	evs[nevs++] = (struct ev){t, delta};
}

/* A request that came at t and was answered at t + took. */
static void
request(double t, double took)
{
	add(t, 1);
	add(t + took, -1);
}

static int
ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->delta - y->delta; /* an answer before a request */
}

/* Feed the events in time order; look (load_surge_at, load_busy_at)
 * every 10 ms from from to to: how many of those looks said yes (of
 * *looks). */
static int
count(int (*look)(const struct paknd *, double), double from, double to,
      int *looks)
{
	size_t i = 0;
	int n = 0;

	qsort(evs, nevs, sizeof *evs, ev_cmp);
	*looks = 0;
	for (double t = from; t <= to + 1e-9; t += 0.01) {
		while (i < nevs && evs[i].t <= t) {
			load_request_at(&d, evs[i].delta, evs[i].t);
			i++;
		}
		n += look(&d, t);
		(*looks)++;
	}
	return n;
}

/* Every look of look from from to to said yes (all 1), or none did
 * (all 0). */
static void
looks_are(int (*look)(const struct paknd *, double), double from, double to,
          int all)
{
	int looks, n = count(look, from, to, &looks);

	ck_assert_msg(n == (all ? looks : 0),
	              "%d of %d looks from %.2f to %.2f said yes, expected %s",
	              n, looks, from, to, all ? "all" : "none");
}

/* conns connections, each sending its next request once the last is
 * answered (took seconds later), from t0 to t1. */
static void
closed_loop(int conns, double took, double t0, double t1)
{
	for (int c = 0; c < conns; c++)
		for (double t = t0 + took * c / conns; t < t1; t += took)
			request(t, took);
}

/* rate requests a second from t0 to t1, each answered took seconds
 * later, or at stall_end if it came during [stall_from, stall_end). */
static void
open_loop(double rate, double took, double t0, double t1, double stall_from,
          double stall_end)
{
	for (long i = 0; t0 + (double)i / rate < t1; i++) {
		double t = t0 + (double)i / rate, end = t + took;

		if (end >= stall_from && end < stall_end)
			end = stall_end;
		request(t, end - t);
	}
}

/* 64 connections answered in 5 ms each (12 800 callbacks a second, 64
 * in flight): a surge from the second half-second on, over a quarter
 * of a second after the last request. */
START_TEST(test_burst_is_surge)
{
	reset(32, 5000);
	closed_loop(64, 0.005, 1.0, 4.0);
	looks_are(load_surge_at, 1.6, 3.95, 1);
	looks_are(load_surge_at, 4.3, 5.0, 0);
}
END_TEST

/* 2 000 callbacks a second each answered in 20 ms: 40 in flight, more
 * than yield_requests, but no surge: they come slower than surge_rate.
 * Without the rate (0), the old test, it read as one all along. */
START_TEST(test_steady_slow_is_no_surge)
{
	reset(32, 5000);
	open_loop(2000, 0.020, 1.0, 5.0, 0, 0);
	looks_are(load_surge_at, 1.0, 5.0, 0);
	reset(32, 0);
	open_loop(2000, 0.020, 1.0, 5.0, 0, 0);
	looks_are(load_surge_at, 1.6, 4.9, 1);
}
END_TEST

/* 2 000 callbacks a second answered in 5 ms, and none answered for
 * 0.7 s in the middle (1 400 in flight at its end): no surge. */
START_TEST(test_stall_is_no_surge)
{
	reset(32, 5000);
	open_loop(2000, 0.005, 1.0, 5.0, 2.0, 2.7);
	looks_are(load_surge_at, 1.0, 5.0, 0);
}
END_TEST

/* A burst at 8 000 callbacks a second, open loop, answered in 10 ms:
 * a surge; the same with yield_requests 0 (never yield): none. */
START_TEST(test_open_burst)
{
	reset(32, 5000);
	open_loop(8000, 0.010, 1.0, 3.0, 0, 0);
	looks_are(load_surge_at, 1.6, 2.95, 1);
	reset(0, 5000);
	open_loop(8000, 0.010, 1.0, 3.0, 0, 0);
	looks_are(load_surge_at, 1.0, 3.0, 0);
}
END_TEST

/* A burst of a quarter of a second is no surge (two windows). */
START_TEST(test_short_burst)
{
	reset(32, 5000);
	closed_loop(64, 0.005, 1.0, 1.2);
	open_loop(100, 0.005, 1.2, 3.0, 0, 0);
	looks_are(load_surge_at, 1.0, 3.0, 0);
}
END_TEST

/* The same burst keeps intake busy from its first tenth of a second to
 * a tenth after its last request. */
START_TEST(test_burst_is_busy)
{
	reset(32, 5000);
	closed_loop(64, 0.005, 1.0, 4.0);
	looks_are(load_busy_at, 1.15, 3.98, 1);
	looks_are(load_busy_at, 4.2, 5.0, 0);
}
END_TEST

/* 2 000 callbacks a second answered in 20 ms (40 in flight), and with a
 * stall of 0.7 s (1 400 in flight at its end): intake is not busy, the
 * worker keeps its calls. Without the rate (0), every look from the
 * start said busy, and the stall's. */
START_TEST(test_steady_is_not_busy)
{
	reset(32, 5000);
	open_loop(2000, 0.020, 1.0, 5.0, 0, 0);
	looks_are(load_busy_at, 1.0, 5.0, 0);
	reset(32, 5000);
	open_loop(2000, 0.005, 1.0, 5.0, 2.0, 2.7);
	looks_are(load_busy_at, 1.0, 5.0, 0);
	reset(32, 0);
	open_loop(2000, 0.020, 1.0, 5.0, 0, 0);
	looks_are(load_busy_at, 1.05, 4.99, 1);
	reset(32, 0);
	open_loop(2000, 0.005, 1.0, 5.0, 2.0, 2.7);
	looks_are(load_busy_at, 2.1, 2.69, 1);
}
END_TEST

static Suite *
load_suite(void)
{
	Suite *s = suite_create("load");
	TCase *tc = tcase_create("surge");

	tcase_add_test(tc, test_burst_is_surge);
	tcase_add_test(tc, test_steady_slow_is_no_surge);
	tcase_add_test(tc, test_stall_is_no_surge);
	tcase_add_test(tc, test_open_burst);
	tcase_add_test(tc, test_short_burst);
	tcase_add_test(tc, test_burst_is_busy);
	tcase_add_test(tc, test_steady_is_not_busy);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(load_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	free(evs);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
