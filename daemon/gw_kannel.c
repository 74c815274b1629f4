/* gw_kannel.c: Kannel sms-service callbacks (get-url and post-url). */

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "gw.h"
#include "util.h"

#define KANNEL_FORM   "application/x-www-form-urlencoded"
#define KANNEL_ID_MAX 255

/* The fields of one callback, pointing into the request. */
struct kannel_msg {
	const char *from;
	const char *to;
	const char *coding;
	const char *charset;
	const char *id;
	const char *smsc;
	const char *ts;
	const char *text;
	size_t text_len;
	char *ct_charset; /* owned: the charset of the Content-Type */
};

/* Is this a post-url callback (the body is the message)? */
static int
kannel_is_post_url(const struct gw_request *req)
{
	if (req->method != GW_POST ||
	    gw_content_type_is(req->content_type, KANNEL_FORM))
		return 0;
	return req->content_type != NULL || req->body_len > 0;
}

/* Take the fields of a get-url callback from the query (and a form body). */
static int
kannel_get_fields(const struct gw_request *req, struct form *q,
                  struct kannel_msg *m, char **cause)
{
	const struct kv *text;
	char *why = NULL;

	if (req->method == GW_POST && req->body_len > 0 &&
	    form_parse(q, (const char *)req->body, req->body_len, &why) != 0) {
		set_cause(cause, "body: %s", why);
		free(why);
		return 400;
	}
	if (gw_form_text(q, "from", &m->from, cause) != 0 ||
	    gw_form_text(q, "to", &m->to, cause) != 0 ||
	    gw_form_text(q, "coding", &m->coding, cause) != 0 ||
	    gw_form_text(q, "charset", &m->charset, cause) != 0 ||
	    gw_form_text(q, "id", &m->id, cause) != 0 ||
	    gw_form_text(q, "smsc", &m->smsc, cause) != 0 ||
	    gw_form_text(q, "ts", &m->ts, cause) != 0)
		return 400;
	if ((text = form_get(q, "text")) != NULL) {
		m->text = text->val;
		m->text_len = text->vlen;
	}
	return 0;
}

/* Take a field from a header, or from the query if the header is absent. */
static int
kannel_header_or_query(const struct gw_request *req, const struct form *q,
                       const char *header, const char *key, const char **out,
                       char **cause)
{
	const char *h = gw_header(req, header);

	if (h == NULL)
		return gw_form_text(q, key, out, cause);
	if (!text_utf8_valid(h, strlen(h))) {
		set_cause(cause, "invalid %s header (not UTF-8)", header);
		return -1;
	}
	*out = h;
	return 0;
}

/* Take the fields of a post-url callback from headers, query and body. */
static int
kannel_post_fields(const struct gw_request *req, const struct form *q,
                   struct kannel_msg *m, char **cause)
{
	if (kannel_header_or_query(req, q, "X-Kannel-From", "from", &m->from,
	                           cause) != 0 ||
	    kannel_header_or_query(req, q, "X-Kannel-To", "to", &m->to,
	                           cause) != 0 ||
	    kannel_header_or_query(req, q, "X-Kannel-Coding", "coding",
	                           &m->coding, cause) != 0 ||
	    kannel_header_or_query(req, q, "X-Kannel-Time", "ts", &m->ts,
	                           cause) != 0 ||
	    kannel_header_or_query(req, q, "X-Kannel-SMSC", "smsc", &m->smsc,
	                           cause) != 0 ||
	    gw_form_text(q, "id", &m->id, cause) != 0 ||
	    gw_form_text(q, "charset", &m->charset, cause) != 0)
		return 400;
	m->ct_charset = gw_content_type_charset(req->content_type);
	if (m->ct_charset != NULL && m->ct_charset[0] != '\0')
		m->charset = m->ct_charset;
	m->text = req->body_len > 0 ? (const char *)req->body : "";
	m->text_len = req->body_len;
	return 0;
}

/* How the text bytes are encoded. */
enum kannel_enc {
	ENC_UTF8,
	ENC_LATIN1,
	ENC_UTF16,
};

/* Is name one of the NULL-terminated list (case-insensitive)? */
static int
name_in(const char *name, const char *const *list)
{
	for (; *list != NULL; list++) {
		if (strcasecmp(name, *list) == 0)
			return 1;
	}
	return 0;
}

/* Choose the encoding named by a charset (for coding 0). */
static int
kannel_charset_enc(const char *charset, enum kannel_enc *enc, char **cause)
{
	static const char *const utf8[] = {"UTF-8", "UTF8", "US-ASCII", "ASCII",
	                                   NULL};
	static const char *const latin1[] = {
	    "ISO-8859-1",   "ISO8859-1", "ISO_8859-1", "LATIN1",
	    "WINDOWS-1252", "CP1252",    NULL};
	static const char *const utf16[] = {"UTF-16BE", "UCS-2", "UCS-2BE",
	                                    NULL};
	char *show;

	if (charset == NULL || charset[0] == '\0' || name_in(charset, utf8))
		*enc = ENC_UTF8;
	else if (name_in(charset, latin1))
		*enc = ENC_LATIN1;
	else if (name_in(charset, utf16))
		*enc = ENC_UTF16;
	else {
		show = gw_printable(charset, strlen(charset));
		set_cause(cause, "unsupported charset %s", show);
		free(show);
		return 400;
	}
	return 0;
}

/* Choose the encoding of the text from coding, then charset. */
static int
kannel_text_enc(const struct kannel_msg *m, enum kannel_enc *enc, char **cause)
{
	const char *c = m->coding != NULL ? m->coding : "";
	char *show;

	if (strcmp(c, "2") == 0) {
		*enc = ENC_UTF16;
		return 0;
	}
	if (c[0] == '\0' || strcmp(c, "0") == 0)
		return kannel_charset_enc(m->charset, enc, cause);
	if (strcmp(c, "1") == 0) {
		set_cause(cause, "binary (8-bit) messages are not supported");
		return 400;
	}
	show = gw_printable(c, strlen(c));
	set_cause(cause, "unsupported coding %s", show);
	free(show);
	return 400;
}

/* Decode the message text into sms->text. */
static int
kannel_decode(const struct kannel_msg *m, struct sms_in *sms, char **cause)
{
	const unsigned char *t = (const unsigned char *)m->text;
	enum kannel_enc enc;
	char *why = NULL;
	int r;

	if ((r = kannel_text_enc(m, &enc, cause)) != 0)
		return r;
	switch (enc) {
	case ENC_UTF8:
		if (text_utf8_valid(m->text, m->text_len))
			sms->text = xstrndup(m->text, m->text_len);
		else
			why = xstrdup("not valid UTF-8");
		break;
	case ENC_LATIN1:
		sms->text = text_latin1_to_utf8(t, m->text_len, &why);
		break;
	case ENC_UTF16:
		sms->text = text_utf16be_to_utf8(t, m->text_len, &why);
		break;
	}
	if (sms->text != NULL) {
		text_strip_bom(sms->text);
		return 0;
	}
	set_cause(cause, "bad text encoding: %s", why);
	free(why);
	return 400;
}

/* Derive a stable id from what identifies the message: "h:" + SHA-1. */
static char *
kannel_derive_id(const struct sms_in *sms)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	struct buf b, id;

	buf_init(&b);
	buf_printf(&b, "%s\n%s\n%" PRId64 "\n%s", sms->from, sms->to,
	           sms->sent_at, sms->text);
	if (EVP_Digest(b.data, b.len, md, &mdlen, EVP_sha1(), NULL) != 1) {
		buf_clear(&b);
		return NULL;
	}
	buf_clear(&b);
	buf_init(&id);
	buf_adds(&id, "h:");
	for (i = 0; i < mdlen; i++)
		buf_printf(&id, "%02x", md[i]);
	return buf_detach(&id);
}

/* Set the message id: the given one, or one derived from the content. */
static int
kannel_set_id(const struct kannel_msg *m, struct sms_in *sms, char **cause)
{
	if (m->id != NULL && m->id[0] != '\0') {
		if (strlen(m->id) > KANNEL_ID_MAX) {
			set_cause(cause, "id longer than %d bytes",
			          KANNEL_ID_MAX);
			return 400;
		}
		sms->msg_id = xstrdup(m->id);
		return 0;
	}
	if (m->ts == NULL || m->ts[0] == '\0') {
		set_cause(cause, "missing id (add id=%%I to the get-url)");
		return 400;
	}
	if ((sms->msg_id = kannel_derive_id(sms)) == NULL) {
		set_cause(cause, "cannot hash the message");
		return 400;
	}
	return 0;
}

/* Check and convert the fields of a callback into sms. */
static int
kannel_fill(const struct kannel_msg *m, struct sms_in *sms, char **cause)
{
	const char *missing = NULL;
	char *show;
	int r;

	if (m->from == NULL)
		missing = "from";
	else if (m->to == NULL)
		missing = "to";
	else if (m->text == NULL)
		missing = "text";
	if (missing != NULL) {
		set_cause(cause, "missing %s", missing);
		return 400;
	}
	if ((r = kannel_decode(m, sms, cause)) != 0)
		return r;
	if (m->ts != NULL && m->ts[0] != '\0' &&
	    gw_parse_time(m->ts, &sms->sent_at) != 0) {
		show = gw_printable(m->ts, strlen(m->ts));
		set_cause(cause, "invalid timestamp %s", show);
		free(show);
		return 400;
	}
	if ((r = gw_set_numbers(sms, m->from, m->to, cause)) != 0)
		return r;
	if (m->smsc != NULL && m->smsc[0] != '\0')
		sms->smsc = xstrdup(m->smsc);
	return kannel_set_id(m, sms, cause);
}

/* Authenticate and parse a Kannel callback. */
static int
kannel_parse_sms(const struct gw_conf *gw, const struct gw_request *req,
                 struct sms_in *sms, char **cause)
{
	struct kannel_msg m;
	struct form q = {NULL, 0};
	int r;

	memset(sms, 0, sizeof *sms);
	memset(&m, 0, sizeof m);
	if (gw_parse_query(req, &q, cause) != 0) {
		r = 400;
		goto out;
	}
	if ((r = gw_check_token(gw, req, &q, cause)) != 0)
		goto out;
	if (kannel_is_post_url(req))
		r = kannel_post_fields(req, &q, &m, cause);
	else
		r = kannel_get_fields(req, &q, &m, cause);
	if (r == 0)
		r = kannel_fill(&m, sms, cause);
out:
	free(m.ct_charset);
	form_clear(&q);
	if (r != 0)
		sms_in_clear(sms);
	return r;
}

/* The dlr-url of a message: our DLR endpoint, token, outbox id, %d. */
static char *
kannel_dlr_url(const struct gw_conf *gw, long long id)
{
	char *base = gw_dlr_url(gw), *url;
	struct buf q;

	buf_init(&q);
	if (gw_has(gw->token))
		gw_form_add(&q, "token", gw->token);
	buf_printf(&q, "%sid=%lld&status=%%d", q.len > 0 ? "&" : "", id);
	url = xasprintf("%s?%s", base, q.data);
	buf_clear(&q);
	free(base);
	return url;
}

/* Build the sendsms request (GET, every field in the query). */
static int
kannel_build_send(const struct gw_conf *gw, const struct sms_out *m,
                  struct gw_call *call, char **cause)
{
	struct buf q;
	char *dlr;

	memset(call, 0, sizeof *call);
	if (!gw_has(gw->send_url)) {
		set_cause(cause, "gateway %s has no send_url", gw->name);
		return -1;
	}
	buf_init(&q);
	gw_form_add(&q, "username", gw->username ? gw->username : "");
	gw_form_add(&q, "password", gw->password ? gw->password : "");
	if (gw_has(gw->sender))
		gw_form_add(&q, "from", gw->sender);
	gw_form_add(&q, "to", m->msisdn);
	gw_form_add(&q, "text", m->text);
	gw_form_add(&q, "charset", "UTF-8");
	if (m->ucs2)
		gw_form_add(&q, "coding", "2");
	if (gw_has(gw->public_url)) {
		dlr = kannel_dlr_url(gw, m->id);
		gw_form_add(&q, "dlr-mask", "3");
		gw_form_add(&q, "dlr-url", dlr);
		free(dlr);
	}
	call->method = GW_GET;
	call->url =
	    xasprintf("%s%c%s", gw->send_url,
	              strchr(gw->send_url, '?') != NULL ? '&' : '?', q.data);
	buf_clear(&q);
	return 0;
}

/* Judge sendsms's answer: 2xx accepted (the ref is our outbox id). */
static int
kannel_send_result(const struct gw_conf *gw, const struct sms_out *m,
                   long status, const char *body, size_t len, char **ref,
                   char **cause)
{
	(void)gw;
	*ref = NULL;
	if (status >= 200 && status < 300) {
		*ref = xasprintf("%lld", m->id);
		return GW_SENT;
	}
	return gw_send_error(status, body, len, cause);
}

/* Map the dlr-mask bits of a report to a status. */
static void
kannel_dlr_map(struct gw_dlr *dlr, const char *status, long bits)
{
	char detail[64];

	if (bits & 1) {
		gw_dlr_set(dlr, GW_DLR_DELIVERED, status, NULL);
		return;
	}
	if (bits & (2 | 16)) {
		snprintf(detail, sizeof detail, "kannel status %ld (%s)", bits,
		         bits & 16 ? "rejected by the SMSC" : "undelivered");
		gw_dlr_set(dlr, GW_DLR_UNDELIVERED, status, detail);
		return;
	}
	gw_dlr_set(dlr, GW_DLR_OTHER, status, NULL);
}

/* Check and convert the fields of a delivery report. */
static int
kannel_dlr_fill(const struct form *q, struct gw_dlr *dlr, char **cause)
{
	const char *id, *status;
	char *end, *show;
	long bits;

	if (gw_form_text(q, "id", &id, cause) != 0 ||
	    gw_form_text(q, "status", &status, cause) != 0)
		return 400;
	if (id == NULL || status == NULL) {
		set_cause(cause, "missing %s", id == NULL ? "id" : "status");
		return 400;
	}
	if (gw_parse_id(id, &dlr->id) != 0) {
		show = gw_printable(id, strlen(id));
		set_cause(cause, "invalid id %s", show);
		free(show);
		return 400;
	}
	bits = strtol(status, &end, 10);
	if (status[0] < '0' || status[0] > '9' || *end != '\0' || bits > 255) {
		show = gw_printable(status, strlen(status));
		set_cause(cause, "invalid status %s", show);
		free(show);
		return 400;
	}
	kannel_dlr_map(dlr, status, bits);
	return 0;
}

/* Authenticate and parse a Kannel delivery report (dlr-url). */
static int
kannel_parse_dlr(const struct gw_conf *gw, const struct gw_request *req,
                 struct gw_dlr *dlr, char **cause)
{
	struct form q = {NULL, 0};
	char *why = NULL;
	int r;

	memset(dlr, 0, sizeof *dlr);
	if (gw_parse_query(req, &q, cause) != 0)
		r = 400;
	else if ((r = gw_check_token(gw, req, &q, cause)) != 0)
		;
	else if (req->method == GW_POST && req->body_len > 0 &&
	         gw_content_type_is(req->content_type, KANNEL_FORM) &&
	         form_parse(&q, (const char *)req->body, req->body_len, &why) !=
	             0) {
		set_cause(cause, "body: %s", why);
		free(why);
		r = 400;
	} else
		r = kannel_dlr_fill(&q, dlr, cause);
	form_clear(&q);
	if (r != 0)
		gw_dlr_clear(dlr);
	return r;
}

const struct gw_ops gw_kannel_ops = {
    .type = GW_KANNEL,
    .parse_sms = kannel_parse_sms,
    .reply_type = "text/plain",
    .reply_body = "OK\n",
    .build_send = kannel_build_send,
    .send_result = kannel_send_result,
    .parse_dlr = kannel_parse_dlr,
};
