/* dlr.c: delivery reports from the gateways, /v1/gw/{name}/dlr.
 *
 * The gateway adapter authenticates and parses the report (pure code in
 * gw_*.c); a report that changes something (delivered, undelivered) is
 * recorded with pakn.outbox_dlr and answered 200 only after the commit,
 * so a gateway that retries on errors does not lose it. Reports of
 * intermediate states (queued, accepted by the SMSC) are answered at once.
 */

#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "dlr.h"
#include "gw_http.h"
#include "gw.h"
#include "stmt.h"
#include "util.h"

/* A report waiting for its commit. */
struct dlr_wait {
	struct paknd *d;
	struct evhttp_request *req;
	const struct gw_ops *ops;
	char *gwname;
	char *what;   /* "outbox 12" or "ref SM..." for logs */
	char *status; /* delivered or undelivered */
};

/* Describe a report by what identifies the message. */
static char *
dlr_what(const struct gw_dlr *dlr)
{
	if (dlr->id > 0)
		return xasprintf("outbox %lld", dlr->id);
	return xasprintf("ref %s", dlr->ref);
}

/* Free a waiting report. */
static void
dlr_wait_free(struct dlr_wait *w)
{
	free(w->gwname);
	free(w->what);
	free(w->status);
	free(w);
}

/* The commit (or failure) of one report: answer the gateway. */
static void
dlr_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct dlr_wait *w = arg;

	switch (st) {
	case DB_OK:
		if (atoi(PQgetvalue(res, 0, 0)) > 0)
			log_limited(&w->d->log_dlr, 0, "gw %s: dlr for %s: %s",
			            w->gwname, w->what, w->status);
		else
			log_limited(&w->d->log_dlr, 0,
			            "gw %s: dlr for %s (%s) matched no sent "
			            "message",
			            w->gwname, w->what, w->status);
		http_reply(w->d, w->req, 200, w->ops->reply_type,
		           w->ops->reply_body, strlen(w->ops->reply_body));
		break;
	case DB_UNAVAILABLE:
	case DB_ERROR:
		log_warnx("gw %s: dlr for %s not recorded: %s", w->gwname,
		          w->what, error);
		gw_http_db_error(w->d, w->req, st, "recorded");
		break;
	}
	dlr_wait_free(w);
}

/* Queue a parsed report for recording; 0, or -1 and *cause. */
static int
dlr_submit(struct dlr_wait *w, const struct gw_dlr *dlr, char **cause)
{
	char id[24];
	const char *values[5];

	snprintf(id, sizeof id, "%lld", dlr->id);
	values[0] = w->gwname;
	values[1] = dlr->id > 0 ? id : NULL;
	values[2] = dlr->ref;
	values[3] = w->status;
	values[4] = dlr->detail;
	return db_submit(w->d->db, STMT_OUTBOX_DLR, 5, values, NULL, NULL,
	                 dlr_done, w, cause);
}

/* Record a parsed report, answering after the commit. */
static void
dlr_record(struct paknd *d, struct evhttp_request *req, const char *gwname,
           const struct gw_ops *ops, const struct gw_dlr *dlr)
{
	struct dlr_wait *w = xcalloc(1, sizeof *w);
	char *cause = NULL;

	w->d = d;
	w->req = req;
	w->ops = ops;
	w->gwname = xstrdup(gwname);
	w->what = dlr_what(dlr);
	w->status = xstrdup(gw_dlr_status_name(dlr->status));
	if (dlr_submit(w, dlr, &cause) == 0)
		return;
	log_warnx("gw %s: dlr for %s not recorded: %s", gwname, w->what, cause);
	http_error(d, req, 503, "database unavailable, retry");
	free(cause);
	dlr_wait_free(w);
}

/* Handle GET|POST /v1/gw/{name}/dlr: authenticate, parse, record. */
static void
dlr_handle(struct paknd *d, struct evhttp_request *req, const char *path,
           const char *gwname)
{
	const struct gw_conf *gw;
	const struct gw_ops *ops;
	struct gw_request r;
	struct gw_dlr dlr;
	char *cause = NULL, *what;
	int code;

	if ((gw = gw_http_request(d, req, gwname, &r)) == NULL)
		return;
	ops = gw_ops(gw->type);
	if ((code = ops->parse_dlr(gw, &r, &dlr, &cause)) != 0) {
		log_limited(&d->log_refused, 0, "gw %s: refused dlr: %d %s",
		            gwname, code, cause);
		http_error(d, req, code, cause);
		free(cause);
		return;
	}
	if (dlr.status == GW_DLR_OTHER) {
		what = dlr_what(&dlr);
		log_debug("gw %s: dlr for %s: %s", gwname, what,
		          dlr.state != NULL ? dlr.state : "?");
		free(what);
		http_reply(d, req, 200, ops->reply_type, ops->reply_body,
		           strlen(ops->reply_body));
	} else
		dlr_record(d, req, gwname, ops, &dlr);
	gw_dlr_clear(&dlr);
}

/* Register the delivery reports of every gateway. */
void
dlr_routes(struct paknd *d)
{
	http_route_add(d, "/v1/gw/*/dlr", HTTP_RAW_QUERY, dlr_handle);
}
