/* fuzz_req.h: frame a fuzz input as an HTTP callback (for fuzz_*.c). */
#ifndef PAKN_FUZZ_REQ_H
#define PAKN_FUZZ_REQ_H

/*
 * Input: one flag byte (bit 0: POST, bit 1: a Content-Type is present,
 * bit 2: sign the request as Twilio would), then lines ending in '\n':
 * the URI, the Content-Type, "Name: value" headers up to an empty line;
 * the rest is the body.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gw.h"
#include "util.h"

#define FUZZ_POST     0x01
#define FUZZ_CT       0x02
#define FUZZ_SIGN     0x04
#define FUZZ_MAX_HDRS 8
#define FUZZ_TOKEN    "fuzz-token"
#define FUZZ_KEY      "fuzz-key"
#define FUZZ_URL      "https://fuzz.example/"

struct fuzz_req {
	struct gw_request req;
	int flags;
	char *uri;
	char *ct;
	char *name[FUZZ_MAX_HDRS];
	char *value[FUZZ_MAX_HDRS];
	size_t nhdrs;
	unsigned char *body;
	char *sig; /* X-Twilio-Signature computed here, if any */
};

/* Look a header up; a computed signature replaces the sent one. */
static const char *
fuzz_header(const void *ctx, const char *name)
{
	const struct fuzz_req *f = ctx;
	size_t i;

	if (f->sig != NULL && strcasecmp(name, "X-Twilio-Signature") == 0)
		return f->sig;
	for (i = 0; i < f->nhdrs; i++) {
		if (strcasecmp(f->name[i], name) == 0)
			return f->value[i];
	}
	return NULL;
}

/* Copy the line at *p (without '\n') and advance past it. */
static char *
fuzz_line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl != NULL ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = xmalloc(n + 1);

	memcpy(s, *p, n);
	s[n] = '\0';
	*p += nl != NULL ? n + 1 : n;
	return s;
}

/* Split a header line into the table; lines without ':' are dropped. */
static void
fuzz_add_header(struct fuzz_req *f, char *line)
{
	char *colon = strchr(line, ':');

	if (colon == NULL || f->nhdrs == FUZZ_MAX_HDRS) {
		free(line);
		return;
	}
	*colon++ = '\0';
	colon += strspn(colon, " ");
	f->name[f->nhdrs] = line;
	f->value[f->nhdrs++] = xstrdup(colon);
}

/* Frame data as a request. */
static void
fuzz_req_init(struct fuzz_req *f, const uint8_t *data, size_t size)
{
	const uint8_t *p = data + (size > 0), *end = data + size;
	char *line, *q;

	memset(f, 0, sizeof *f);
	f->flags = size > 0 ? data[0] : 0;
	f->uri = fuzz_line(&p, end);
	f->ct = fuzz_line(&p, end);
	while (p < end) {
		line = fuzz_line(&p, end);
		if (*line == '\0') {
			free(line);
			break;
		}
		fuzz_add_header(f, line);
	}
	if (end > p) {
		f->body = xmalloc((size_t)(end - p));
		memcpy(f->body, p, (size_t)(end - p));
	}
	f->req.method = f->flags & FUZZ_POST ? GW_POST : GW_GET;
	f->req.uri = f->uri;
	f->req.query = (q = strchr(f->uri, '?')) != NULL ? q + 1 : NULL;
	f->req.content_type = f->flags & FUZZ_CT ? f->ct : NULL;
	f->req.body = f->body;
	f->req.body_len = f->body != NULL ? (size_t)(end - p) : 0;
	f->req.header = fuzz_header;
	f->req.hctx = f;
}

/* Free what fuzz_req_init allocated. */
static void
fuzz_req_clear(struct fuzz_req *f)
{
	size_t i;

	free(f->uri);
	free(f->ct);
	for (i = 0; i < f->nhdrs; i++) {
		free(f->name[i]);
		free(f->value[i]);
	}
	free(f->body);
	free(f->sig);
}

/* Parse with a gateway and check what any answer must satisfy. */
static void
fuzz_parse(const struct gw_conf *gw, const struct fuzz_req *f)
{
	struct sms_in sms;
	char *cause = NULL;
	int r = gw_ops(gw->type)->parse_sms(gw, &f->req, &sms, &cause);

	if (r == 0) {
		if (cause != NULL || sms.msg_id == NULL || sms.from == NULL ||
		    sms.to == NULL || sms.text == NULL ||
		    !text_utf8_valid(sms.text, strlen(sms.text)))
			abort();
	} else if ((r != 400 && r != 401 && r != 403 && r != 415) ||
	           cause == NULL || sms.text != NULL ||
	           strchr(cause, '\n') != NULL)
		abort();
	free(cause);
	sms_in_clear(&sms);
}

#endif
