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
	char *sender;     /* our number or short code */
	char *auth_token; /* Twilio-style: HMAC key */
	char *public_url; /* Twilio-style: our URL as the provider sees it */
	char *api_key;    /* Africa's Talking */
	long rate;        /* messages per second sent through it */
	int diacritics;   /* replies keep Vietnamese diacritics (UCS-2) */
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

	/* [database] */
	char *conninfo;
	char *read_conninfo; /* a streaming replica for statistics, or "" */
	long pool_size;
	int migrate;
	long query_timeout; /* seconds before a request answers 503 */
	long max_queue;     /* requests waiting for a connection */
	long batch_size;    /* requests sharing one commit */
	long reconnect_max; /* seconds, upper bound of reconnect backoff */

	/* [outbox] */
	long outbox_interval;     /* milliseconds between polls */
	long outbox_batch;        /* messages claimed at once */
	long outbox_max_attempts; /* then the message is failed */
	long outbox_retry_base;   /* seconds before the first retry */
	long outbox_lease;        /* seconds a claimed message stays ours */
	long outbox_send_timeout; /* seconds for one HTTP send */
	long outbox_max_inflight; /* HTTP sends at once */

	/* [deadline] */
	long deadline_interval; /* seconds between passes */
	long remind_days;       /* working days before the deadline */
	long apology_days;      /* working days to the new date */
	long rating_wait_days;  /* then an unrated answer is closed */
	long deadline_batch;    /* complaints handled per pass and kind */

	/* [stats] */
	long stats_cutoff_day;          /* 0: calendar months; else day 1-28 */
	long stats_target_on_time;      /* percent answered on time */
	long stats_target_satisfaction; /* percent of ratings 4-5 */
	long stats_fold_interval;       /* seconds between folds */
	long stats_fold_batch;          /* deltas folded at once */

	/* [ussd] */
	long ussd_session_idle; /* seconds before an idle session expires */
	int ussd_diacritics;    /* menus keep Vietnamese diacritics */

	/* [public] */
	char *short_number; /* the short number citizens text */
	char *ussd_code;    /* the USSD code citizens dial */

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
/* Is number (E.164 or a short code) the sender of one of the gateways? */
int config_own_number(const struct config *c, const char *number);
const char *gw_type_name(enum gw_type t);
/* Write every key with its default, as the sample file shows them. */
void config_print_defaults(void);

#endif
