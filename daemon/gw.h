/* gw.h: SMS gateway adapters behind one table of functions. */
#ifndef PAKN_GW_H
#define PAKN_GW_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "text.h"
#include "util.h"

enum gw_method {
	GW_GET,
	GW_POST,
};

/* An HTTP callback as received, independent of libevent. */
struct gw_request {
	enum gw_method method;
	const char *uri;          /* path and query as received */
	const char *query;        /* the part after '?', or NULL */
	const char *content_type; /* NULL if absent */
	const unsigned char *body;
	size_t body_len;
	/* Look up a request header (case-insensitive); NULL if absent. */
	const char *(*header)(const void *ctx, const char *name);
	const void *hctx;
};

/* An inbound SMS, normalised. All strings are UTF-8 and owned. */
struct sms_in {
	char *msg_id;    /* the gateway's id, stable across retries */
	char *from;      /* E.164 */
	char *to;        /* E.164 or short code */
	char *text;      /* UTF-8, no NUL */
	int64_t sent_at; /* Unix time reported by the gateway, 0 if none */
	char *smsc;      /* Kannel SMSC id, or NULL */
	int segments;    /* parts reported by the gateway, 0 if unknown */
};

/* An SMS to send: the text is already chosen for its encoding. */
struct sms_out {
	long long id;       /* pakn.outbox id */
	const char *msisdn; /* E.164 */
	const char *text;   /* UTF-8: GSM-7 characters only unless ucs2 */
	int ucs2;           /* the text goes as UCS-2 (diacritics kept) */
};

/* A USSD callback, normalised. All strings are UTF-8 and owned. */
struct ussd_in {
	char *session;  /* the gateway's session id (gw_session_ok) */
	char *service;  /* the code dialled, or NULL */
	char *msisdn;   /* E.164 */
	char *network;  /* the operator's code, or NULL */
	char *text;     /* what the gateway sent as input, "" at the start */
	int cumulative; /* text holds every input so far, joined by '*' */
};

#define GW_SESSION_MAX 128 /* bytes of a USSD session id */

#define GW_CALL_HEADERS 4

/* An HTTP request to a gateway's send API, built by an adapter. */
struct gw_call {
	enum gw_method method;
	char *url;
	char *content_type; /* of the body; NULL for GET */
	char *body;         /* NULL for GET */
	size_t body_len;
	char *headers[GW_CALL_HEADERS]; /* "Name: value" lines */
	size_t nheaders;
	char *user;     /* HTTP basic authentication, or NULL */
	char *password; /* secret: never log it */
};

/* What an answer to a send means for the message. */
enum gw_outcome {
	GW_SENT,   /* accepted by the gateway */
	GW_RETRY,  /* try again later (busy, down, rate limited) */
	GW_FAILED, /* refused for good (bad number, opted out, bad login) */
};

/* A delivery report, normalised. */
enum gw_dlr_status {
	GW_DLR_DELIVERED,
	GW_DLR_UNDELIVERED,
	GW_DLR_OTHER, /* queued, accepted, buffered: no change */
};

struct gw_dlr {
	long long id; /* our outbox id (Kannel), 0 if unknown */
	char *ref;    /* the gateway's message id, NULL if unknown */
	enum gw_dlr_status status;
	char *state;  /* the gateway's own status word, for logs */
	char *detail; /* why it was not delivered, or NULL */
};

#define GW_ANSWER_MAX 65536 /* bytes of a send answer that are kept */

struct gw_ops {
	enum gw_type type;
	/*
	 * Authenticate and parse an inbound SMS callback. Returns 0 and
	 * fills *sms, or an HTTP status (400, 401, 403, 405, 415) and
	 * *cause, a one-line reason without secrets.
	 */
	int (*parse_sms)(const struct gw_conf *gw, const struct gw_request *req,
	                 struct sms_in *sms, char **cause);
	const char *reply_type; /* Content-Type of the success answer */
	const char *reply_body; /* body of the success answer */
	/*
	 * Build the HTTP request that sends m. Returns 0 and fills *call,
	 * or -1 and *cause when the gateway cannot send (no send_url).
	 */
	int (*build_send)(const struct gw_conf *gw, const struct sms_out *m,
	                  struct gw_call *call, char **cause);
	/*
	 * Judge the answer to a send (status 0: no answer came). Returns
	 * GW_SENT with *ref (the gateway's id for delivery reports, or
	 * NULL), else GW_RETRY or GW_FAILED with *cause, one printable
	 * line. *cause may also be set with GW_SENT (an odd answer).
	 */
	int (*send_result)(const struct gw_conf *gw, const struct sms_out *m,
	                   long status, const char *body, size_t len,
	                   char **ref, char **cause);
	/*
	 * Authenticate and parse a delivery report. Returns 0 and fills
	 * *dlr (id or ref set), or an HTTP status (400, 401, 403, 415)
	 * and *cause.
	 */
	int (*parse_dlr)(const struct gw_conf *gw, const struct gw_request *req,
	                 struct gw_dlr *dlr, char **cause);
	/*
	 * Authenticate and parse a USSD callback, setting u->cumulative as
	 * the gateway sends its text. Returns 0 and fills *u, or an HTTP
	 * status (400, 401, 403, 415) and *cause. NULL: the gateway type
	 * has no USSD.
	 */
	int (*parse_ussd)(const struct gw_conf *gw,
	                  const struct gw_request *req, struct ussd_in *u,
	                  char **cause);
};

const struct gw_ops *gw_ops(enum gw_type type);
/* Parse a USSD callback with the gateway's parse_ussd: 0 and *u filled,
 * or its HTTP status and *cause; 404 for a gateway type without USSD. */
int gw_parse_ussd(const struct gw_conf *gw, const struct gw_request *req,
                  struct ussd_in *u, char **cause);
/* Free the strings of a USSD callback and clear it. */
void ussd_in_clear(struct ussd_in *u);
/* Free the strings of an inbound SMS and clear it. */
void sms_in_clear(struct sms_in *sms);
/* Cut sms->text (UTF-8) to at most max characters, and to what its
 * reported parts can carry (160 characters in one, 153 in each of
 * several). Returns 0 when it fits, else the characters it had. */
size_t gw_cut_text(struct sms_in *sms, long max);
/* Free what a send request holds and clear it. */
void gw_call_clear(struct gw_call *call);
/* Free the strings of a delivery report and clear it. */
void gw_dlr_clear(struct gw_dlr *dlr);
/* "delivered", "undelivered" or "other", as pakn.outbox_dlr takes them. */
const char *gw_dlr_status_name(enum gw_dlr_status status);

/* Check the callback secret (token= query parameter or X-Pakn-Token
 * header) in constant time. 0 if it matches; 401 if absent; 403 if wrong. */
int gw_check_token(const struct gw_conf *gw, const struct gw_request *req,
                   const struct form *query, char **cause);

/* The request URI with the value of any token= parameter replaced by
 * "REDACTED", for audit storage and logs. */
char *gw_redact_uri(const char *uri);

/* Twilio-style signature: Base64(HMAC-SHA1(key, url + sorted params)). */
char *gw_twilio_signature(const char *auth_token, const char *url,
                          const struct form *params);

/* Helpers shared by the gw_*.c adapters. */

/* A header of the request, or NULL (also when req has no header hook). */
const char *gw_header(const struct gw_request *req, const char *name);
/* Parse the query of req (if any) into f; -1 and *cause on a bad escape. */
int gw_parse_query(const struct gw_request *req, struct form *f, char **cause);
/* Is the media type of a Content-Type value (parameters ignored) type? */
int gw_content_type_is(const char *content_type, const char *type);
/* The charset= parameter of a Content-Type value as a new string, or NULL. */
char *gw_content_type_charset(const char *content_type);
/* Find key in f: 0 with *out set (NULL if absent), or -1 and *cause if the
 * value is not UTF-8 text without NUL. */
int gw_form_text(const struct form *f, const char *key, const char **out,
                 char **cause);
/* A short printable copy of untrusted bytes, for error messages. */
char *gw_printable(const char *s, size_t len);
/* Parse Unix seconds or "YYYY-MM-DD HH:MM[:SS[.fff]]" (UTC; 'T' and a
 * final 'Z' allowed); -1 if s is neither. */
int gw_parse_time(const char *s, int64_t *t);
/* Is s a usable USSD session id: 1 to GW_SESSION_MAX printable ASCII
 * characters? */
int gw_session_ok(const char *s);
/* Normalise and store the sender and receiver; 400 and *cause if one is
 * absent or not a phone number (a sender of digits of the wrong length is
 * kept as phone_normalize_sender keeps it). */
int gw_set_numbers(struct sms_in *sms, const char *from, const char *to,
                   char **cause);

/* Helpers for sending and delivery reports. */

/* Append s percent-encoded (all but A-Z a-z 0-9 - _ . ~) to b. */
void gw_url_encode(struct buf *b, const char *s);
/* Append "&name=value" (no '&' when b is empty), the value encoded. */
void gw_form_add(struct buf *b, const char *name, const char *value);
/* Add a "Name: value" header line to a call. */
void gw_call_header(struct gw_call *call, const char *name, const char *value);
/* public_url without trailing '/', then "/v1/gw/NAME/dlr". */
char *gw_dlr_url(const struct gw_conf *gw);
/* Is a send answer's status worth a retry (none, 408, 429, 5xx...)? */
int gw_status_retry(long status);
/* The outcome of a status that is not a success, with *cause "HTTP N:
 * first line of the body" (printable, bounded). */
int gw_send_error(long status, const char *body, size_t len, char **cause);
/* A printable copy of at most max bytes of untrusted text, on one line. */
char *gw_printable_n(const char *s, size_t len, size_t max);
/* Parse a decimal id in 1..INT64_MAX; -1 if s is not one. */
int gw_parse_id(const char *s, long long *id);
/* Is a configuration string set (not NULL, not empty)? */
int gw_has(const char *s);
/* A copy of a gateway's message id if it is 1 to 255 printable ASCII
 * characters, else NULL. */
char *gw_ref_copy(const char *s);
/* Set a dlr's state, detail (either may be NULL) as printable copies. */
void gw_dlr_set(struct gw_dlr *dlr, enum gw_dlr_status status,
                const char *state, const char *detail);

extern const struct gw_ops gw_kannel_ops;
extern const struct gw_ops gw_twilio_ops;
extern const struct gw_ops gw_at_ops;

#endif
