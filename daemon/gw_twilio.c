/* gw_twilio.c: Twilio-style inbound SMS (form POST, signed by HMAC). */

#include <stdlib.h>
#include <string.h>

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
	form_free(&f);
	if (r != 0)
		sms_in_free(sms);
	return r;
}

const struct gw_ops gw_twilio_ops = {
    .type = GW_TWILIO,
    .parse_sms = twilio_parse_sms,
    .reply_type = "text/xml",
    .reply_body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>",
};
