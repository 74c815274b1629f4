/* gw_at.c: Africa's Talking: inbound SMS and USSD (form POST, token in the
 * URL), sending, delivery reports. */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "gw.h"
#include "phone.h"
#include "util.h"

#define AT_FORM   "application/x-www-form-urlencoded"
#define AT_ID_MAX 255

/* Parse the form body of a POST into f. */
static int
at_body(const struct gw_request *req, struct form *f, char **cause)
{
	char *why = NULL;

	if (req->content_type != NULL &&
	    !gw_content_type_is(req->content_type, AT_FORM)) {
		set_cause(cause, "unsupported Content-Type (want %s)", AT_FORM);
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

/* Authenticate a callback and find its fields: the query of a GET, the
 * form body of a POST (*fields points into q or body, both to be freed).
 * 0, or an HTTP status and *cause. */
static int
at_fields(const struct gw_conf *gw, const struct gw_request *req,
          struct form *q, struct form *body, const struct form **fields,
          char **cause)
{
	int r;

	if (gw_parse_query(req, q, cause) != 0)
		return 400;
	if ((r = gw_check_token(gw, req, q, cause)) != 0)
		return r;
	*fields = req->method == GW_GET ? q : body;
	return req->method == GW_GET ? 0 : at_body(req, body, cause);
}

/* Check and convert the fields into sms. */
static int
at_fill(const struct form *f, struct sms_in *sms, char **cause)
{
	const char *from, *to, *text, *id, *date;

	if (gw_form_text(f, "from", &from, cause) != 0 ||
	    gw_form_text(f, "to", &to, cause) != 0 ||
	    gw_form_text(f, "text", &text, cause) != 0 ||
	    gw_form_text(f, "id", &id, cause) != 0 ||
	    gw_form_text(f, "date", &date, cause) != 0)
		return 400;
	if (from == NULL || to == NULL || text == NULL || id == NULL ||
	    id[0] == '\0') {
		set_cause(cause, "missing %s",
		          from == NULL   ? "from"
		          : to == NULL   ? "to"
		          : text == NULL ? "text"
		                         : "id");
		return 400;
	}
	if (strlen(id) > AT_ID_MAX) {
		set_cause(cause, "id longer than %d bytes", AT_ID_MAX);
		return 400;
	}
	if (gw_set_numbers(sms, from, to, cause) != 0)
		return 400;
	if (date == NULL || gw_parse_time(date, &sms->sent_at) != 0)
		sms->sent_at = 0;
	sms->msg_id = xstrdup(id);
	sms->text = xstrdup(text);
	text_strip_bom(sms->text);
	return 0;
}

/* Authenticate and parse an Africa's Talking inbound SMS. */
static int
at_parse_sms(const struct gw_conf *gw, const struct gw_request *req,
             struct sms_in *sms, char **cause)
{
	struct form q = {NULL, 0}, body = {NULL, 0};
	const struct form *f = NULL;
	int r;

	memset(sms, 0, sizeof *sms);
	if ((r = at_fields(gw, req, &q, &body, &f, cause)) == 0)
		r = at_fill(f, sms, cause);
	form_clear(&q);
	form_clear(&body);
	if (r != 0)
		sms_in_clear(sms);
	return r;
}

/* Build the messaging request: form POST, the API key in a header. */
static int
at_build_send(const struct gw_conf *gw, const struct sms_out *m,
              struct gw_call *call, char **cause)
{
	struct buf f;

	memset(call, 0, sizeof *call);
	if (!gw_has(gw->send_url)) {
		set_cause(cause, "gateway %s has no send_url", gw->name);
		return -1;
	}
	buf_init(&f);
	gw_form_add(&f, "username", gw->username ? gw->username : "");
	gw_form_add(&f, "to", m->msisdn);
	gw_form_add(&f, "message", m->text);
	if (gw_has(gw->sender))
		gw_form_add(&f, "from", gw->sender);
	call->method = GW_POST;
	call->url = xstrdup(gw->send_url);
	call->content_type = xstrdup(AT_FORM);
	call->body_len = f.len;
	call->body = buf_detach(&f);
	gw_call_header(call, "apiKey", gw->api_key ? gw->api_key : "");
	gw_call_header(call, "Accept", "application/json");
	return 0;
}

/* Judge the first recipient of an accepted request. */
static int
at_recipient(json_t *rcpt, char **ref, char **cause)
{
	const char *st = json_string_value(json_object_get(rcpt, "status"));
	json_t *code = json_object_get(rcpt, "statusCode");
	json_int_t c = json_is_integer(code) ? json_integer_value(code) : 0;
	char *show;

	if ((st != NULL && strcmp(st, "Success") == 0) ||
	    (st == NULL && c >= 100 && c <= 102)) {
		*ref = gw_ref_copy(
		    json_string_value(json_object_get(rcpt, "messageId")));
		if (*ref == NULL)
			set_cause(cause, "accepted without a usable messageId");
		return GW_SENT;
	}
	show = gw_printable_n(st ? st : "", st ? strlen(st) : 0, 100);
	set_cause(cause, "recipient status %s (%" JSON_INTEGER_FORMAT ")",
	          *show ? show : "missing", c);
	free(show);
	/* 500 InternalServerError and 501 GatewayError are passing. */
	return c == 500 || c == 501 ? GW_RETRY : GW_FAILED;
}

/* Judge the messaging answer: SMSMessageData.Recipients[0]. */
static int
at_send_result(const struct gw_conf *gw, const struct sms_out *m, long status,
               const char *body, size_t len, char **ref, char **cause)
{
	json_t *root, *data, *rcpt;
	const char *msg;
	char *show;
	int r;

	(void)gw;
	(void)m;
	*ref = NULL;
	if (status < 200 || status >= 300)
		return gw_send_error(status, body, len, cause);
	root = json_loadb(len > 0 ? body : "", len, 0, NULL);
	data = json_object_get(root, "SMSMessageData");
	rcpt = json_array_get(json_object_get(data, "Recipients"), 0);
	if (json_is_object(rcpt))
		r = at_recipient(rcpt, ref, cause);
	else if ((msg = json_string_value(json_object_get(data, "Message"))) !=
	         NULL) {
		show = gw_printable_n(msg, strlen(msg), 200);
		set_cause(cause, "not sent: %s", show);
		free(show);
		r = GW_FAILED;
	} else {
		gw_send_error(status, body, len, cause);
		r = GW_RETRY;
	}
	json_decref(root);
	return r;
}

/* Is name one of a NULL-terminated list? */
static int
at_in(const char *name, const char *const *list)
{
	for (; *list != NULL; list++) {
		if (strcmp(name, *list) == 0)
			return 1;
	}
	return 0;
}

/* Check and convert the fields of a delivery report. */
static int
at_dlr_fill(const struct form *f, struct gw_dlr *dlr, char **cause)
{
	static const char *const bad[] = {"Failed", "Rejected", "Expired",
	                                  NULL};
	const char *id, *st, *reason;

	if (gw_form_text(f, "id", &id, cause) != 0 ||
	    gw_form_text(f, "status", &st, cause) != 0 ||
	    gw_form_text(f, "failureReason", &reason, cause) != 0)
		return 400;
	if (id == NULL || st == NULL) {
		set_cause(cause, "missing %s", id == NULL ? "id" : "status");
		return 400;
	}
	if ((dlr->ref = gw_ref_copy(id)) == NULL) {
		set_cause(cause, "invalid id");
		return 400;
	}
	if (strcmp(st, "Success") == 0)
		gw_dlr_set(dlr, GW_DLR_DELIVERED, st, NULL);
	else if (at_in(st, bad))
		gw_dlr_set(dlr, GW_DLR_UNDELIVERED, st,
		           gw_has(reason) ? reason : st);
	else
		gw_dlr_set(dlr, GW_DLR_OTHER, st, NULL);
	return 0;
}

/* Authenticate and parse an Africa's Talking delivery report. */
static int
at_parse_dlr(const struct gw_conf *gw, const struct gw_request *req,
             struct gw_dlr *dlr, char **cause)
{
	struct form q = {NULL, 0}, body = {NULL, 0};
	const struct form *f = NULL;
	int r;

	memset(dlr, 0, sizeof *dlr);
	if ((r = at_fields(gw, req, &q, &body, &f, cause)) == 0)
		r = at_dlr_fill(f, dlr, cause);
	form_clear(&q);
	form_clear(&body);
	if (r != 0)
		gw_dlr_clear(dlr);
	return r;
}

/* Check and copy the fields of a USSD callback. */
static int
at_ussd_fill(const struct form *f, struct ussd_in *u, char **cause)
{
	const char *sid, *svc, *phone, *net, *text;

	if (gw_form_text(f, "sessionId", &sid, cause) != 0 ||
	    gw_form_text(f, "serviceCode", &svc, cause) != 0 ||
	    gw_form_text(f, "phoneNumber", &phone, cause) != 0 ||
	    gw_form_text(f, "networkCode", &net, cause) != 0 ||
	    gw_form_text(f, "text", &text, cause) != 0)
		return 400;
	if (sid == NULL || phone == NULL) {
		set_cause(cause, "missing %s",
		          sid == NULL ? "sessionId" : "phoneNumber");
		return 400;
	}
	if (!gw_session_ok(sid)) {
		set_cause(cause,
		          "sessionId must be 1 to %d printable characters",
		          GW_SESSION_MAX);
		return 400;
	}
	if ((u->msisdn = phone_normalize(phone, cause)) == NULL)
		return 400;
	u->session = xstrdup(sid);
	u->service = svc != NULL ? xstrdup(svc) : NULL;
	u->network = net != NULL ? xstrdup(net) : NULL;
	u->text = xstrdup(text != NULL ? text : "");
	u->cumulative = 1; /* every input so far, joined by '*' */
	return 0;
}

/* Authenticate and parse a USSD callback: form sessionId, serviceCode,
 * phoneNumber, networkCode, text (every input so far, joined by '*'). */
static int
at_parse_ussd(const struct gw_conf *gw, const struct gw_request *req,
              struct ussd_in *u, char **cause)
{
	struct form q = {NULL, 0}, body = {NULL, 0};
	const struct form *f = NULL;
	int r;

	memset(u, 0, sizeof *u);
	if ((r = at_fields(gw, req, &q, &body, &f, cause)) == 0)
		r = at_ussd_fill(f, u, cause);
	form_clear(&q);
	form_clear(&body);
	if (r != 0)
		ussd_in_clear(u);
	return r;
}

const struct gw_ops gw_at_ops = {
    .type = GW_AT,
    .parse_sms = at_parse_sms,
    .reply_type = "text/plain",
    .reply_body = "",
    .build_send = at_build_send,
    .send_result = at_send_result,
    .parse_dlr = at_parse_dlr,
    .parse_ussd = at_parse_ussd,
};
