/* log.h: logging to stderr (foreground) or syslog (daemon). */
#ifndef PAKN_LOG_H
#define PAKN_LOG_H

#include <stdarg.h>

#define PAKN_PRINTF(f, a) __attribute__((format(printf, f, a)))

void log_init(const char *ident, int foreground, int verbose);
void log_reopen(void);
void log_set_verbose(int verbose);
int log_get_verbose(void);
void log_warn(const char *fmt, ...) PAKN_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) PAKN_PRINTF(1, 2);
void log_info(const char *fmt, ...) PAKN_PRINTF(1, 2);
void log_debug(const char *fmt, ...) PAKN_PRINTF(1, 2);
/*
 * A message that may repeat fast (accept errors under attack): the first
 * is logged, the next ones within interval seconds are only counted, and
 * the count is logged as "what: N more in the last S seconds" by the next
 * one after the interval or by log_limit_flush.
 */
struct log_limit {
	const char *what; /* names the message in the summary line */
	int interval;     /* seconds */
	int warn;         /* 1: warnings, 0: information */
	long suppressed;  /* counted since last */
	long long last;   /* monotonic second of the last line logged; 0 none */
};
/* Log (with errno's text when err is not 0) or count one occurrence. */
void log_limited(struct log_limit *l, int err, const char *fmt, ...)
    PAKN_PRINTF(3, 4);
/* Log the count of suppressed messages once the interval has passed. */
void log_limit_flush(struct log_limit *l);
/*
 * Lines of one kind written for each message or request (processed, sent,
 * a delivery report, refused): at most burst a second (0: every one). Beyond
 * that, in a burst of traffic, they are counted, and the count is logged
 * as "what: N more not logged one by one (...)" at the next second's
 * first line or by log_rate_flush. Thousands of lines a second would
 * cost paknd a tenth of its time and run into journald's rate limit
 * (10 000 lines in 30 s by default), which then drops warnings too.
 */
struct log_rate {
	const char *what; /* names the lines in the summary */
	int warn;         /* 1: warnings, 0: information */
	long burst;       /* lines a second; 0: every one */
	long used;        /* lines logged in the second last */
	long suppressed;  /* counted in that second */
	long long last;   /* monotonic second of the last line; 0 none */
};
/* Log or count one line. */
void log_rated(struct log_rate *l, const char *fmt, ...) PAKN_PRINTF(2, 3);
/* Log the count of the lines left out in a second that is over (or in
 * this one too, with all: at exit). */
void log_rate_flush(struct log_rate *l, int all);
/*
 * Personal data in logs. A citizen's number is written as the pseudonym
 * officials see in the API: "CD-" and the first 8 hex digits of
 * SHA-256(key || number), key being pakn.setting's pseudonym_secret
 * (pakn.api_pseudonym, sql/functions/api.sql); until paknd has read it, a
 * random key of this process, written "CDT-". As a safety net, lines above
 * debug have every other run of 9 to 15 digits (with an optional '+', standing
 * alone) replaced by its pseudonym too.
 */
#define LOG_PSEUDONYM_MAX 16
/* Set the key (NULL: a random one of this process). */
void log_set_key(const char *key);
/* Write the pseudonym of number into out and return out. */
const char *log_pseudonym(const char *number, char out[LOG_PSEUDONYM_MAX]);
void fatal(const char *fmt, ...) PAKN_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) PAKN_PRINTF(1, 2) __attribute__((noreturn));

#endif
