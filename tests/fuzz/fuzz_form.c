/* fuzz_form.c: forms, percent-decoding, UTF-8 and UTF-16. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A decoded result must be NUL-free UTF-8 (or NULL with a cause). */
static void
check_decoded(char *out, char *cause)
{
	if (out == NULL && cause == NULL)
		abort();
	if (out != NULL && !text_utf8_valid(out, strlen(out)))
		abort();
	free(out);
	free(cause);
}

/* Run every text function over the input. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct form f = {NULL, 0};
	char *cause = NULL, *out;
	size_t i, outlen;

	if (form_parse(&f, s, size, &cause) == 0) {
		for (i = 0; i < f.n; i++) {
			if (!text_utf8_valid(f.v[i].key, strlen(f.v[i].key)) ||
			    f.v[i].val[f.v[i].vlen] != '\0' ||
			    form_get(&f, f.v[i].key) == NULL)
				abort();
		}
	} else if (cause == NULL || f.n != 0)
		abort();
	form_free(&f);
	free(cause);
	cause = NULL;
	out = text_percent_decode(s, size, size > 0 && data[0] & 1, &outlen,
	                          &cause);
	if ((out == NULL) == (cause == NULL) || (out != NULL && outlen > size))
		abort();
	free(out);
	free(cause);
	cause = NULL;
	text_utf8_valid(s, size);
	out = text_utf16be_to_utf8(data, size, &cause);
	check_decoded(out, cause);
	cause = NULL;
	out = text_latin1_to_utf8(data, size, &cause);
	check_decoded(out, cause);
	return 0;
}
