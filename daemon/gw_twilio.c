/* gw_twilio.c: Twilio-style inbound SMS (form POST, signed by HMAC). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gw.h"
#include "util.h"

#define TWILIO_FORM     "application/x-www-form-urlencoded"
#define TWILIO_ID_MAX   255
#define TWILIO_SEGS_MAX 1000

/* Take the parameters: the form body of a POST, the query of a GET. */
static int
twilio_params(const struct gw_request *req, struct form *f, char **cause)
{
	char *why = NULL;

	if (req->method == GW_GET)
		return gw_parse_query(req, f, cause) == 0 ? 0 : 400;
	if (req->content_type != NULL &&
	    !gw_content_type_is(req->content_type, TWILIO_FORM)) {
		set_cause(cause, "unsupported Content-Type (want %s)",
		          TWILIO_FORM);
		return 415;
	}
	if (req->body_len > 0 &&
	    form_parse(f, (const char *)req->body, req->body_len, &why) != 0) {
		set_cause(cause, "body: %s", why);
		free(why);
		return 400;
	}
	return 0;
}

/* Refuse callbacks when no key is configured or no signature is sent. */
static int
twilio_check_presence(const struct gw_conf *gw, const struct gw_request *req,
                      char **cause)
{
	if (gw->auth_token == NULL || gw->auth_token[0] == '\0' ||
	    gw->public_url == NULL) {
		set_cause(cause, "no auth_token or public_url configured");
		return 403;
	}
	if (gw_header(req, "X-Twilio-Signature") == NULL) {
		set_cause(cause, "missing X-Twilio-Signature");
		return 401;
	}
	return 0;
}

/* Check X-Twilio-Signature over the public URL and the POST parameters. */
static int
twilio_check_signature(const struct gw_conf *gw, const struct gw_request *req,
                       const struct form *params, char **cause)
{
	const char *sig = gw_header(req, "X-Twilio-Signature");
	size_t n = strlen(gw->public_url);
	char *url, *want;
	int ok;

	while (n > 0 && gw->public_url[n - 1] == '/')
		n--;
	url = xasprintf("%.*s%s", (int)n, gw->public_url,
	                req->uri != NULL ? req->uri : "");
	want = gw_twilio_signature(gw->auth_token, url,
	                           req->method == GW_POST ? params : NULL);
	ok = sig != NULL && want != NULL &&
	     ct_equal(sig, strlen(sig), want, strlen(want));
	free(url);
	free(want);
	if (!ok) {
		set_cause(cause, "bad signature");
		return 403;
	}
	return 0;
}

/* Read NumSegments; 0 if absent or not a sensible number. */
static int
twilio_segments(const struct form *f)
{
	const struct kv *kv = form_get(f, "NumSegments");
	size_t i;
	int n = 0;

	if (kv == NULL || kv->vlen == 0 || kv->vlen > 4)
		return 0;
	for (i = 0; i < kv->vlen; i++) {
		if (kv->val[i] < '0' || kv->val[i] > '9')
			return 0;
		n = n * 10 + (kv->val[i] - '0');
	}
	return n <= TWILIO_SEGS_MAX ? n : 0;
}

/* Check and convert the parameters into sms. */
static int
twilio_fill(const struct form *f, struct sms_in *sms, char **cause)
{
	const char *sid, *from, *to, *body;

	if (gw_form_text(f, "MessageSid", &sid, cause) != 0 ||
	    (sid == NULL && gw_form_text(f, "SmsSid", &sid, cause) != 0) ||
	    gw_form_text(f, "From", &from, cause) != 0 ||
	    gw_form_text(f, "To", &to, cause) != 0 ||
	    gw_form_text(f, "Body", &body, cause) != 0)
		return 400;
	if (sid == NULL || sid[0] == '\0' || from == NULL || to == NULL ||
	    body == NULL) {
		set_cause(cause, "missing %s",
		          sid == NULL || sid[0] == '\0' ? "MessageSid"
		          : from == NULL                ? "From"
		          : to == NULL                  ? "To"
		                                        : "Body");
		return 400;
	}
	if (strlen(sid) > TWILIO_ID_MAX) {
		set_cause(cause, "MessageSid longer than %d bytes",
		          TWILIO_ID_MAX);
		return 400;
	}
	if (gw_set_numbers(sms, from, to, cause) != 0)
		return 400;
	sms->msg_id = xstrdup(sid);
	sms->text = xstrdup(body);
	text_strip_bom(sms->text);
	sms->segments = twilio_segments(f);
	return 0;
}

/* Authenticate and parse a Twilio-style inbound SMS. */
static int
twilio_parse_sms(const struct gw_conf *gw, const struct gw_request *req,
                 struct sms_in *sms, char **cause)
{
	struct form f = {NULL, 0};
	int r;

	memset(sms, 0, sizeof *sms);
	if ((r = twilio_check_presence(gw, req, cause)) == 0 &&
	    (r = twilio_params(req, &f, cause)) == 0 &&
	    (r = twilio_check_signature(gw, req, &f, cause)) == 0)
		r = twilio_fill(&f, sms, cause);
	form_clear(&f);
	if (r != 0)
		sms_in_clear(sms);
	return r;
}

/* Build the Messages request: form POST with HTTP basic authentication. */
static int
twilio_build_send(const struct gw_conf *gw, const struct sms_out *m,
                  struct gw_call *call, char **cause)
{
	struct buf f;
	char *cb;

	memset(call, 0, sizeof *call);
	if (!gw_has(gw->send_url)) {
		set_cause(cause, "gateway %s has no send_url", gw->name);
		return -1;
	}
	buf_init(&f);
	gw_form_add(&f, "To", m->msisdn);
	if (gw_has(gw->sender))
		gw_form_add(&f, "From", gw->sender);
	gw_form_add(&f, "Body", m->text);
	if (gw_has(gw->public_url)) {
		cb = gw_dlr_url(gw);
		gw_form_add(&f, "StatusCallback", cb);
		free(cb);
	}
	call->method = GW_POST;
	call->url = xstrdup(gw->send_url);
	call->content_type = xstrdup(TWILIO_FORM);
	call->body_len = f.len;
	call->body = buf_detach(&f);
	gw_call_header(call, "Accept", "application/json");
	if (gw_has(gw->username)) {
		call->user = xstrdup(gw->username);
		call->password = xstrdup(gw->password ? gw->password : "");
	}
	return 0;
}

/* Explain an error answer with Twilio's code and message if it has them. */
static int
twilio_error(long status, const char *body, size_t len, char **cause)
{
	json_t *root = json_loadb(len > 0 ? body : "", len, 0, NULL);
	json_t *code = json_object_get(root, "code");
	const char *msg = json_string_value(json_object_get(root, "message"));
	char *show;
	int r;

	if (!json_is_integer(code) && msg == NULL) {
		json_decref(root);
		return gw_send_error(status, body, len, cause);
	}
	show = gw_printable_n(msg ? msg : "", msg ? strlen(msg) : 0, 200);
	if (json_is_integer(code))
		set_cause(cause, "HTTP %ld: error %" JSON_INTEGER_FORMAT ": %s",
		          status, json_integer_value(code), show);
	else
		set_cause(cause, "HTTP %ld: %s", status, show);
	r = gw_status_retry(status) ? GW_RETRY : GW_FAILED;
	free(show);
	json_decref(root);
	return r;
}

/* Judge the Messages answer: 2xx with a sid is sent, the sid its ref. */
static int
twilio_send_result(const struct gw_conf *gw, const struct sms_out *m,
                   long status, const char *body, size_t len, char **ref,
                   char **cause)
{
	json_t *root;
	int r = GW_SENT;

	(void)gw;
	(void)m;
	*ref = NULL;
	if (status < 200 || status >= 300)
		return twilio_error(status, body, len, cause);
	root = json_loadb(len > 0 ? body : "", len, 0, NULL);
	if (!json_is_object(root)) {
		gw_send_error(status, body, len, cause);
		r = GW_RETRY;
	} else if ((*ref = gw_ref_copy(json_string_value(
	                json_object_get(root, "sid")))) == NULL)
		set_cause(cause, "accepted without a usable sid");
	json_decref(root);
	return r;
}

/* Check and convert the parameters of a status callback. */
static int
twilio_dlr_fill(const struct form *f, struct gw_dlr *dlr, char **cause)
{
	const char *sid, *st, *code;
	char detail[64];

	if (gw_form_text(f, "MessageSid", &sid, cause) != 0 ||
	    (sid == NULL && gw_form_text(f, "SmsSid", &sid, cause) != 0) ||
	    gw_form_text(f, "MessageStatus", &st, cause) != 0 ||
	    (st == NULL && gw_form_text(f, "SmsStatus", &st, cause) != 0) ||
	    gw_form_text(f, "ErrorCode", &code, cause) != 0)
		return 400;
	if (sid == NULL || st == NULL) {
		set_cause(cause, "missing %s",
		          sid == NULL ? "MessageSid" : "MessageStatus");
		return 400;
	}
	if ((dlr->ref = gw_ref_copy(sid)) == NULL) {
		set_cause(cause, "invalid MessageSid");
		return 400;
	}
	snprintf(detail, sizeof detail, "%s%s%.40s", st,
	         gw_has(code) ? ", ErrorCode " : "", gw_has(code) ? code : "");
	if (strcmp(st, "delivered") == 0)
		gw_dlr_set(dlr, GW_DLR_DELIVERED, st, NULL);
	else if (strcmp(st, "undelivered") == 0 || strcmp(st, "failed") == 0)
		gw_dlr_set(dlr, GW_DLR_UNDELIVERED, st, detail);
	else
		gw_dlr_set(dlr, GW_DLR_OTHER, st, NULL);
	return 0;
}

/* Authenticate and parse a Twilio-style status callback. */
static int
twilio_parse_dlr(const struct gw_conf *gw, const struct gw_request *req,
                 struct gw_dlr *dlr, char **cause)
{
	struct form f = {NULL, 0};
	int r;

	memset(dlr, 0, sizeof *dlr);
	if ((r = twilio_check_presence(gw, req, cause)) == 0 &&
	    (r = twilio_params(req, &f, cause)) == 0 &&
	    (r = twilio_check_signature(gw, req, &f, cause)) == 0)
		r = twilio_dlr_fill(&f, dlr, cause);
	form_clear(&f);
	if (r != 0)
		gw_dlr_clear(dlr);
	return r;
}

const struct gw_ops gw_twilio_ops = {
    .type = GW_TWILIO,
    .parse_sms = twilio_parse_sms,
    .reply_type = "text/xml",
    .reply_body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>",
    .build_send = twilio_build_send,
    .send_result = twilio_send_result,
    .parse_dlr = twilio_parse_dlr,
};
