/* fuzz_dlr.c: delivery reports of every gateway type, framed as in
 * fuzz_req.h, and the body of the input judged as an answer to a send.
 *
 * Bits of the flag byte beyond fuzz_req.h's: bits 3-4 choose the gateway
 * (0 Kannel, 1 Twilio-style, 2 Africa's Talking, 3 all three); bits 5-7
 * choose the HTTP status of the answer from answer_status[].
 */

#include "fuzz_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_GW_SHIFT     3
#define FUZZ_STATUS_SHIFT 5

static const long answer_status[8] = {0, 200, 201, 202, 400, 403, 429, 503};

/* Sign the request as the provider would, so parsing goes past the check. */
static void
fuzz_sign(struct fuzz_req *f)
{
	struct form params = {NULL, 0};
	char *url = xasprintf("https://fuzz.example%s", f->uri);

	if (f->req.method == GW_POST && f->req.body_len > 0)
		form_parse(&params, (const char *)f->req.body, f->req.body_len,
		           NULL);
	f->sig = gw_twilio_signature(FUZZ_KEY, url,
	                             f->req.method == GW_POST ? &params : NULL);
	form_clear(&params);
	free(url);
}

/* Is s one line of printable text (as causes and details must be)? */
static int
one_line(const char *s)
{
	return s != NULL && strchr(s, '\n') == NULL &&
	       text_utf8_valid(s, strlen(s));
}

/* Parse a report and check what any answer must satisfy. */
static void
fuzz_dlr(const struct gw_conf *gw, const struct fuzz_req *f)
{
	struct gw_dlr dlr;
	char *cause = NULL;
	int r = gw_ops(gw->type)->parse_dlr(gw, &f->req, &dlr, &cause);

	if (r == 0) {
		if (cause != NULL || (dlr.id <= 0 && dlr.ref == NULL) ||
		    (dlr.ref != NULL && strlen(dlr.ref) > 255) ||
		    (dlr.detail != NULL && !one_line(dlr.detail)) ||
		    (dlr.state != NULL && !one_line(dlr.state)) ||
		    (dlr.status == GW_DLR_UNDELIVERED && dlr.detail == NULL) ||
		    (dlr.status != GW_DLR_DELIVERED &&
		     dlr.status != GW_DLR_UNDELIVERED &&
		     dlr.status != GW_DLR_OTHER))
			abort();
	} else if ((r != 400 && r != 401 && r != 403 && r != 415) ||
	           !one_line(cause) || dlr.ref != NULL || dlr.detail != NULL)
		abort();
	free(cause);
	gw_dlr_clear(&dlr);
}

/* Judge the body as the answer to a send; check the outcome's rules. */
static void
fuzz_answer(const struct gw_conf *gw, long status, const struct fuzz_req *f)
{
	struct sms_out m = {42, "+84912345678", "x", 0};
	const char *body = f->req.body != NULL ? (const char *)f->req.body : "";
	char *ref = NULL, *cause = NULL;
	int r = gw_ops(gw->type)->send_result(gw, &m, status, body,
	                                      f->req.body_len, &ref, &cause);

	if ((r != GW_SENT && r != GW_RETRY && r != GW_FAILED) ||
	    (r != GW_SENT && (cause == NULL || ref != NULL)) ||
	    (cause != NULL && !one_line(cause)) ||
	    (ref != NULL && (*ref == '\0' || strlen(ref) > 255)) ||
	    (status >= 400 && status < 500 && status != 429 &&
	     r != GW_FAILED) ||
	    ((status == 0 || status >= 500) && r != GW_RETRY))
		abort();
	free(ref);
	free(cause);
}

/* Send the body as a Kannel message; the query must give it back. */
static void
fuzz_roundtrip(const struct gw_conf *gw, const struct fuzz_req *f)
{
	struct sms_out m = {7, "+84912345678", NULL, 1};
	struct gw_call call;
	struct form q = {NULL, 0};
	const struct kv *kv;
	char *text;

	if (f->req.body_len == 0 ||
	    !text_utf8_valid((const char *)f->req.body, f->req.body_len))
		return;
	text = xstrndup((const char *)f->req.body, f->req.body_len);
	m.text = text;
	if (gw_ops(gw->type)->build_send(gw, &m, &call, NULL) != 0 ||
	    strchr(call.url, '?') == NULL ||
	    form_parse(&q, strchr(call.url, '?') + 1,
	               strlen(strchr(call.url, '?') + 1), NULL) != 0 ||
	    (kv = form_get(&q, "text")) == NULL || strcmp(kv->val, text) != 0)
		abort();
	form_clear(&q);
	gw_call_clear(&call);
	free(text);
}

/* Parse one framed report with the chosen gateways, judge the body. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_conf gws[3] = {
	    {.name = "kannel",
	     .type = GW_KANNEL,
	     .token = FUZZ_TOKEN,
	     .send_url = "http://127.0.0.1:13013/cgi-bin/sendsms",
	     .public_url = FUZZ_URL},
	    {.name = "twilio",
	     .type = GW_TWILIO,
	     .auth_token = FUZZ_KEY,
	     .public_url = FUZZ_URL},
	    {.name = "at", .type = GW_AT, .token = FUZZ_TOKEN},
	};
	struct fuzz_req f;
	int which, i;
	long status;

	fuzz_req_init(&f, data, size);
	which = (f.flags >> FUZZ_GW_SHIFT) & 3;
	status = answer_status[(f.flags >> FUZZ_STATUS_SHIFT) & 7];
	if (f.flags & FUZZ_SIGN)
		fuzz_sign(&f);
	for (i = 0; i < 3; i++) {
		if (which != 3 && which != i)
			continue;
		fuzz_dlr(&gws[i], &f);
		fuzz_answer(&gws[i], status, &f);
	}
	fuzz_roundtrip(&gws[0], &f);
	fuzz_req_clear(&f);
	return 0;
}
