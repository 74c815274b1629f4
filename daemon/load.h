/* load.h: how busy intake is, from the HTTP requests in flight (each
 * gateway callback waits for its group's commit): the processing worker
 * and the outbox step back while it is, so that intake answers the
 * gateways first (issue 12). http.c counts the requests; process.c and
 * outbox.c ask. */
#ifndef PAKN_LOAD_H
#define PAKN_LOAD_H

struct paknd;

/* A request came (delta 1) or was answered (-1): d->inflight, and what
 * load_busy and load_surge read. */
void load_request(struct paknd *d, int delta);
/* The same at the time now (mono_now's clock): for tests. */
void load_request_at(struct paknd *d, int delta, double now);

/*
 * Is intake busy? The requests in flight came to [intake] yield_requests
 * within the last 0.1 s (they swing from the whole load to none at each
 * group commit) while callbacks come at [intake] surge_rate a second
 * (over the last quarter of a second, or the one under way): a burst,
 * not a steady rate whose commits sometimes keep that many waiting.
 * Processing then makes one call at a time (process.c).
 */
int load_busy(const struct paknd *d);
/* The same at the time now (mono_now's clock): for tests. */
int load_busy_at(const struct paknd *d, double now);

/*
 * Is intake under a surge? Over each of the last two quarters of a
 * second, callbacks came at [intake] surge_rate a second or more and the
 * requests in flight averaged [intake] yield_requests, as under a burst
 * of callbacks from many connections: not a moment's wait for a commit
 * at a steady rate (the requests in flight come to 32 at many commits
 * at 2 000 callbacks a second), nor a steady rate answered a little
 * slower. The processing worker then claims at [intake] burst_rate
 * (process.c), the outbox sends at [outbox] burst_rate (outbox.c).
 */
int load_surge(const struct paknd *d);
/* The same at the time now (mono_now's clock): for tests. */
int load_surge_at(const struct paknd *d, double now);

#endif
