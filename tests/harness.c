/* harness.c: a throwaway PostgreSQL cluster, the real paknd, and the HTTP
 * and SQL helpers the integration suite uses to talk to them. */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "harness.h"

#ifndef PAKN_BUILDDIR
#define PAKN_BUILDDIR "."
#endif

#define PG_USER     "pakn"
#define HEALTH_WAIT 10.0

static struct {
	pid_t owner; /* the process that cleans up */
	char dir[128];
	char pgdata[256];
	char pglog[256];
	char ctllog[256];
	char pg_ctl[600];
	char initdb[600];
	int pgport;
	int drop; /* run PostgreSQL as an unprivileged user */
	int keep; /* $PAKN_KEEP_TMP: leave the directory for a look */
	uid_t uid;
	gid_t gid;
	struct paknd main;
	char *stop_argv[10]; /* pg_ctl stop, built in advance for signals */
	char *rm_argv[4];    /* rm -rf of the directory, likewise */
} H;

/* Return a monotonic clock in seconds. */
double
now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Sleep for ms milliseconds. */
void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* printf into a new string; abort on out of memory. */
char *
strf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		abort();
	va_end(ap);
	return s;
}

/* Return the temporary directory. */
const char *
harness_dir(void)
{
	return H.dir;
}

/* Write "<tmpdir>/<name>" into buf. */
void
harness_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", H.dir, name);
}

/* Return the paknd that main() started for all tests. */
struct paknd *
harness_main(void)
{
	return &H.main;
}

/* Return the path of the daemon under test. */
const char *
paknd_path(void)
{
	return PAKN_BUILDDIR "/daemon/paknd";
}

/* Return the path of the control program under test. */
const char *
paknctl_path(void)
{
	return PAKN_BUILDDIR "/daemon/paknctl";
}

/* Remove one entry of the temporary tree. */
static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

/* Stop what is still running and remove the temporary directory. */
static void
harness_cleanup(void)
{
	int status;

	if (getpid() != H.owner || H.dir[0] == '\0')
		return;
	if (H.main.pid > 0) {
		kill(H.main.pid, SIGKILL);
		waitpid(H.main.pid, &status, 0);
		H.main.pid = 0;
	}
	if (H.pgport > 0 && pg_is_running())
		pg_stop();
	if (H.keep) {
		fprintf(stderr, "harness: kept %s\n", H.dir);
		return;
	}
	nftw(H.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	H.dir[0] = '\0';
}

/* Run a program to its end with async-signal-safe calls only. */
static void
run_now(char *const argv[], int drop)
{
	pid_t pid;
	int status;

	if ((pid = fork()) == 0) {
		if (drop && (setgroups(0, NULL) == -1 || setgid(H.gid) == -1 ||
		             setuid(H.uid) == -1))
			_exit(127);
		execv(argv[0], argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
}

/* On SIGINT or SIGTERM, stop the servers, remove the directory, then die
 * by the same signal. */
static void
harness_on_signal(int sig)
{
	if (getpid() == H.owner) {
		if (H.main.pid > 0)
			kill(H.main.pid, SIGKILL);
		if (H.stop_argv[0] != NULL)
			run_now(H.stop_argv, H.drop);
		if (!H.keep)
			run_now(H.rm_argv, 0);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Find the PostgreSQL server programs: $PG_BINDIR, else the newest
 * /usr/lib/postgresql/N/bin, else /usr/bin. */
static void
pg_find_bindir(void)
{
	const char *env = getenv("PG_BINDIR");
	char bindir[512] = "";
	glob_t g;

	if (env != NULL && *env != '\0')
		snprintf(bindir, sizeof bindir, "%s", env);
	else if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) == 0) {
		snprintf(bindir, sizeof bindir, "%s",
		         g.gl_pathv[g.gl_pathc - 1]);
		*strrchr(bindir, '/') = '\0';
		globfree(&g);
	}
	if (bindir[0] == '\0') {
		snprintf(H.initdb, sizeof H.initdb, "/usr/bin/initdb");
		snprintf(H.pg_ctl, sizeof H.pg_ctl, "/usr/bin/pg_ctl");
	} else {
		snprintf(H.initdb, sizeof H.initdb, "%s/initdb", bindir);
		snprintf(H.pg_ctl, sizeof H.pg_ctl, "%s/pg_ctl", bindir);
	}
}

/* Make the temporary directory and register the cleanup. */
int
harness_init(void)
{
	char tmpl[] = "/tmp/pakn-it-XXXXXX";
	struct passwd *pw;

	H.owner = getpid();
	H.keep = getenv("PAKN_KEEP_TMP") != NULL;
	if (mkdtemp(tmpl) == NULL) {
		perror("harness: mkdtemp");
		return -1;
	}
	snprintf(H.dir, sizeof H.dir, "%s", tmpl);
	H.rm_argv[0] = "/bin/rm";
	H.rm_argv[1] = "-rf";
	H.rm_argv[2] = H.dir;
	atexit(harness_cleanup);
	signal(SIGINT, harness_on_signal);
	signal(SIGTERM, harness_on_signal);
	signal(SIGPIPE, SIG_IGN);
	if (geteuid() == 0) {
		/* PostgreSQL refuses to run as root. */
		pw = getpwnam("nobody");
		H.uid = pw != NULL ? pw->pw_uid : 65534;
		H.gid = pw != NULL ? pw->pw_gid : 65534;
		H.drop = 1;
		if (chown(H.dir, H.uid, H.gid) == -1 ||
		    chmod(H.dir, 0755) == -1) {
			perror("harness: chown");
			return -1;
		}
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	pg_find_bindir();
	return 0;
}

/* Fork and exec argv with stdout to out and stderr to err (NULL: the
 * null device), optionally as the unprivileged user, optionally killed
 * when its parent dies, optionally with a descriptor limit (soft and
 * hard). */
static pid_t
spawn(char *const argv[], const char *out, const char *err, int drop,
      int deathsig, long nofile)
{
	struct rlimit rl = {(rlim_t)nofile, (rlim_t)nofile};
	pid_t parent = getpid(), pid;
	int fd;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		perror("harness: fork");
		return -1;
	}
	if (pid > 0)
		return pid;
	if (deathsig &&
	    (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent))
		_exit(127);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	fd = open("/dev/null", O_RDONLY);
	dup2(fd, 0);
	close(fd);
	fd = open(out != NULL ? out : "/dev/null",
	          O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	dup2(fd, 1);
	close(fd);
	fd = open(err != NULL ? err : "/dev/null",
	          O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	dup2(fd, 2);
	close(fd);
	if (chdir(H.dir) == -1)
		_exit(127);
	if (drop && (setgroups(0, NULL) == -1 || setgid(H.gid) == -1 ||
	             setuid(H.uid) == -1))
		_exit(127);
	if (nofile > 0 && setrlimit(RLIMIT_NOFILE, &rl) == -1)
		_exit(127);
	execv(argv[0], argv);
	fprintf(stderr, "harness: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Wait up to timeout seconds for pid; 0 and *status when it exited. */
static int
wait_timeout(pid_t pid, double timeout, int *status)
{
	double end = now_secs() + timeout;
	pid_t r;

	for (;;) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
		if (now_secs() > end)
			return -1;
		sleep_ms(10);
	}
}

/* Run a program to its end; the wait status, or -1 if killed on timeout. */
int
harness_run(char *const argv[], const char *out, const char *err,
            double timeout)
{
	pid_t pid;
	int status;

	if ((pid = spawn(argv, out, err, 0, 1, 0)) == -1)
		return -1;
	if (wait_timeout(pid, timeout, &status) == 0)
		return status;
	fprintf(stderr, "harness: %s still running after %.0f s, killed\n",
	        argv[0], timeout);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* Run a PostgreSQL program as the server's user, output appended to
 * pg_ctl.log; 0 if it exited 0. Unless quiet, explain a failure. */
static int
pg_run(char *const argv[], double timeout, int quiet)
{
	pid_t pid;
	int status;

	if ((pid = spawn(argv, H.ctllog, H.ctllog, H.drop, 0, 0)) == -1)
		return -1;
	if (wait_timeout(pid, timeout, &status) == -1) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		status = -1;
	}
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (!quiet) {
		fprintf(stderr, "harness: %s failed\n", argv[0]);
		log_tail(H.ctllog, 20);
		log_tail(H.pglog, 20);
	}
	return -1;
}

/* Return a TCP port on 127.0.0.1 that was free a moment ago. */
int
free_port(void)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	socklen_t len = sizeof sin;
	int fd, port = -1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/* Return the port of the test cluster. */
int
pg_port(void)
{
	return H.pgport;
}

/* Write a libpq conninfo for a database of the test cluster into buf. */
void
pg_conninfo(char *buf, size_t size, const char *dbname)
{
	snprintf(buf, size,
	         "host=127.0.0.1 port=%d dbname=%s user=" PG_USER
	         " connect_timeout=5",
	         H.pgport, dbname);
}

/* Append the server settings to postgresql.conf. */
static int
pg_write_settings(void)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof path, "%s/postgresql.conf", H.pgdata);
	if ((f = fopen(path, "a")) == NULL) {
		perror(path);
		return -1;
	}
	fprintf(f,
	        "\n# integration suite\n"
	        "listen_addresses = '127.0.0.1'\n"
	        "port = %d\n"
	        "unix_socket_directories = '%s'\n"
	        "fsync = off\n"
	        "synchronous_commit = off\n"
	        "full_page_writes = off\n"
	        "max_connections = 60\n",
	        H.pgport, H.dir);
	return fclose(f) == 0 ? 0 : -1;
}

/* Initialise a cluster, start it and create the database "pakn". */
int
pg_setup(void)
{
	char *initdb[] = {H.initdb,    "-D",    H.pgdata,
	                  "-U",        PG_USER, "--auth=trust",
	                  "-E",        "UTF8",  "--locale=C.UTF-8",
	                  "--no-sync", NULL};

	snprintf(H.pgdata, sizeof H.pgdata, "%s/pg", H.dir);
	snprintf(H.pglog, sizeof H.pglog, "%s/postgresql.log", H.dir);
	snprintf(H.ctllog, sizeof H.ctllog, "%s/pg_ctl.log", H.dir);
	if (access(H.initdb, X_OK) == -1) {
		fprintf(stderr,
		        "harness: %s not found (install postgresql, "
		        "or set PG_BINDIR)\n",
		        H.initdb);
		return -1;
	}
	if ((H.pgport = free_port()) == -1)
		return -1;
	if (pg_run(initdb, 120, 0) == -1 || pg_write_settings() == -1)
		return -1;
	H.stop_argv[0] = H.pg_ctl;
	H.stop_argv[1] = "-D";
	H.stop_argv[2] = H.pgdata;
	H.stop_argv[3] = "-m";
	H.stop_argv[4] = "immediate";
	H.stop_argv[5] = "stop";
	H.stop_argv[6] = NULL;
	if (pg_start() == -1)
		return -1;
	return sql_exec_db("postgres", "CREATE DATABASE pakn");
}

/* Start the cluster (again) on its port and wait for connections. */
int
pg_start(void)
{
	char *argv[] = {H.pg_ctl, "-D", H.pgdata, "-l",    H.pglog,
	                "-w",     "-t", "60",     "start", NULL};
	char conninfo[256];
	double end = now_secs() + 30;

	if (pg_run(argv, 90, 0) == -1)
		return -1;
	pg_conninfo(conninfo, sizeof conninfo, "postgres");
	while (PQping(conninfo) != PQPING_OK) {
		if (now_secs() > end) {
			fprintf(stderr,
			        "harness: PostgreSQL does not answer\n");
			log_tail(H.pglog, 20);
			return -1;
		}
		sleep_ms(50);
	}
	return 0;
}

/* Stop the cluster (fast shutdown: sessions are cut). */
int
pg_stop(void)
{
	char *argv[] = {H.pg_ctl, "-D", H.pgdata, "-m",   "fast",
	                "-w",     "-t", "60",     "stop", NULL};

	return pg_run(argv, 90, 0);
}

/* Crash the cluster: an immediate shutdown (what was still in its WAL
 * buffers is lost; the next start recovers from the WAL written). */
int
pg_crash(void)
{
	char *argv[] = {H.pg_ctl, "-D", H.pgdata, "-m",   "immediate",
	                "-w",     "-t", "60",     "stop", NULL};

	return pg_run(argv, 90, 0);
}

/* Return 1 while the cluster's postmaster runs. */
int
pg_is_running(void)
{
	char *argv[] = {H.pg_ctl, "-D", H.pgdata, "status", NULL};

	return pg_run(argv, 30, 1) == 0;
}

/* Connect to a database of the test cluster; NULL after printing why. */
static PGconn *
sql_connect(const char *db)
{
	char conninfo[256];
	PGconn *conn;

	pg_conninfo(conninfo, sizeof conninfo, db);
	conn = PQconnectdb(conninfo);
	if (PQstatus(conn) != CONNECTION_OK) {
		fprintf(stderr, "harness: connect %s: %s", db,
		        PQerrorMessage(conn));
		PQfinish(conn);
		return NULL;
	}
	return conn;
}

/* Run a query with the NULL-terminated text parameters of ap. */
static PGresult *
sql_vquery(const char *db, const char *query, va_list ap)
{
	const char *params[32];
	PGresult *res;
	PGconn *conn;
	int n = 0;
	const char *p;

	while ((p = va_arg(ap, const char *)) != NULL && n < 32)
		params[n++] = p;
	if ((conn = sql_connect(db)) == NULL)
		return NULL;
	res = PQexecParams(conn, query, n, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK &&
	    PQresultStatus(res) != PGRES_COMMAND_OK) {
		fprintf(stderr, "harness: SQL %s\n%s", query,
		        PQresultErrorMessage(res));
		PQclear(res);
		res = NULL;
	}
	PQfinish(conn);
	return res;
}

/* Run a query on the database "pakn". */
PGresult *
sql_query(const char *query, ...)
{
	PGresult *res;
	va_list ap;

	va_start(ap, query);
	res = sql_vquery("pakn", query, ap);
	va_end(ap);
	return res;
}

/* Run a query on a named database. */
PGresult *
sql_query_db(const char *db, const char *query, ...)
{
	PGresult *res;
	va_list ap;

	va_start(ap, query);
	res = sql_vquery(db, query, ap);
	va_end(ap);
	return res;
}

/* Return a column of row 0, or NULL for no row or an SQL NULL. */
const char *
sql_col(const PGresult *res, int col)
{
	if (res == NULL || PQntuples(res) < 1 || col >= PQnfields(res) ||
	    PQgetisnull(res, 0, col))
		return NULL;
	return PQgetvalue(res, 0, col);
}

/* Copy the first value of a result and free the result. */
static char *
sql_first(PGresult *res)
{
	const char *v = sql_col(res, 0);
	char *s = v != NULL ? strdup(v) : NULL;

	PQclear(res);
	return s;
}

/* Return the first value of a query on "pakn", malloc'd. */
char *
sql_value(const char *query, ...)
{
	PGresult *res;
	va_list ap;

	va_start(ap, query);
	res = sql_vquery("pakn", query, ap);
	va_end(ap);
	return sql_first(res);
}

/* Return the first value of a query on a named database, malloc'd. */
char *
sql_value_db(const char *db, const char *query, ...)
{
	PGresult *res;
	va_list ap;

	va_start(ap, query);
	res = sql_vquery(db, query, ap);
	va_end(ap);
	return sql_first(res);
}

/* Return the first value of a query on "pakn" as a number, -1 if none. */
long
sql_long(const char *query, ...)
{
	PGresult *res;
	va_list ap;
	char *s;
	long v;

	va_start(ap, query);
	res = sql_vquery("pakn", query, ap);
	va_end(ap);
	if ((s = sql_first(res)) == NULL)
		return -1;
	v = strtol(s, NULL, 10);
	free(s);
	return v;
}

/* Run one statement without parameters on a named database. */
int
sql_exec_db(const char *db, const char *query)
{
	PGresult *res;
	PGconn *conn;
	int rc = 0;

	if ((conn = sql_connect(db)) == NULL)
		return -1;
	res = PQexec(conn, query);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "harness: SQL %s\n%s", query,
		        PQresultErrorMessage(res));
		rc = -1;
	}
	PQclear(res);
	PQfinish(conn);
	return rc;
}

/* See harness.h. */
char *
sql_rolled_back(const char *setup, const char *query)
{
	PGresult *res;
	PGconn *conn;
	char *v = NULL;
	char *begin = strf("BEGIN; %s", setup);

	if ((conn = sql_connect("pakn")) == NULL) {
		free(begin);
		return NULL;
	}
	res = PQexec(conn, begin);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		fprintf(stderr, "harness: SQL %s\n%s", setup,
		        PQresultErrorMessage(res));
	else {
		PQclear(res);
		res = PQexec(conn, query);
		if (PQresultStatus(res) != PGRES_TUPLES_OK)
			fprintf(stderr, "harness: SQL %s\n%s", query,
			        PQresultErrorMessage(res));
		else if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
			v = strdup(PQgetvalue(res, 0, 0));
	}
	PQclear(res);
	PQclear(PQexec(conn, "ROLLBACK"));
	PQfinish(conn);
	free(begin);
	return v;
}

/* See harness.h. */
PGresult *
sql_behind(const char *held, const char *query, int *waited)
{
	PGconn *a, *b;
	PGresult *res, *r;
	char *begin = strf("BEGIN; %s", held);

	*waited = 0;
	a = sql_connect("pakn");
	b = sql_connect("pakn");
	res = a != NULL && b != NULL ? PQexec(a, begin) : NULL;
	free(begin);
	if (res == NULL || (PQresultStatus(res) != PGRES_COMMAND_OK &&
	                    PQresultStatus(res) != PGRES_TUPLES_OK)) {
		fprintf(stderr, "harness: SQL %s\n%s", held,
		        a != NULL ? PQerrorMessage(a) : "no connection");
		PQclear(res);
		PQfinish(a);
		PQfinish(b);
		return NULL;
	}
	PQclear(res);
	res = NULL;
	if (PQsendQuery(b, query) == 1) {
		sleep_ms(300);
		*waited = PQconsumeInput(b) == 1 && PQisBusy(b);
	}
	PQclear(PQexec(a, "COMMIT"));
	while ((r = PQgetResult(b)) != NULL) {
		if (res == NULL)
			res = r;
		else
			PQclear(r);
	}
	PQfinish(a);
	PQfinish(b);
	return res;
}

/* Return the text of the standard test configuration. */
char *
paknd_config_text(int port, const char *dbname, int migrate, const char *extra)
{
	return strf(
	    "# paknd configuration written by the integration suite\n"
	    "[server]\n"
	    "listen = 127.0.0.1:%d\n"
	    "max_body_size = 4096\n"
	    "timeout = 10\n"
	    "drain_timeout = 5\n"
	    "\n"
	    "[database]\n"
	    "conninfo = \"host=127.0.0.1 port=%d dbname=%s user=" PG_USER "\"\n"
	    "pool_size = 4\n"
	    "migrate = %s\n"
	    "reconnect_max = 2\n"
	    "\n"
	    "# The suites send many messages from one phone and run the\n"
	    "# schedules at will: no per-phone limits, no leaders' summary at\n"
	    "# the real Monday 07:30 (check_abuse sets its own).\n"
	    "[abuse]\n"
	    "complaints_per_hour = 0\n"
	    "complaints_per_day = 0\n"
	    "replies_per_day = 0\n"
	    "repeat_window = 0\n"
	    "\n"
	    "[summary]\n"
	    "weekly = no\n"
	    "monthly = no\n"
	    "\n"
	    "# Each notice of a new complaint at once: the suites count a\n"
	    "# unit's notices complaint by complaint (check_intake's\n"
	    "# test_notices_gathered sets its own).\n"
	    "[sms]\n"
	    "notice_gather = 0\n"
	    "\n"
	    "[intake]\n"
	    "journal_dir = %s/journal-%d\n"
	    "\n"
	    "[gateway.kannel]\n"
	    "type = kannel\n"
	    "token = kannel-secret\n"
	    "\n"
	    "[gateway.twilio]\n"
	    "type = twilio\n"
	    "auth_token = 12345\n"
	    "public_url = https://pakn.example.vn\n"
	    "\n"
	    "[gateway.at]\n"
	    "type = africastalking\n"
	    "token = at-secret\n"
	    "%s%s",
	    port, H.pgport, dbname, migrate ? "yes" : "no", H.dir, port,
	    extra != NULL ? "\n" : "", extra != NULL ? extra : "");
}

/* Write a whole file; 0 on success. */
int
file_write(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f == NULL) {
		perror(path);
		return -1;
	}
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -1;
}

/* Prepare an instance: port, config file, log file. */
int
paknd_config(struct paknd *d, const char *name, const char *dbname, int migrate,
             const char *extra)
{
	char file[64];

	memset(d, 0, sizeof *d);
	snprintf(d->name, sizeof d->name, "%s", name);
	if ((d->port = free_port()) == -1)
		return -1;
	snprintf(file, sizeof file, "paknd-%s.conf", name);
	harness_path(d->conf, sizeof d->conf, file);
	snprintf(file, sizeof file, "paknd-%s.log", name);
	harness_path(d->log, sizeof d->log, file);
	return paknd_rewrite(d, dbname, migrate, extra);
}

/* Rewrite the config file of an instance, keeping its port. */
int
paknd_rewrite(const struct paknd *d, const char *dbname, int migrate,
              const char *extra)
{
	char *text = paknd_config_text(d->port, dbname, migrate, extra);
	int rc = file_write(d->conf, text);

	free(text);
	return rc;
}

/* Return 1 while the instance runs (a zombie counts as gone). */
int
paknd_alive(struct paknd *d)
{
	int status;

	if (d->pid <= 0)
		return 0;
	if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
		fprintf(stderr, "harness: paknd %s exited, status 0x%x\n",
		        d->name, status);
		d->pid = 0;
		return 0;
	}
	return 1;
}

/* Start paknd on its config and wait until /healthz answers 200. */
int
paknd_spawn(struct paknd *d)
{
	char *argv[] = {(char *)paknd_path(), "-c", d->conf, "-f", "-v", NULL};
	double end = now_secs() + HEALTH_WAIT;
	struct http_resp r;
	long status;

	if (access(argv[0], X_OK) == -1) {
		fprintf(stderr, "harness: %s: %s\n", argv[0], strerror(errno));
		return -1;
	}
	if ((d->pid = spawn(argv, d->log, d->log, 0, 1, d->nofile)) == -1)
		return -1;
	for (;;) {
		status = http_get(d->port, "/healthz", &r);
		http_resp_free(&r);
		if (status == 200)
			return 0;
		if (!paknd_alive(d) || now_secs() > end)
			break;
		sleep_ms(10);
	}
	fprintf(stderr,
	        "harness: paknd %s did not answer /healthz with 200 "
	        "(last status %ld)\n",
	        d->name, status);
	paknd_dump(d);
	if (d->pid > 0)
		paknd_stop(d, 1);
	return -1;
}

/* Wait until GET /readyz answers 200. */
int
paknd_wait_ready(struct paknd *d, double timeout)
{
	double end = now_secs() + timeout;
	struct http_resp r;
	long status;

	for (;;) {
		status = http_get(d->port, "/readyz", &r);
		if (status == 200) {
			http_resp_free(&r);
			return 0;
		}
		if (!paknd_alive(d) || now_secs() > end)
			break;
		http_resp_free(&r);
		sleep_ms(20);
	}
	fprintf(stderr, "harness: paknd %s not ready after %.0f s: %ld %s\n",
	        d->name, timeout, status, r.body);
	http_resp_free(&r);
	paknd_dump(d);
	return -1;
}

/* Configure an instance on database "pakn" and start it. */
int
paknd_start(struct paknd *d, const char *name, const char *extra)
{
	if (paknd_config(d, name, "pakn", 1, extra) == -1)
		return -1;
	return paknd_spawn(d);
}

/* Send a signal to an instance. */
int
paknd_signal(const struct paknd *d, int sig)
{
	if (d->pid <= 0)
		return -1;
	return kill(d->pid, sig);
}

/* SIGTERM and wait; the wait status, or -1 if it had to be killed. */
int
paknd_stop(struct paknd *d, double timeout)
{
	int status;

	if (d->pid <= 0)
		return -1;
	kill(d->pid, SIGTERM);
	if (wait_timeout(d->pid, timeout, &status) == 0) {
		d->pid = 0;
		return status;
	}
	fprintf(stderr,
	        "harness: paknd %s still running %.1f s after "
	        "SIGTERM, killed\n",
	        d->name, timeout);
	kill(d->pid, SIGKILL);
	waitpid(d->pid, &status, 0);
	d->pid = 0;
	return -1;
}

/* What marks a fault in paknd's log, and in PostgreSQL's. */
static const char *const paknd_faults[] = {"[warning]",      "[error]",
                                           "runtime error:", "AddressSanitizer",
                                           "LeakSanitizer",  NULL};
static const char *const pg_faults[] = {"ERROR:", "PANIC:", "WARNING:", NULL};

/* Where the expected lines of paknd's and PostgreSQL's logs are kept:
 * a file, so that what a forked test expects reaches its parent. */
static void
expect_path(char *buf, size_t size, int pg)
{
	snprintf(buf, size, "%s/expected-%s", H.dir, pg ? "pg" : "paknd");
}

/* Append one expected needle to a file. */
static void
expect_add(int pg, const char *needle)
{
	char path[PATH_MAX];
	FILE *f;

	expect_path(path, sizeof path, pg);
	if ((f = fopen(path, "a")) == NULL)
		abort();
	fprintf(f, "%s\n", needle);
	fclose(f);
}

/* Say that paknd may log a warning or error containing needle (from now
 * until the end of the suite). */
void
harness_expect_log(const char *needle)
{
	expect_add(0, needle);
}

/* Say that PostgreSQL may log an ERROR containing needle. */
void
harness_expect_pg(const char *needle)
{
	expect_add(1, needle);
}

/* Does line[0..len) contain one of the expected needles? */
static int
line_expected(const char *line, size_t len, const char *expected)
{
	const char *p = expected, *nl;

	for (; p != NULL && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			break;
		if (nl > p && memmem(line, len, p, (size_t)(nl - p)) != NULL)
			return 1;
	}
	return 0;
}

/* Is line[0..len) the rest of PostgreSQL's report of the line before
 * (a DETAIL, CONTEXT, HINT or STATEMENT, or a line of it)? */
static int
line_continues(const char *line, size_t len)
{
	static const char *const parts[] = {
	    "] DETAIL:", "] CONTEXT:", "] HINT:", "] STATEMENT:", NULL};

	if (len > 0 && line[0] == '\t')
		return 1;
	for (int i = 0; parts[i] != NULL; i++)
		if (memmem(line, len, parts[i], strlen(parts[i])) != NULL)
			return 1;
	return 0;
}

/* The lines after from that hold a fault and no expected needle; in
 * PostgreSQL's log, with the rest of each one's report (which
 * statements deadlocked, say), up to 40 lines of it. */
static char *
log_unexpected(const char *path, size_t from, const char *const *faults, int pg)
{
	char epath[PATH_MAX], *text, *expected, *line, *end;
	struct buf_s {
		char *p;
		size_t n;
	} out = {NULL, 0};
	size_t len;
	int tail = 0;

	expect_path(epath, sizeof epath, pg);
	if ((text = file_read(path, &len)) == NULL)
		return NULL;
	expected = file_read(epath, NULL);
	for (line = text + (from < len ? from : len); *line != '\0';
	     line = end) {
		size_t n;
		int fault = 0;
		end = strchr(line, '\n');
		end = end != NULL ? end + 1 : line + strlen(line);
		n = (size_t)(end - line);
		for (int i = 0; faults[i] != NULL && !fault; i++)
			fault = memmem(line, n, faults[i], strlen(faults[i])) !=
			        NULL;
		if (!fault && tail > 0 && line_continues(line, n))
			tail--;
		else if (!fault || line_expected(line, n, expected)) {
			tail = 0;
			continue;
		} else
			tail = pg ? 40 : 0;
		if ((out.p = realloc(out.p, out.n + n + 1)) == NULL)
			abort();
		memcpy(out.p + out.n, line, n);
		out.n += n;
		out.p[out.n] = '\0';
	}
	free(text);
	free(expected);
	return out.p;
}

/* Sizes of the shared logs when the running test started. */
static size_t mark_paknd, mark_pg;

/* Checked fixture: remember where the logs stood before the test. */
static void
harness_mark(void)
{
	if (H.dir[0] == '\0')
		return;
	mark_paknd = file_size(H.main.log);
	mark_pg = file_size(H.pglog);
}

/* Checked fixture: fail the test if paknd or PostgreSQL logged a fault
 * it did not say to expect. */
static void
harness_check(void)
{
	char *bad;

	if (H.dir[0] == '\0')
		return;
	/* Let lines written just before the test ended reach the files. */
	sleep_ms(50);
	if (H.main.log[0] != '\0' &&
	    (bad = log_unexpected(H.main.log, mark_paknd, paknd_faults, 0)))
		ck_abort_msg("paknd logged what the test did not expect:\n%s",
		             bad);
	if ((bad = log_unexpected(H.pglog, mark_pg, pg_faults, 1)) != NULL)
		ck_abort_msg(
		    "PostgreSQL logged what the test did not expect:\n%s", bad);
}

/* Check a whole PostgreSQL log at the end of a suite; 0 if clean. */
int
harness_pg_clean(void)
{
	char *bad = log_unexpected(H.pglog, 0, pg_faults, 1);

	if (bad == NULL)
		return 0;
	fprintf(stderr, "PostgreSQL logged unexpected lines:\n%s", bad);
	free(bad);
	return -1;
}

/* Stop an instance and check how it ended and what it logged. */
int
paknd_finish(struct paknd *d, ...)
{
	int status = paknd_stop(d, 10), rc = 0;
	const char *secret;
	char *found;
	va_list ap;

	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "paknd %s: wait status 0x%x after SIGTERM\n",
		        d->name, status);
		paknd_dump(d);
		rc = -1;
	}
	if ((found = log_unexpected(d->log, 0, paknd_faults, 0)) != NULL) {
		fprintf(stderr, "paknd %s logged unexpected lines:\n%s",
		        d->name, found);
		free(found);
		rc = -1;
	}
	if (d == &H.main && harness_pg_clean() != 0)
		rc = -1;
	va_start(ap, d);
	while ((secret = va_arg(ap, const char *)) != NULL) {
		if ((found = log_grep(d->log, 0, secret)) != NULL) {
			fprintf(stderr, "paknd %s logged a secret:\n%s",
			        d->name, found);
			free(found);
			rc = -1;
		}
	}
	va_end(ap);
	return rc;
}

/* Print the end of an instance's log to stderr. */
void
paknd_dump(const struct paknd *d)
{
	log_tail(d->log, 30);
}

/* Read a whole file into a NUL-terminated buffer; NULL if unreadable. */
char *
file_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n = 0, cap = 0, got;

	if (f == NULL)
		return NULL;
	do {
		if (cap - n < 4096) {
			cap = cap * 2 + 8192;
			if ((buf = realloc(buf, cap)) == NULL)
				abort();
		}
		got = fread(buf + n, 1, cap - n - 1, f);
		n += got;
	} while (got > 0);
	fclose(f);
	buf[n] = '\0';
	if (len != NULL)
		*len = n;
	return buf;
}

/* Return the size of a file, 0 if it does not exist. */
size_t
file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? (size_t)st.st_size : 0;
}

/* Return the lines after offset from that contain needle, or NULL. */
char *
log_grep(const char *path, size_t from, const char *needle)
{
	size_t len, n = 0;
	char *text = file_read(path, &len), *out, *line, *end;

	if (text == NULL)
		return NULL;
	if ((out = malloc(len + 1)) == NULL)
		abort();
	for (line = text + (from < len ? from : len); *line != '\0';
	     line = end) {
		end = strchr(line, '\n');
		end = end != NULL ? end + 1 : line + strlen(line);
		if (memmem(line, end - line, needle, strlen(needle)) != NULL) {
			memcpy(out + n, line, end - line);
			n += end - line;
		}
	}
	free(text);
	out[n] = '\0';
	if (n == 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* Wait until a line after from contains needle; 0 if it appeared. */
int
log_wait(const char *path, size_t from, const char *needle, double timeout)
{
	double end = now_secs() + timeout;
	char *found;

	for (;;) {
		if ((found = log_grep(path, from, needle)) != NULL) {
			free(found);
			return 0;
		}
		if (now_secs() > end)
			return -1;
		sleep_ms(20);
	}
}

/* Print the last n lines of a file to stderr. */
void
log_tail(const char *path, int n)
{
	size_t len;
	char *text = file_read(path, &len), *p;

	if (text == NULL) {
		fprintf(stderr, "---- %s: unreadable\n", path);
		return;
	}
	p = text + len;
	if (p > text && p[-1] == '\n')
		p--;
	while (p > text && n > 0)
		if (*--p == '\n')
			n--;
	if (*p == '\n')
		p++;
	fprintf(stderr, "---- last lines of %s\n%s%s---- end\n", path, p,
	        len > 0 && text[len - 1] != '\n' ? "\n" : "");
	free(text);
}

/* Append received bytes to a response buffer. */
static size_t
http_collect(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_resp *r = arg;
	size_t n = size * nmemb;

	if ((r->body = realloc(r->body, r->len + n + 1)) == NULL)
		abort();
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
	return n;
}

/* Append a response header line to r->head (a redirect or 100 Continue
 * starts it over). */
static size_t
http_collect_head(char *data, size_t size, size_t nmemb, void *arg)
{
	struct http_resp *r = arg;
	size_t n = size * nmemb, have = strlen(r->head);
	char *p;

	if (n >= 5 && !strncmp(data, "HTTP/", 5))
		have = 0;
	if ((p = realloc(r->head, have + n + 1)) == NULL)
		abort();
	memcpy(p + have, data, n);
	p[have + n] = '\0';
	r->head = p;
	return n;
}

/* Make an easy handle for one request; *hdrs receives the header list. */
static CURL *
http_easy(int port, const char *method, const char *path,
          const char *const *headers, const void *body, size_t len,
          struct curl_slist **hdrs)
{
	CURL *c = curl_easy_init();
	char *url;

	if (c == NULL)
		abort();
	/* libcurl copies the URL; any length. */
	url = strf("http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	free(url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	*hdrs = curl_slist_append(NULL, "Expect:");
	for (; headers != NULL && *headers != NULL; headers++)
		*hdrs = curl_slist_append(*hdrs, *headers);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	else if (strcmp(method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
		                 body != NULL ? body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		                 (curl_off_t)len);
	} else {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
		if (body != NULL) {
			curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
			                 (curl_off_t)len);
		}
	}
	return c;
}

/* Send one request and collect the answer into r; return the status. */
long
http_request(int port, const char *method, const char *path,
             const char *const *headers, const void *body, size_t len,
             struct http_resp *r)
{
	struct curl_slist *hdrs;
	CURL *c = http_easy(port, method, path, headers, body, len, &hdrs);
	char *ctype = NULL;
	CURLcode rc;

	memset(r, 0, sizeof *r);
	if ((r->body = calloc(1, 1)) == NULL)
		abort();
	if ((r->head = calloc(1, 1)) == NULL)
		abort();
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, http_collect_head);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->err);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK && r->err[0] == '\0')
		snprintf(r->err, sizeof r->err, "%s", curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &r->secs);
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ctype) == CURLE_OK &&
	    ctype != NULL)
		r->ctype = strdup(ctype);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdrs);
	if (strstr(path, "/sms") != NULL)
		harness_settle();
	return r->status;
}

/* Wait until no stored message of database "pakn" waits for processing
 * (state 'new'), at most 15 s: intake answers a callback once it is
 * stored, the processing worker acts on it a moment later, and tests
 * read what processing did. Returns at once when the database does not
 * answer (a test of an outage). */
int harness_no_settle;

PGconn *
harness_hold_processing_in(const char *dbname)
{
	char ci[256];
	PGconn *c;
	PGresult *res;

	pg_conninfo(ci, sizeof ci, dbname);
	c = PQconnectdb(ci);
	ck_assert_int_eq(PQstatus(c), CONNECTION_OK);
	res = PQexec(c, "SELECT count(pg_advisory_lock(7141748, b)) FROM "
	                "generate_series(0, 127) b");
	ck_assert_int_eq(PQresultStatus(res), PGRES_TUPLES_OK);
	PQclear(res);
	return c;
}

PGconn *
harness_hold_processing(void)
{
	PGconn *c = harness_hold_processing_in("pakn");

	harness_no_settle = 1;
	return c;
}

void
harness_release_processing(PGconn *c)
{
	PQfinish(c);
	harness_no_settle = 0;
}

void
harness_settle(void)
{
	double end = now_secs() + 15;
	long n;

	if (harness_no_settle)
		return;
	while ((n = sql_long("SELECT count(*) FROM pakn.inbound_message "
	                     "WHERE state = 'new'",
	                     NULL)) > 0 &&
	       now_secs() < end)
		sleep_ms(5);
}

/* Send a GET and return the status. */
long
http_get(int port, const char *path, struct http_resp *r)
{
	return http_request(port, "GET", path, NULL, NULL, 0, r);
}

long
metric_value(int port, const char *series)
{
	struct http_resp r;
	char *line = strf("\n%s ", series);
	const char *at;
	long n = -1;

	ck_assert_int_eq(http_get(port, "/metrics", &r), 200);
	if ((at = strstr(r.body, line)) != NULL)
		n = atol(at + strlen(line));
	http_resp_free(&r);
	free(line);
	return n;
}

/* Free what a response holds. */
void
http_resp_free(struct http_resp *r)
{
	free(r->body);
	free(r->ctype);
	free(r->head);
	r->body = r->ctype = r->head = NULL;
}

/* The value of a response header, malloc'd; NULL if absent. */
char *
http_resp_header(const struct http_resp *r, const char *name)
{
	size_t n = strlen(name);
	const char *line, *end, *v;

	for (line = r->head; line != NULL && *line != '\0'; line = end) {
		end = strchr(line, '\n');
		end = end != NULL ? end + 1 : line + strlen(line);
		if (strncasecmp(line, name, n) != 0 || line[n] != ':')
			continue;
		for (v = line + n + 1; *v == ' ' || *v == '\t'; v++)
			;
		n = (size_t)(end - v);
		while (n > 0 && (v[n - 1] == '\n' || v[n - 1] == '\r'))
			n--;
		return strndup(v, n);
	}
	return NULL;
}

/* Discard a response body. */
static size_t
http_discard(char *data, size_t size, size_t nmemb, void *arg)
{
	return size * nmemb;
}

/* One child of http_hammers: GET path again and again, until killed,
 * or until the process that made it ends: a failed assertion before
 * http_hammers_stop left eight of them loading the machine after the
 * suite. (Suites run without a fork a test, CK_NOFORK: they go on
 * through the suite's later tests, then die with it.) */
static void
http_hammer(int port, const char *path, pid_t parent)
{
	struct curl_slist *hdrs;
	CURL *c;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(1);
	harness_no_settle = 1;
	c = http_easy(port, "GET", path, NULL, NULL, 0, &hdrs);
	/* One connection kept: little time between two requests. */
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 0L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, http_discard);
	for (;;)
		curl_easy_perform(c);
}

/* See harness.h. */
void
http_hammers(int port, const char *path, pid_t *pid, int n)
{
	pid_t parent = getpid();

	for (int k = 0; k < n; k++) {
		if ((pid[k] = fork()) == 0)
			http_hammer(port, path, parent);
		ck_assert_int_gt(pid[k], 0);
	}
}

/* See harness.h. */
void
http_hammers_stop(pid_t *pid, int n)
{
	int status;

	for (int k = 0; k < n; k++) {
		kill(pid[k], SIGKILL);
		ck_assert_int_eq(waitpid(pid[k], &status, 0), pid[k]);
	}
}

/* Fire n requests at once and collect their statuses. */
int
http_multi(int port, const struct http_req *reqs, size_t n, long *status)
{
	CURLM *m = curl_multi_init();
	CURL **easy = calloc(n, sizeof *easy);
	struct curl_slist **hdrs = calloc(n, sizeof *hdrs);
	int running = 1, done = 0, left;
	CURLMsg *msg;
	size_t i;

	if (m == NULL || easy == NULL || hdrs == NULL)
		abort();
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 0L);
	for (i = 0; i < n; i++) {
		status[i] = 0;
		easy[i] = http_easy(port, reqs[i].method, reqs[i].path,
		                    reqs[i].headers, reqs[i].body, reqs[i].len,
		                    &hdrs[i]);
		curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, http_discard);
		curl_easy_setopt(easy[i], CURLOPT_PRIVATE, &status[i]);
		curl_multi_add_handle(m, easy[i]);
	}
	while (running > 0) {
		if (curl_multi_perform(m, &running) != CURLM_OK ||
		    curl_multi_poll(m, NULL, 0, 1000, NULL) != CURLM_OK)
			break;
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			long *slot;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			                  (char **)&slot);
			curl_easy_getinfo(msg->easy_handle,
			                  CURLINFO_RESPONSE_CODE, slot);
			done++;
		}
	}
	for (i = 0; i < n; i++) {
		curl_multi_remove_handle(m, easy[i]);
		curl_easy_cleanup(easy[i]);
		curl_slist_free_all(hdrs[i]);
	}
	curl_multi_cleanup(m);
	free(easy);
	free(hdrs);
	for (size_t k = 0; k < n; k++)
		if (strstr(reqs[k].path, "/sms") != NULL) {
			harness_settle();
			break;
		}
	return (size_t)done == n ? 0 : -1;
}

/* URL-encode as Kannel does. */
char *
url_encode(const void *data, size_t len)
{
	static const char hexd[] = "0123456789ABCDEF";
	const unsigned char *p = data;
	char *out = malloc(len * 3 + 1), *o = out;
	size_t i;

	if (out == NULL)
		abort();
	for (i = 0; i < len; i++) {
		unsigned char c = p[i];

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.') {
			*o++ = c;
		} else if (c == ' ') {
			*o++ = '+';
		} else {
			*o++ = '%';
			*o++ = hexd[c >> 4];
			*o++ = hexd[c & 15];
		}
	}
	*o = '\0';
	return out;
}

/* Encode name, value, ..., NULL as a form body. */
char *
form_encode(const char *const *kv)
{
	char *out = strdup(""), *next, *name, *value;

	for (; kv[0] != NULL && kv[1] != NULL; kv += 2) {
		name = url_encode(kv[0], strlen(kv[0]));
		value = url_encode(kv[1], strlen(kv[1]));
		next = strf("%s%s%s=%s", out, *out != '\0' ? "&" : "", name,
		            value);
		free(out);
		free(name);
		free(value);
		out = next;
	}
	return out;
}

/* Decode one UTF-8 sequence; the code point, or -1 if invalid. */
static long
utf8_next(const unsigned char **sp)
{
	const unsigned char *s = *sp;
	long cp;
	int n, i;

	if (s[0] < 0x80) {
		*sp = s + 1;
		return s[0];
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 1, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 2, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 3, cp = s[0] & 0x07;
	else
		return -1;
	for (i = 1; i <= n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*sp = s + n + 1;
	return cp;
}

/* Convert UTF-8 to UTF-16BE. */
unsigned char *
utf8_to_utf16be(const char *str, size_t *len)
{
	const unsigned char *s = (const unsigned char *)str;
	unsigned char *out = malloc(strlen(str) * 4 + 1), *o = out;
	long cp;

	if (out == NULL)
		abort();
	while (*s != '\0') {
		if ((cp = utf8_next(&s)) < 0) {
			free(out);
			return NULL;
		}
		if (cp >= 0x10000) {
			long hi = 0xd800 + ((cp - 0x10000) >> 10);
			long lo = 0xdc00 + ((cp - 0x10000) & 0x3ff);

			*o++ = hi >> 8, *o++ = hi & 0xff;
			*o++ = lo >> 8, *o++ = lo & 0xff;
		} else {
			*o++ = cp >> 8, *o++ = cp & 0xff;
		}
	}
	*len = o - out;
	return out;
}

/* Encode bytes as lowercase hex. */
char *
hex_encode(const void *data, size_t len)
{
	const unsigned char *p = data;
	char *out = malloc(len * 2 + 1);
	size_t i;

	if (out == NULL)
		abort();
	for (i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * len] = '\0';
	return out;
}

/* Order two name/value pairs by name, then value. */
static int
kv_cmp(const void *a, const void *b)
{
	const char *const *x = a, *const *y = b;
	int c = strcmp(x[0], y[0]);

	return c != 0 ? c : strcmp(x[1], y[1]);
}

/* Compute the Twilio-style request signature. */
char *
twilio_signature(const char *key, const char *url, const char *const *kv)
{
	size_t n = 0, i;
	const char **sorted;
	unsigned char md[EVP_MAX_MD_SIZE], b64[64];
	unsigned int mdlen = 0;
	char *data, *next;

	while (kv[2 * n] != NULL)
		n++;
	if ((sorted = malloc((2 * n + 1) * sizeof *sorted)) == NULL)
		abort();
	memcpy(sorted, kv, 2 * n * sizeof *sorted);
	qsort(sorted, n, 2 * sizeof *sorted, kv_cmp);
	data = strdup(url);
	for (i = 0; i < n; i++) {
		next = strf("%s%s%s", data, sorted[2 * i], sorted[2 * i + 1]);
		free(data);
		data = next;
	}
	HMAC(EVP_sha1(), key, (int)strlen(key), (unsigned char *)data,
	     strlen(data), md, &mdlen);
	EVP_EncodeBlock(b64, md, (int)mdlen);
	free(data);
	free(sorted);
	return strdup((char *)b64);
}

/* Return this test process's own connection for reading results. */
PGconn *
test_db(void)
{
	static PGconn *conn;
	static pid_t owner;
	char ci[512];

	/* A forked test opens its own; it never uses its parent's. */
	if (conn != NULL && owner == getpid() &&
	    PQstatus(conn) == CONNECTION_OK)
		return conn;
	pg_conninfo(ci, sizeof ci, "pakn");
	conn = PQconnectdb(ci);
	owner = getpid();
	ck_assert_msg(PQstatus(conn) == CONNECTION_OK, "connect: %s",
	              PQerrorMessage(conn));
	return conn;
}

/* Run a query with NULL-terminated text parameters; fail on an error. */
static PGresult *
qv(const char *sql, va_list ap)
{
	const char *params[8], *p;
	ExecStatusType st;
	PGresult *res;
	int n = 0;

	while ((p = va_arg(ap, const char *)) != NULL) {
		ck_assert_int_lt(n, 8);
		params[n++] = p;
	}
	res = PQexecParams(test_db(), sql, n, NULL, params, NULL, NULL, 0);
	st = PQresultStatus(res);
	ck_assert_msg(st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK, "%s\n%s",
	              sql, PQresultErrorMessage(res));
	return res;
}

/* Return the result of a query; the caller clears it. */
PGresult *
q(const char *sql, ...)
{
	PGresult *res;
	va_list ap;

	va_start(ap, sql);
	res = qv(sql, ap);
	va_end(ap);
	return res;
}

/* Return the first value of a query, malloc'd, or NULL. */
char *
qval(const char *sql, ...)
{
	PGresult *res;
	va_list ap;
	char *v = NULL;

	va_start(ap, sql);
	res = qv(sql, ap);
	va_end(ap);
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		v = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/* Return the first value of a query as a number, or -1. */
long
qlong(const char *sql, ...)
{
	PGresult *res;
	va_list ap;
	long v = -1;

	va_start(ap, sql);
	res = qv(sql, ap);
	va_end(ap);
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		v = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return v;
}

/* Add a test case with a timeout in seconds. */
TCase *
tcase(Suite *s, const char *name, double timeout)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, timeout);
	tcase_add_checked_fixture(tc, harness_mark, harness_check);
	suite_add_tcase(s, tc);
	return tc;
}

/* Run paknctl -c conf import-KIND path; 0 on success, else its output on
 * stderr and -1. */
int
harness_import(const char *conf, const char *kind, const char *path)
{
	char *cmd = strf("import-%s", kind), out[PATH_MAX];
	char *argv[] = {(char *)paknctl_path(),
	                "-c",
	                (char *)(conf != NULL ? conf : harness_main()->conf),
	                cmd,
	                (char *)path,
	                NULL};
	int rc = 0;

	harness_path(out, sizeof out, "paknctl-import.out");
	if (harness_run(argv, out, out, 60) != 0) {
		fprintf(stderr, "harness: paknctl %s %s failed\n", cmd, path);
		log_tail(out, 10);
		rc = -1;
	}
	free(cmd);
	return rc;
}

/* Import the sample units, routing rules and officials of config/ with
 * paknctl -c conf (officials too when officials is set); 0 on success. */
int
harness_import_samples(const char *conf, int officials)
{
	static const char *const files[][2] = {
	    {"units", PAKN_SRCDIR "/config/units.sample.csv"},
	    {"routing", PAKN_SRCDIR "/config/routing.sample.csv"},
	    {"officials", PAKN_SRCDIR "/config/officials.sample.csv"},
	};

	for (size_t i = 0; i < (officials ? 3u : 2u); i++) {
		if (harness_import(conf, files[i][0], files[i][1]) != 0)
			return -1;
	}
	return 0;
}

/* Run statements without parameters on the database "pakn". */
int
harness_sql(const char *const *sql)
{
	for (size_t i = 0; sql != NULL && sql[i] != NULL; i++) {
		if (sql_exec_db("pakn", sql[i]) != 0)
			return -1;
	}
	return 0;
}

/* Import the samples into the main database and run the seed SQL. */
int
harness_seed(const char *conf, int officials, const char *const *sql)
{
	if (harness_import_samples(conf, officials) != 0)
		return -1;
	return harness_sql(sql);
}

/* Write text to a file of the temporary directory; its path. */
char *
write_tmp(const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	harness_path(path, sizeof path, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fwrite(text, 1, strlen(text), f), strlen(text));
	ck_assert_int_eq(fclose(f), 0);
	return strdup(path);
}

/* Run paknctl -c conf with the arguments in ap (up to a NULL). */
static struct ctl
ctl_runv(const char *conf, const char *arg, va_list ap)
{
	char *argv[16], out[PATH_MAX], err[PATH_MAX], name[64];
	size_t n = 0;
	struct ctl c;

	argv[n++] = (char *)paknctl_path();
	argv[n++] = "-c";
	argv[n++] = (char *)(conf != NULL ? conf : harness_main()->conf);
	for (; arg != NULL && n < sizeof argv / sizeof argv[0] - 1;
	     arg = va_arg(ap, const char *))
		argv[n++] = (char *)arg;
	argv[n] = NULL;
	snprintf(name, sizeof name, "paknctl-%d.out", (int)getpid());
	harness_path(out, sizeof out, name);
	snprintf(name, sizeof name, "paknctl-%d.err", (int)getpid());
	harness_path(err, sizeof err, name);
	unlink(out);
	unlink(err);
	c.status = harness_run(argv, out, err, 60);
	if ((c.out = file_read(out, NULL)) == NULL)
		c.out = strdup("");
	if ((c.err = file_read(err, NULL)) == NULL)
		c.err = strdup("");
	return c;
}

/* Run paknctl, stdout and stderr in one (see harness.h). */
int
paknctl_out(const char *conf, char **out, const char *arg, ...)
{
	char *argv[16], path[PATH_MAX], name[64];
	size_t n = 0;
	va_list ap;
	int st;

	argv[n++] = (char *)paknctl_path();
	argv[n++] = "-c";
	argv[n++] = (char *)(conf != NULL ? conf : harness_main()->conf);
	va_start(ap, arg);
	for (; arg != NULL && n < sizeof argv / sizeof argv[0] - 1;
	     arg = va_arg(ap, const char *))
		argv[n++] = (char *)arg;
	va_end(ap);
	argv[n] = NULL;
	snprintf(name, sizeof name, "paknctl-%d.all", (int)getpid());
	harness_path(path, sizeof path, name);
	unlink(path);
	st = harness_run(argv, path, path, 120);
	if ((*out = file_read(path, NULL)) == NULL)
		*out = strdup("");
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Run paknctl on the main paknd's configuration. */
struct ctl
paknctl(const char *arg, ...)
{
	struct ctl c;
	va_list ap;

	va_start(ap, arg);
	c = ctl_runv(NULL, arg, ap);
	va_end(ap);
	return c;
}

/* Run paknctl on a configuration file. */
struct ctl
paknctl_conf(const char *conf, const char *arg, ...)
{
	struct ctl c;
	va_list ap;

	va_start(ap, arg);
	c = ctl_runv(conf, arg, ap);
	va_end(ap);
	return c;
}

/* Free what a paknctl run printed. */
void
ctl_clear(struct ctl *c)
{
	free(c->out);
	free(c->err);
	c->out = c->err = NULL;
}

/* Fail unless paknctl exited with want. */
void
ctl_assert_exit(const struct ctl *c, int want)
{
	ck_assert_msg(WIFEXITED(c->status) && WEXITSTATUS(c->status) == want,
	              "paknctl: status 0x%x, want exit %d; printed \"%s\" "
	              "\"%s\"",
	              c->status, want, c->out, c->err);
}

/* Restart PostgreSQL if a test left it stopped. */
void
harness_ensure_pg(void)
{
	if (!pg_is_running() && pg_start() == -1)
		fprintf(stderr, "harness: cannot restart PostgreSQL\n");
}

/* The outbox's highest id now, as text. */
char *
outbox_mark(void)
{
	char *v = qval("SELECT coalesce(max(id), 0) FROM pakn.outbox", NULL);

	ck_assert_ptr_nonnull(v);
	return v;
}

/* A member of a JSON object by a dotted path ("a.b.0.c"), or NULL. */
json_t *
jget(json_t *j, const char *path)
{
	char *copy = strdup(path), *save = NULL, *part;

	for (part = strtok_r(copy, ".", &save); part != NULL && j != NULL;
	     part = strtok_r(NULL, ".", &save))
		j = json_is_array(j)
		        ? json_array_get(j, strtoul(part, NULL, 10))
		        : json_object_get(j, part);
	free(copy);
	return j;
}

/* A string member, or NULL when it is absent or not a string. */
const char *
jstr(json_t *j, const char *path)
{
	return json_string_value(jget(j, path));
}

/* Call the API; fail unless the status is want. Returns the JSON body. */
json_t *
api_call(const char *method, const char *path, const char *token,
         const char *body, long want)
{
	return api_call_lacks(method, path, token, body, want, "+84");
}

/* api_call, failing when the answer holds lacks. */
json_t *
api_call_lacks(const char *method, const char *path, const char *token,
               const char *body, long want, const char *lacks)
{
	char *auth = strf("Authorization: Bearer %s", token);
	const char *headers[] = {"Content-Type: application/json", auth, NULL};
	struct http_resp r;
	json_t *j;

	http_request(harness_main()->port, method, path, headers, body,
	             body ? strlen(body) : 0, &r);
	if (r.status != want)
		paknd_dump(harness_main());
	ck_assert_msg(r.status == want, "%s %s: HTTP %ld, want %ld; %s", method,
	              path, r.status, want, r.body);
	ck_assert_msg(strstr(r.body, lacks) == NULL, "%s in %s", lacks, r.body);
	j = json_loads(r.body, 0, NULL);
	ck_assert_msg(json_is_object(j), "not JSON: %s", r.body);
	http_resp_free(&r);
	free(auth);
	return j;
}

/* POST an action on a ticket; returns the answer. */
json_t *
api_act(const char *ticket, const char *action, const char *token,
        const char *body, long want)
{
	char *path = strf("/v1/complaints/%s/%s", ticket, action);
	json_t *j = api_call("POST", path, token, body, want);

	free(path);
	return j;
}

/* A string member by a two-level path ("a.b"), or "". */
const char *
jstr2(json_t *j, const char *a, const char *b)
{
	json_t *v = json_object_get(j, a);
	const char *s;

	if (b != NULL)
		v = json_object_get(v, b);
	s = json_string_value(v);
	return s != NULL ? s : "";
}

/* The complaint's events, "event:actor_phone_or_-:reason", in order. */
char *
ticket_ledger(const char *ticket)
{
	return qval("SELECT string_agg(e.event || ':' || coalesce(o.phone, '-')"
	            " || ':' || coalesce(e.reason, ''), ', ' ORDER BY e.id) "
	            "FROM pakn.complaint_event e JOIN pakn.complaint c ON "
	            "c.id = e.complaint_id LEFT JOIN pakn.official o ON "
	            "e.actor_id ~ '^[0-9]+$' AND o.id = e.actor_id::bigint "
	            "WHERE c.ticket = $1 AND e.event NOT IN ('received', "
	            "'routed', 'assigned')",
	            ticket, NULL);
}

/* The responsible unit of a complaint. */
char *
ticket_unit(const char *ticket)
{
	return qval("SELECT responsible_unit FROM pakn.complaint WHERE "
	            "ticket = $1",
	            ticket, NULL);
}

/* Start tests/fakegw and wait until it has bound its port (its output
 * file exists). */
int
fakegw_start(struct fakegw *g)
{
	char port[16], log[PATH_MAX], name[64];
	char *argv[] = {PAKN_BUILDDIR "/tests/fakegw",
	                "-p",
	                port,
	                "-m",
	                (char *)(g->mode != NULL ? g->mode : "kannel"),
	                "-o",
	                g->file,
	                (char *)g->opt,
	                (char *)g->arg,
	                NULL};
	double end = now_secs() + 5;
	pid_t parent = getpid();
	int fd;

	if ((g->port = free_port()) == -1)
		return -1;
	snprintf(port, sizeof port, "%d", g->port);
	snprintf(name, sizeof name, "fakegw-%s.txt", g->name);
	harness_path(g->file, sizeof g->file, name);
	snprintf(name, sizeof name, "fakegw-%s.log", g->name);
	harness_path(log, sizeof log, name);
	fflush(NULL);
	if ((g->pid = fork()) == -1)
		return -1;
	if (g->pid == 0) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 ||
		    getppid() != parent)
			_exit(127);
		fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	while (access(g->file, F_OK) != 0 && now_secs() < end)
		sleep_ms(20);
	if (access(g->file, F_OK) != 0) {
		fprintf(stderr, "harness: fakegw %s did not start\n", g->name);
		log_tail(log, 20);
		return -1;
	}
	return 0;
}

/* Stop a fake gateway; 0 if it exited cleanly (sanitizers quiet). */
int
fakegw_stop(struct fakegw *g)
{
	int status = 0;

	if (g->pid <= 0)
		return 0;
	kill(g->pid, SIGTERM);
	if (waitpid(g->pid, &status, 0) != g->pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0) {
		fprintf(stderr, "harness: fakegw %s: wait status 0x%x\n",
		        g->name, status);
		g->pid = 0;
		return -1;
	}
	g->pid = 0;
	return 0;
}

/* The Chromium program, or NULL when it is not installed. */
const char *
chromium_path(void)
{
	static const char *paths[] = {"/usr/bin/chromium",
	                              "/usr/bin/chromium-browser"};

	for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
		if (access(paths[i], X_OK) == 0)
			return paths[i];
	return NULL;
}

/* Run headless Chromium on url with one option that says what to make
 * (--dump-dom, --screenshot=F, --print-to-pdf=F); stdout to out, its log
 * to err; the wait status. */
int
chromium_run(const char *url, const char *what, const char *out,
             const char *err)
{
	char profile[PATH_MAX + 16];
	char *argv[] = {(char *)chromium_path(),
	                "--headless",
	                "--no-sandbox",
	                "--disable-gpu",
	                "--disable-background-networking",
	                "--no-first-run",
	                "--disable-dev-shm-usage",
	                "--no-pdf-header-footer",
	                "--enable-logging=stderr",
	                "--v=0",
	                "--window-size=1280,1500",
	                "--virtual-time-budget=15000",
	                profile,
	                (char *)what,
	                (char *)url,
	                NULL};

	memcpy(profile, "--user-data-dir=", 16);
	harness_path(profile + 16, sizeof profile - 16, "chromium-profile");
	return harness_run(argv, out, err, 90);
}

/* A streaming replica of the test cluster (pg_replica_start). */
static struct {
	char data[256];
	char log[256];
	int port;
	int running;
} R;

/* At exit (the owner only): stop the replica before the directory goes;
 * registered after harness_cleanup, so it runs first. */
static void
pg_replica_cleanup(void)
{
	char *argv[] = {H.pg_ctl,    "-D",   R.data, "-m",
	                "immediate", "stop", NULL};

	if (getpid() == H.owner && R.running)
		pg_run(argv, 60, 1);
	R.running = 0;
}

/* Make a streaming replica with pg_basebackup (-R: standby.signal and
 * primary_conninfo to the test cluster on loopback), as the server's
 * user, and start it on a port of its own. */
int
pg_replica_start(void)
{
	char basebackup[600], port[16], *p;
	char *bb[] = {basebackup, "-h",   "127.0.0.1", "-p", port, "-U",
	              PG_USER,    "-D",   R.data,      "-R", "-X", "stream",
	              "-c",       "fast", "--no-sync", NULL};
	char *start[] = {H.pg_ctl, "-D", R.data, "-l",    R.log,
	                 "-w",     "-t", "60",   "start", NULL};
	char conninfo[256], path[PATH_MAX];
	double end = now_secs() + 30;
	FILE *f;

	snprintf(basebackup, sizeof basebackup, "%s", H.pg_ctl);
	if ((p = strrchr(basebackup, '/')) == NULL)
		return -1;
	snprintf(p + 1, sizeof basebackup - (size_t)(p + 1 - basebackup),
	         "pg_basebackup");
	snprintf(port, sizeof port, "%d", H.pgport);
	snprintf(R.data, sizeof R.data, "%s/replica", H.dir);
	snprintf(R.log, sizeof R.log, "%s/replica.log", H.dir);
	if ((R.port = free_port()) == -1 || pg_run(bb, 120, 0) == -1)
		return -1;
	snprintf(path, sizeof path, "%s/postgresql.conf", R.data);
	if ((f = fopen(path, "a")) == NULL)
		return -1;
	fprintf(f, "\n# the replica\nport = %d\nhot_standby = on\n", R.port);
	if (fclose(f) != 0)
		return -1;
	atexit(pg_replica_cleanup);
	if (pg_run(start, 90, 0) == -1)
		return -1;
	R.running = 1;
	pg_replica_conninfo(conninfo, sizeof conninfo, "postgres");
	while (PQping(conninfo) != PQPING_OK) {
		if (now_secs() > end) {
			log_tail(R.log, 20);
			return -1;
		}
		sleep_ms(50);
	}
	return 0;
}

/* Stop the replica (fast). */
int
pg_replica_stop(void)
{
	char *argv[] = {H.pg_ctl, "-D", R.data, "-m",
	                "fast",   "-w", "stop", NULL};

	if (!R.running)
		return 0;
	R.running = 0;
	return pg_run(argv, 90, 0);
}

/* Write a libpq conninfo for a database of the replica into buf. */
void
pg_replica_conninfo(char *buf, size_t size, const char *dbname)
{
	snprintf(buf, size,
	         "host=127.0.0.1 port=%d dbname=%s user=" PG_USER
	         " connect_timeout=5",
	         R.port, dbname);
}

/* How many requests tests/fakegw wrote to file for the number number (a
 * field to=number). */
int
fakegw_count(const char *file, const char *number)
{
	char *text = file_read(file, NULL), *needle = strf("\tto=%s", number);
	size_t n = strlen(needle);
	int count = 0;

	for (char *p = text; p != NULL && (p = strstr(p, needle)) != NULL;
	     p += n)
		if (p[n] == '\t' || p[n] == '\n')
			count++;
	free(needle);
	free(text);
	return count;
}

/* Wait up to timeout seconds until fakegw_count reaches want; return
 * the count then. */
int
fakegw_wait(const char *file, const char *number, int want, double timeout)
{
	double end = now_secs() + timeout;
	int n;

	while ((n = fakegw_count(file, number)) < want && now_secs() < end)
		sleep_ms(50);
	return n;
}

/* One SMS as Kannel's get-url delivers it to gateway gw of the paknd on
 * port (token, from, to, text and the message id; UTF-8 text): the HTTP
 * status. */
long
harness_kannel_sms(int port, const char *gw, const char *token,
                   const char *from, const char *to, const char *text,
                   const char *id)
{
	char *efrom = url_encode(from, strlen(from));
	char *eto = url_encode(to, strlen(to));
	char *etext = url_encode(text, strlen(text));
	char *path = strf("/v1/gw/%s/sms?token=%s&from=%s&to=%s&text=%s&id=%s",
	                  gw, token, efrom, eto, etext, id);
	struct http_resp r;
	long status = http_request(port, "GET", path, NULL, NULL, 0, &r);

	http_resp_free(&r);
	free(path);
	free(efrom);
	free(eto);
	free(etext);
	return status;
}

/* Send one SMS to the main paknd (see harness.h). */
long
harness_sms_to(const char *gw, const char *token, const char *from,
               const char *to, const char *text, const char *id)
{
	char *efrom = url_encode(from, strlen(from));
	char *eto = url_encode(to, strlen(to));
	char *etext = url_encode(text, strlen(text));
	char *path = strf("/v1/gw/%s/sms?token=%s&from=%s&to=%s&text=%s"
	                  "&coding=0&charset=UTF-8&id=%s&ts=%ld",
	                  gw, token, efrom, eto, etext, id, (long)time(NULL));
	struct http_resp r;
	long status;

	http_request(harness_main()->port, "GET", path, NULL, NULL, 0, &r);
	if ((status = r.status) != 200) {
		fprintf(stderr,
		        "harness: SMS \"%s\" from %s: HTTP %ld \"%s\"\n", text,
		        from, r.status, r.body != NULL ? r.body : "");
		paknd_dump(harness_main());
	}
	http_resp_free(&r);
	free(path);
	free(efrom);
	free(eto);
	free(etext);
	return status;
}

/* Send one SMS with a fresh id; fail unless it is answered 200. */
void
harness_sms(const char *gw, const char *token, const char *from, const char *to,
            const char *text)
{
	static int seq;
	char id[64];

	snprintf(id, sizeof id, "h-%d-%d", (int)getpid(), ++seq);
	ck_assert_int_eq(harness_sms_to(gw, token, from, to, text, id), 200);
}

/* The newest complaint of a citizen (E.164): its id and ticket. */
void
harness_newest(const char *msisdn, char id[24], char ticket[16])
{
	PGresult *res = sql_query("SELECT id, ticket FROM pakn.complaint WHERE "
	                          "msisdn = $1 ORDER BY id DESC LIMIT 1",
	                          msisdn, NULL);

	ck_assert_ptr_nonnull(res);
	ck_assert_msg(PQntuples(res) == 1, "no complaint from %s", msisdn);
	snprintf(id, 24, "%s", PQgetvalue(res, 0, 0));
	snprintf(ticket, 16, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
}

/* Text a complaint, its ticket (see harness.h). */
char *
harness_complaint_as(const char *gw, const char *token, const char *from,
                     const char *to, const char *citizen, const char *text)
{
	char id[24], ticket[16];

	harness_sms(gw, token, from, to, text);
	harness_newest(citizen, id, ticket);
	return strdup(ticket);
}

/* Load a fixture of tests/fixtures into database db (see harness.h). */
int
harness_restore(const char *db, const char *fixture)
{
	char ci[512], *cmd;
	int rc;

	pg_conninfo(ci, sizeof ci, db);
	cmd = strf("gzip -dc '%s/tests/fixtures/%s' | psql -X -q "
	           "-v ON_ERROR_STOP=1 '%s' >/dev/null",
	           PAKN_SRCDIR, fixture, ci);
	rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}
