/* fuzz_ussd.c: USSD callbacks and the menu machine. The first byte picks
 * the target: even, a callback framed as in fuzz_req.h (after that byte)
 * parsed as Africa's Talking; odd, one step of the machine on the rest,
 * split at NUL bytes into a saved state, an input and a context (JSON),
 * with diacritics when bit 1 is set. */

#include "fuzz_req.h"
#include "ussd.h"
#include "ussd_session.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse one framed callback; check what any answer must satisfy. */
static void
fuzz_callback(const uint8_t *data, size_t size)
{
	struct gw_conf gw = {.name = "at", .type = GW_AT, .token = FUZZ_TOKEN};
	struct fuzz_req f;
	struct ussd_in u;
	char *cause = NULL;
	int r;

	fuzz_req_init(&f, data, size);
	r = gw_parse_ussd(&gw, &f.req, &u, &cause);
	if (r == 0) {
		if (cause != NULL || u.session == NULL || u.msisdn == NULL ||
		    u.text == NULL || !text_utf8_valid(u.text, strlen(u.text)))
			abort();
	} else if ((r != 400 && r != 401 && r != 403 && r != 415) ||
	           cause == NULL || strchr(cause, '\n') != NULL ||
	           u.session != NULL)
		abort();
	free(cause);
	ussd_in_clear(&u);
	fuzz_req_clear(&f);
}

/* The next NUL-terminated part of data, or "" past the end. */
static const char *
part(const char **p, const char *end)
{
	const char *s = *p, *nul;

	if (s >= end)
		return "";
	nul = memchr(s, '\0', (size_t)(end - s));
	*p = nul != NULL ? nul + 1 : end;
	return s;
}

/* Check one answer of the machine. */
static void
check_out(const struct ussd_state *st, const struct ussd_out *out)
{
	char *answer = ussd_answer(out), *action = ussd_action_json(st, out);

	if (out->screen == NULL || ussd_len(out->screen) > USSD_MAX ||
	    (!out->end && out->action != UA_NONE) ||
	    (out->action != UA_NONE) != (action != NULL) ||
	    strncmp(answer, out->end ? "END " : "CON ", 4) != 0)
		abort();
	free(answer);
	free(action);
}

/* One step on a fuzzed state, input and context. */
static void
fuzz_step(const uint8_t *data, size_t size)
{
	char *copy = xmalloc(size + 1), *json, *cause = NULL;
	const char *p = copy, *end = copy + size, *state, *input, *ctxj;
	struct ussd_ctx ctx = {.diacritics = (data[0] & 2) != 0};
	struct ussd_state st;
	struct ussd_out out;

	memcpy(copy, data + 1, size);
	copy[size] = '\0';
	state = part(&p, end);
	input = part(&p, end);
	ctxj = part(&p, end);
	if (!text_utf8_valid(input, strlen(input)) ||
	    ussd_ctx_parse(&ctx, ctxj, &cause) != 0) {
		free(cause);
		free(copy);
		return;
	}
	if (ussd_state_parse(&st, state, &cause) != 0) {
		free(cause);
		ussd_start(&ctx, &st, &out);
	} else
		ussd_step(&ctx, &st, input, &out);
	check_out(&st, &out);
	json = ussd_state_json(&st);
	free(json);
	ussd_out_clear(&out);
	ussd_state_clear(&st);
	ussd_ctx_clear(&ctx);
	free(copy);
}

/* Pick the target by the first byte. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_step(data, size - 1);
	else
		fuzz_callback(data + 1, size - 1);
	return 0;
}
