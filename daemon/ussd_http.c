/* ussd_http.c: USSD callbacks on the event loop.
 *
 * A step is one call of the database when paknd kept what it needs
 * (ussd_cache.h): the menus every session lists, and the session as this
 * process left it after its last step (state, step count, last text, the
 * citizen's part of the context). The pure machine (ussd.c) computes the
 * screen, the new state and the action; pakn.ussd_advance stores them
 * and does the action in one transaction if the session is still where
 * paknd left it, and returns what the next step needs; the gateway is
 * answered after that commit. A new session needs nothing but the menus.
 * Otherwise (another instance answered the last step, paknd restarted, a
 * commune code to look up, a replayed text, a gateway that does not send
 * the whole input) pakn.ussd_begin first gives the session and the
 * citizen's context, or the stored answer of a replay, or says the
 * session expired. When the database cannot answer, the citizen gets an
 * END screen saying so (a USSD gateway does not retry; an HTTP error
 * would end the session without a word).
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "gw.h"
#include "stmt.h"
#include "ussd.h"
#include "ussd_cache.h"
#include "ussd_session.h"
#include "gw_http.h"
#include "ussd_http.h"
#include "metrics.h"
#include "util.h"

#define USSD_TYPE "text/plain; charset=utf-8"

/* Sessions kept between steps: about 1 kB each. */
#define USSD_KEPT_MAX 8192

/* USSD steps answered, by gateway and what became of the session. */
static struct mcounter steps = {
    .name = "pakn_ussd_steps_total",
    .help = "USSD steps answered by gateway and result (started, "
            "continued, ended, replayed, expired, unavailable).",
    .nlabels = 2,
    .labels = {"gateway", "result"}};

/* Calls of the database for USSD steps, by which. */
static struct mcounter queries = {
    .name = "pakn_ussd_queries_total",
    .help = "Calls of the database for USSD steps: advance (every step "
            "that is answered from the database, one call when paknd "
            "kept the session), begin (a step paknd could not compute "
            "alone: a second call).",
    .nlabels = 1,
    .labels = {"query"}};

/* The menus and the sessions kept (created with the routes). */
static struct ussd_cache *kept;

/* A step waiting for the database. */
struct ussd_call {
	struct paknd *d;
	const char *kind; /* started or continued, once the machine ran */
	struct evhttp_request *req;
	char *gwname;
	struct ussd_in u;
	int diacritics;
	long idle;
	int from_kept; /* computed from what paknd kept, without ussd_begin */
	int step;      /* the session's step count the machine started from */
	char *state;   /* the new state, kept with the answer */
	int citizen;   /* the step after it can read the citizen's part */
};

static void step_begin(struct ussd_call *c);

/* Free a step. */
static void
call_free(struct ussd_call *c)
{
	free(c->gwname);
	free(c->state);
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
	ussd_cache_drop(kept, c->gwname, c->u.session);
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
	ussd_cache_drop(kept, c->gwname, c->u.session);
	log_info("gw %s: ussd session %s: expired or unknown", c->gwname,
	         c->u.session);
	call_answer(c, answer);
	free(answer);
}

/* Keep the menus a query returned (columns v, v + 1), if it did. */
static void
menus_keep(PGresult *res, int v)
{
	if (!PQgetisnull(res, 0, v + 1))
		ussd_cache_set_menus(kept, atoll(PQgetvalue(res, 0, v)),
		                     PQgetvalue(res, 0, v + 1));
}

/* pakn.ussd_advance answered: keep the session for its next step, and
 * give the answer (or the answer of the step another instance did; or
 * begin again when what was kept was old). */
static void
advance_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct ussd_call *c = arg;
	const char *a, *status;

	if (st != DB_OK) {
		call_unavailable(c, error);
		return;
	}
	menus_keep(res, 3);
	status = PQgetvalue(res, 0, 1);
	if (!strcmp(status, "stale") && c->from_kept) {
		/* Another instance moved the session on: begin again. */
		log_debug("gw %s: ussd session %s: moved on elsewhere",
		          c->gwname, c->u.session);
		ussd_cache_drop(kept, c->gwname, c->u.session);
		c->from_kept = 0;
		step_begin(c);
		return;
	}
	if (PQgetisnull(res, 0, 0)) {
		call_expired(c);
		return;
	}
	a = PQgetvalue(res, 0, 0);
	if (!strcmp(status, "elsewhere")) {
		/* A replayed step: what was kept after it still holds. */
		const struct ussd_kept *k =
		    ussd_cache_get(kept, c->gwname, c->u.session);

		if (k != NULL && strcmp(k->prev, c->u.text) != 0)
			ussd_cache_drop(kept, c->gwname, c->u.session);
	} else if (!strcmp(status, "saved") && !PQgetisnull(res, 0, 2)) {
		struct ussd_kept k = {.msisdn = c->u.msisdn,
		                      .step = c->step + 1,
		                      .prev = c->u.text,
		                      .state = c->state,
		                      .citizen = PQgetvalue(res, 0, 2),
		                      .at = mono_now()};
		ussd_cache_put(kept, c->gwname, c->u.session, &k);
	} else
		ussd_cache_drop(kept, c->gwname, c->u.session);
	mcounter_add(&steps, 1, c->gwname,
	             !strcmp(status, "elsewhere") ? "replayed"
	             : !strncmp(a, "END", 3)      ? "ended"
	             : c->kind != NULL            ? c->kind
	                                          : "continued");
	call_answer(c, a);
}

/* The new state, as the machine computed it. */
struct step_out {
	char *state;
	char *answer;
	char *action;
};

/* Free what the machine computed. */
static void
step_out_clear(struct step_out *so)
{
	free(so->state);
	free(so->answer);
	free(so->action);
}

/* Run the machine on a session's context, its state (JSON, NULL for a
 * new session) and the text before this step's; -1 and *cause if the
 * database gave a state the machine cannot read. */
static int
step_run(struct ussd_call *c, const struct ussd_ctx *ctx, const char *state,
         const char *prev, struct step_out *so, char **cause)
{
	struct ussd_state st;
	struct ussd_out out;

	c->kind = state == NULL ? "started" : "continued";
	if (state == NULL)
		ussd_start(ctx, &st, &out);
	else if (ussd_state_parse(&st, state, cause) != 0)
		return -1;
	else
		ussd_step(ctx, &st,
		          ussd_input(prev, c->u.text, c->u.cumulative), &out);
	so->state = ussd_state_json(&st);
	c->citizen = ussd_reads_citizen(&st);
	so->answer = ussd_answer(&out);
	so->action = ussd_action_json(&st, &out);
	if (out.action != UA_NONE)
		log_info("gw %s: ussd session %s: action %s", c->gwname,
		         c->u.session, ussd_action_name(out.action));
	ussd_out_clear(&out);
	ussd_state_clear(&st);
	return 0;
}

/* Queue pakn.ussd_advance for the computed step (the session at step
 * c->step); -1 and *cause if not. */
static int
step_advance(struct ussd_call *c, struct step_out *so, char **cause)
{
	char idle[24], step[24], menus[24], gather[24];
	const char *v[13];

	snprintf(idle, sizeof idle, "%ld", c->idle);
	snprintf(step, sizeof step, "%d", c->step);
	snprintf(menus, sizeof menus, "%lld", ussd_cache_menus_version(kept));
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
	v[10] = menus;
	v[11] = c->citizen ? "t" : "f";
	/* [sms] notice_gather: a complaint's notices held as processing's. */
	snprintf(gather, sizeof gather, "%ld", c->d->conf->notice_gather);
	v[12] = gather;
	free(c->state);
	c->state = so->state;
	so->state = NULL;
	mcounter_add(&queries, 1, "advance");
	return db_submit_key(c->d->db, c->u.msisdn, STMT_USSD_ADVANCE, 13, v,
	                     NULL, NULL, advance_done, c, cause);
}

/* Compute and store the step: 0, or -1 and *cause. The context is
 * cleared. */
static int
step_compute(struct ussd_call *c, struct ussd_ctx *ctx, const char *state,
             const char *prev, char **cause)
{
	struct step_out so = {NULL, NULL, NULL};
	int rc = -1;

	if (step_run(c, ctx, state, prev, &so, cause) == 0 &&
	    step_advance(c, &so, cause) == 0)
		rc = 0;
	step_out_clear(&so);
	ussd_ctx_clear(ctx);
	return rc;
}

/* The session as pakn.ussd_begin found it: replay, end, or compute and
 * store the step. */
static void
begin_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct ussd_call *c = arg;
	struct ussd_ctx ctx = {.diacritics = c->diacritics};
	char *cause = NULL;

	if (st != DB_OK) {
		call_unavailable(c, error);
		return;
	}
	menus_keep(res, 6);
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
	c->step = atoi(PQgetvalue(res, 0, 2));
	if (ussd_cache_ctx(kept, PQgetvalue(res, 0, 5), &ctx, &cause) == 0 &&
	    step_compute(c, &ctx,
	                 PQgetisnull(res, 0, 4) ? NULL : PQgetvalue(res, 0, 4),
	                 PQgetisnull(res, 0, 3) ? NULL : PQgetvalue(res, 0, 3),
	                 &cause) == 0)
		return;
	call_unavailable(c, cause);
	free(cause);
}

/* Queue pakn.ussd_begin for the step; on failure, tell the citizen. */
static void
step_begin(struct ussd_call *c)
{
	char idle[24], menus[24], *cause = NULL;
	const char *v[7];

	snprintf(idle, sizeof idle, "%ld", c->idle);
	snprintf(menus, sizeof menus, "%lld", ussd_cache_menus_version(kept));
	v[0] = c->gwname;
	v[1] = c->u.session;
	v[2] = c->u.msisdn;
	v[3] = c->u.text;
	v[4] = ussd_last_input(c->u.text);
	v[5] = idle;
	v[6] = menus;
	mcounter_add(&queries, 1, "begin");
	if (db_submit_key(c->d->db, c->u.msisdn, STMT_USSD_BEGIN, 7, v, NULL,
	                  NULL, begin_done, c, &cause) != 0) {
		call_unavailable(c, cause);
		free(cause);
	}
}

/* Whether text is the next step after prev: prev, '*', an input (after
 * the first screen, the input alone). */
static int
step_follows(const char *prev, const char *text)
{
	size_t n = strlen(prev);

	if (n == 0)
		return *text != '\0';
	return !strncmp(text, prev, n) && text[n] == '*';
}

/* Compute the step from what paknd kept and store it in one call: 1 when
 * queued (or answered), 0 when the database must begin it. */
static int
step_kept(struct ussd_call *c)
{
	const struct ussd_kept *k;
	struct ussd_state st;
	struct ussd_ctx ctx = {.diacritics = c->diacritics};
	char *state = NULL, *prev = NULL, *cause = NULL;
	int needs;

	if (c->u.text[0] == '\0') {
		/* A new session: the main menu needs nothing stored. */
		c->from_kept = 1;
		c->step = 0;
		if (ussd_ctx_parse(&ctx, "{}", &cause) != 0 ||
		    step_compute(c, &ctx, NULL, NULL, &cause) != 0) {
			call_unavailable(c, cause);
			free(cause);
		}
		return 1;
	}
	k = ussd_cache_get(kept, c->gwname, c->u.session);
	if (k == NULL || !c->u.cumulative || strcmp(k->msisdn, c->u.msisdn) ||
	    !step_follows(k->prev, c->u.text) || k->step >= 60 ||
	    mono_now() - k->at > (double)c->idle - 1 ||
	    ussd_state_parse(&st, k->state, NULL) != 0)
		return 0;
	needs = ussd_needs_unit(&st, ussd_input(k->prev, c->u.text, 1));
	ussd_state_clear(&st);
	if (needs || ussd_cache_ctx(kept, k->citizen, &ctx, NULL) != 0)
		return 0;
	c->from_kept = 1;
	c->step = k->step;
	state = xstrdup(k->state);
	prev = xstrdup(k->prev);
	if (step_compute(c, &ctx, state, prev, &cause) != 0) {
		call_unavailable(c, cause);
		free(cause);
	}
	free(state);
	free(prev);
	return 1;
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
		log_limited(&d->log_refused, 0,
		            "gw %s: refused ussd callback: %d %s", gwname, code,
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
	if (!step_kept(c))
		step_begin(c);
}

/* Register the USSD callbacks of every gateway. */
void
ussd_http_routes(struct paknd *d)
{
	if (kept == NULL)
		kept = ussd_cache_new(USSD_KEPT_MAX);
	http_route_add(d, "/v1/gw/*/ussd", HTTP_RAW_QUERY, ussd_http);
}

/* Append the USSD steps answered and the database calls (/metrics). */
void
ussd_http_metrics(struct buf *b)
{
	metrics_counter(b, &steps);
	metrics_counter(b, &queries);
	if (kept != NULL) {
		metrics_head(b, "pakn_ussd_sessions_kept", "gauge",
		             "USSD sessions whose next step paknd can compute "
		             "without asking the database first.");
		metrics_sample(b, "pakn_ussd_sessions_kept", NULL,
		               (double)ussd_cache_count(kept));
	}
}

/* Forget the counted steps and the kept sessions (at exit). */
void
ussd_http_clear(void)
{
	mcounter_clear(&steps);
	mcounter_clear(&queries);
	ussd_cache_free(kept);
	kept = NULL;
}
