/* fuzz_twilio.c: Twilio-style callbacks, framed as in fuzz_req.h. */

#include "fuzz_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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

/* Parse one framed callback as Twilio. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_conf gw = {.name = "twilio",
	                     .type = GW_TWILIO,
	                     .auth_token = FUZZ_KEY,
	                     .public_url = FUZZ_URL};
	struct fuzz_req f;

	fuzz_req_init(&f, data, size);
	if (f.flags & FUZZ_SIGN)
		fuzz_sign(&f);
	fuzz_parse(&gw, &f);
	fuzz_req_clear(&f);
	return 0;
}
