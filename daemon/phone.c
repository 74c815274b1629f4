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

/* Copy in as a number to store although the rules refuse it: digits of
 * any length, '+' kept ("00" read as '+', a national "0" as +84), so that
 * phone_plan can flag it. NULL and *cause when it is not digits. */
char *
phone_normalize_sender(const char *in, char **cause)
{
	char digits[PHONE_MAX_INPUT + 1], *out;

	if (in == NULL) {
		set_cause(cause, "no number");
		return NULL;
	}
	if ((out = phone_normalize(in, NULL)) != NULL)
		return out;
	if (phone_strip(in, digits, sizeof digits, cause) != 0)
		return NULL;
	if (strspn(digits + (digits[0] == '+'), "0123456789") == 0) {
		set_cause(cause, "no digits");
		return NULL;
	}
	if (digits[0] == '+')
		return xstrdup(digits);
	if (strncmp(digits, "00", 2) == 0 && digits[2] != '\0')
		return xasprintf("+%s", digits + 2);
	if (digits[0] == '0' && digits[1] != '0' && digits[1] != '\0')
		return xasprintf("+84%s", digits + 1);
	return xstrdup(digits);
}

/*
 * Vietnam's mobile network codes after the conversion of 11-digit mobile
 * numbers to 10 digits (Ministry of Information and Communications,
 * Decision 798/QĐ-BTTTT of 25 May 2018, under the national numbering plan
 * of Circular 22/2014/TT-BTTTT; converted 15 Sep 2018 - 30 Jun 2019), with
 * the codes allocated since (052 Vietnamobile, 055 Reddi, 087 iTel). A
 * mobile number is +84, the two-digit code, and 7 more digits.
 */
static const char *const phone_vn_mobile[] = {
    "32", "33", "34", "35", "36", "37", "38", "39", /* Viettel (016x) */
    "52", "56", "58",                               /* Vietnamobile */
    "55",                                           /* Reddi */
    "59", "99",                                     /* Gmobile */
    "70", "76", "77", "78", "79", "89", "90", "93", /* MobiFone */
    "81", "82", "83", "84", "85", "88", "91", "94", /* VinaPhone */
    "86", "96", "97", "98",                         /* Viettel */
    "87",                                           /* iTel */
    "92",                                           /* Vietnamobile */
};

#define PHONE_VN_MOBILE_LEN 9 /* digits after +84 */
/* Fixed lines: area codes 2x / 2xx since the 2017 conversion (MIC Decision
 * 2036/QĐ-BTTTT of 2016), 10 digits after +84 with the subscriber's. */
#define PHONE_VN_FIXED_LEN 10
#define PHONE_E164_MIN     8  /* digits, as phone_normalize */
#define PHONE_E164_MAX     15 /* ITU-T E.164 */

/* Is the two-digit code at p a mobile network code? */
static int
phone_vn_is_mobile(const char *p)
{
	for (size_t i = 0; i < sizeof phone_vn_mobile / sizeof *phone_vn_mobile;
	     i++)
		if (strncmp(p, phone_vn_mobile[i], 2) == 0)
			return 1;
	return 0;
}

/* Would the national number nsn (digits after +84) be a subscriber's? */
static int
phone_vn_valid(const char *nsn)
{
	size_t n = strlen(nsn);

	if (nsn[0] == '2')
		return n == PHONE_VN_FIXED_LEN;
	return n == PHONE_VN_MOBILE_LEN && phone_vn_is_mobile(nsn);
}

/* The flag of a Vietnamese number (digits after +84), or NULL. */
static const char *
phone_vn_plan(const char *nsn)
{
	size_t n = strlen(nsn), want;

	if (phone_vn_valid(nsn))
		return NULL;
	if ((nsn[0] == '0' && phone_vn_valid(nsn + 1)) ||
	    (strncmp(nsn, "84", 2) == 0 && phone_vn_valid(nsn + 2)))
		return "vn_doubled_prefix";
	if (nsn[0] == '2')
		want = PHONE_VN_FIXED_LEN;
	else if (n >= 2 && phone_vn_is_mobile(nsn))
		want = PHONE_VN_MOBILE_LEN;
	else
		return "vn_unallocated";
	return n < want ? "too_short" : "too_long";
}

/* Why a number (as phone_normalize_sender returns it) cannot be a
 * subscriber's, or NULL when it can. */
const char *
phone_plan(const char *number)
{
	const char *d = number + (number[0] == '+');
	size_t n = strlen(d);

	if (n == 0 || strspn(d, "0123456789") != n)
		return "not_e164";
	if (number[0] != '+') {
		if (n >= 3 && n <= 6)
			return "short_code";
		return n < 3                ? "too_short"
		       : n > PHONE_E164_MAX ? "too_long"
		                            : "not_e164";
	}
	if (d[0] == '0')
		return "bad_country_code";
	if (strncmp(d, "84", 2) == 0)
		return phone_vn_plan(d + 2);
	if (n < PHONE_E164_MIN)
		return "too_short";
	return n > PHONE_E164_MAX ? "too_long" : NULL;
}

/* A sentence for a flag of phone_plan, for log lines and operators. */
const char *
phone_flag_text(const char *flag)
{
	static const struct {
		const char *flag, *text;
	} texts[] = {
	    {"own_number", "one of our own numbers or short codes (a loop)"},
	    {"gateway_sender", "a service of the gateway (loop_senders)"},
	    {"short_code", "a short code, not a subscriber"},
	    {"too_short", "too few digits for its numbering plan"},
	    {"too_long", "too many digits for its numbering plan"},
	    {"bad_country_code", "a country code cannot start with 0"},
	    {"not_e164", "not an international number"},
	    {"vn_doubled_prefix",
	     "+84 followed by a national prefix (0 or 84)"},
	    {"vn_unallocated", "not an allocated Vietnamese prefix"},
	};

	for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
		if (strcmp(texts[i].flag, flag) == 0)
			return texts[i].text;
	return flag;
}
