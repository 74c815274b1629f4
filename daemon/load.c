/* load.c: how busy intake is (load.h). */

#include "config.h"
#include "load.h"
#include "paknd.h"
#include "util.h"

/* Seconds intake stays busy after the requests in flight last came to
 * [intake] yield_requests (load_busy). */
#define BUSY_HOLD 0.1
/* Seconds over which the requests in flight are averaged (load_surge). */
#define SURGE_WINDOW 0.25

/* See load.h. */
void
load_request_at(struct paknd *d, int delta, double now)
{
	/* The time the requests were at their count, into the window's
	 * sum; a window over, its average and the rate requests came at
	 * kept. */
	if (d->load_from == 0)
		d->load_from = now;
	else
		d->load_sum += (double)d->inflight * (now - d->load_at);
	d->load_at = now;
	if (now - d->load_from >= SURGE_WINDOW) {
		d->load_prev = d->load_avg;
		d->load_avg = d->load_sum / (now - d->load_from);
		d->came_prev = d->came_rate;
		d->came_rate = (double)d->load_came / (now - d->load_from);
		d->load_sum = 0;
		d->load_came = 0;
		d->load_from = now;
	}
	d->inflight += delta;
	if (delta > 0)
		d->load_came += delta;
	if (delta > 0 && d->conf->intake_yield_requests > 0 &&
	    d->inflight >= d->conf->intake_yield_requests)
		d->busy_at = now;
}

/* See load.h. */
void
load_request(struct paknd *d, int delta)
{
	load_request_at(d, delta, mono_now());
}

/* See load.h. */
int
load_busy_at(const struct paknd *d, double now)
{
	double rate = (double)d->conf->intake_surge_rate, came;

	if (d->conf->intake_yield_requests <= 0 || d->busy_at <= 0 ||
	    now - d->busy_at >= BUSY_HOLD)
		return 0;
	/* And callbacks coming at [intake] surge_rate: in the last window,
	 * or in the one under way (over BUSY_HOLD at least, so that its
	 * first requests are no rate of their own). At a steady 2 000 a
	 * second the requests in flight came to yield_requests at many
	 * commits, and the worker, one call at a time four or five times
	 * a second, processed a backlog no faster than 2 150-2 630 a
	 * second: a minute of a vacuum or a checkpoint left the acks 10-30
	 * s late (the soak, 2026-12-06). */
	if (rate <= 0 || d->came_rate >= rate)
		return 1;
	came = now - d->load_from;
	return (double)d->load_came / (came > BUSY_HOLD ? came : BUSY_HOLD) >=
	       rate;
}

/* See load.h. */
int
load_busy(const struct paknd *d)
{
	return load_busy_at(d, mono_now());
}

/* See load.h. */
int
load_surge_at(const struct paknd *d, double now)
{
	long n = d->conf->intake_yield_requests;
	double rate = (double)d->conf->intake_surge_rate;

	if (n <= 0)
		return 0;
	/* No request came or went for a window: none came at any rate. */
	if (now - d->load_at >= SURGE_WINDOW)
		return rate <= 0 && d->inflight >= n;
	/* Two windows in a row: not a stall of a fraction of a second at a
	 * steady rate (one at 2 000 callbacks a second, 50 ms long, made
	 * one window's average 30 and delayed the acks sent after it); and
	 * callbacks coming at [intake] surge_rate: at 2 000 a second the
	 * requests in flight (the rate times the time to answer) came to
	 * the average of a surge whenever the answers slowed to 16 ms, and
	 * the paced acks came seconds late in 4 of 9 runs (2026-12-06). */
	return d->load_avg >= (double)n && d->load_prev >= (double)n &&
	       d->came_rate >= rate && d->came_prev >= rate;
}

/* See load.h. */
int
load_surge(const struct paknd *d)
{
	return load_surge_at(d, mono_now());
}
