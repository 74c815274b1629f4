/* metrics_http.c: GET /metrics in the Prometheus text format.
 *
 * Each module keeps its own counters (http.c the callbacks, db.c the
 * pool, outbox.c the sends, deadline.c, stats.c, ussd_http.c); this file
 * writes them out, with a few gauges only the database knows (messages
 * waiting in the outbox per gateway and the age of the oldest, open
 * complaints past their due date), read by one cheap statement and kept
 * METRICS_DB_TTL seconds so that scrapes do not load the database. No
 * label carries personal data: gateway names from the configuration,
 * HTTP status codes, outcomes, SQLSTATE classes.
 *
 * The processing backlog (stored messages not processed yet, the age of
 * the oldest, the failed ones) comes from pakn.metrics_gauges too.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "deadline.h"
#include "journal.h"
#include "load.h"
#include "metrics.h"
#include "metrics_http.h"
#include "outbox.h"
#include "process.h"
#include "stats.h"
#include "stmt.h"
#include "ussd_http.h"
#include "util.h"

/* A scrape waiting for the database gauges. */
struct scrape {
	TAILQ_ENTRY(scrape) entry;
	struct evhttp_request *req;
};
TAILQ_HEAD(scrapes, scrape);

struct metrics {
	struct paknd *d;
	struct buf gauges; /* the database gauges, as text */
	double fetched;    /* monotonic seconds; 0 never */
	int fetching;
	struct scrapes waiting;
	time_t started;
};

/* Start keeping the database gauges. */
struct metrics *
metrics_new(struct paknd *d)
{
	struct metrics *m = xcalloc(1, sizeof *m);

	m->d = d;
	buf_init(&m->gauges);
	TAILQ_INIT(&m->waiting);
	m->started = time(NULL);
	return m;
}

/* Free the gauges (scrapes in flight were answered by the pool). */
void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	buf_clear(&m->gauges);
	free(m);
}

/* Write a gauge of one gateway: name{gateway="g"} v. */
static void
gateway_sample(struct buf *b, const char *name, const char *gw, double v)
{
	struct buf lab;

	buf_init(&lab);
	buf_adds(&lab, "gateway=\"");
	metrics_label_value(&lab, gw);
	buf_addc(&lab, '"');
	metrics_sample(b, name, lab.data, v);
	buf_clear(&lab);
}

/* The row of res for the outbox of gateway gw, or -1. */
static int
gauge_row(PGresult *res, const char *gw)
{
	for (int i = 0; i < PQntuples(res); i++)
		if (!strcmp(PQgetvalue(res, i, 0), "outbox") &&
		    !strcmp(PQgetvalue(res, i, 1), gw))
			return i;
	return -1;
}

/* Write the outbox gauges: every configured gateway (0 when empty), then
 * gateways only the outbox names. */
static void
gauges_outbox(struct buf *b, PGresult *res, const struct config *c, int col,
              const char *name, const char *help)
{
	int r;

	metrics_head(b, name, "gauge", help);
	for (size_t i = 0; i < c->ngateways; i++) {
		r = gauge_row(res, c->gateways[i].name);
		gateway_sample(b, name, c->gateways[i].name,
		               r < 0 ? 0 : atof(PQgetvalue(res, r, col)));
	}
	for (r = 0; r < PQntuples(res); r++)
		if (!strcmp(PQgetvalue(res, r, 0), "outbox") &&
		    config_gateway(c, PQgetvalue(res, r, 1)) == NULL)
			gateway_sample(b, name, PQgetvalue(res, r, 1),
			               atof(PQgetvalue(res, r, col)));
}

/* Turn pakn.metrics_gauges' rows into text. */
static void
gauges_write(struct metrics *m, PGresult *res)
{
	struct buf *b = &m->gauges;
	double overdue = 0, oldest = 0, backlog = 0, backlog_age = 0;
	double failed = 0;

	b->len = 0;
	gauges_outbox(b, res, m->d->conf, 2, "pakn_outbox_depth",
	              "Messages queued or being sent, per gateway.");
	gauges_outbox(b, res, m->d->conf, 3, "pakn_outbox_oldest_seconds",
	              "Age of the oldest message not yet sent, per gateway.");
	for (int r = 0; r < PQntuples(res); r++)
		if (!strcmp(PQgetvalue(res, r, 0), "overdue")) {
			overdue = atof(PQgetvalue(res, r, 2));
			oldest = atof(PQgetvalue(res, r, 3));
		} else if (!strcmp(PQgetvalue(res, r, 0), "backlog")) {
			backlog = atof(PQgetvalue(res, r, 2));
			backlog_age = atof(PQgetvalue(res, r, 3));
		} else if (!strcmp(PQgetvalue(res, r, 0), "failed"))
			failed = atof(PQgetvalue(res, r, 2));
	metrics_head(b, "pakn_processing_backlog", "gauge",
	             "Stored messages not processed yet (all instances).");
	metrics_sample(b, "pakn_processing_backlog", NULL, backlog);
	metrics_head(b, "pakn_processing_oldest_seconds", "gauge",
	             "Age of the oldest stored message not processed yet.");
	metrics_sample(b, "pakn_processing_oldest_seconds", NULL, backlog_age);
	metrics_head(b, "pakn_processing_failed", "gauge",
	             "Stored messages whose processing failed (see "
	             "pakn.inbound_message.error).");
	metrics_sample(b, "pakn_processing_failed", NULL, failed);
	metrics_head(b, "pakn_complaints_overdue", "gauge",
	             "Open complaints past their due date.");
	metrics_sample(b, "pakn_complaints_overdue", NULL, overdue);
	metrics_head(b, "pakn_complaints_overdue_oldest_seconds", "gauge",
	             "Seconds the most overdue open complaint is past due.");
	metrics_sample(b, "pakn_complaints_overdue_oldest_seconds", NULL,
	               oldest);
}

/* Write the counters the modules keep. */
static void
metrics_modules(struct paknd *d, struct buf *b)
{
	const struct db_pool *pools[3] = {d->db, d->proc_db, d->read_db};
	const char *names[3] = {"primary", "process", "read"};

	http_metrics(b);
	db_pool_metrics(pools, names, d->read_db != NULL ? 3 : 2, b);
	outbox_metrics(d->outbox, b);
	process_metrics(d->process, b);
	deadline_metrics(d->deadline, b);
	stats_metrics(d->stats, b);
	ussd_http_metrics(b);
}

/* Write the whole page. */
static void
metrics_page(struct metrics *m, struct buf *b)
{
	struct paknd *d = m->d;
	double age = m->fetched > 0 ? mono_now() - m->fetched : -1;

	metrics_head(b, "pakn_build_info", "gauge", "The running version.");
	buf_printf(b, "pakn_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	metrics_head(b, "pakn_start_time_seconds", "gauge",
	             "When paknd started, in seconds since the epoch.");
	metrics_sample(b, "pakn_start_time_seconds", NULL, (double)m->started);
	metrics_head(b, "pakn_http_inflight", "gauge",
	             "HTTP requests not yet answered.");
	metrics_sample(b, "pakn_http_inflight", NULL, (double)d->inflight);
	metrics_head(b, "pakn_intake_surge", "gauge",
	             "1 while intake is under a surge of callbacks (they "
	             "came at [intake] surge_rate and the requests in flight "
	             "averaged [intake] yield_requests over two quarters of "
	             "a second in a row).");
	metrics_sample(b, "pakn_intake_surge", NULL, (double)load_surge(d));
	metrics_modules(d, b);
	metrics_one(b, "pakn_journal_kept_total", "counter",
	            "Callbacks the database could not take, kept in the intake "
	            "journal and answered 2xx (replayed once it answers).",
	            (double)d->journal_kept);
	metrics_one(b, "pakn_intake_unstored_total", "counter",
	            "Callbacks the database could not take and the journal "
	            "could not keep (none configured, full, or its disk "
	            "failed): answered 503.",
	            (double)d->unstored);
	if (d->journal != NULL) {
		metrics_one(
		    b, "pakn_journal_bytes", "gauge",
		    "Bytes of the files in the journal's directory "
		    "(replayed files are deleted; the day's file stays).",
		    (double)journal_bytes(d->journal));
		metrics_one(b, "pakn_journal_max_bytes", "gauge",
		            "[intake] journal_max: beyond it callbacks the "
		            "database cannot take get 503.",
		            (double)d->conf->journal_max);
	}
	metrics_head(b, "pakn_metrics_db_age_seconds", "gauge",
	             "Age of the gauges read from the database (-1: none "
	             "yet).");
	metrics_sample(b, "pakn_metrics_db_age_seconds", NULL, age);
	buf_add(b, m->gauges.data, m->gauges.len);
}

/* Answer one scrape. */
static void
metrics_answer(struct metrics *m, struct evhttp_request *req)
{
	struct buf b;

	buf_init(&b);
	metrics_page(m, &b);
	http_reply(m->d, req, 200, "text/plain; version=0.0.4; charset=utf-8",
	           b.data, b.len);
	buf_clear(&b);
}

/* Answer every scrape that waited for the gauges. */
static void
metrics_flush(struct metrics *m)
{
	struct scrape *s;

	while ((s = TAILQ_FIRST(&m->waiting)) != NULL) {
		TAILQ_REMOVE(&m->waiting, s, entry);
		metrics_answer(m, s->req);
		free(s);
	}
}

/* The gauges arrived (or not: the last ones are kept, with their age). */
static void
metrics_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct metrics *m = arg;

	m->fetching = 0;
	if (st == DB_OK) {
		gauges_write(m, res);
		m->fetched = mono_now();
	} else
		log_debug("metrics: gauges not read: %s", error);
	metrics_flush(m);
}

/* Answer GET /metrics, reading the gauges first when they are stale. */
static void
metrics_route(struct paknd *d, struct evhttp_request *req, const char *path,
              const char *arg)
{
	struct metrics *m = d->metrics;
	struct scrape *s;
	char *cause = NULL;

	if (m->fetched > 0 && mono_now() - m->fetched < METRICS_DB_TTL) {
		metrics_answer(m, req);
		return;
	}
	s = xcalloc(1, sizeof *s);
	s->req = req;
	TAILQ_INSERT_TAIL(&m->waiting, s, entry);
	if (m->fetching)
		return;
	if (db_submit(d->db, STMT_METRICS, 0, NULL, NULL, NULL, metrics_done, m,
	              &cause) == 0) {
		m->fetching = 1;
		return;
	}
	log_debug("metrics: gauges not read: %s", cause);
	free(cause);
	metrics_flush(m);
}

/* Register GET /metrics (answered while draining too: an operator
 * watches the drain). */
void
metrics_routes(struct paknd *d)
{
	http_route_add(d, "/metrics", HTTP_WHILE_DRAINING, metrics_route);
}
