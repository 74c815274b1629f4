/* config.h: the paknd.conf INI file, described by a table of keys. */
#ifndef PAKN_CONFIG_H
#define PAKN_CONFIG_H

#include <stddef.h>

enum gw_type {
	GW_KANNEL,
	GW_TWILIO,
	GW_AT,
};

/* One [gateway.NAME] section. */
struct gw_conf {
	char *name;
	enum gw_type type;
	char *token;    /* secret expected on callbacks */
	char *send_url; /* where replies are sent */
	char *username;
	char *password;
	char *sender;       /* our number or short code */
	char *auth_token;   /* Twilio-style: HMAC key */
	char *public_url;   /* Twilio-style: our URL as the provider sees it */
	char *api_key;      /* Africa's Talking */
	long rate;          /* messages per second sent through it */
	int diacritics;     /* replies keep Vietnamese diacritics (UCS-2) */
	char *loop_senders; /* numbers of the gateway's own services */
};

struct config {
	char *path;
	int refcnt;

	/* [server] */
	char *listen;         /* host:port */
	long max_body_size;   /* bytes */
	long max_header_size; /* bytes */
	long timeout;         /* seconds, HTTP read/write */
	long request_timeout; /* seconds to send a whole request */
	long max_connections; /* HTTP connections at once */
	long drain_timeout;   /* seconds to finish work on SIGTERM */
	long max_sms_text;    /* characters of an inbound SMS kept as text */
	long log_messages;    /* lines a second of each per-message kind */

	/* [database] */
	char *conninfo;
	char *read_conninfo; /* a streaming replica for statistics, or "" */
	long pool_size;
	int migrate;
	long query_timeout; /* seconds before a request answers 503 */
	long max_queue;     /* requests waiting for a connection */
	long batch_size;    /* requests sharing one commit */
	long reconnect_max; /* seconds, upper bound of reconnect backoff */
	long db_lifetime;   /* seconds a connection lives (0: forever) */

	/* [intake] */
	char *journal_dir;     /* where callbacks wait while the database is
	                          down */
	long long journal_max; /* bytes of the journal directory */

	/* [outbox] */
	long outbox_interval;       /* milliseconds between polls */
	long outbox_batch;          /* messages claimed at once */
	long outbox_max_attempts;   /* then the message is failed */
	long outbox_retry_base;     /* seconds before the first retry */
	long outbox_lease;          /* seconds a claimed message stays ours */
	long intake_batch;          /* stored messages claimed at once */
	long intake_lease;          /* seconds a claimed message stays ours */
	long intake_interval;       /* ms between looks for unprocessed ones */
	long intake_connections;    /* the processing worker's own pool */
	long intake_steady;         /* of it, given work with no backlog */
	long intake_process_batch;  /* its statements per transaction */
	long intake_yield_requests; /* HTTP requests waiting at which
	                               processing yields (0: never) */
	long intake_surge_rate;     /* callbacks a second that make a surge
	                               (0: any rate) */
	long intake_burst_rate;     /* messages a second claimed at most
	                               under a surge (0: no limit) */
	long outbox_send_timeout;   /* seconds for one HTTP send */
	long outbox_max_inflight;   /* HTTP sends at once */
	long outbox_backlog_rate;   /* a gateway's sends a second at most while
	                               processing has a backlog (0: none) */
	long outbox_burst_rate;     /* the same while intake is under a
	                               surge */

	/* [deadline] */
	long deadline_interval; /* seconds between passes */
	long remind_days;       /* working days before the deadline */
	long apology_days;      /* working days to the new date */
	long rating_wait_days;  /* then an unrated answer is closed */
	long deadline_batch;    /* complaints handled per pass and kind */
	long location_wait;     /* hours before a complaint without a place
	                           goes to the triage desk */
	char *default_desk;     /* desk for those no place points to, or "" */

	/* [stats] */
	long stats_cutoff_day;          /* 0: calendar months; else day 1-28 */
	long stats_target_on_time;      /* percent answered on time */
	long stats_target_satisfaction; /* percent of ratings 4-5 */
	long stats_fold_interval;       /* seconds between folds */
	long stats_fold_batch;          /* deltas folded at once */

	/* [ussd] */
	long ussd_session_idle; /* seconds before an idle session expires */
	int ussd_diacritics;    /* menus keep Vietnamese diacritics */

	/* [abuse] (0: no limit) */
	long abuse_complaints_hour; /* new complaints per phone and hour */
	long abuse_complaints_day;  /* new complaints per phone and day */
	long abuse_replies_day;     /* SMS to a phone per day */
	long abuse_repeat_window; /* seconds: the same text again is ignored */

	/* [sms] */
	long max_answer_parts; /* parts an official's answer may take */
	long notice_gather; /* seconds between new-complaint SMS to a phone */

	/* [summary] */
	long summary_interval; /* seconds between passes of the schedule */
	int summary_weekly;    /* Monday 07:30 */
	int summary_monthly;   /* the reporting cut-off day, 07:30 */

	/* [public] */
	char *short_number; /* the short number citizens text */
	char *ussd_code;    /* the USSD code citizens dial */
	char *sms_gateway;  /* gateway of SMS pakn starts itself, "" first */

	/* [survey] */
	int survey_enabled;       /* the survey worker runs */
	long survey_interval;     /* seconds between passes */
	long survey_percent;      /* share of services surveyed */
	long survey_min_days;     /* days between two surveys of a phone */
	long survey_delay;        /* minutes after the service's return */
	long survey_remind_hours; /* then the one reminder */
	long survey_expire_hours; /* then an unanswered survey expires */
	long survey_max_age_days; /* older services are not surveyed */
	long survey_quiet_start;  /* local hour: no survey SMS from ... */
	long survey_quiet_end;    /* ... to this hour */
	long survey_batch;        /* services and surveys per pass */
	long survey_keep_days;    /* then a service's phone is erased */

	struct gw_conf *gateways;
	size_t ngateways;
};

/* Parse a file; NULL with *cause ("file:line: reason") on error. */
struct config *config_load(const char *path, char **cause);
/* Parse text (name is used in messages). */
struct config *config_parse(const char *name, const char *text, char **cause);
struct config *config_ref(struct config *c);
void config_unref(struct config *c);
const struct gw_conf *config_gateway(const struct config *c, const char *name);
/* The gateway of SMS pakn starts itself (surveys, Open311 acks):
 * [public] sms_gateway, else the first one; NULL without gateways. */
const char *config_sms_gateway(const struct config *c);
/* Is number (E.164 or a short code) the sender of one of the gateways? */
int config_own_number(const struct config *c, const char *number);
/* Is number one of the loop_senders of a gateway (its own services)? */
int config_loop_sender(const struct config *c, const char *number);
/* Does any gateway send replies with diacritics? */
int config_diacritics(const struct config *c);
const char *gw_type_name(enum gw_type t);
/* Write every key with its default, as the sample file shows them. */
void config_print_defaults(void);

#endif
