/* gw_at.c: Africa's Talking inbound SMS (form POST, token in the URL). */

#include <stdlib.h>
#include <string.h>

#include "gw.h"
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
	return 0;
}

/* Authenticate and parse an Africa's Talking inbound SMS. */
static int
at_parse_sms(const struct gw_conf *gw, const struct gw_request *req,
             struct sms_in *sms, char **cause)
{
	struct form q = {NULL, 0}, body = {NULL, 0};
	int r;

	memset(sms, 0, sizeof *sms);
	if (gw_parse_query(req, &q, cause) != 0) {
		r = 400;
		goto out;
	}
	if ((r = gw_check_token(gw, req, &q, cause)) != 0)
		goto out;
	if (req->method == GW_GET)
		r = at_fill(&q, sms, cause);
	else if ((r = at_body(req, &body, cause)) == 0)
		r = at_fill(&body, sms, cause);
out:
	form_free(&q);
	form_free(&body);
	if (r != 0)
		sms_in_free(sms);
	return r;
}

const struct gw_ops gw_at_ops = {
    .type = GW_AT,
    .parse_sms = at_parse_sms,
    .reply_type = "text/plain",
    .reply_body = "",
};
