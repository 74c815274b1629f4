/* phone.c: phone numbers to E.164 (pure). */

#include <stdlib.h>
#include <string.h>

#include "phone.h"
#include "util.h"

#define PHONE_MAX_INPUT 64

/* Copy the digits (and a leading '+') of in to out, dropping separators;
 * -1 and *cause on anything else. */
static int
phone_strip(const char *in, char *out, size_t outsz, char **cause)
{
	const unsigned char *p;
	size_t n = 0;

	for (p = (const unsigned char *)in; *p != '\0'; p++) {
		if (strchr(" -.()", *p) != NULL)
			continue;
		if (*p == '+' && n != 0) {
			set_cause(cause, "'+' is only allowed at the start");
			return -1;
		}
		if (*p != '+' && (*p < '0' || *p > '9')) {
			if (*p >= 0x21 && *p <= 0x7e)
				set_cause(cause, "character '%c' not allowed",
				          *p);
			else
				set_cause(cause, "byte 0x%02x not allowed", *p);
			return -1;
		}
		if (n + 1 >= outsz) {
			set_cause(cause, "too long");
			return -1;
		}
		out[n++] = (char)*p;
	}
	out[n] = '\0';
	return 0;
}

/* Apply the prefix rules to a string of digits with an optional '+'. */
static char *
phone_rules(const char *d, char **cause)
{
	size_t n = strlen(d);

	if (n == 0 || strcmp(d, "+") == 0) {
		set_cause(cause, "no digits");
		return NULL;
	}
	if (d[0] == '+' && n - 1 >= 8 && n - 1 <= 15)
		return xstrdup(d);
	if (d[0] == '+') {
		set_cause(cause, "%zu digits after '+' (want 8 to 15)", n - 1);
		return NULL;
	}
	if (strncmp(d, "00", 2) == 0 && n - 2 >= 8 && n - 2 <= 15)
		return xasprintf("+%s", d + 2);
	if (strncmp(d, "84", 2) == 0 && n - 2 >= 9 && n - 2 <= 10)
		return xasprintf("+%s", d);
	if (d[0] == '0' && d[1] != '0' && n - 1 >= 9 && n - 1 <= 10)
		return xasprintf("+84%s", d + 1);
	if (n >= 3 && n <= 6)
		return xstrdup(d);
	if (d[0] != '0' && n >= 11 && n <= 15)
		return xasprintf("+%s", d);
	set_cause(cause, "%zu digits is not a phone number or short code", n);
	return NULL;
}

/* Normalise a phone number to E.164, or keep a short code. */
char *
phone_normalize(const char *in, char **cause)
{
	char digits[PHONE_MAX_INPUT + 1];

	if (in == NULL) {
		set_cause(cause, "no number");
		return NULL;
	}
	if (phone_strip(in, digits, sizeof digits, cause) != 0)
		return NULL;
	return phone_rules(digits, cause);
}
