/* harness.h: a throwaway PostgreSQL, the real paknd, and HTTP and SQL
 * helpers for the integration suite. No mocks: every test talks to the
 * real daemon over HTTP and reads what it stored from the real database. */
#ifndef PAKN_HARNESS_H
#define PAKN_HARNESS_H

#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <check.h>
#include <jansson.h>
#include <libpq-fe.h>

#define HARNESS_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define HARNESS_SENTINEL     __attribute__((sentinel))

/*
 * Setup and teardown. harness_init makes the temporary directory and
 * registers the cleanup (stop every server, remove the directory) to run
 * when the process that called it exits, also on a failure path or
 * SIGINT/SIGTERM; forked test processes never run it. Environment:
 * PAKN_KEEP_TMP=1 keeps the directory (logs, configs, the cluster) for a
 * look after the run; PG_BINDIR names the PostgreSQL server programs'
 * directory (default: the newest /usr/lib/postgresql/N/bin).
 */
int harness_init(void);
const char *harness_dir(void);
/* Write "<tmpdir>/<name>" into buf. */
void harness_path(char *buf, size_t size, const char *name);
/* The paknd started by main() before the tests, shared by the tests. */
struct paknd *harness_main(void);

/* PostgreSQL: initdb, start on a free port, create the database "pakn". */
int pg_setup(void);
int pg_start(void);
int pg_stop(void);
int pg_crash(void);
int pg_is_running(void);
int pg_port(void);
/* Write a libpq conninfo for a database of the test cluster into buf. */
void pg_conninfo(char *buf, size_t size, const char *dbname);
/*
 * A streaming replica of the test cluster: pg_basebackup -R on loopback
 * into <tmpdir>/replica, started on a port of its own as the server's
 * user (log: <tmpdir>/replica.log, not checked for errors: it logs the
 * primary's absence). Stopped at exit.
 */
int pg_replica_start(void);
int pg_replica_stop(void);
void pg_replica_conninfo(char *buf, size_t size, const char *dbname);

/*
 * SQL helpers on a fresh libpq connection per call. Parameters are text,
 * given as a NULL-terminated list. On an SQL error the message is printed
 * to stderr and the result is NULL (or -1).
 */
PGresult *sql_query(const char *query, ...) HARNESS_SENTINEL;
PGresult *sql_query_db(const char *db, const char *query, ...) HARNESS_SENTINEL;
/* The first column of the first row, malloc'd; NULL if no row or NULL. */
char *sql_value(const char *query, ...) HARNESS_SENTINEL;
char *sql_value_db(const char *db, const char *query, ...) HARNESS_SENTINEL;
/* The first column of the first row as a number; -1 if none. */
long sql_long(const char *query, ...) HARNESS_SENTINEL;
/* Run one statement without parameters; 0 on success. */
int sql_exec_db(const char *db, const char *query);
/* In one transaction on "pakn", rolled back: run setup (statements
 * without parameters), then query; query's first value, malloc'd (NULL
 * on an error, printed). What setup writes is never seen by others. */
char *sql_rolled_back(const char *setup, const char *query);
/* On "pakn": held (statements without parameters) in a transaction on
 * one connection, then query on another while it is open; after 300 ms
 * *waited tells whether query was still running, then held commits.
 * query's result (PQclear it), once it ends. */
PGresult *sql_behind(const char *held, const char *query, int *waited);
/* A column of row 0, or NULL when there is no row or the value is NULL. */
const char *sql_col(const PGresult *res, int col);

/* A paknd process with its own config file, port and log file. */
struct paknd {
	pid_t pid;
	int port;
	long nofile; /* not 0: its RLIMIT_NOFILE, soft and hard, at start */
	char name[32];
	char conf[PATH_MAX];
	char log[PATH_MAX];
};

/*
 * Prepare an instance: pick a free port, write <tmpdir>/<name>.conf with
 * the standard gateways (kannel, twilio, at), database dbname, migrate
 * yes or no, and extra text appended at the end.
 */
int paknd_config(struct paknd *d, const char *name, const char *dbname,
                 int migrate, const char *extra);
/* Rewrite the config file of an instance (same port) for a reload. */
int paknd_rewrite(const struct paknd *d, const char *dbname, int migrate,
                  const char *extra);
/* The text of the standard config file. */
char *paknd_config_text(int port, const char *dbname, int migrate,
                        const char *extra);
/* Start `paknd -c CONF -f -v` and wait until GET /healthz answers 200. */
int paknd_spawn(struct paknd *d);
/* Wait until GET /readyz answers 200; print the log tail if it does not. */
int paknd_wait_ready(struct paknd *d, double timeout);
/* paknd_config on database "pakn" with migrate = yes, then paknd_spawn. */
int paknd_start(struct paknd *d, const char *name, const char *extra);
/* 1 while the process runs. */
int paknd_alive(struct paknd *d);
int paknd_signal(const struct paknd *d, int sig);
/* SIGTERM, then waitpid up to timeout seconds (SIGKILL after it). Returns
 * the wait status, or -1 when it had to be killed. */
int paknd_stop(struct paknd *d, double timeout);
/* SIGTERM the instance; 0 if it exited 0 within 10 s and its log has no
 * "[error]" line nor any of the NULL-terminated secrets; else print why
 * and return -1. */
int paknd_finish(struct paknd *d, ...) HARNESS_SENTINEL;
/* Print the last lines of the instance's log to stderr. */
void paknd_dump(const struct paknd *d);
/* The path of the paknd and paknctl programs under test. */
const char *paknd_path(void);
const char *paknctl_path(void);

/*
 * Run a program (argv[0] is a path), stdout to out and stderr to err
 * (either may be NULL for /dev/null). Returns the wait status, or -1 if it
 * had to be killed after timeout seconds.
 */
int harness_run(char *const argv[], const char *out, const char *err,
                double timeout);

/* Files and logs. */
char *file_read(const char *path, size_t *len);
/* Write a whole file (text); 0 on success. */
int file_write(const char *path, const char *text);
size_t file_size(const char *path);
/* The lines of a file after byte offset from that contain needle,
 * malloc'd; NULL if none. */
char *log_grep(const char *path, size_t from, const char *needle);
/* Wait until a line after from contains needle; 0 if it appeared. */
int log_wait(const char *path, size_t from, const char *needle, double timeout);
/* Print the last n lines of a file to stderr under a heading. */
void log_tail(const char *path, int n);

/* HTTP client on libcurl. */
struct http_resp {
	long status; /* 0 when no answer came */
	char *body;  /* always NUL-terminated */
	size_t len;
	char *ctype; /* Content-Type, NULL if absent */
	char *head;  /* the status line and header lines, as received */
	double secs; /* total time of the exchange */
	char err[256];
};

/*
 * One request to http://127.0.0.1:port<path>. headers is a NULL-terminated
 * list of "Name: value" lines (or NULL); body may be NULL. A POST without
 * a Content-Type header is sent as application/x-www-form-urlencoded.
 * Returns the status.
 */
long http_request(int port, const char *method, const char *path,
                  const char *const *headers, const void *body, size_t len,
                  struct http_resp *r);
long http_get(int port, const char *path, struct http_resp *r);
/* n children that send GET path to port again and again, each on one
 * kept-alive connection, so that requests are always in flight (a surge
 * for [intake] yield_requests 1); their pids into pid. Then
 * http_hammers_stop kills them and waits for them. */
void http_hammers(int port, const char *path, pid_t *pid, int n);
void http_hammers_stop(pid_t *pid, int n);
/* The value of the sample "series value" (series with its labels, if
 * any) of /metrics on port; -1 if it has none. Fails the test unless
 * /metrics answers 200. */
long metric_value(int port, const char *series);
/* Wait (up to 15 s) until paknd processed every stored message of
 * database "pakn"; http_request and http_multi call it after a request to
 * a path with "/sms" (a gateway's SMS callback). */
void harness_settle(void);
/* Not 0: http_request and http_multi do not settle (a test that sends
 * while paknd or PostgreSQL is stopped, or checks the order itself). */
extern int harness_no_settle;
/* Hold every paknd's processing worker off: a connection takes the 128
 * advisory locks its claims try (pakn.intake_claim), and requests do not
 * settle meanwhile; messages are only stored. harness_release_processing
 * lets go. */
PGconn *harness_hold_processing(void);
void harness_release_processing(PGconn *c);
/* The same locks in database dbname (the processing of a paknd of its
 * own there); PQfinish lets go. */
PGconn *harness_hold_processing_in(const char *dbname);
void http_resp_free(struct http_resp *r);
/* The value of a response header (the first one), malloc'd; NULL if
 * absent. */
char *http_resp_header(const struct http_resp *r, const char *name);

struct http_req {
	const char *method;
	char *path;
	const char *const *headers;
	const void *body;
	size_t len;
};

/* Fire n requests at once (curl multi, one connection each) and write each
 * answer's status (0 if none) into status[]. Returns 0 if all finished. */
int http_multi(int port, const struct http_req *reqs, size_t n, long *status);

/* Encodings, written independently of the daemon's code. */
/* printf into a new string; aborts on out of memory. */
char *strf(const char *fmt, ...) HARNESS_PRINTF(1, 2);
/* URL-encode as Kannel does: alphanumerics and "-_." kept, space as '+',
 * every other byte as %XX. */
char *url_encode(const void *data, size_t len);
/* application/x-www-form-urlencoded body from name, value, ..., NULL. */
char *form_encode(const char *const *kv);
/* UTF-8 to UTF-16BE (surrogate pairs above U+FFFF). NULL if invalid. */
unsigned char *utf8_to_utf16be(const char *s, size_t *len);
/* Lowercase hex, as PostgreSQL's encode(x, 'hex'). */
char *hex_encode(const void *data, size_t len);
/* Base64(HMAC-SHA1(key, url + params sorted by name, name then value)). */
char *twilio_signature(const char *key, const char *url, const char *const *kv);

/* Time. */
double now_secs(void);
void sleep_ms(int ms);

/*
 * Inside a test (Check, forked): a connection of this test process to the
 * test database, and queries with NULL-terminated text parameters that
 * fail the test on an SQL error. qval's value is malloc'd (NULL if no row
 * or NULL); qlong gives -1 then.
 */
PGconn *test_db(void);
PGresult *q(const char *sql, ...) HARNESS_SENTINEL;
char *qval(const char *sql, ...) HARNESS_SENTINEL;
long qlong(const char *sql, ...) HARNESS_SENTINEL;
/*
 * Add a test case with a timeout in seconds to s. After each of its tests
 * the case fails if the suite's paknd logged a [warning] or [error] (or a
 * sanitizer report) or PostgreSQL an ERROR, WARNING or PANIC that the
 * test did not say to expect with harness_expect_log / _pg. paknd_finish
 * checks whole logs the same way.
 */
TCase *tcase(Suite *s, const char *name, double timeout);
/* paknd may log a warning or error line containing needle, from now to
 * the end of the suite (work such as outbox retries outlives a test). */
void harness_expect_log(const char *needle);
/* PostgreSQL may log an ERROR or WARNING line containing needle. */
void harness_expect_pg(const char *needle);
/* Check the whole PostgreSQL log at the end of a suite; 0 if clean. */
int harness_pg_clean(void);
/* Import config/'s sample units and routing (and officials when
 * officials is set) with paknctl -c conf (NULL: the main paknd's); 0 on
 * success. */
int harness_import_samples(const char *conf, int officials);
/* Seed the database "pakn": import the samples as harness_import_samples
 * (conf NULL: the main paknd's), then run the NULL-terminated SQL
 * statements of sql (or none); 0 on success. */
int harness_seed(const char *conf, int officials, const char *const *sql);
/* Run the NULL-terminated statements on the database "pakn"; 0 if all
 * succeeded. */
int harness_sql(const char *const *sql);
/* paknctl -c conf (NULL: the main paknd's) import-KIND path; 0 on success,
 * else its output on stderr and -1. */
int harness_import(const char *conf, const char *kind, const char *path);
/* Restart PostgreSQL if a test left it stopped (a Check fixture). */
void harness_ensure_pg(void);

/* What a paknctl run printed, and how it ended. */
struct ctl {
	int status; /* wait status (harness_run) */
	char *out;  /* stdout, "" if none */
	char *err;  /* stderr, "" if none */
};
/* Run paknctl -c CONF with the NULL-terminated arguments, on the main
 * paknd's configuration or on conf; release with ctl_clear. */
struct ctl paknctl(const char *arg, ...) HARNESS_SENTINEL;
struct ctl paknctl_conf(const char *conf, const char *arg,
                        ...) HARNESS_SENTINEL;
void ctl_clear(struct ctl *c);
/* Run paknctl -c conf (NULL: the main paknd's) with the NULL-terminated
 * arguments; its exit code (-1 if it was killed), and what it printed on
 * stdout and stderr together in *out (malloc'd). */
int paknctl_out(const char *conf, char **out, const char *arg,
                ...) HARNESS_SENTINEL;
/* Fail unless paknctl exited with want, showing what it printed. */
void ctl_assert_exit(const struct ctl *c, int want);

/* Inside a test: write text to <tmpdir>/name (the test fails if it
 * cannot); its path, malloc'd. */
char *write_tmp(const char *name, const char *text);
/* Inside a test: the outbox's highest id now, as text (malloc'd), to look
 * at what is queued after it. */
char *outbox_mark(void);

/* A member of a JSON value by a dotted path ("a.b.0.c"), or NULL; a string
 * member, or NULL when it is absent or not a string. */
json_t *jget(json_t *j, const char *path);
const char *jstr(json_t *j, const char *path);

/* Inside a test, on the main paknd: an officials' API call with a bearer
 * token and a JSON body (or NULL); fails unless the status is want and the
 * answer a JSON object without a citizen's number (+84). Its body. */
json_t *api_call(const char *method, const char *path, const char *token,
                 const char *body, long want);
/* The same, failing when the answer holds lacks (not "+84"). */
json_t *api_call_lacks(const char *method, const char *path, const char *token,
                       const char *body, long want, const char *lacks);
/* POST /v1/complaints/TICKET/ACTION as api_call. */
json_t *api_act(const char *ticket, const char *action, const char *token,
                const char *body, long want);
/* A string member by a two-level path (b may be NULL), or "". */
const char *jstr2(json_t *j, const char *a, const char *b);
/* A ticket's events but received, routed and assigned, as
 * "event:actor_phone_or_-:reason, ..." in order (malloc'd). */
char *ticket_ledger(const char *ticket);
/* A ticket's responsible unit (malloc'd). */
char *ticket_unit(const char *ticket);

/* Fail unless a string contains a substring. */
#define assert_contains(hay, needle)                                           \
	do {                                                                   \
		const char *h_ = (hay);                                        \
		const char *n_ = (needle);                                     \
		ck_assert_msg(h_ != NULL && strstr(h_, n_) != NULL,            \
		              "\"%s\" does not contain \"%s\"",                \
		              h_ != NULL ? h_ : "(null)", n_);                 \
	} while (0)

/* Fail if a string contains a substring. */
#define assert_lacks(hay, needle)                                              \
	do {                                                                   \
		const char *h_ = (hay);                                        \
		const char *n_ = (needle);                                     \
		ck_assert_msg(h_ == NULL || strstr(h_, n_) == NULL,            \
		              "\"%s\" contains \"%s\"", h_, n_);               \
	} while (0)

/* Fail unless a malloc'd SQL value equals want; free it. */
#define assert_value(got, want)                                                \
	do {                                                                   \
		char *g_ = (got);                                              \
		const char *w_ = (want);                                       \
		ck_assert_msg(g_ != NULL && strcmp(g_, w_) == 0,               \
		              "%s: got \"%s\", want \"%s\"", #got,             \
		              g_ != NULL ? g_ : "(null)", w_);                 \
		free(g_);                                                      \
	} while (0)

/* tests/fakegw as a child of the test process (killed with it): a fake
 * SMS gateway on a free port that writes each request it gets to file. */
struct fakegw {
	const char *name; /* names its files fakegw-NAME.txt and .log */
	const char *mode; /* its -m (kannel, twilio, at...); NULL: kannel */
	const char *opt, *arg; /* one more option and its value, or NULL */
	int port;
	pid_t pid;
	char file[PATH_MAX];
};
/* Start it; 0 once it listens. */
int fakegw_start(struct fakegw *g);
/* SIGTERM it and wait; 0 if it exited 0 (or never started). */
int fakegw_stop(struct fakegw *g);
/* Headless Chromium: its path (NULL if not installed), and one run on url
 * with one option saying what to make (--dump-dom, --screenshot=F,
 * --print-to-pdf=F), stdout to out and its log to err: the wait status. */
/* tests/fakegw's output file: how many requests went to number (to=), and
 * a wait (at most timeout seconds) until there are want; the count. */
int fakegw_count(const char *file, const char *number);
int fakegw_wait(const char *file, const char *number, int want, double timeout);
/* One SMS as Kannel's get-url delivers it to gateway gw on port: the HTTP
 * status. */
long harness_kannel_sms(int port, const char *gw, const char *token,
                        const char *from, const char *to, const char *text,
                        const char *id);
/* A TCP port on 127.0.0.1 that was free a moment ago, or -1. */
int free_port(void);
const char *chromium_path(void);
int chromium_run(const char *url, const char *what, const char *out,
                 const char *err);

/* Send one SMS to the main paknd through Kannel's get-url of gateway gw
 * (its token), from a number to a number (as texted), message id id;
 * the HTTP status (paknd's log is printed when it is not 200). */
long harness_sms_to(const char *gw, const char *token, const char *from,
                    const char *to, const char *text, const char *id);
/* The same with a fresh message id; the test fails unless it is 200. */
void harness_sms(const char *gw, const char *token, const char *from,
                 const char *to, const char *text);
/* The newest complaint of a citizen (E.164): its id and ticket; the test
 * fails when there is none. */
void harness_newest(const char *msisdn, char id[24], char ticket[16]);
/* Text a complaint from a number to a number and return the ticket of the
 * newest complaint of citizen (its E.164 form), malloc'd. */
char *harness_complaint_as(const char *gw, const char *token, const char *from,
                           const char *to, const char *citizen,
                           const char *text);

/* Load tests/fixtures/FIXTURE (gzip'd SQL: a database as an earlier
 * release's migrations left it) into the existing database db with psql;
 * 0, or -1 (psql printed why). */
int harness_restore(const char *db, const char *fixture);

#endif
