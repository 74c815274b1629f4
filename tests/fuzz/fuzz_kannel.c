/* fuzz_kannel.c: Kannel callbacks, framed as in fuzz_req.h. */

#include "fuzz_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse one framed callback as Kannel, and redact its URI. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_conf gw = {
	    .name = "kannel", .type = GW_KANNEL, .token = FUZZ_TOKEN};
	struct fuzz_req f;
	char *redacted;

	fuzz_req_init(&f, data, size);
	fuzz_parse(&gw, &f);
	redacted = gw_redact_uri(f.uri);
	if (redacted == NULL ||
	    (strchr(f.uri, '?') == NULL && strcmp(redacted, f.uri) != 0))
		abort();
	free(redacted);
	fuzz_req_clear(&f);
	return 0;
}
