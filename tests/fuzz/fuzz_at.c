/* fuzz_at.c: Africa's Talking callbacks, framed as in fuzz_req.h. */

#include "fuzz_req.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse one framed callback as Africa's Talking. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gw_conf gw = {.name = "at", .type = GW_AT, .token = FUZZ_TOKEN};
	struct fuzz_req f;

	fuzz_req_init(&f, data, size);
	fuzz_parse(&gw, &f);
	fuzz_req_clear(&f);
	return 0;
}
