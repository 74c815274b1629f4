/* fuzz_form.c: forms, percent-decoding, UTF-8 and UTF-16, byte order
 * marks, bearer tokens. */

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

/* A bearer token is 1..TEXT_BEARER_MAX printable ASCII characters
 * inside the header, or none with a reason; a stripped text is a suffix. */
static void
check_bearer_bom(const uint8_t *data, size_t size)
{
	char *h = xstrndup((const char *)data, size), *copy;
	const char *tok, *reason;
	size_t n = text_bearer(h, &tok, &reason);

	if ((n == 0) != (tok == NULL) || (n == 0) != (reason != NULL) ||
	    n > TEXT_BEARER_MAX)
		abort();
	for (size_t i = 0; i < n; i++)
		if (tok < h || tok + n > h + strlen(h) || tok[i] <= ' ' ||
		    tok[i] >= 0x7f)
			abort();
	copy = xstrdup(h);
	text_strip_bom(copy);
	if (strlen(copy) > strlen(h) ||
	    strcmp(copy, h + strlen(h) - strlen(copy)) != 0 ||
	    !strncmp(copy, "\xef\xbb\xbf", 3))
		abort();
	free(copy);
	free(h);
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
	form_clear(&f);
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
	check_bearer_bom(data, size);
	return 0;
}
