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
 * A message that may repeat fast (accept errors under attack; a line for
 * each message processed or sent under load): the first burst of them
 * (one when burst is 0) are logged, the next ones within interval seconds
 * are only counted, and the count is logged as "what: N more in the last
 * S seconds" by the next one after the interval or by log_limit_flush.
 * Thousands of lines a second would cost paknd a tenth of its time and
 * run into journald's rate limit (10 000 lines in 30 s by default), which
 * then drops warnings too.
 */
struct log_limit {
	const char *what; /* names the message in the summary line */
	int interval;     /* seconds */
	int warn;         /* 1: warnings, 0: information */
	long burst;       /* logged in an interval before counting; 0: one */
	long used;        /* logged in the current interval */
	long suppressed;  /* counted since last */
	long long last;   /* monotonic second the interval began; 0 none */
};
/* Log (with errno's text when err is not 0) or count one occurrence. */
void log_limited(struct log_limit *l, int err, const char *fmt, ...)
    PAKN_PRINTF(3, 4);
/* Log the count of suppressed messages once the interval has passed (or
 * now, with all: at exit). */
void log_limit_flush(struct log_limit *l, int all);
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
