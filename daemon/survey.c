/* survey.c: the survey worker.
 *
 * A timer on the loop runs pakn.survey_run (sql/functions/surveys.sql): it
 * samples the services one-stop shops reported, sends the surveys due
 * outside the quiet hours, reminds once and expires unanswered surveys,
 * in one transaction under an advisory lock, so one paknd at a time does
 * the work and two never send the same survey. The SMS go out through
 * the outbox. [survey] in the configuration sets the rules; reloads take
 * effect at the next pass.
 */

#include <stdio.h>
#include <stdlib.h>

#include <event2/event.h>

#include "outbox.h"
#include "paknd.h"
#include "stmt.h"
#include "survey.h"
#include "util.h"

struct survey {
	struct paknd *d;
	struct event *timer;
	int busy;
	int again; /* a pass was asked for while one was in flight */
	int stopped;
};

/* A pass finished: log what it did, send what it queued. */
static void
survey_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct survey *w = arg;

	w->busy = 0;
	if (w->again && !w->stopped) {
		w->again = 0;
		event_active(w->timer, EV_TIMEOUT, 0);
	}
	if (st != DB_OK) {
		log_warnx("survey: pass failed: %s", error);
		return;
	}
	if (*PQgetvalue(res, 0, 0) != 't') {
		log_debug("survey: another instance holds the lock");
		return;
	}
	if (atoi(PQgetvalue(res, 0, 1)) + atoi(PQgetvalue(res, 0, 2)) +
	        atoi(PQgetvalue(res, 0, 3)) + atoi(PQgetvalue(res, 0, 4)) >
	    0)
		log_info("survey: %s services sampled, %s surveys sent, %s "
		         "reminded, %s expired",
		         PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
		         PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4));
	else
		log_debug("survey: pass done, nothing due");
	if (atoi(PQgetvalue(res, 0, 5)) > 0)
		outbox_kick(w->d->outbox);
}

/* Start a pass unless one is in flight. */
static void
survey_pass(evutil_socket_t fd, short what, void *arg)
{
	struct survey *w = arg;
	const struct config *c = w->d->conf;
	const long n[10] = {c->survey_percent,      c->survey_min_days,
	                    c->survey_delay,        c->survey_remind_hours,
	                    c->survey_expire_hours, c->survey_max_age_days,
	                    c->survey_quiet_start,  c->survey_quiet_end,
	                    c->survey_batch,        c->survey_keep_days};
	char v[10][24];
	const char *values[11];
	char *cause = NULL;

	(void)fd;
	(void)what;
	if (w->stopped || !c->survey_enabled)
		return;
	if (w->busy) {
		w->again = 1;
		return;
	}
	values[0] = config_sms_gateway(c);
	for (int i = 0; i < 10; i++) {
		snprintf(v[i], sizeof v[i], "%ld", n[i]);
		values[i + 1] = v[i];
	}
	if (db_submit(w->d->db, STMT_SURVEY_RUN, 11, values, NULL, NULL,
	              survey_done, w, &cause) != 0) {
		log_debug("survey: pass skipped: %s", cause);
		free(cause);
		return;
	}
	w->busy = 1;
}

/* Start the worker's timer on d's loop. */
struct survey *
survey_new(struct paknd *d)
{
	struct survey *w = xcalloc(1, sizeof *w);
	struct timeval tv = {d->conf->survey_interval, 0};

	w->d = d;
	w->timer = event_new(d->base, -1, EV_PERSIST, survey_pass, w);
	event_add(w->timer, &tv);
	return w;
}

/* Run a pass now. */
void
survey_kick(struct survey *w)
{
	event_active(w->timer, EV_TIMEOUT, 0);
}

/* Stop starting passes. */
void
survey_stop(struct survey *w)
{
	w->stopped = 1;
	event_del(w->timer);
}

/* 1 while a pass is in flight. */
int
survey_busy(const struct survey *w)
{
	return w->busy;
}

/* Free the worker (after the pool, which answers a pass in flight). */
void
survey_free(struct survey *w)
{
	if (w == NULL)
		return;
	event_free(w->timer);
	free(w);
}
