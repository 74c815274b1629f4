/* sms.c: SMS encodings and lengths (pure). */

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "grammar.h"
#include "sms.h"
#include "util.h"

#define LEN(a)     (sizeof(a) / sizeof((a)[0]))
#define NONNULL(s) ((s) == NULL ? "" : (s))

/* Characters of the GSM 03.38 default alphabet outside printable ASCII
 * (LF and CR aside). */
static const uint16_t gsm_basic[] = {
    0x00a1, 0x00a3, 0x00a4, 0x00a5, 0x00a7, 0x00bf, 0x00c4, 0x00c5,
    0x00c6, 0x00c7, 0x00c9, 0x00d1, 0x00d6, 0x00d8, 0x00dc, 0x00df,
    0x00e0, 0x00e4, 0x00e5, 0x00e6, 0x00e8, 0x00e9, 0x00ec, 0x00f1,
    0x00f2, 0x00f6, 0x00f8, 0x00f9, 0x00fc, 0x0393, 0x0394, 0x0398,
    0x039b, 0x039e, 0x03a0, 0x03a3, 0x03a6, 0x03a8, 0x03a9,
};

/* The extension table: each is sent as ESC and a second septet. */
static const uint16_t gsm_ext[] = {
    0x000c, '^', '{', '}', '\\', '[', '~', ']', '|', 0x20ac,
};

/* ASCII stand-ins for typography that word processors put in replies. */
static const struct {
	uint32_t cp;
	const char *ascii;
} gsm_subst[] = {
    {'\t', " "},     {0x00a0, " "}, {0x2018, "'"},  {0x2019, "'"},
    {0x201a, "'"},   {0x2032, "'"}, {0x201c, "\""}, {0x201d, "\""},
    {0x201e, "\""},  {0x2013, "-"}, {0x2014, "-"},  {0x2212, "-"},
    {0x2026, "..."},
};

/* Is cp in the list t of n code points? */
static int
in_list(const uint16_t *t, size_t n, uint32_t cp)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (t[i] == cp)
			return 1;
	}
	return 0;
}

/* Septets cp takes in GSM-7: 1, 2 (extension table), or 0 if none. */
static int
gsm_septets(uint32_t cp)
{
	/* Printable ASCII first: most of every text (the lists took 3 % of
	 * paknd's time in a drain). */
	if (cp >= ' ' && cp < 0x7f) {
		switch (cp) {
		case '`':
			return 0;
		case '^':
		case '{':
		case '}':
		case '\\':
		case '[':
		case '~':
		case ']':
		case '|':
			return 2;
		default:
			return 1;
		}
	}
	if (cp == '\n' || cp == '\r')
		return 1;
	if (in_list(gsm_ext, LEN(gsm_ext), cp))
		return 2;
	return in_list(gsm_basic, LEN(gsm_basic), cp);
}

/* Code units cp takes in UTF-16. */
static int
ucs2_units(uint32_t cp)
{
	return cp > 0xffff ? 2 : 1;
}

/* Is every character of utf8 in GSM 03.38? */
int
sms_is_gsm7(const char *utf8)
{
	uint32_t cp;
	size_t n;

	utf8 = NONNULL(utf8);
	for (; (n = grammar_utf8_next(utf8, &cp)) != 0; utf8 += n) {
		if (gsm_septets(cp) == 0)
			return 0;
	}
	return 1;
}

/* Sum the units of each character, saturating at INT_MAX. */
static int
count_units(const char *utf8, int (*units)(uint32_t))
{
	uint32_t cp;
	size_t n;
	int total = 0, u;

	for (; (n = grammar_utf8_next(utf8, &cp)) != 0; utf8 += n) {
		u = units(cp);
		total = total > INT_MAX - u ? INT_MAX : total + u;
	}
	return total;
}

/* Length in septets or UTF-16 code units. */
int
sms_units(const char *utf8, int *ucs2)
{
	int wide = !sms_is_gsm7(utf8);

	utf8 = NONNULL(utf8);
	if (ucs2 != NULL)
		*ucs2 = wide;
	return count_units(utf8, wide ? ucs2_units : gsm_septets);
}

/* Count parts of part units each, never splitting a character. */
static int
count_parts(const char *utf8, int part, int (*units)(uint32_t))
{
	uint32_t cp;
	size_t n;
	int parts = 1, used = 0, u;

	for (; (n = grammar_utf8_next(utf8, &cp)) != 0; utf8 += n) {
		u = units(cp);
		if (used + u > part) {
			parts++;
			used = 0;
		}
		used += u;
	}
	return parts;
}

/* Segments needed to send utf8. */
int
sms_segments(const char *utf8)
{
	int ucs2, n = sms_units(utf8, &ucs2);

	utf8 = NONNULL(utf8);
	if (!ucs2)
		return n <= SMS_GSM7_SINGLE
		           ? 1
		           : count_parts(utf8, SMS_GSM7_PART, gsm_septets);
	return n <= SMS_UCS2_SINGLE
	           ? 1
	           : count_parts(utf8, SMS_UCS2_PART, ucs2_units);
}

/* Segments as sent with or without diacritics. */
int
sms_segments_sent(const char *utf8, int diacritics)
{
	char *gsm;
	int n;

	if (diacritics && !sms_is_gsm7(utf8))
		return sms_segments(utf8);
	gsm = sms_to_gsm7(NONNULL(utf8));
	n = sms_segments(gsm);
	free(gsm);
	return n;
}

/* The ASCII stand-in for cp, or NULL. */
static const char *
gsm_stand_in(uint32_t cp)
{
	size_t i;

	for (i = 0; i < LEN(gsm_subst); i++) {
		if (gsm_subst[i].cp == cp)
			return gsm_subst[i].ascii;
	}
	return NULL;
}

/* Fold to ASCII keeping case and replace what GSM-7 cannot carry. */
char *
sms_to_gsm7(const char *utf8)
{
	struct buf b;
	const char *s;
	uint32_t cp, base;
	size_t n;

	utf8 = NONNULL(utf8);
	buf_init(&b);
	for (; (n = grammar_utf8_next(utf8, &cp)) != 0; utf8 += n) {
		base = grammar_base(cp);
		if (base == 0)
			continue;
		if ((s = gsm_stand_in(base)) != NULL)
			buf_adds(&b, s);
		else if (base != cp)
			buf_addc(&b, (char)base);
		else if (gsm_septets(cp) != 0)
			buf_add(&b, utf8, n);
		else
			buf_addc(&b, '?');
	}
	return buf_detach(&b);
}

/* Append one UTF-16BE code unit. */
static void
put_unit(struct buf *b, uint32_t u)
{
	buf_addc(b, (char)(u >> 8));
	buf_addc(b, (char)(u & 0xff));
}

/* Encode utf8 as UTF-16BE. */
char *
sms_utf16be(const char *utf8, size_t *len)
{
	struct buf b;
	uint32_t cp;
	size_t n;

	utf8 = NONNULL(utf8);
	buf_init(&b);
	for (; (n = grammar_utf8_next(utf8, &cp)) != 0; utf8 += n) {
		if (cp > 0xffff) {
			cp -= 0x10000;
			put_unit(&b, 0xd800 | cp >> 10);
			put_unit(&b, 0xdc00 | (cp & 0x3ff));
		} else {
			put_unit(&b, cp);
		}
	}
	*len = b.len;
	return buf_detach(&b);
}
