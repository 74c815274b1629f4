/* gw.h: SMS gateway adapters behind one table of functions. */
#ifndef PAKN_GW_H
#define PAKN_GW_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "text.h"

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
};

const struct gw_ops *gw_ops(enum gw_type type);
void sms_in_free(struct sms_in *sms);

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
/* Normalise and store the sender and receiver; 400 and *cause if one is
 * absent or not a phone number. */
int gw_set_numbers(struct sms_in *sms, const char *from, const char *to,
                   char **cause);

extern const struct gw_ops gw_kannel_ops;
extern const struct gw_ops gw_twilio_ops;
extern const struct gw_ops gw_at_ops;

#endif
