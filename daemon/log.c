/* log.c: logging to stderr in the foreground, to syslog otherwise. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "log.h"

static const char *log_ident = "pakn";
static int log_foreground = 1;
static int log_verbose;
static char *log_key;        /* the pseudonym key, NULL before log_set_key */
static int log_key_temp = 1; /* the key is this process's own */

/* Set the pseudonym key (NULL: a random one of this process). */
void
log_set_key(const char *key)
{
	unsigned char r[32];
	static const char hex[] = "0123456789abcdef";

	free(log_key);
	log_key_temp = key == NULL;
	if (key != NULL) {
		log_key = strdup(key);
	} else if ((log_key = malloc(2 * sizeof r + 1)) != NULL) {
		if (RAND_bytes(r, sizeof r) != 1)
			memset(r, 0, sizeof r);
		for (size_t i = 0; i < sizeof r; i++) {
			log_key[2 * i] = hex[r[i] >> 4];
			log_key[2 * i + 1] = hex[r[i] & 15];
		}
		log_key[2 * sizeof r] = '\0';
	}
	if (log_key == NULL)
		abort();
}

/* Write the pseudonym of number into out. */
const char *
log_pseudonym(const char *number, char out[LOG_PSEUDONYM_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE] = {0};
	size_t klen, nlen;
	char *b;

	if (log_key == NULL)
		log_set_key(NULL);
	if (number == NULL)
		number = "";
	klen = strlen(log_key);
	nlen = strlen(number);
	if ((b = malloc(klen + nlen + 1)) == NULL)
		abort();
	memcpy(b, log_key, klen);
	memcpy(b + klen, number, nlen + 1);
	EVP_Digest(b, klen + nlen, md, NULL, EVP_sha256(), NULL);
	free(b);
	snprintf(out, LOG_PSEUDONYM_MAX, "%s-%02X%02X%02X%02X",
	         log_key_temp ? "CDT" : "CD", md[0], md[1], md[2], md[3]);
	return out;
}

/* Is c part of a word (so digits next to it are not a phone number)? */
static int
log_wordc(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	       (c >= 'A' && c <= 'Z') || c == '_' || c == '-' || c == '.';
}

/* Append len bytes of s to out (size bytes, used o), truncating. */
static size_t
log_append(char *out, size_t size, size_t o, const char *s, size_t len)
{
	if (len > size - 1 - o)
		len = size - 1 - o;
	memcpy(out + o, s, len);
	return o + len;
}

/* Copy msg into out with each standing run of 9 to 15 digits (and a
 * leading '+') replaced by its pseudonym. */
static void
log_scrub(const char *msg, char *out, size_t size)
{
	const char *p = msg, *d;
	char num[20], ps[LOG_PSEUDONYM_MAX];
	size_t o = 0, n, len;

	while (*p != '\0' && o + 1 < size) {
		d = p + (*p == '+');
		n = strspn(d, "0123456789");
		len = (size_t)(d - p) + n; /* the '+' and the digits */
		if (n == 0 || (p > msg && log_wordc(p[-1]))) {
			len = len > 0 ? len : 1;
			o = log_append(out, size, o, p, len);
		} else if (n >= 9 && n <= 15 && !log_wordc(d[n])) {
			snprintf(num, sizeof num, "%.*s", (int)len, p);
			log_pseudonym(num, ps);
			o = log_append(out, size, o, ps, strlen(ps));
		} else
			o = log_append(out, size, o, p, len);
		p += len;
	}
	out[o] = '\0';
}

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
	char raw[2048], msg[2048];
	static const char *names[] = {[LOG_ERR] = "error",
	                              [LOG_WARNING] = "warning",
	                              [LOG_INFO] = "info",
	                              [LOG_DEBUG] = "debug"};

	vsnprintf(raw, sizeof raw, fmt, ap);
	if (pri == LOG_DEBUG)
		memcpy(msg, raw, sizeof msg);
	else
		log_scrub(raw, msg, sizeof msg);
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
	long long secs = now - l->last > 0 ? now - l->last : 1;

	if (l->suppressed == 0)
		return;
	log_write(l->warn ? LOG_WARNING : LOG_INFO, 0,
	          "%s: %ld more in the last %lld second%s", l->what,
	          l->suppressed, secs, secs == 1 ? "" : "s");
	l->suppressed = 0;
}

/* Log or count one occurrence of a repeated message. */
void
log_limited(struct log_limit *l, int err, const char *fmt, ...)
{
	long long now = log_now();
	va_list ap;

	if (l->last != 0 && now - l->last < l->interval) {
		if (l->used >= (l->burst > 0 ? l->burst : 1)) {
			l->suppressed++;
			return;
		}
	} else {
		log_limit_summary(l, now);
		l->last = now;
		l->used = 0;
	}
	l->used++;
	va_start(ap, fmt);
	log_vwrite(l->warn ? LOG_WARNING : LOG_INFO, err, fmt, ap);
	va_end(ap);
}

/* Log the count of suppressed messages once the interval has passed (or
 * now, with all). */
void
log_limit_flush(struct log_limit *l, int all)
{
	long long now = log_now();

	if (l->suppressed > 0 && (all || now - l->last >= l->interval)) {
		log_limit_summary(l, now);
		l->last = now;
		l->used = 0;
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
