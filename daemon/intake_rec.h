/* intake_rec.h: one inbound SMS callback as a journal record (versioned,
 * length-prefixed fields), and back. */
#ifndef PAKN_INTAKE_REC_H
#define PAKN_INTAKE_REC_H

#include <stddef.h>
#include <stdint.h>

#define INTAKE_REC_VERSION 2 /* 1: without flags */

/* Flags (version 2). */
#define INTAKE_REC_CUT 0x01 /* the text was cut to max_sms_text */

/* A callback as intake accepted it. Strings are NUL-terminated, contain
 * no NUL, and are owned; smsc may be NULL, the others may not. */
struct intake_rec {
	char *gateway;     /* the [gateway.NAME] it came through */
	char *msg_id;      /* the gateway's id */
	char *from;        /* sender, E.164 */
	char *to;          /* our short code or number */
	char *text;        /* UTF-8 */
	int64_t sent_at;   /* Unix time from the gateway, 0 if none */
	int segments;      /* parts reported, 0 if unknown */
	char *smsc;        /* Kannel SMSC id, or NULL */
	char *raw_request; /* method, redacted URI, headers */
	unsigned char *raw_body;
	size_t raw_body_len;
	int64_t received_at_us; /* when intake accepted it, Unix microseconds */
	unsigned flags;         /* INTAKE_REC_CUT; 0 in a version 1 record */
};

/* Encode r into a new buffer of *len bytes; NULL and *cause if a field
 * cannot be stored (a missing string, one with a NUL, too long). */
unsigned char *intake_rec_encode(const struct intake_rec *r, size_t *len,
                                 char **cause);
/* Decode n bytes into *r (filled, owned; free with intake_rec_clear);
 * 0, or -1 and *cause with *r left empty. Safe on any bytes. */
int intake_rec_decode(const void *p, size_t n, struct intake_rec *r,
                      char **cause);
/* Free the contents of r (not r itself) and clear it. */
void intake_rec_clear(struct intake_rec *r);

#endif
