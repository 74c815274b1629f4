/* deadline.c: the deadline worker: reminders, escalation, apologies,
 * and complaints without a place handed to the triage desk.
 *
 * A timer on the loop runs pakn.deadline_run, which does everything in
 * one transaction under an advisory lock (so one paknd at a time does the
 * work) and guards each step with a timestamp column of the complaint (so
 * each happens once, across restarts and instances); then pakn.desk_run,
 * which hands the complaints still without a place after location_wait
 * hours to the triage desk the same way. The SMS they queue go out
 * through the outbox.
 *
 * A second timer keeps the monthly partitions of the ledger and the
 * outbox ahead of time (pakn.partitions_ensure): at start, then daily.
 *
 * A third sends the notices of new complaints held for officials'
 * phones ([sms] notice_gather, pakn.notice_flush) once their gather is
 * over: every tenth of it (1 to 10 s), again at once while a call finds
 * more phones than it takes.
 */

#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "deadline.h"
#include "metrics.h"
#include "outbox.h"
#include "paknd.h"
#include "stmt.h"
#include "util.h"

/* Months of partitions kept ahead of this one, and how often (seconds)
 * they are checked; a failed check is tried again after a minute. */
#define PARTITIONS_AHEAD 3
#define PARTITIONS_EVERY 86400
#define PARTITIONS_RETRY 60
/* Phones a notice flush serves at most. */
#define GATHER_BATCH 500

struct deadline {
	struct paknd *d;
	struct event *timer;
	struct event *parts;  /* pakn.partitions_ensure */
	struct event *gather; /* pakn.notice_flush */
	int gathering;        /* a flush in flight */
	int busy;
	int again; /* a pass was asked for while one was in flight */
	int stopped;
	/* passes run, left to another instance, failed; then actions */
	long long passes, locked_out, failed;
	long long reminded, escalated, closed, sms;
	/* held notices sent, in SMS; flushes failed */
	long long gathered, gather_sms, gather_failed;
};

/* The pass is over: start the next one if it was asked for meanwhile. */
static void
deadline_end(struct deadline *w)
{
	w->busy = 0;
	if (w->again && !w->stopped) {
		w->again = 0;
		event_active(w->timer, EV_TIMEOUT, 0);
	}
}

/* The triage desk's step finished: log what it did, send its SMS. */
static void
deadline_desk_done(void *arg, enum db_status st, PGresult *res,
                   const char *error)
{
	struct deadline *w = arg;

	deadline_end(w);
	if (st != DB_OK) {
		log_warnx("deadline: triage desk step failed: %s", error);
		return;
	}
	if (*PQgetvalue(res, 0, 0) != 't') {
		log_debug("deadline: triage desk: another instance holds the "
		          "lock");
		return;
	}
	if (atoi(PQgetvalue(res, 0, 2)) > 0)
		log_debug(
		    "deadline: triage desk: %s complaints without a place "
		    "have no desk (set desk_unit or default_desk)",
		    PQgetvalue(res, 0, 2));
	if (atoi(PQgetvalue(res, 0, 1)) > 0)
		log_info("deadline: triage desk: %s complaints without a place "
		         "moved there, %s SMS",
		         PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 3));
	else
		log_debug("deadline: triage desk: nothing waits");
	if (atoi(PQgetvalue(res, 0, 3)) > 0)
		outbox_kick(w->d->outbox);
}

/* Hand the complaints waiting too long for a place to the triage desk. */
static void
deadline_desk(struct deadline *w)
{
	const struct config *c = w->d->conf;
	char v[2][24];
	const char *values[3] = {v[0], c->default_desk, v[1]};
	char *cause = NULL;

	snprintf(v[0], sizeof v[0], "%ld", c->location_wait);
	snprintf(v[1], sizeof v[1], "%ld", c->deadline_batch);
	if (w->stopped || db_submit(w->d->db, STMT_DESK_RUN, 3, values, NULL,
	                            NULL, deadline_desk_done, w, &cause) != 0) {
		if (cause != NULL)
			log_debug("deadline: triage desk step skipped: %s",
			          cause);
		free(cause);
		deadline_end(w);
	}
}

/* A pass finished: log what it did, send what it queued, then the
 * triage desk's step. */
static void
deadline_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct deadline *w = arg;

	deadline_desk(w);
	if (st != DB_OK) {
		w->failed++;
		log_warnx("deadline: pass failed: %s", error);
		return;
	}
	if (*PQgetvalue(res, 0, 0) != 't') {
		w->locked_out++;
		log_debug("deadline: another instance holds the lock");
		return;
	}
	w->passes++;
	w->reminded += atoll(PQgetvalue(res, 0, 1));
	w->escalated += atoll(PQgetvalue(res, 0, 2));
	w->closed += atoll(PQgetvalue(res, 0, 3));
	w->sms += atoll(PQgetvalue(res, 0, 4));
	if (atoi(PQgetvalue(res, 0, 1)) + atoi(PQgetvalue(res, 0, 2)) +
	        atoi(PQgetvalue(res, 0, 3)) >
	    0)
		log_info(
		    "deadline: %s reminded, %s escalated, %s closed, %s SMS",
		    PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
		    PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4));
	else
		log_debug("deadline: pass done, nothing due");
	if (atoi(PQgetvalue(res, 0, 4)) > 0)
		outbox_kick(w->d->outbox);
}

/* The USSD janitor answered. */
static void
deadline_janitor_done(void *arg, enum db_status st, PGresult *res,
                      const char *error)
{
	if (st != DB_OK)
		log_warnx("deadline: idle USSD sessions not removed: %s",
		          error);
	else if (atoi(PQgetvalue(res, 0, 0)) > 0)
		log_debug("deadline: %s idle USSD sessions removed",
		          PQgetvalue(res, 0, 0));
}

/* Remove idle USSD sessions (steps only look at their own). */
static void
deadline_janitor(struct deadline *w)
{
	char idle[16];
	const char *values[1] = {idle};
	char *cause = NULL;

	snprintf(idle, sizeof idle, "%ld", w->d->conf->ussd_session_idle);
	if (db_submit(w->d->db, STMT_USSD_JANITOR, 1, values, NULL, NULL,
	              deadline_janitor_done, w, &cause) != 0) {
		log_debug("deadline: USSD janitor skipped: %s", cause);
		free(cause);
	}
}

/* Start a pass unless one is in flight. */
static void
deadline_pass(evutil_socket_t fd, short what, void *arg)
{
	struct deadline *w = arg;
	const struct config *c = w->d->conf;
	char v[4][24];
	const char *values[4] = {v[0], v[1], v[2], v[3]};
	char *cause = NULL;

	if (w->stopped)
		return;
	if (w->busy) {
		w->again = 1;
		return;
	}
	snprintf(v[0], sizeof v[0], "%ld", c->remind_days);
	snprintf(v[1], sizeof v[1], "%ld", c->apology_days);
	snprintf(v[2], sizeof v[2], "%ld", c->rating_wait_days);
	snprintf(v[3], sizeof v[3], "%ld", c->deadline_batch);
	if (db_submit(w->d->db, STMT_DEADLINE_RUN, 4, values, NULL, NULL,
	              deadline_done, w, &cause) != 0) {
		log_debug("deadline: pass skipped: %s", cause);
		free(cause);
		return;
	}
	w->busy = 1;
	deadline_janitor(w);
}

/* partitions_ensure answered: say what it created; check again in a
 * day, or in a minute when it failed. */
static void
deadline_parts_done(void *arg, enum db_status st, PGresult *res,
                    const char *error)
{
	struct deadline *w = arg;
	struct timeval tv = {PARTITIONS_EVERY, 0};

	if (w->stopped)
		return;
	if (st != DB_OK) {
		log_warnx("deadline: monthly partitions not checked: %s; again "
		          "in %d s",
		          error, PARTITIONS_RETRY);
		tv.tv_sec = PARTITIONS_RETRY;
	} else if (atoi(PQgetvalue(res, 0, 0)) > 0)
		log_info("deadline: %s monthly partitions created",
		         PQgetvalue(res, 0, 0));
	else
		log_debug("deadline: monthly partitions are ready");
	evtimer_add(w->parts, &tv);
}

/* Make sure this month's partitions and the next ones exist. */
static void
deadline_parts(evutil_socket_t fd, short what, void *arg)
{
	struct deadline *w = arg;
	struct timeval tv = {PARTITIONS_RETRY, 0};
	char ahead[16];
	const char *values[1] = {ahead};
	char *cause = NULL;

	if (w->stopped)
		return;
	snprintf(ahead, sizeof ahead, "%d", PARTITIONS_AHEAD);
	if (db_submit(w->d->db, STMT_PARTITIONS_ENSURE, 1, values, NULL, NULL,
	              deadline_parts_done, w, &cause) == 0)
		return;
	log_debug("deadline: monthly partitions: %s; again in %d s", cause,
	          PARTITIONS_RETRY);
	free(cause);
	evtimer_add(w->parts, &tv);
}

static void deadline_gather(evutil_socket_t, short, void *);

/* Seconds until the next flush of the held notices: a tenth of the
 * gather, 1 to 10 s (10 s with no gather: what a reload left held). */
static long
gather_every(const struct config *c)
{
	long s = c->notice_gather / 10;

	if (c->notice_gather == 0 || s > 10)
		return 10;
	return s < 1 ? 1 : s;
}

/* A flush answered: count, send what it queued, and flush again at once
 * if it took as many phones as it may. */
static void
deadline_gather_done(void *arg, enum db_status st, PGresult *res,
                     const char *error)
{
	struct deadline *w = arg;
	struct timeval tv = {gather_every(w->d->conf), 0};
	int phones = 0;

	w->gathering = 0;
	if (st != DB_OK) {
		w->gather_failed++;
		log_warnx("deadline: held notices not sent: %s", error);
	} else {
		phones = atoi(PQgetvalue(res, 0, 0));
		w->gathered += atoll(PQgetvalue(res, 0, 1));
		w->gather_sms += atoll(PQgetvalue(res, 0, 2));
		if (phones > 0) {
			log_debug("deadline: %s held notices to %d phones, %s "
			          "SMS",
			          PQgetvalue(res, 0, 1), phones,
			          PQgetvalue(res, 0, 2));
			outbox_kick(w->d->outbox);
		}
	}
	if (w->stopped)
		return;
	if (phones >= GATHER_BATCH)
		tv.tv_sec = 0;
	evtimer_add(w->gather, &tv);
}

/* Send the held notices whose gather is over. */
static void
deadline_gather(evutil_socket_t fd, short what, void *arg)
{
	struct deadline *w = arg;
	struct timeval tv = {gather_every(w->d->conf), 0};
	char v[2][24];
	const char *values[2] = {v[0], v[1]};
	char *cause = NULL;

	if (w->stopped || w->gathering)
		return;
	snprintf(v[0], sizeof v[0], "%ld", w->d->conf->notice_gather);
	snprintf(v[1], sizeof v[1], "%d", GATHER_BATCH);
	if (db_submit(w->d->db, STMT_NOTICE_FLUSH, 2, values, NULL, NULL,
	              deadline_gather_done, w, &cause) == 0) {
		w->gathering = 1;
		return;
	}
	log_debug("deadline: held notices: %s", cause);
	free(cause);
	evtimer_add(w->gather, &tv);
}

/* Start the worker's timers on d's loop. */
struct deadline *
deadline_new(struct paknd *d)
{
	struct deadline *w = xcalloc(1, sizeof *w);
	struct timeval tv = {d->conf->deadline_interval, 0};
	struct timeval soon = {1, 0};

	w->d = d;
	w->timer = event_new(d->base, -1, EV_PERSIST, deadline_pass, w);
	event_add(w->timer, &tv);
	w->parts = evtimer_new(d->base, deadline_parts, w);
	evtimer_add(w->parts, &soon);
	w->gather = evtimer_new(d->base, deadline_gather, w);
	evtimer_add(w->gather, &soon);
	return w;
}

/* Run a pass now. */
void
deadline_kick(struct deadline *w)
{
	event_active(w->timer, EV_TIMEOUT, 0);
}

/* Stop starting passes. */
void
deadline_stop(struct deadline *w)
{
	w->stopped = 1;
	event_del(w->timer);
	event_del(w->parts);
	event_del(w->gather);
}

/* 1 while a pass or a flush of the held notices is in flight. */
int
deadline_busy(const struct deadline *w)
{
	return w->busy || w->gathering;
}

/* Free the worker (after the pool, which answers a pass in flight). */
void
deadline_free(struct deadline *w)
{
	if (w == NULL)
		return;
	event_free(w->timer);
	event_free(w->parts);
	event_free(w->gather);
	free(w);
}

/* Append the passes and what they did. */
void
deadline_metrics(const struct deadline *w, struct buf *b)
{
	metrics_head(b, "pakn_deadline_passes_total", "counter",
	             "Deadline passes: run, left to another instance "
	             "(advisory lock), failed.");
	metrics_sample(b, "pakn_deadline_passes_total", "result=\"run\"",
	               (double)w->passes);
	metrics_sample(b, "pakn_deadline_passes_total", "result=\"locked_out\"",
	               (double)w->locked_out);
	metrics_sample(b, "pakn_deadline_passes_total", "result=\"failed\"",
	               (double)w->failed);
	metrics_head(b, "pakn_deadline_actions_total", "counter",
	             "Complaints the deadline worker reminded, escalated "
	             "(overdue) or closed (no rating).");
	metrics_sample(b, "pakn_deadline_actions_total", "action=\"reminded\"",
	               (double)w->reminded);
	metrics_sample(b, "pakn_deadline_actions_total", "action=\"escalated\"",
	               (double)w->escalated);
	metrics_sample(b, "pakn_deadline_actions_total", "action=\"closed\"",
	               (double)w->closed);
	metrics_head(b, "pakn_deadline_sms_total", "counter",
	             "SMS the deadline worker queued.");
	metrics_sample(b, "pakn_deadline_sms_total", NULL, (double)w->sms);
	metrics_head(b, "pakn_notices_gathered_total", "counter",
	             "Notices of new complaints held for an official's phone "
	             "([sms] notice_gather), then sent together.");
	metrics_sample(b, "pakn_notices_gathered_total", NULL,
	               (double)w->gathered);
	metrics_head(b, "pakn_notices_gathered_sms_total", "counter",
	             "SMS that carried the held notices (one a phone and "
	             "gather).");
	metrics_sample(b, "pakn_notices_gathered_sms_total", NULL,
	               (double)w->gather_sms);
	metrics_head(b, "pakn_notices_gather_failures_total", "counter",
	             "Flushes of the held notices that failed (tried again "
	             "at the next).");
	metrics_sample(b, "pakn_notices_gather_failures_total", NULL,
	               (double)w->gather_failed);
}
