/* summary.c: the leaders' summary SMS, weekly (Monday 07:30) and monthly
 * (the reporting cut-off day, 07:30), local time.
 *
 * Every paknd looks at the schedule on a timer; pakn.summary_run decides
 * what is due and, for each leader and period, claims a row under a
 * unique key and queues the SMS in the same transaction, so a summary
 * goes out once however many instances look. The SMS leave through the
 * outbox.
 */

#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "outbox.h"
#include "paknd.h"
#include "stmt.h"
#include "summary.h"
#include "util.h"

struct summary {
	struct paknd *d;
	struct event *timer;
	int busy;
	int stopped;
};

/* A pass finished: log what it queued, send it. */
static void
summary_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct summary *w = arg;
	int n;

	w->busy = 0;
	if (st != DB_OK) {
		log_warnx("summary: pass failed: %s", error);
		return;
	}
	if ((n = atoi(PQgetvalue(res, 0, 0))) == 0) {
		log_debug("summary: pass done, nothing due");
		return;
	}
	log_info("summary: %d leaders' summary SMS queued", n);
	outbox_kick(w->d->outbox);
}

/* Start a pass unless one is in flight or no gateway can send. */
static void
summary_pass(evutil_socket_t fd, short what, void *arg)
{
	struct summary *w = arg;
	const struct config *c = w->d->conf;
	char v[3][24];
	const char *values[6];
	char *cause = NULL;

	if (w->stopped || w->busy || c->ngateways == 0 ||
	    (!c->summary_weekly && !c->summary_monthly))
		return;
	snprintf(v[0], sizeof v[0], "%ld", c->stats_cutoff_day);
	snprintf(v[1], sizeof v[1], "%ld", c->stats_target_on_time);
	snprintf(v[2], sizeof v[2], "%ld", c->stats_target_satisfaction);
	values[0] = c->gateways[0].name;
	values[1] = v[0];
	values[2] = c->summary_weekly ? "t" : "f";
	values[3] = c->summary_monthly ? "t" : "f";
	values[4] = v[1];
	values[5] = v[2];
	if (db_submit(w->d->db, STMT_SUMMARY_RUN, 6, values, NULL, NULL,
	              summary_done, w, &cause) != 0) {
		log_debug("summary: pass skipped: %s", cause);
		free(cause);
		return;
	}
	w->busy = 1;
}

/* Start the schedule's timer on d's loop. */
struct summary *
summary_new(struct paknd *d)
{
	struct summary *w = xcalloc(1, sizeof *w);
	struct timeval tv = {d->conf->summary_interval, 0};

	w->d = d;
	w->timer = event_new(d->base, -1, EV_PERSIST, summary_pass, w);
	event_add(w->timer, &tv);
	return w;
}

/* Look at the schedule now. */
void
summary_kick(struct summary *w)
{
	event_active(w->timer, EV_TIMEOUT, 0);
}

/* Stop starting passes. */
void
summary_stop(struct summary *w)
{
	w->stopped = 1;
	event_del(w->timer);
}

/* Free the schedule (after the pool, which answers a pass in flight). */
void
summary_free(struct summary *w)
{
	if (w == NULL)
		return;
	event_free(w->timer);
	free(w);
}
