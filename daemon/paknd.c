/* paknd.c: the daemon: arguments, signals, the event loop. */

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <libpq-fe.h>

#include "api.h"
#include "classify.h"
#include "deadline.h"
#include "dlr.h"
#include "summary.h"
#include "http.h"
#include "ingest.h"
#include "open311.h"
#include "journal.h"
#include "outbox.h"
#include "process.h"
#include "poster_http.h"
#include "service.h"
#include "stats.h"
#include "ussd_http.h"
#include "metrics_http.h"
#include "migrate.h"
#include "notify.h"
#include "stmt.h"
#include "survey.h"
#include "util.h"

#ifndef PAKN_SYSCONFDIR
#define PAKN_SYSCONFDIR "/etc"
#endif

static struct event *drain_timer;
static struct event *drain_deadline;
static struct event *key_timer; /* asks for the pseudonym key until read */
static struct event *classifier_timer; /* polls pakn.category_version */
static struct event *log_timer;        /* logs the per-message lines left out */
static long long classifier_tried;     /* the version last asked for */

/* How often paknd asks whether the categories changed (seconds). */
#define CLASSIFIER_CHECK_SECS 5

/* Print usage and exit. */
static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr,
	        "usage: paknd [-fnvV] [-c file]\n"
	        "  -c file  configuration (default %s/pakn/paknd.conf)\n"
	        "  -f       stay in the foreground, log to stderr\n"
	        "  -n       check the configuration and exit\n"
	        "  -v       more verbose logging (debug)\n"
	        "  -V       print the version and the schema it needs\n",
	        PAKN_SYSCONFDIR);
	exit(2);
}

/* The pool limits from a configuration. */
static struct db_opts
db_opts_of(const struct config *c)
{
	struct db_opts o = {
	    .pool_size = c->pool_size,
	    .query_timeout = c->query_timeout,
	    .max_queue = c->max_queue,
	    .batch_size = c->batch_size,
	    .reconnect_max = c->reconnect_max,
	    .lifetime = c->db_lifetime,
	};
	return o;
}

/* The processing worker's pool options: its own connections, and one
 * statement a transaction (a call of pakn.intake_process_batch holds
 * [intake] process_batch messages; one that fails is not held back by
 * others). */
static struct db_opts
proc_opts_of(const struct config *c)
{
	struct db_opts o = db_opts_of(c);

	o.pool_size = (int)c->intake_connections;
	o.batch_size = 1;
	return o;
}

/* Open the intake journal ([intake] journal_dir; empty: none). Records
 * left by an earlier run are replayed once the database answers. */
static void
journal_start(struct paknd *d)
{
	char *cause = NULL;

	if (d->conf->journal_dir[0] == '\0') {
		log_info("no journal ([intake] journal_dir): callbacks get 503 "
		         "while the database is down");
		return;
	}
	d->journal = journal_open(d->base, d->conf->journal_dir,
	                          (uint64_t)d->conf->journal_max, &cause);
	if (d->journal == NULL) {
		log_warnx("journal: %s: callbacks get 503 while the database "
		          "is down",
		          cause);
		free(cause);
		return;
	}
	d->journal_dirty = 1;
}

/* Read the categories' keywords on conn, at start. */
static void
classifier_at_start(struct paknd *d, PGconn *conn)
{
	char *cause = NULL;

	if ((d->classifier = classifier_load(conn, &cause)) == NULL) {
		log_warnx("%s", cause);
		free(cause);
		return;
	}
	log_info("classifier read: %zu keyword patterns (categories "
	         "version %lld)",
	         classifier_size(d->classifier),
	         classifier_version(d->classifier));
}

/* Apply pending migrations before serving ([database] migrate = yes),
 * then read the classifier on the same connection. */
static void
migrate_at_start(struct paknd *d)
{
	const struct config *c = d->conf;
	PGconn *conn = PQconnectdb(c->conninfo);
	char *cause = NULL;
	int n, nf;

	if (PQstatus(conn) != CONNECTION_OK)
		fatalx("migrate: %s", PQerrorMessage(conn));
	if ((n = migrate_apply(conn, &nf, &cause)) < 0)
		fatalx("migrate: %s", cause);
	log_info("schema at version %d (%d migration%s, %d function file%s "
	         "applied)",
	         migrate_latest(), n, n == 1 ? "" : "s", nf,
	         nf == 1 ? "" : "s");
	classifier_at_start(d, conn);
	PQfinish(conn);
}

/* The categories as read by STMT_CLASSIFIER_LOAD: swap them in; keep
 * the running classifier when they cannot be read. */
static void
classifier_loaded(void *arg, enum db_status st, PGresult *res,
                  const char *error)
{
	struct paknd *d = arg;
	struct classifier *c = NULL;
	char *cause = NULL;

	if (st == DB_OK)
		c = classifier_from_result(res, &cause);
	if (c == NULL && st == DB_UNAVAILABLE) {
		/* Nothing is wrong with the categories: the next check
		 * reads them when they changed meanwhile. */
		classifier_tried = 0;
		log_info("classifier not reloaded (database unavailable: %s)",
		         error);
		return;
	}
	if (c == NULL) {
		log_warnx("classifier not reloaded, keeping the %s: %s",
		          d->classifier ? "running one" : "SQL classification",
		          st == DB_OK ? cause : error);
		free(cause);
		return;
	}
	classifier_free(d->classifier);
	d->classifier = c;
	log_info("classifier reloaded: %zu keyword patterns (categories "
	         "version %lld)",
	         classifier_size(c), classifier_version(c));
}

/* Read the categories again (SIGHUP, or they changed). */
static void
classifier_reload(struct paknd *d)
{
	char *cause = NULL;

	if (db_submit(d->db, STMT_CLASSIFIER_LOAD, 0, NULL, NULL, NULL,
	              classifier_loaded, d, &cause) != 0) {
		classifier_tried = 0;
		log_info("classifier not reloaded (database unavailable: %s)",
		         cause);
		free(cause);
	}
}

/* The categories' version: read them again when it moved. */
static void
classifier_checked(void *arg, enum db_status st, PGresult *res,
                   const char *error)
{
	struct paknd *d = arg;
	long long v;

	if (st != DB_OK || PQntuples(res) != 1) {
		log_debug("classifier: version not read: %s",
		          st == DB_OK ? "no row" : error);
		return;
	}
	v = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
	if (d->classifier != NULL && classifier_version(d->classifier) == v)
		return;
	if (v == classifier_tried)
		return; /* in flight, or it failed: the next change retries */
	classifier_tried = v;
	log_info("categories changed (version %lld): reloading the "
	         "classifier",
	         v);
	classifier_reload(d);
}

/* Timer: ask for the categories' version (they change by SQL, import or
 * migration, which also NOTIFY pakn_categories). */
static void
classifier_check(evutil_socket_t fd, short what, void *arg)
{
	struct paknd *d = arg;
	char *cause = NULL;

	if (d->draining)
		return;
	if (db_submit(d->db, STMT_CATEGORY_VERSION, 0, NULL, NULL, NULL,
	              classifier_checked, d, &cause) != 0) {
		log_debug("classifier: %s", cause);
		free(cause);
	}
}

/* The pseudonym key arrived: citizens' numbers in the log from now on
 * are the pseudonyms officials see; else ask again in a while. */
static void
log_key_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct timeval again = {2, 0};

	if (st == DB_OK && PQntuples(res) == 1) {
		log_set_key(PQgetvalue(res, 0, 0));
		log_info("log pseudonyms use the installation's key");
		return;
	}
	if (st == DB_OK)
		log_warnx("pakn.setting has no pseudonym_secret: log "
		          "pseudonyms stay this process's own");
	else
		evtimer_add(key_timer, &again);
}

/* Ask the database for the pseudonym key of log lines. */
static void
log_key_load(evutil_socket_t fd, short what, void *arg)
{
	struct paknd *d = arg;
	struct timeval again = {2, 0};
	char *cause = NULL;

	if (d->draining)
		return;
	if (db_submit(d->db, STMT_LOG_KEY, 0, NULL, NULL, NULL, log_key_done, d,
	              &cause) != 0) {
		free(cause);
		evtimer_add(key_timer, &again);
	}
}

/* The limiters of the lines written for each message ([server]
 * log_messages a second of each kind; 0: every one), at start and at
 * each reload. */
static void
log_rates_set(struct paknd *d)
{
	struct log_limit *ls[] = {&d->log_processed, &d->log_sent,
	                          &d->log_unsent,    &d->log_dlr,
	                          &d->log_dup,       &d->log_refused};

	d->log_processed.what = "processing: messages processed";
	d->log_sent.what = "outbox: SMS sent";
	d->log_unsent.what = "outbox: SMS not sent";
	d->log_unsent.warn = 1;
	d->log_dlr.what = "gw: delivery reports";
	d->log_dup.what = "gw: callbacks stored already";
	d->log_refused.what = "http: requests refused";
	for (size_t i = 0; i < sizeof ls / sizeof *ls; i++) {
		ls[i]->interval = 1;
		ls[i]->burst = d->conf->log_messages > 0 ? d->conf->log_messages
		                                         : LONG_MAX;
	}
}

/* The counts of the per-message lines left out in the second before
 * (all: at exit, this one's too). */
static void
log_rates_flush(struct paknd *d, int all)
{
	log_limit_flush(&d->log_processed, all);
	log_limit_flush(&d->log_sent, all);
	log_limit_flush(&d->log_unsent, all);
	log_limit_flush(&d->log_dlr, all);
	log_limit_flush(&d->log_dup, all);
	log_limit_flush(&d->log_refused, all);
}

/* Timer, every second: log_rates_flush. */
static void
log_rates_tick(evutil_socket_t fd, short what, void *arg)
{
	log_rates_flush(arg, 0);
}

/* SIGHUP: load the file again; keep the running one if it is invalid. */
static void
reload(struct paknd *d)
{
	char *cause = NULL;
	struct config *c = config_load(d->conf->path, &cause), *old = d->conf;
	struct db_opts o;

	notify_reloading(d->notify);
	if (c == NULL) {
		log_warnx("reload rejected, keeping the running configuration: "
		          "%s",
		          cause);
		free(cause);
		notify_reloaded(d->notify);
		return;
	}
	if (strcmp(c->listen, old->listen) != 0 ||
	    strcmp(c->conninfo, old->conninfo) != 0 ||
	    strcmp(c->read_conninfo, old->read_conninfo) != 0 ||
	    c->pool_size != old->pool_size)
		log_warnx("reload: listen, conninfo, read_conninfo and "
		          "pool_size take effect at the next start");
	d->conf = c;
	log_rates_set(d);
	http_apply_limits(d);
	outbox_reload(d->outbox);
	classifier_reload(d);
	o = db_opts_of(c);
	db_pool_set_opts(d->db, &o);
	if (d->read_db != NULL)
		db_pool_set_opts(d->read_db, &o);
	o = proc_opts_of(c);
	db_pool_set_opts(d->proc_db, &o);
	config_unref(old);
	log_info("configuration reloaded (%zu gateway%s)", c->ngateways,
	         c->ngateways == 1 ? "" : "s");
	notify_reloaded(d->notify);
}

/* While draining: stop once nothing is left in flight. */
static void
drain_check(evutil_socket_t fd, short what, void *arg)
{
	struct paknd *d = arg;
	if (d->inflight > 0 || db_pool_pending(d->db) > 0 ||
	    (d->read_db != NULL && db_pool_pending(d->read_db) > 0) ||
	    db_pool_pending(d->proc_db) > 0 || outbox_pending(d->outbox) > 0 ||
	    process_pending(d->process) > 0)
		return;
	log_info("drained, exiting");
	event_base_loopbreak(d->base);
}

/* Drain deadline reached: exit even with work in flight. */
static void
drain_expired(evutil_socket_t fd, short what, void *arg)
{
	struct paknd *d = arg;
	log_warnx("drain timeout: exiting with %ld requests unanswered",
	          d->inflight);
	event_base_loopbreak(d->base);
}

/* SIGTERM/SIGINT: first drain, second exit now. */
static void
shutdown_begin(struct paknd *d)
{
	struct timeval tick = {0, 20000};
	struct timeval limit = {d->conf->drain_timeout, 0};

	if (d->draining) {
		log_warnx("second signal: exiting now");
		event_base_loopbreak(d->base);
		return;
	}
	d->draining = 1;
	notify_stopping(d->notify);
	log_info("shutting down: finishing %ld requests", d->inflight);
	http_stop_accepting(d);
	deadline_stop(d->deadline);
	summary_stop(d->summary);
	outbox_stop(d->outbox);
	process_stop(d->process);
	stats_stop(d->stats);
	survey_stop(d->survey);
	drain_timer = event_new(d->base, -1, EV_PERSIST, drain_check, d);
	drain_deadline = evtimer_new(d->base, drain_expired, d);
	event_add(drain_timer, &tick);
	evtimer_add(drain_deadline, &limit);
}

/* Every signal arrives here, as an event on the loop. */
static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct paknd *d = arg;
	switch (sig) {
	case SIGTERM:
	case SIGINT:
		shutdown_begin(d);
		break;
	case SIGHUP:
		reload(d);
		break;
	case SIGUSR1:
		log_reopen();
		log_info("log reopened");
		break;
	case SIGUSR2:
		log_info("deadline pass requested (and a survey pass)");
		deadline_kick(d->deadline);
		summary_kick(d->summary);
		survey_kick(d->survey);
		break;
	}
}

/* libevent's own messages, in our log; its warnings at a bounded rate
 * (under attack it may repeat one for every connection). */
static void
libevent_log(int severity, const char *msg)
{
	static struct log_limit limit = {
	    .what = "libevent", .interval = 10, .warn = 1};

	if (severity == EVENT_LOG_DEBUG)
		log_debug("libevent: %s", msg);
	else if (severity == EVENT_LOG_MSG)
		log_info("libevent: %s", msg);
	else
		log_limited(&limit, 0, "libevent: %s", msg);
}

/* The server's routes: each module that answers HTTP registers its own
 * (http.c names none of them). */
static void
routes_add(struct paknd *d)
{
	api_routes(d);
	stats_routes(d);
	poster_routes(d);
	ingest_routes(d);
	dlr_routes(d);
	ussd_http_routes(d);
	service_routes(d);
	open311_routes(d);
	metrics_routes(d);
}

/* Run the daemon until it is told to stop. */
static int
run(struct paknd *d, int foreground)
{
	static const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2};
	static const int alone[] = {
	    STMT_STATS_FOLD,  STMT_DEADLINE_RUN,      STMT_DESK_RUN,
	    STMT_SUMMARY_RUN, STMT_SURVEY_RUN,        STMT_USSD_JANITOR,
	    STMT_METRICS,     STMT_PARTITIONS_ENSURE, STMT_CLASSIFIER_LOAD,
	    STMT_STATS_DOC};
	struct event *sigev[5];
	sigset_t late;
	struct db_opts o = db_opts_of(d->conf);
	char *cause = NULL;
	struct timeval every = {CLASSIFIER_CHECK_SECS, 0}, second = {1, 0};

	if (d->conf->migrate)
		migrate_at_start(d);
	if (!foreground && daemon(0, 0) != 0)
		fatal("daemon");
	event_set_log_callback(libevent_log);
	if ((d->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	for (int i = 0; i < 5; i++) {
		sigev[i] = evsignal_new(d->base, sigs[i], signal_cb, d);
		evsignal_add(sigev[i], NULL);
	}
	log_rates_set(d);
	log_timer = event_new(d->base, -1, EV_PERSIST, log_rates_tick, d);
	evtimer_add(log_timer, &second);
	routes_add(d);
	if (http_start(d, &cause) != 0)
		fatalx("%s", cause);
	d->db = db_pool_new(d->base, d->conf->conninfo, stmts, NSTMTS, &o);
	/* Callbacks stored together (group commit) in one statement. */
	db_pool_merge(d->db, STMT_INTAKE, STMT_INTAKE_MANY);
	/* Periodic jobs and reports (tens of milliseconds under load) in no
	 * callback's or USSD step's transaction. */
	for (size_t i = 0; i < sizeof alone / sizeof *alone; i++)
		db_pool_alone(d->db, alone[i]);
	o = proc_opts_of(d->conf);
	d->proc_db = db_pool_new(d->base, d->conf->conninfo, stmts, NSTMTS, &o);
	o = db_opts_of(d->conf);
	if (d->conf->read_conninfo[0] != '\0') {
		/* Statistics read a replica; it needs only their statement. */
		d->read_db = db_pool_new(d->base, d->conf->read_conninfo, stmts,
		                         NSTMTS, &o);
		log_info("statistics read from a replica (read_conninfo)");
	}
	d->deadline = deadline_new(d);
	d->summary = summary_new(d);
	d->outbox = outbox_new(d);
	journal_start(d);
	d->process = process_new(d);
	d->stats = stats_new(d);
	d->survey = survey_new(d);
	d->metrics = metrics_new(d);
	d->notify = notify_new(d);
	key_timer = evtimer_new(d->base, log_key_load, d);
	log_key_load(-1, 0, d);
	classifier_timer =
	    event_new(d->base, -1, EV_PERSIST, classifier_check, d);
	evtimer_add(classifier_timer, &every);
	if (d->classifier == NULL)
		classifier_check(-1, 0, d);
	log_info("paknd %s started", PACKAGE_VERSION);
	event_base_dispatch(d->base);
	/* Exiting: a late SIGTERM or SIGINT (the loop that answered them is
	 * gone, and freeing its signal events restores the default action)
	 * must not cut the cleanup short: block them. */
	sigemptyset(&late);
	sigaddset(&late, SIGTERM);
	sigaddset(&late, SIGINT);
	sigprocmask(SIG_BLOCK, &late, NULL);

	process_free(d->process);
	if (d->journal != NULL)
		journal_close(d->journal);
	outbox_free(d->outbox);
	db_pool_free(d->db);
	if (d->read_db != NULL)
		db_pool_free(d->read_db);
	db_pool_free(d->proc_db);
	deadline_free(d->deadline);
	summary_free(d->summary);
	stats_free(d->stats);
	survey_free(d->survey);
	http_clear(d);
	metrics_free(d->metrics);
	notify_free(d->notify);
	ussd_http_clear();
	for (int i = 0; i < 5; i++)
		event_free(sigev[i]);
	event_free(key_timer);
	event_free(classifier_timer);
	event_free(log_timer);
	log_rates_flush(d, 1);
	classifier_free(d->classifier);
	if (drain_timer != NULL)
		event_free(drain_timer);
	if (drain_deadline != NULL)
		event_free(drain_deadline);
	event_base_free(d->base);
	config_unref(d->conf);
	log_info("stopped");
	return 0;
}

int
main(int argc, char **argv)
{
	struct paknd d = {0};
	const char *path = PAKN_SYSCONFDIR "/pakn/paknd.conf";
	int ch, foreground = 0, check = 0, verbose = 0;
	char *cause = NULL;

	while ((ch = getopt(argc, argv, "c:fnvVh")) != -1) {
		switch (ch) {
		case 'V':
			printf("paknd %s (schema version %d)\n",
			       PACKAGE_VERSION, migrate_latest());
			return 0;
		case 'c':
			path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if ((d.conf = config_load(path, &cause)) == NULL) {
		fprintf(stderr, "paknd: %s\n", cause);
		free(cause);
		return 1;
	}
	if (check) {
		printf("%s: configuration OK (%zu gateway%s)\n", path,
		       d.conf->ngateways, d.conf->ngateways == 1 ? "" : "s");
		config_unref(d.conf);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	log_init("paknd", foreground, verbose);
	return run(&d, foreground);
}
