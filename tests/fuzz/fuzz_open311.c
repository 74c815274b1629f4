/* fuzz_open311.c: Open311 paths and parameters. The first byte picks
 * GET or POST; the input up to the first newline is the path after
 * /open311/v2/, the rest the form (query and body). */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "open311_args.h"
#include "text.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The arguments are a JSON object of UTF-8 strings; a phone is E.164. */
static void
check_args(const char *args, const char *key, const char *phone)
{
	json_error_t err;
	json_t *o = json_loads(args, 0, &err), *v;
	const char *k;

	if (!json_is_object(o))
		abort();
	json_object_foreach(o, k, v) if (!json_is_string(v)) abort();
	json_decref(o);
	if (phone != NULL && phone[0] != '+')
		abort();
	if (key != NULL && key[0] == '\0')
		abort();
}

/* Read a path and a form; check what the caller relies on. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl, *reason = NULL;
	char *path, *cause = NULL, *args, *key, *phone;
	struct open311_target t;
	struct form f = {NULL, 0};
	int post, status;

	if (size < 1)
		return 0;
	post = data[0] & 1;
	data++;
	size--;
	nl = memchr(data, '\n', size);
	path = xstrndup((const char *)data,
	                nl != NULL ? (size_t)(nl - (const char *)data) : size);
	status = open311_target(path, post, &t, &reason);
	if (status != 0 && (reason == NULL ||
	                    (status != 400 && status != 404 && status != 405)))
		abort();
	if (status == 0 && nl != NULL &&
	    form_parse(&f, nl + 1, size - (size_t)(nl + 1 - (const char *)data),
	               &cause) == 0) {
		if (strlen(t.id) > OPEN311_ID_MAX)
			abort();
		args = open311_args(&t, &f, &key, &phone, &cause);
		if ((args == NULL) == (cause == NULL))
			abort();
		if (args != NULL)
			check_args(args, key, phone);
		free(args);
		free(key);
		free(phone);
	}
	free(cause);
	form_clear(&f);
	free(path);
	return 0;
}
