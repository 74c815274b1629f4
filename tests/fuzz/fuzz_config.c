/* fuzz_config.c: the paknd.conf parser. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse the input as a configuration file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xstrndup((const char *)data, size), *cause = NULL;
	struct config *c = config_parse("fuzz.conf", text, &cause);

	if (c == NULL && cause == NULL)
		abort();
	if (c != NULL)
		config_unref(c);
	free(cause);
	free(text);
	return 0;
}
