/* config.c: the paknd.conf INI file, described by a table of keys. */

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "phone.h"
#include "util.h"

enum key_type {
	KEY_STR,
	KEY_INT,
	KEY_BOOL,
	KEY_GWTYPE,
	KEY_SIZE, /* long long; a number with K, M, G or T (powers of 1024) */
};

/* One key: where it lives, its type, default, limits and help. */
struct key {
	const char *section; /* "gateway" for every [gateway.NAME] */
	const char *name;
	enum key_type type;
	const char *def;
	long min, max;
	size_t offset; /* in struct config, or struct gw_conf for gateways */
	const char *help;
};

#define CF(f) offsetof(struct config, f)
#define GW(f) offsetof(struct gw_conf, f)

static const struct key keys[] = {
    {"server", "listen", KEY_STR, "127.0.0.1:8080", 0, 0, CF(listen),
     "address:port to accept HTTP on"},
    {"server", "max_body_size", KEY_INT, "65536", 256, 64 << 20,
     CF(max_body_size), "largest request body in bytes (413 above)"},
    {"server", "max_header_size", KEY_INT, "8192", 512, 1 << 20,
     CF(max_header_size), "largest request head in bytes"},
    {"server", "timeout", KEY_INT, "30", 1, 3600, CF(timeout),
     "seconds a connection may stay silent while reading or writing"},
    {"server", "request_timeout", KEY_INT, "20", 1, 3600, CF(request_timeout),
     "seconds a client has to send a whole request, head and body"},
    {"server", "max_connections", KEY_INT, "4096", 1, 1000000,
     CF(max_connections),
     "HTTP connections open at once (RLIMIT_NOFILE permitting)"},
    {"server", "drain_timeout", KEY_INT, "10", 0, 3600, CF(drain_timeout),
     "seconds to finish in-flight work on SIGTERM"},
    {"server", "max_sms_text", KEY_INT, "39015", 160, 1000000, CF(max_sms_text),
     "characters of an SMS kept as its text (255 parts x 153); more is cut"},
    {"server", "log_messages", KEY_INT, "50", 0, 1000000, CF(log_messages),
     "log lines a second of each kind written for each message or request "
     "(processed, sent, not sent, delivery report, repeated, refused); "
     "more are counted (0: every one)"},
    {"database", "conninfo", KEY_STR, "dbname=pakn", 0, 0, CF(conninfo),
     "libpq connection string"},
    {"database", "read_conninfo", KEY_STR, "", 0, 0, CF(read_conninfo),
     "libpq connection string of a streaming replica for statistics "
     "(empty: the primary)"},
    {"database", "pool_size", KEY_INT, "4", 1, 256, CF(pool_size),
     "connections to PostgreSQL"},
    {"database", "migrate", KEY_BOOL, "no", 0, 1, CF(migrate),
     "apply pending migrations at start"},
    {"database", "query_timeout", KEY_INT, "5", 1, 600, CF(query_timeout),
     "seconds before a waiting request is answered 503"},
    {"database", "max_queue", KEY_INT, "10000", 1, 10000000, CF(max_queue),
     "requests waiting for a connection before 503"},
    {"database", "batch_size", KEY_INT, "256", 1, 65536, CF(batch_size),
     "most requests sharing one commit"},
    {"database", "reconnect_max", KEY_INT, "10", 1, 3600, CF(reconnect_max),
     "longest pause in seconds between reconnection attempts"},
    {"database", "lifetime", KEY_INT, "3600", 0, 604800, CF(db_lifetime),
     "seconds a connection is used before it is made again (0: forever)"},
    {"intake", "batch", KEY_INT, "512", 1, 10000, CF(intake_batch),
     "stored messages the processing worker claims at once"},
    {"intake", "lease", KEY_INT, "30", 1, 3600, CF(intake_lease),
     "seconds a claimed message is ours before another instance takes it"},
    {"intake", "interval", KEY_INT, "1000", 10, 600000, CF(intake_interval),
     "milliseconds between looks for messages stored by other instances"},
    {"intake", "connections", KEY_INT, "4", 1, 64, CF(intake_connections),
     "connections of the processing worker's own pool (intake keeps "
     "[database] pool_size): its calls in flight while a backlog drains "
     "(claims come back full)"},
    {"intake", "steady_connections", KEY_INT, "2", 1, 64, CF(intake_steady),
     "calls in flight while claims come back with room (no backlog); at "
     "most [intake] connections"},
    {"intake", "process_batch", KEY_INT, "256", 1, 1000,
     CF(intake_process_batch),
     "messages the worker processes in one call and transaction"},
    {"intake", "yield_requests", KEY_INT, "32", 0, 1000000,
     CF(intake_yield_requests),
     "HTTP requests waiting for their answer at which the processing "
     "worker makes one call at a time, so that intake answers the "
     "gateways first, while callbacks come at [intake] surge_rate (0: "
     "never)"},
    {"intake", "surge_rate", KEY_INT, "5000", 0, 1000000, CF(intake_surge_rate),
     "callbacks a second at which intake is busy (with [intake] "
     "yield_requests in flight) and, over two quarters of a second in a "
     "row (with that many in flight on average), under a surge, for "
     "[intake] and [outbox] burst_rate (0: any rate)"},
    {"intake", "burst_rate", KEY_INT, "500", 0, 1000000, CF(intake_burst_rate),
     "messages a second the processing worker claims at most while intake "
     "is under a surge (as for [outbox] burst_rate), so that the "
     "callbacks are answered first (0: no such limit)"},
    {"intake", "journal_dir", KEY_STR, "", 0, 0, CF(journal_dir),
     "directory of the journal that keeps callbacks while PostgreSQL is "
     "unreachable (paknctl journal; empty: none, 503 then)"},
    {"intake", "journal_max", KEY_SIZE, "1G", 1L << 20, LONG_MAX,
     CF(journal_max),
     "most bytes the journal may take (K, M, G suffixes); then 503"},
    {"outbox", "interval", KEY_INT, "1000", 10, 600000, CF(outbox_interval),
     "milliseconds between looks for messages to send"},
    {"outbox", "batch", KEY_INT, "50", 1, 10000, CF(outbox_batch),
     "messages claimed at once"},
    {"outbox", "max_attempts", KEY_INT, "6", 1, 100, CF(outbox_max_attempts),
     "attempts before a message is failed"},
    {"outbox", "retry_base", KEY_INT, "30", 1, 86400, CF(outbox_retry_base),
     "seconds before the first retry, doubled each time (with jitter)"},
    {"outbox", "lease", KEY_INT, "120", 10, 86400, CF(outbox_lease),
     "seconds a claimed message is ours before another instance retries"},
    {"outbox", "send_timeout", KEY_INT, "15", 1, 600, CF(outbox_send_timeout),
     "seconds for one send request to the gateway"},
    {"outbox", "max_inflight", KEY_INT, "32", 1, 10000, CF(outbox_max_inflight),
     "messages held at once: claimed and not yet recorded"},
    {"outbox", "backlog_rate", KEY_INT, "0", 0, 1000000,
     CF(outbox_backlog_rate),
     "messages a second each gateway sends at most while stored messages "
     "wait for processing (claims come back full), so that processing "
     "comes first (0: no such limit)"},
    {"outbox", "burst_rate", KEY_INT, "200", 0, 1000000, CF(outbox_burst_rate),
     "messages a second each gateway sends at most while intake is under a "
     "surge ([intake] surge_rate), so that the callbacks are answered "
     "first (0: no such limit)"},
    {"deadline", "interval", KEY_INT, "60", 1, 86400, CF(deadline_interval),
     "seconds between passes of the deadline worker"},
    {"deadline", "remind_days", KEY_INT, "2", 0, 60, CF(remind_days),
     "working days before the deadline the unit is reminded"},
    {"deadline", "apology_days", KEY_INT, "5", 1, 60, CF(apology_days),
     "unused since migration 016: the unit sets an apology's new date"},
    {"deadline", "rating_wait_days", KEY_INT, "7", 1, 365, CF(rating_wait_days),
     "days to wait for a rating before an answer is closed"},
    {"deadline", "batch", KEY_INT, "500", 1, 100000, CF(deadline_batch),
     "complaints handled per pass for each kind of work"},
    {"deadline", "location_wait", KEY_INT, "48", 1, 8760, CF(location_wait),
     "hours a complaint waits for its commune before the triage desk "
     "takes it"},
    {"deadline", "default_desk", KEY_STR, "", 0, 0, CF(default_desk),
     "triage desk (unit code) for complaints nothing places in a province; "
     "empty: the only desk, if there is one"},
    {"stats", "cutoff_day", KEY_INT, "0", 0, 28, CF(stats_cutoff_day),
     "day of the period's last month that closes its data (0: month end)"},
    {"stats", "target_on_time", KEY_INT, "99", 0, 100, CF(stats_target_on_time),
     "target: percent answered on time"},
    {"stats", "target_satisfaction", KEY_INT, "85", 0, 100,
     CF(stats_target_satisfaction),
     "target: percent of ratings that are 4 or 5"},
    {"stats", "fold_interval", KEY_INT, "5", 1, 3600, CF(stats_fold_interval),
     "seconds between moves of new events into the rollups"},
    {"stats", "fold_batch", KEY_INT, "50000", 100, 10000000,
     CF(stats_fold_batch), "events moved into the rollups at once"},
    {"ussd", "session_idle", KEY_INT, "120", 1, 86400, CF(ussd_session_idle),
     "seconds without input after which a USSD session expires"},
    {"ussd", "diacritics", KEY_BOOL, "no", 0, 1, CF(ussd_diacritics),
     "USSD menus keep Vietnamese diacritics (many handsets cannot show them)"},
    {"abuse", "complaints_per_hour", KEY_INT, "5", 0, 100000,
     CF(abuse_complaints_hour),
     "new complaints a phone may send per hour (0: no limit)"},
    {"abuse", "complaints_per_day", KEY_INT, "20", 0, 100000,
     CF(abuse_complaints_day),
     "new complaints a phone may send per day (0: no limit)"},
    {"abuse", "replies_per_day", KEY_INT, "40", 0, 100000,
     CF(abuse_replies_day),
     "SMS a phone may get from us per day (0: no limit)"},
    {"abuse", "repeat_window", KEY_INT, "600", 0, 86400,
     CF(abuse_repeat_window),
     "seconds in which the same text again from a phone gets no reply"},
    {"sms", "max_answer_parts", KEY_INT, "3", 1, 255, CF(max_answer_parts),
     "SMS parts an official's answer may take (keep Kannel's max-messages "
     "one more)"},
    {"sms", "notice_gather", KEY_INT, "60", 0, 86400, CF(notice_gather),
     "seconds: an official's phone gets at most one new-complaint SMS in "
     "that time; the notices meanwhile go in one SMS at its end (0: each "
     "at once)"},
    {"summary", "interval", KEY_INT, "60", 1, 86400, CF(summary_interval),
     "seconds between looks at the leaders' summary schedule"},
    {"summary", "weekly", KEY_BOOL, "yes", 0, 1, CF(summary_weekly),
     "send leaders a summary every Monday at 07:30"},
    {"summary", "monthly", KEY_BOOL, "yes", 0, 1, CF(summary_monthly),
     "send leaders a summary on the reporting cut-off day at 07:30"},
    {"public", "short_number", KEY_STR, "8079", 0, 0, CF(short_number),
     "the short number citizens text, as printed on posters"},
    {"public", "ussd_code", KEY_STR, "*8079#", 0, 0, CF(ussd_code),
     "the USSD code citizens dial, as printed on posters"},
    {"public", "sms_gateway", KEY_STR, "", 0, 0, CF(sms_gateway),
     "gateway of the SMS pakn starts itself (surveys, Open311 acks); "
     "empty: the first [gateway.*]"},
    {"survey", "enabled", KEY_BOOL, "yes", 0, 1, CF(survey_enabled),
     "survey citizens by SMS after the public services shops report"},
    {"survey", "interval", KEY_INT, "60", 1, 86400, CF(survey_interval),
     "seconds between passes of the survey worker"},
    {"survey", "sample_percent", KEY_INT, "20", 0, 100, CF(survey_percent),
     "percent of a unit's services surveyed (pakn.survey_unit overrides)"},
    {"survey", "min_days", KEY_INT, "30", 0, 3650, CF(survey_min_days),
     "days between two surveys of the same phone"},
    {"survey", "delay", KEY_INT, "60", 0, 10080, CF(survey_delay),
     "minutes after the service's return before its survey is sent"},
    {"survey", "remind_hours", KEY_INT, "24", 1, 720, CF(survey_remind_hours),
     "hours without an answer before the one reminder"},
    {"survey", "expire_hours", KEY_INT, "72", 1, 2160, CF(survey_expire_hours),
     "hours after sending when an unanswered survey expires"},
    {"survey", "max_age_days", KEY_INT, "7", 1, 365, CF(survey_max_age_days),
     "services returned longer ago than this are not surveyed"},
    {"survey", "quiet_start", KEY_INT, "21", 0, 23, CF(survey_quiet_start),
     "local hour (Asia/Ho_Chi_Minh) from which no survey SMS is sent"},
    {"survey", "quiet_end", KEY_INT, "7", 0, 23, CF(survey_quiet_end),
     "local hour at which survey SMS may be sent again"},
    {"survey", "batch", KEY_INT, "200", 1, 100000, CF(survey_batch),
     "services sampled and surveys sent per pass"},
    {"survey", "keep_phone_days", KEY_INT, "90", 1, 3650, CF(survey_keep_days),
     "days after a service's return when its phone number is erased"},
    {"gateway", "type", KEY_GWTYPE, "", 0, 0, GW(type),
     "kannel | twilio | africastalking"},
    {"gateway", "token", KEY_STR, "", 0, 0, GW(token),
     "secret expected on callbacks (token= or X-Pakn-Token)"},
    {"gateway", "send_url", KEY_STR, "", 0, 0, GW(send_url),
     "URL of the gateway's send API"},
    {"gateway", "username", KEY_STR, "", 0, 0, GW(username),
     "user name for the send API"},
    {"gateway", "password", KEY_STR, "", 0, 0, GW(password),
     "password for the send API"},
    {"gateway", "sender", KEY_STR, "", 0, 0, GW(sender),
     "our short code or number, the sender of replies"},
    {"gateway", "auth_token", KEY_STR, "", 0, 0, GW(auth_token),
     "Twilio-style: key of X-Twilio-Signature"},
    {"gateway", "public_url", KEY_STR, "", 0, 0, GW(public_url),
     "our base URL as the provider calls it (signatures, delivery reports)"},
    {"gateway", "api_key", KEY_STR, "", 0, 0, GW(api_key),
     "Africa's Talking: apiKey for sending"},
    {"gateway", "rate", KEY_INT, "10", 1, 10000, GW(rate),
     "messages per second sent through this gateway"},
    {"gateway", "diacritics", KEY_BOOL, "no", 0, 1, GW(diacritics),
     "replies keep Vietnamese diacritics (UCS-2, 70 characters a part)"},
    {"gateway", "loop_senders", KEY_STR, "", 0, 0, GW(loop_senders),
     "numbers of the gateway's own services (space-separated): no reply"},
};

static const char *gw_types[] = {
    [GW_KANNEL] = "kannel",
    [GW_TWILIO] = "twilio",
    [GW_AT] = "africastalking",
};

/* Return the configuration name of a gateway type. */
const char *
gw_type_name(enum gw_type t)
{
	return gw_types[t];
}

/* Parse a size: digits and an optional K, M, G or T (powers of 1024);
 * 0, or -1 if it is not one from min to max. */
static int
size_parse(const char *val, long min, long max, long long *out)
{
	static const char units[] = "KMGT";
	const char *u;
	char *end;
	long long n;
	int shift = 0;

	errno = 0;
	n = strtoll(val, &end, 10);
	if (errno != 0 || end == val || n < 0)
		return -1;
	if (*end != '\0') {
		if ((u = strchr(units, *end)) == NULL || end[1] != '\0')
			return -1;
		shift = 10 * (int)(u - units + 1);
	}
	if (n > (LLONG_MAX >> shift))
		return -1;
	n <<= shift;
	if (n < min || n > max)
		return -1;
	*out = n;
	return 0;
}

/* Store one value at a key's place; -1 and *cause if it is not valid. */
static int
key_set(const struct key *k, void *base, const char *val, char **cause)
{
	char *end;
	long n;
	void *p = (char *)base + k->offset;

	switch (k->type) {
	case KEY_STR:
		free(*(char **)p);
		*(char **)p = xstrdup(val);
		return 0;
	case KEY_INT:
		errno = 0;
		n = strtol(val, &end, 10);
		if (errno != 0 || *val == '\0' || *end != '\0' || n < k->min ||
		    n > k->max) {
			set_cause(cause, "%s must be a number from %ld to %ld",
			          k->name, k->min, k->max);
			return -1;
		}
		*(long *)p = n;
		return 0;
	case KEY_SIZE:
		if (size_parse(val, k->min, k->max, (long long *)p) == -1) {
			set_cause(
			    cause,
			    "%s must be a size in bytes, with K, M, G or T "
			    "for powers of 1024, of at least %ldK",
			    k->name, k->min >> 10);
			return -1;
		}
		return 0;
	case KEY_BOOL:
		if (!strcmp(val, "yes") || !strcmp(val, "true") ||
		    !strcmp(val, "on") || !strcmp(val, "1"))
			*(int *)p = 1;
		else if (!strcmp(val, "no") || !strcmp(val, "false") ||
		         !strcmp(val, "off") || !strcmp(val, "0"))
			*(int *)p = 0;
		else {
			set_cause(cause, "%s must be yes or no", k->name);
			return -1;
		}
		return 0;
	case KEY_GWTYPE:
		for (size_t i = 0; i < sizeof gw_types / sizeof *gw_types; i++)
			if (!strcmp(val, gw_types[i])) {
				*(enum gw_type *)p = (enum gw_type)i;
				return 0;
			}
		set_cause(cause,
		          "type must be kannel, twilio or africastalking");
		return -1;
	}
	return -1;
}

/* Find a key by section and name. */
static const struct key *
key_find(const char *section, const char *name)
{
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (!strcmp(keys[i].section, section) &&
		    !strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

/* Apply the defaults of one section. */
static void
section_defaults(const char *section, void *base)
{
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		if (strcmp(keys[i].section, section) != 0)
			continue;
		if (keys[i].type == KEY_GWTYPE)
			continue;
		if (key_set(&keys[i], base, keys[i].def, NULL) != 0)
			fatalx("bad default for %s", keys[i].name);
	}
}

/* Trim white space at both ends, in place. */
static char *
trim(char *s)
{
	char *e;
	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Is a gateway name usable in a URL path? */
static int
gw_name_valid(const char *name)
{
	if (*name == '\0' || strlen(name) > 64)
		return 0;
	for (; *name != '\0'; name++)
		if (!isalnum((unsigned char)*name) && *name != '-' &&
		    *name != '_')
			return 0;
	return 1;
}

/* Start a [gateway.NAME] section. */
static struct gw_conf *
gateway_add(struct config *c, const char *name, char **cause)
{
	struct gw_conf *gw;
	if (!gw_name_valid(name)) {
		set_cause(cause,
		          "gateway name \"%s\" must be letters, digits, "
		          "'-' or '_'",
		          name);
		return NULL;
	}
	if (config_gateway(c, name) != NULL) {
		set_cause(cause, "gateway %s defined twice", name);
		return NULL;
	}
	c->gateways = xreallocarray(c->gateways, c->ngateways + 1, sizeof *gw);
	gw = &c->gateways[c->ngateways++];
	memset(gw, 0, sizeof *gw);
	gw->type = (enum gw_type) - 1;
	gw->name = xstrdup(name);
	section_defaults("gateway", gw);
	return gw;
}

/* Check what a single line cannot: required keys and their pairs. */
static int
config_validate(struct config *c, char **cause)
{
	const char *colon = strrchr(c->listen, ':');
	if (colon == NULL || colon == c->listen || atoi(colon + 1) <= 0 ||
	    atoi(colon + 1) > 65535) {
		set_cause(cause, "[server] listen must be address:port");
		return -1;
	}
	if (*c->sms_gateway != '\0' &&
	    config_gateway(c, c->sms_gateway) == NULL) {
		set_cause(cause, "[public] sms_gateway: no [gateway.%s]",
		          c->sms_gateway);
		return -1;
	}
	if (c->survey_keep_days < c->survey_min_days) {
		set_cause(cause,
		          "[survey] keep_phone_days must be at least "
		          "min_days (a phone must be known to be spared)");
		return -1;
	}
	for (size_t i = 0; i < c->ngateways; i++) {
		struct gw_conf *gw = &c->gateways[i];
		if ((int)gw->type == -1) {
			set_cause(cause, "[gateway.%s] needs a type", gw->name);
			return -1;
		}
		if (gw->type == GW_TWILIO &&
		    (*gw->auth_token == '\0' || *gw->public_url == '\0')) {
			set_cause(cause,
			          "[gateway.%s] twilio needs auth_token "
			          "and public_url",
			          gw->name);
			return -1;
		}
		if (gw->type != GW_TWILIO && *gw->token == '\0') {
			set_cause(cause, "[gateway.%s] needs a token",
			          gw->name);
			return -1;
		}
	}
	return 0;
}

/* Strip one pair of double quotes around a value. */
static char *
unquote(char *v)
{
	size_t n = strlen(v);
	if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
		v[n - 1] = '\0';
		return v + 1;
	}
	return v;
}

/* Handle a "[section]" line; sets *base to where its keys go. */
static int
parse_section(struct config *c, char *line, char *section, size_t sectsz,
              void **base, char **cause)
{
	char *end = strchr(line, ']');
	if (end == NULL || end[1] != '\0') {
		set_cause(cause, "bad section header");
		return -1;
	}
	*end = '\0';
	line = trim(line + 1);
	if (!strcmp(line, "server") || !strcmp(line, "database") ||
	    !strcmp(line, "outbox") || !strcmp(line, "deadline") ||
	    !strcmp(line, "ussd") || !strcmp(line, "stats") ||
	    !strcmp(line, "public") || !strcmp(line, "abuse") ||
	    !strcmp(line, "sms") || !strcmp(line, "summary") ||
	    !strcmp(line, "survey") || !strcmp(line, "intake")) {
		snprintf(section, sectsz, "%s", line);
		*base = c;
		return 0;
	}
	if (!strncmp(line, "gateway.", 8)) {
		snprintf(section, sectsz, "gateway");
		*base = gateway_add(c, line + 8, cause);
		return *base == NULL ? -1 : 0;
	}
	set_cause(cause, "unknown section [%s]", line);
	return -1;
}

/* Handle a "key = value" line. */
static int
parse_pair(char *line, const char *section, void *base, char **cause)
{
	char *eq = strchr(line, '='), *name, *val;
	const struct key *k;
	if (eq == NULL) {
		set_cause(cause, "expected key = value");
		return -1;
	}
	*eq = '\0';
	name = trim(line);
	val = unquote(trim(eq + 1));
	if (*section == '\0') {
		set_cause(cause, "%s outside a section", name);
		return -1;
	}
	if ((k = key_find(section, name)) == NULL) {
		set_cause(cause, "unknown key %s in [%s]", name, section);
		return -1;
	}
	return key_set(k, base, val, cause);
}

/* Parse configuration text; name is used in error messages. */
struct config *
config_parse(const char *name, const char *text, char **cause)
{
	struct config *c = xcalloc(1, sizeof *c);
	char section[16] = "", *copy, *line, *next, *why = NULL;
	void *base = NULL;
	int lineno = 0;

	c->refcnt = 1;
	c->path = xstrdup(name);
	section_defaults("server", c);
	section_defaults("database", c);
	section_defaults("outbox", c);
	section_defaults("deadline", c);
	section_defaults("ussd", c);
	section_defaults("stats", c);
	section_defaults("public", c);
	section_defaults("abuse", c);
	section_defaults("sms", c);
	section_defaults("summary", c);
	section_defaults("survey", c);
	section_defaults("intake", c);
	copy = xstrdup(text);
	for (line = copy; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line = trim(line);
		if (*line == '\0' || *line == '#' || *line == ';')
			continue;
		if (*line == '[' ? parse_section(c, line, section,
		                                 sizeof section, &base, &why)
		                 : parse_pair(line, section, base, &why))
			goto fail;
	}
	free(copy);
	if (config_validate(c, cause) != 0) {
		config_unref(c);
		return NULL;
	}
	return c;
fail:
	set_cause(cause, "%s:%d: %s", name, lineno, why);
	free(why);
	free(copy);
	config_unref(c);
	return NULL;
}

/* Read and parse a file. */
struct config *
config_load(const char *path, char **cause)
{
	FILE *f = fopen(path, "r");
	struct buf b;
	char chunk[4096];
	size_t n;
	struct config *c;

	if (f == NULL) {
		set_cause(cause, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	if (ferror(f) || memchr(b.data, '\0', b.len) != NULL) {
		set_cause(cause, "%s: cannot read a text file", path);
		fclose(f);
		buf_clear(&b);
		return NULL;
	}
	fclose(f);
	c = config_parse(path, b.data, cause);
	buf_clear(&b);
	return c;
}

/* Take a reference. */
struct config *
config_ref(struct config *c)
{
	c->refcnt++;
	return c;
}

/* Free every string key of a section's struct. */
static void
section_free(const char *section, void *base)
{
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		if (!strcmp(keys[i].section, section) &&
		    keys[i].type == KEY_STR)
			free(*(char **)((char *)base + keys[i].offset));
}

/* Drop a reference; the last one frees. */
void
config_unref(struct config *c)
{
	if (c == NULL || --c->refcnt > 0)
		return;
	section_free("server", c);
	section_free("database", c);
	section_free("outbox", c);
	section_free("deadline", c);
	section_free("public", c);
	section_free("intake", c);
	for (size_t i = 0; i < c->ngateways; i++) {
		section_free("gateway", &c->gateways[i]);
		free(c->gateways[i].name);
	}
	free(c->gateways);
	free(c->path);
	free(c);
}

/* Find a gateway by its section name. */
const struct gw_conf *
config_gateway(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->ngateways; i++)
		if (!strcmp(c->gateways[i].name, name))
			return &c->gateways[i];
	return NULL;
}

/* Print every key with its default and help, in sample-file form. */
void
config_print_defaults(void)
{
	const char *last = "";
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		const struct key *k = &keys[i];
		if (strcmp(k->section, last) != 0)
			printf("%s[%s]\n", *last ? "\n" : "",
			       strcmp(k->section, "gateway") ? k->section
			                                     : "gateway.NAME");
		last = k->section;
		printf("# %s\n%s = %s\n", k->help, k->name, k->def);
	}
}

/* The gateway of SMS pakn starts itself. */
const char *
config_sms_gateway(const struct config *c)
{
	if (*c->sms_gateway != '\0')
		return c->sms_gateway;
	return c->ngateways > 0 ? c->gateways[0].name : NULL;
}

/* Is number (E.164 or a short code) the sender of one of the gateways? */
int
config_own_number(const struct config *c, const char *number)
{
	char *own;
	int same;

	for (size_t i = 0; i < c->ngateways; i++) {
		if (c->gateways[i].sender == NULL ||
		    (own = phone_normalize(c->gateways[i].sender, NULL)) ==
		        NULL)
			continue;
		same = strcmp(own, number) == 0;
		free(own);
		if (same)
			return 1;
	}
	return 0;
}

/* Is number one of a gateway's loop_senders? */
int
config_loop_sender(const struct config *c, const char *number)
{
	char *list, *tok, *save = NULL, *n;
	int found = 0;

	for (size_t i = 0; i < c->ngateways && !found; i++) {
		if (c->gateways[i].loop_senders == NULL)
			continue;
		list = xstrdup(c->gateways[i].loop_senders);
		for (tok = strtok_r(list, " ,;\t", &save);
		     tok != NULL && !found;
		     tok = strtok_r(NULL, " ,;\t", &save)) {
			if ((n = phone_normalize_sender(tok, NULL)) == NULL)
				continue;
			found = strcmp(n, number) == 0;
			free(n);
		}
		free(list);
	}
	return found;
}

/* Does any gateway keep diacritics in replies? */
int
config_diacritics(const struct config *c)
{
	for (size_t i = 0; i < c->ngateways; i++)
		if (c->gateways[i].diacritics)
			return 1;
	return 0;
}
