/* ussd_http.c: USSD callbacks on the event loop.
 *
 * One step is two calls of the database: pakn.ussd_load answers a
 * replayed step at once, or gives the session's state and what the menus
 * need to know; the pure machine (ussd.c) computes the screen, the new
 * state and the action; pakn.ussd_save stores them and does the action
 * in one transaction, unless another instance did this step first (then
 * its answer is given). The gateway is answered after that commit. When
 * the database cannot answer, the citizen gets an END screen saying so
 * (a USSD gateway does not retry; an HTTP error would end the session
 * without a word).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "gw.h"
#include "stmt.h"
#include "ussd.h"
#include "ussd_session.h"
#include "gw_http.h"
#include "ussd_http.h"
#include "metrics.h"
#include "util.h"

#define USSD_TYPE "text/plain; charset=utf-8"

/* A step waiting for the database. */
/* USSD steps answered, by gateway and what became of the session. */
static struct mcounter steps = {
    .name = "pakn_ussd_steps_total",
    .help = "USSD steps answered by gateway and result (started, "
            "continued, ended, replayed, expired, unavailable).",
    .nlabels = 2,
    .labels = {"gateway", "result"}};

struct ussd_call {
	struct paknd *d;
	const char *kind; /* started or continued, once the machine ran */
	struct evhttp_request *req;
	char *gwname;
	struct ussd_in u;
	int diacritics;
	long idle;
};

/* Free a step. */
static void
call_free(struct ussd_call *c)
{
	free(c->gwname);
	ussd_in_clear(&c->u);
	free(c);
}

/* Answer the gateway and free the step. */
static void
call_answer(struct ussd_call *c, const char *answer)
{
	http_reply(c->d, c->req, 200, USSD_TYPE, answer, strlen(answer));
	call_free(c);
}

/* Tell the citizen the system is busy, log why, and free the step. */
static void
call_unavailable(struct ussd_call *c, const char *why)
{
	char *answer = ussd_unavailable(c->diacritics);

	mcounter_add(&steps, 1, c->gwname, "unavailable");

	log_warnx("gw %s: ussd session %s: %s", c->gwname, c->u.session, why);
	call_answer(c, answer);
	free(answer);
}

/* Tell the citizen the session is over, and free the step. */
static void
call_expired(struct ussd_call *c)
{
	char *answer = ussd_expired(c->diacritics);

	mcounter_add(&steps, 1, c->gwname, "expired");

	log_info("gw %s: ussd session %s: expired or unknown", c->gwname,
	         c->u.session);
	call_answer(c, answer);
	free(answer);
}

/* The stored answer of the step (or of the step done first). */
static void
save_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct ussd_call *c = arg;

	if (st != DB_OK)
		call_unavailable(c, error);
	else if (PQgetisnull(res, 0, 0))
		call_expired(c);
	else {
		const char *a = PQgetvalue(res, 0, 0);
		mcounter_add(&steps, 1, c->gwname,
		             !strncmp(a, "END", 3) ? "ended"
		             : c->kind != NULL     ? c->kind
		                                   : "continued");
		call_answer(c, a);
	}
}

/* The new state, as the machine computed it. */
struct step_out {
	char *state;
	char *answer;
	char *action;
};

/* Run the machine on the loaded session. -1 and *cause if the database
 * gave something the machine cannot read. */
static int
step_run(struct ussd_call *c, PGresult *res, struct step_out *so, char **cause)
{
	struct ussd_ctx ctx = {.diacritics = c->diacritics};
	struct ussd_state st;
	struct ussd_out out;
	const char *prev =
	    PQgetisnull(res, 0, 3) ? NULL : PQgetvalue(res, 0, 3);

	if (ussd_ctx_parse(&ctx, PQgetvalue(res, 0, 5), cause) != 0)
		return -1;
	c->kind = PQgetisnull(res, 0, 4) ? "started" : "continued";
	if (PQgetisnull(res, 0, 4))
		ussd_start(&ctx, &st, &out);
	else if (ussd_state_parse(&st, PQgetvalue(res, 0, 4), cause) != 0) {
		ussd_ctx_clear(&ctx);
		return -1;
	} else
		ussd_step(&ctx, &st,
		          ussd_input(prev, c->u.text, c->u.cumulative), &out);
	so->state = ussd_state_json(&st);
	so->answer = ussd_answer(&out);
	so->action = ussd_action_json(&st, &out);
	if (out.action != UA_NONE)
		log_info("gw %s: ussd session %s: action %s", c->gwname,
		         c->u.session, ussd_action_name(out.action));
	ussd_out_clear(&out);
	ussd_state_clear(&st);
	ussd_ctx_clear(&ctx);
	return 0;
}

/* Queue pakn.ussd_save for the computed step; -1 and *cause if not. */
static int
step_save(struct ussd_call *c, const char *step, const struct step_out *so,
          char **cause)
{
	char idle[24];
	const char *v[10];

	snprintf(idle, sizeof idle, "%ld", c->idle);
	v[0] = c->gwname;
	v[1] = c->u.session;
	v[2] = c->u.msisdn;
	v[3] = c->u.service;
	v[4] = c->u.text;
	v[5] = step;
	v[6] = so->state;
	v[7] = so->answer;
	v[8] = so->action;
	v[9] = idle;
	return db_submit_key(c->d->db, c->u.msisdn, STMT_USSD_SAVE, 10, v, NULL,
	                     NULL, save_done, c, cause);
}

/* The session as loaded: replay, end, or compute and save the step. */
static void
load_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct ussd_call *c = arg;
	struct step_out so = {NULL, NULL, NULL};
	char *cause = NULL;

	if (st != DB_OK) {
		call_unavailable(c, error);
		return;
	}
	if (!PQgetisnull(res, 0, 0)) {
		log_debug("gw %s: ussd session %s: replayed step", c->gwname,
		          c->u.session);
		mcounter_add(&steps, 1, c->gwname, "replayed");
		call_answer(c, PQgetvalue(res, 0, 0));
		return;
	}
	if (!strcmp(PQgetvalue(res, 0, 1), "t")) {
		call_expired(c);
		return;
	}
	if (step_run(c, res, &so, &cause) != 0 ||
	    step_save(c, PQgetvalue(res, 0, 2), &so, &cause) != 0) {
		call_unavailable(c, cause);
		free(cause);
	}
	free(so.state);
	free(so.answer);
	free(so.action);
}

/* Queue pakn.ussd_load for a parsed step; -1 and *cause if not. */
static int
step_load(struct ussd_call *c, char **cause)
{
	char idle[24];
	const char *v[6];

	snprintf(idle, sizeof idle, "%ld", c->idle);
	v[0] = c->gwname;
	v[1] = c->u.session;
	v[2] = c->u.msisdn;
	v[3] = c->u.text;
	v[4] = ussd_last_input(c->u.text);
	v[5] = idle;
	return db_submit_key(c->d->db, c->u.msisdn, STMT_USSD_LOAD, 6, v, NULL,
	                     NULL, load_done, c, cause);
}

/* Handle POST|GET /v1/gw/{name}/ussd. */
static void
ussd_http(struct paknd *d, struct evhttp_request *req, const char *path,
          const char *gwname)
{
	const struct gw_conf *gw;
	struct ussd_call *c;
	struct gw_request r;
	char *cause = NULL;
	int code;

	if ((gw = gw_http_request(d, req, gwname, &r)) == NULL)
		return;
	c = xcalloc(1, sizeof *c);
	if ((code = gw_parse_ussd(gw, &r, &c->u, &cause)) != 0) {
		log_info("gw %s: refused ussd callback: %d %s", gwname, code,
		         cause);
		http_error(d, req, code, cause);
		free(cause);
		free(c);
		return;
	}
	c->d = d;
	c->req = req;
	c->gwname = xstrdup(gwname);
	c->diacritics = d->conf->ussd_diacritics;
	c->idle = d->conf->ussd_session_idle;
	if (step_load(c, &cause) != 0) {
		call_unavailable(c, cause);
		free(cause);
	}
}

/* Register the USSD callbacks of every gateway. */
void
ussd_http_routes(struct paknd *d)
{
	http_route_add(d, "/v1/gw/*/ussd", HTTP_RAW_QUERY, ussd_http);
}

/* Append the USSD steps answered (for /metrics). */
void
ussd_http_metrics(struct buf *b)
{
	metrics_counter(b, &steps);
}

/* Forget the counted steps (at exit). */
void
ussd_http_metrics_clear(void)
{
	mcounter_clear(&steps);
}
