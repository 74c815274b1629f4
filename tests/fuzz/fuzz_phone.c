/* fuzz_phone.c: phone number normalisation. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "phone.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Is out E.164 ('+' and 8 to 15 digits) or a short code (3 to 6)? */
static int
well_formed(const char *out)
{
	size_t n = strlen(out), d = strspn(out + (out[0] == '+'), "0123456789");

	if (out[0] == '+')
		return d == n - 1 && d >= 8 && d <= 15;
	return d == n && n >= 3 && n <= 6;
}

/* Normalise the input as a NUL-terminated string. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = xstrndup((const char *)data, size), *cause = NULL;
	char *out = phone_normalize(in, &cause);

	if ((out == NULL) == (cause == NULL))
		abort();
	if (out != NULL && !well_formed(out))
		abort();
	free(out);
	free(cause);
	free(in);
	return 0;
}
