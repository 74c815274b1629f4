/* stats.c: statistics for leaders over HTTP, and the fold timer.
 *
 * GET /v1/stats[.csv]         JSON, or CSV (UTF-8 with BOM) for .csv or
 *                             Accept: text/csv; Authorization: Bearer
 *                             token of a leader, limited to their subtree
 * GET /public/report/YYYY-MM[.csv]  the monthly public report, no login
 * GET /dashboard[/app.js|/app.css]  the leaders' page (static, compiled in)
 *
 * Each request is one call of pakn.stats_doc, which checks the token,
 * computes every figure from the rollups and answers a JSON document
 * (a read-only function: with [database] read_conninfo it runs on a
 * streaming replica, and on the primary while the replica is down);
 * this file only turns it into CSV or HTML (report.c). A timer calls
 * pakn.stats_fold to move the deltas written by the ledger triggers into
 * the rollups (one instance at a time, under an advisory lock).
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "http.h"
#include "metrics.h"
#include "report.h"
#include "stats.h"
#include "stmt.h"
#include "util.h"

/* The dashboard, compiled in from daemon/dashboard/ (embed.sh). */
extern const char dashboard_index_html[], dashboard_app_js[],
    dashboard_app_css[];
extern const size_t dashboard_index_html_len, dashboard_app_js_len,
    dashboard_app_css_len;

/* A file of the dashboard: its path, type and bytes. */
struct dashboard_file {
	const char *path;
	const char *type;
	const char *data;
	const size_t *len;
};

static const struct dashboard_file dashboard_files[] = {
    {"/dashboard", "text/html; charset=utf-8", dashboard_index_html,
     &dashboard_index_html_len},
    {"/dashboard/", "text/html; charset=utf-8", dashboard_index_html,
     &dashboard_index_html_len},
    {"/dashboard/app.js", "text/javascript; charset=utf-8", dashboard_app_js,
     &dashboard_app_js_len},
    {"/dashboard/app.css", "text/css; charset=utf-8", dashboard_app_css,
     &dashboard_app_css_len},
};

/* Answer a file of the dashboard. */
static void
dashboard_route(struct paknd *d, struct evhttp_request *req, const char *path,
                const char *arg)
{
	for (size_t i = 0; i < sizeof dashboard_files / sizeof *dashboard_files;
	     i++) {
		const struct dashboard_file *f = &dashboard_files[i];
		if (strcmp(path, f->path) != 0)
			continue;
		evhttp_add_header(evhttp_request_get_output_headers(req),
		                  "Cache-Control", "no-cache");
		http_reply(d, req, 200, f->type, f->data, *f->len);
		return;
	}
	http_error(d, req, 404, "no such endpoint");
}

enum stats_out {
	OUT_JSON,
	OUT_CSV,
	OUT_HTML,
};

/* A request waiting for its document. */
struct stats_req {
	struct paknd *d;
	struct evhttp_request *req;
	enum stats_out out;
};

struct stats {
	struct paknd *d;
	struct event *timer;
	int busy;
	int stopped;
	long long folds, folded, fold_locked, fold_failed;
};

/* Answer an error document as JSON, or as text for the public pages. */
static void
stats_refuse(struct stats_req *s, long code, const char *doc,
             const char *reason)
{
	if (s->out == OUT_JSON)
		http_reply(s->d, s->req, (int)code,
		           "application/json; charset=utf-8", doc, strlen(doc));
	else
		http_error(s->d, s->req, (int)code, reason);
}

/* Lay out a 200 document in the requested format. */
static void
stats_send(struct stats_req *s, const json_t *doc, const char *text)
{
	struct buf b;

	if (s->out == OUT_JSON) {
		http_reply(s->d, s->req, 200, "application/json; charset=utf-8",
		           text, strlen(text));
		return;
	}
	buf_init(&b);
	if (s->out == OUT_CSV) {
		report_csv(doc, &b);
		evhttp_add_header(evhttp_request_get_output_headers(s->req),
		                  "Content-Disposition",
		                  "attachment; filename=\"pakn.csv\"");
		http_reply(s->d, s->req, 200, "text/csv; charset=utf-8", b.data,
		           b.len);
	} else {
		report_html(doc, &b);
		evhttp_add_header(evhttp_request_get_output_headers(s->req),
		                  "Content-Security-Policy", report_csp());
		http_reply(s->d, s->req, 200, "text/html; charset=utf-8",
		           b.data, b.len);
	}
	buf_clear(&b);
}

/* The document arrived: answer in the requested format. */
static void
stats_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct stats_req *s = arg;
	const char *text;
	json_t *doc = NULL;
	json_error_t err;
	long code;

	if (st != DB_OK) {
		log_warnx("stats: %s", error);
		http_error(s->d, s->req, st == DB_UNAVAILABLE ? 503 : 500,
		           "statistics unavailable");
		free(s);
		return;
	}
	text = PQgetvalue(res, 0, 0);
	if ((doc = json_loads(text, 0, &err)) == NULL) {
		log_warnx("stats: bad document: %s", err.text);
		http_error(s->d, s->req, 500, "statistics unavailable");
	} else if ((code = (long)json_integer_value(
	                json_object_get(doc, "status"))) != 200)
		stats_refuse(s, code, text,
		             json_string_value(json_object_get(doc, "error")));
	else
		stats_send(s, doc, text);
	json_decref(doc);
	free(s);
}

/* A query parameter, or NULL when absent or empty. */
static const char *
param(struct evkeyvalq *q, const char *name)
{
	const char *v = evhttp_find_header(q, name);
	return v != NULL && *v != '\0' ? v : NULL;
}

/* Is v absent or a number from lo to hi? */
static int
number_ok(const char *v, long lo, long hi)
{
	char *end;
	long n;

	if (v == NULL)
		return 1;
	if (!isdigit((unsigned char)*v))
		return 0;
	n = strtol(v, &end, 10);
	return *end == '\0' && n >= lo && n <= hi;
}

/* Queue pakn.stats_doc with its ten parameters, or answer 503. */
static void
stats_submit(struct paknd *d, struct evhttp_request *req, enum stats_out out,
             const char *const v[10])
{
	struct stats_req *s = xmalloc(sizeof *s);
	char *cause = NULL;

	s->d = d;
	s->req = req;
	s->out = out;
	if (d->read_db != NULL &&
	    db_submit(d->read_db, STMT_STATS_DOC, 10, v, NULL, NULL, stats_done,
	              s, &cause) == 0)
		return;
	if (d->read_db != NULL) {
		log_debug("stats: the replica cannot take it (%s): primary",
		          cause);
		free(cause);
		cause = NULL;
	}
	if (db_submit(d->db, STMT_STATS_DOC, 10, v, NULL, NULL, stats_done, s,
	              &cause) == 0)
		return;
	log_warnx("stats: %s", cause);
	http_error(d, req, 503, "database unavailable, retry");
	free(cause);
	free(s);
}

/* Answer 401 with the reason a request has no usable bearer token. */
static void
stats_unauthorized(struct paknd *d, struct evhttp_request *req, int csv,
                   const char *reason)
{
	json_t *j = json_pack("{s:i,s:s}", "status", 401, "error", reason);
	char *doc = j != NULL ? json_dumps(j, JSON_PRESERVE_ORDER) : NULL;

	if (doc == NULL)
		fatalx("json_dumps");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	                  "WWW-Authenticate", "Bearer realm=\"pakn\"");
	if (csv)
		http_error(d, req, 401, reason);
	else
		http_reply(d, req, 401, "application/json; charset=utf-8", doc,
		           strlen(doc));
	free(doc);
	json_decref(j);
}

static const char bad_params[] = "{\"status\": 400, \"error\": "
                                 "\"dimension must be 1-8, cutoff 0-28, "
                                 "overdue 0-500\"}";

/* GET /v1/stats[.csv]?unit=&period=&by=&dimension=&cutoff=&overdue=. */
static void
route_stats(struct paknd *d, struct evhttp_request *req, const char *path,
            const char *arg)
{
	int csv = path[9] == '.';

	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *accept =
	    evhttp_find_header(evhttp_request_get_input_headers(req), "Accept");
	const char *query = evhttp_uri_get_query(uri), *v[10], *reason;
	struct evkeyvalq q;
	char cut[16], on[16], sat[16], token[TEXT_BEARER_MAX + 1];

	if (!csv && accept != NULL && strstr(accept, "text/csv") != NULL)
		csv = 1;
	if (http_bearer(req, token, &reason) != 0) {
		stats_unauthorized(d, req, csv, reason);
		return;
	}
	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) != 0) {
		http_error(d, req, 400, "bad query string");
		return;
	}
	if (!number_ok(param(&q, "dimension"), 1, 8) ||
	    !number_ok(param(&q, "cutoff"), 0, 28) ||
	    !number_ok(param(&q, "overdue"), 0, 500)) {
		evhttp_clear_headers(&q);
		http_reply(d, req, 400, "application/json; charset=utf-8",
		           bad_params, strlen(bad_params));
		return;
	}
	snprintf(cut, sizeof cut, "%ld", d->conf->stats_cutoff_day);
	snprintf(on, sizeof on, "%ld", d->conf->stats_target_on_time);
	snprintf(sat, sizeof sat, "%ld", d->conf->stats_target_satisfaction);
	v[0] = token;
	v[1] = param(&q, "unit");
	v[2] = param(&q, "period");
	v[3] = param(&q, "by");
	v[4] = param(&q, "dimension");
	v[5] = param(&q, "cutoff") != NULL ? param(&q, "cutoff") : cut;
	v[6] = on;
	v[7] = sat;
	v[8] = "f";
	v[9] = param(&q, "overdue");
	stats_submit(d, req, csv ? OUT_CSV : OUT_JSON, v);
	evhttp_clear_headers(&q);
}

/* GET /public/report/YYYY-MM[.csv][?unit=CODE]: no login. */
static void
route_report(struct paknd *d, struct evhttp_request *req, const char *path,
             const char *arg)
{
	const char *rest = path + strlen("/public/report/");

	const char *query =
	    evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	const char *v[10];
	char month[8], cut[16], on[16], sat[16];
	struct evkeyvalq q;
	size_t n = strlen(rest);
	int csv = n == 11 && !strcmp(rest + 7, ".csv");

	snprintf(month, sizeof month, "%.7s", rest);
	if ((n != 7 && !csv) || !report_month_ok(month)) {
		http_error(d, req, 404,
		           "no such report: use "
		           "/public/report/YYYY-MM[.csv]");
		return;
	}
	TAILQ_INIT(&q);
	if (query != NULL)
		evhttp_parse_query_str(query, &q);
	snprintf(cut, sizeof cut, "%ld", d->conf->stats_cutoff_day);
	snprintf(on, sizeof on, "%ld", d->conf->stats_target_on_time);
	snprintf(sat, sizeof sat, "%ld", d->conf->stats_target_satisfaction);
	v[0] = NULL;
	v[1] = param(&q, "unit");
	v[2] = month;
	/* ?by=survey: the survey figures as the CSV's rows. */
	v[3] = param(&q, "by") != NULL && !strcmp(param(&q, "by"), "survey")
	           ? "survey"
	           : "unit";
	v[4] = NULL;
	v[5] = cut;
	v[6] = on;
	v[7] = sat;
	v[8] = "t";
	v[9] = "0";
	stats_submit(d, req, csv ? OUT_CSV : OUT_HTML, v);
	evhttp_clear_headers(&q);
}

/* Register the statistics' paths: the JSON and CSV API, the public
 * report, the dashboard's files. */
void
stats_routes(struct paknd *d)
{
	http_route_add(d, "/v1/stats", HTTP_JSON, route_stats);
	http_route_add(d, "/v1/stats.csv", HTTP_JSON, route_stats);
	http_route_add(d, "/public/report/", HTTP_PREFIX, route_report);
	for (size_t i = 0; i < sizeof dashboard_files / sizeof *dashboard_files;
	     i++)
		http_route_add(d, dashboard_files[i].path, 0, dashboard_route);
}

/* A fold finished: log what it moved. */
static void
stats_fold_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct stats *s = arg;

	s->busy = 0;
	if (st != DB_OK) {
		s->fold_failed++;
		log_warnx("stats: fold failed: %s", error);
		return;
	}
	if (atoll(PQgetvalue(res, 0, 0)) < 0) {
		s->fold_locked++;
		return;
	}
	s->folds++;
	s->folded += atoll(PQgetvalue(res, 0, 0));
	if (atoi(PQgetvalue(res, 0, 0)) > 0)
		log_debug("stats: folded %s deltas", PQgetvalue(res, 0, 0));
}

/* Append the folds and the deltas they moved. */
void
stats_metrics(const struct stats *s, struct buf *b)
{
	metrics_head(b, "pakn_stats_folds_total", "counter",
	             "Statistics folds: run, left to another instance "
	             "(advisory lock), failed.");
	metrics_sample(b, "pakn_stats_folds_total", "result=\"run\"",
	               (double)s->folds);
	metrics_sample(b, "pakn_stats_folds_total", "result=\"locked_out\"",
	               (double)s->fold_locked);
	metrics_sample(b, "pakn_stats_folds_total", "result=\"failed\"",
	               (double)s->fold_failed);
	metrics_head(b, "pakn_stats_deltas_folded_total", "counter",
	             "Statistics deltas folded into the rollups.");
	metrics_sample(b, "pakn_stats_deltas_folded_total", NULL,
	               (double)s->folded);
}

/* Start a fold unless one is in flight. */
static void
stats_fold(evutil_socket_t fd, short what, void *arg)
{
	struct stats *s = arg;
	char batch[24];
	const char *v[1] = {batch};
	char *cause = NULL;

	(void)fd;
	(void)what;
	if (s->busy || s->stopped)
		return;
	snprintf(batch, sizeof batch, "%ld", s->d->conf->stats_fold_batch);
	if (db_submit(s->d->db, STMT_STATS_FOLD, 1, v, NULL, NULL,
	              stats_fold_done, s, &cause) != 0) {
		log_debug("stats: fold skipped: %s", cause);
		free(cause);
		return;
	}
	s->busy = 1;
}

/* Start the fold timer on d's loop. */
struct stats *
stats_new(struct paknd *d)
{
	struct stats *s = xcalloc(1, sizeof *s);
	struct timeval tv = {d->conf->stats_fold_interval, 0};

	s->d = d;
	s->timer = event_new(d->base, -1, EV_PERSIST, stats_fold, s);
	event_add(s->timer, &tv);
	return s;
}

/* Stop starting folds. */
void
stats_stop(struct stats *s)
{
	s->stopped = 1;
	event_del(s->timer);
}

/* 1 while a fold is in flight. */
int
stats_busy(const struct stats *s)
{
	return s->busy;
}

/* Free the timer (after the pool, which answers a fold in flight). */
void
stats_free(struct stats *s)
{
	if (s == NULL)
		return;
	event_free(s->timer);
	free(s);
}
