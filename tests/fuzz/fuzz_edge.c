/* fuzz_edge.c: the checks of the officials' API, statistics and report
 * query strings, paths and credentials (edge.c). Whatever they accept
 * must be text PostgreSQL takes; whatever edge_escape writes must be too. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edge.h"
#include "text.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An accepted query's decoded names and values are all text. */
static void
check_query(const char *s)
{
	struct form f = {NULL, 0};
	char *cause = NULL;

	if (edge_check_query(s, &cause) != 0) {
		if (cause == NULL || strchr(cause, '\n') != NULL)
			abort();
		free(cause);
		return;
	}
	if (form_parse(&f, s, strlen(s), &cause) != 0)
		abort();
	for (size_t i = 0; i < f.n; i++)
		if (!edge_text_ok(f.v[i].key, strlen(f.v[i].key), 0) ||
		    !edge_text_ok(f.v[i].val, f.v[i].vlen, 0))
			abort();
	form_clear(&f);
}

/* An accepted path decodes to text. */
static void
check_path(const char *s)
{
	char *cause = NULL, *dec;
	size_t n;

	if (edge_check_path(s, &cause) != 0) {
		if (cause == NULL)
			abort();
		free(cause);
		return;
	}
	dec = text_percent_decode(s, strlen(s), 0, &n, &cause);
	if (dec == NULL || !edge_text_ok(dec, n, 0))
		abort();
	free(dec);
}

/* Run every check over the input (as a C string where they take one). */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size), *out, *cause = NULL;

	check_query(s);
	check_path(s);
	if (edge_check_token("Authorization", s, &cause) == 0) {
		for (const char *p = s; *p; p++)
			if (((unsigned char)*p < 0x20 && *p != '\t') ||
			    (unsigned char)*p > 0x7e)
				abort();
	} else
		free(cause);
	out = edge_escape((const char *)data, size);
	if (!edge_text_ok(out, strlen(out), 1))
		abort();
	free(out);
	free(s);
	return 0;
}
