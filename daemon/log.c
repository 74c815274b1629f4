/* log.c: logging to stderr in the foreground, to syslog otherwise. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "log.h"

static const char *log_ident = "pakn";
static int log_foreground = 1;
static int log_verbose;

/* Start logging; with foreground, to stderr. */
void
log_init(const char *ident, int foreground, int verbose)
{
	log_ident = ident;
	log_foreground = foreground;
	log_verbose = verbose;
	if (!foreground)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* Reopen the log after rotation (SIGUSR1). */
void
log_reopen(void)
{
	if (log_foreground)
		return;
	closelog();
	openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

/* Set the verbosity: 0 info, 1 and above debug. */
void
log_set_verbose(int verbose)
{
	log_verbose = verbose;
}

/* Return the verbosity. */
int
log_get_verbose(void)
{
	return log_verbose;
}

/* Write one line at a priority, with an optional errno text. */
static void
log_vwrite(int pri, int err, const char *fmt, va_list ap)
{
	char msg[2048];
	static const char *names[] = {[LOG_ERR] = "error",
	                              [LOG_WARNING] = "warning",
	                              [LOG_INFO] = "info",
	                              [LOG_DEBUG] = "debug"};

	vsnprintf(msg, sizeof msg, fmt, ap);
	if (!log_foreground) {
		if (err)
			syslog(pri, "%s: %s", msg, strerror(err));
		else
			syslog(pri, "%s", msg);
		return;
	}
	char ts[32];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	if (err)
		fprintf(stderr, "%s.%03ldZ %s[%s] %s: %s\n", ts,
		        now.tv_nsec / 1000000, log_ident, names[pri], msg,
		        strerror(err));
	else
		fprintf(stderr, "%s.%03ldZ %s[%s] %s\n", ts,
		        now.tv_nsec / 1000000, log_ident, names[pri], msg);
}

static void log_write(int pri, int err, const char *fmt, ...) PAKN_PRINTF(3, 4);

/* Write one line at a priority from arguments. */
static void
log_write(int pri, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vwrite(pri, err, fmt, ap);
	va_end(ap);
}

#define LOG_BODY(pri, err)                                                     \
	do {                                                                   \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_vwrite(pri, err, fmt, ap);                                 \
		va_end(ap);                                                    \
	} while (0)

/* A warning with the text of errno. */
void
log_warn(const char *fmt, ...)
{
	int err = errno;
	LOG_BODY(LOG_WARNING, err);
}

/* A warning. */
void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, 0);
}

/* Information an operator wants to see. */
void
log_info(const char *fmt, ...)
{
	LOG_BODY(LOG_INFO, 0);
}

/* Detail for debugging (-v). */
void
log_debug(const char *fmt, ...)
{
	if (log_verbose < 1)
		return;
	LOG_BODY(LOG_DEBUG, 0);
}

/* The monotonic clock in whole seconds, never 0. */
static long long
log_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec + 1;
}

/* Write the summary of a limiter's suppressed messages, if any. */
static void
log_limit_summary(struct log_limit *l, long long now)
{
	if (l->suppressed == 0)
		return;
	log_write(l->warn ? LOG_WARNING : LOG_INFO, 0,
	          "%s: %ld more in the last %lld seconds", l->what,
	          l->suppressed, now - l->last);
	l->suppressed = 0;
}

/* Log or count one occurrence of a repeated message. */
void
log_limited(struct log_limit *l, int err, const char *fmt, ...)
{
	long long now = log_now();
	va_list ap;

	if (l->last != 0 && now - l->last < l->interval) {
		l->suppressed++;
		return;
	}
	log_limit_summary(l, now);
	l->last = now;
	va_start(ap, fmt);
	log_vwrite(l->warn ? LOG_WARNING : LOG_INFO, err, fmt, ap);
	va_end(ap);
}

/* Log the count of suppressed messages once the interval has passed. */
void
log_limit_flush(struct log_limit *l)
{
	long long now = log_now();

	if (l->suppressed > 0 && now - l->last >= l->interval) {
		log_limit_summary(l, now);
		l->last = now;
	}
}

/* Log with the text of errno and exit. */
void
fatal(const char *fmt, ...)
{
	int err = errno;
	LOG_BODY(LOG_ERR, err);
	exit(1);
}

/* Log and exit. */
void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_ERR, 0);
	exit(1);
}
