/* fuzz_phone.c: phone number normalisation and the numbering plans. */

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

/* Check a sender as phone_normalize_sender keeps it and its plan: a
 * number the plans accept is '+' and 8 to 15 digits, not starting with 0. */
static void
check_sender(const char *in)
{
	char *cause = NULL, *out = phone_normalize_sender(in, &cause);
	const char *flag;
	size_t n;

	if ((out == NULL) == (cause == NULL))
		abort();
	if (out != NULL) {
		n = strlen(out + (out[0] == '+'));
		if (n == 0 || strspn(out + (out[0] == '+'), "0123456789") != n)
			abort();
		flag = phone_plan(out);
		if (flag == NULL &&
		    (out[0] != '+' || n < 8 || n > 15 || out[1] == '0'))
			abort();
		if (flag != NULL && phone_flag_text(flag) == NULL)
			abort();
	}
	free(out);
	free(cause);
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
	if (out != NULL)
		(void)phone_plan(out);
	check_sender(in);
	free(out);
	free(cause);
	free(in);
	return 0;
}
