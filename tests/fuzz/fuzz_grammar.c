/* fuzz_grammar.c: SMS grammar, folding, GSM-7/UCS-2 and tickets. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grammar.h"
#include "sms.h"
#include "text.h"
#include "ticket.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Is s a unit code the SQL side can take: empty, 2 to 10 ASCII digits,
 * or (CT) up to 23 lower-case letters, digits, '.', '_', '-' with a
 * digit? */
static int
unit_ok(const char *s)
{
	size_t n = strlen(s);

	if (strspn(s, "0123456789") == n)
		return n != 1 && n <= 10;
	return n <= 23 && strpbrk(s, "0123456789") != NULL &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* Parse s and check what the caller relies on. */
static void
check_parse(const char *s)
{
	struct sms_cmd cmd;
	char *folded;

	grammar_parse(s, &cmd);
	if (cmd.text == NULL || cmd.folded == NULL || !unit_ok(cmd.unit))
		abort();
	if (cmd.ticket_ok != ticket_valid(cmd.ticket) ||
	    strlen(cmd.ticket) > 15 || cmd.rating < 0 || cmd.rating > 5)
		abort();
	/* DS page, GH days: at most 3 digits; BC TAT/BAT: 0 or 1. */
	if (cmd.number < 0 || cmd.number > 999 ||
	    (cmd.kind == CMD_SUMMARY && cmd.number > 1) ||
	    (cmd.number != 0 && cmd.kind != CMD_LIST &&
	     cmd.kind != CMD_EXTEND && cmd.kind != CMD_SUMMARY))
		abort();
	if (cmd.keyword && (cmd.kind == CMD_CODE || cmd.kind == CMD_DIGIT ||
	                    cmd.kind == CMD_EMPTY))
		abort();
	folded = grammar_fold(cmd.text);
	if (strcmp(folded, cmd.folded) != 0)
		abort();
	free(folded);
	if (cmd.kind == CMD_ANSWER)
		grammar_complaint(s, &cmd);
	sms_cmd_clear(&cmd);
}

/* Fold s: never longer, no ASCII capitals left. */
static void
check_fold(const char *s)
{
	char *f = grammar_fold(s), *p;

	if (strlen(f) > strlen(s))
		abort();
	for (p = f; *p != '\0'; p++) {
		if (*p >= 'A' && *p <= 'Z')
			abort();
	}
	free(f);
}

/* Lengths and conversions of s. */
static void
check_sms(const char *s)
{
	char *g, *u, t[8];
	size_t len;
	int ucs2, n = sms_units(s, &ucs2);

	if (n < 0 || sms_segments(s) < 1 || (n == 0) != (*s == '\0'))
		abort();
	g = sms_to_gsm7(s);
	if (sms_segments_sent(s, 0) != sms_segments(g) ||
	    sms_segments_sent(s, 1) < 1)
		abort();
	if (!sms_is_gsm7(g))
		abort();
	u = sms_utf16be(s, &len);
	if (len % 2 != 0 || (ucs2 && len != 2 * (size_t)n))
		abort();
	if (ticket_normalize(s, t) == 0 && strlen(t) != 7)
		abort();
	free(u);
	free(g);
}

/* Run everything on the input as a NUL-terminated string; the UTF-8
 * checks only on what the gateway adapters would pass on. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xstrndup((const char *)data, size);

	check_parse(s);
	check_fold(s);
	if (text_utf8_valid((const char *)data, size))
		check_sms(s);
	free(s);
	return 0;
}
