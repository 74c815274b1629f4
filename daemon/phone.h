/* phone.h: phone numbers to E.164 (pure). */
#ifndef PAKN_PHONE_H
#define PAKN_PHONE_H

#include <stddef.h>

/*
 * Normalise a phone number to E.164 ("+84912345678"). Vietnamese national
 * numbers ("0912345678") and numbers without '+' ("84912345678") get the
 * +84 prefix; "00" becomes '+'; spaces, dashes, dots and brackets are
 * dropped. Short codes (3 to 6 digits) are kept as they are. Returns a new
 * string, or NULL and *cause when the input is not a phone number.
 */
char *phone_normalize(const char *in, char **cause);

/*
 * The same for the sender of an inbound SMS, which is stored even when it
 * cannot be a subscriber's: a string of digits the rules above refuse
 * (too short, too long) is kept ('+' kept, "00" read as '+', a national
 * "0" as +84) for phone_plan to flag. NULL and *cause only when it is not
 * digits at all.
 */
char *phone_normalize_sender(const char *in, char **cause);

/*
 * Check a number against the numbering plans: Vietnam's (+84: mobile
 * network codes 3x 5x 7x 8x 9x as allocated, 9 digits; fixed lines 2x,
 * 10 digits), others by E.164 length (8 to 15 digits, country code not 0).
 * Returns NULL when it can be a subscriber's, else a flag: short_code,
 * too_short, too_long, bad_country_code, not_e164, vn_doubled_prefix,
 * vn_unallocated (a static string).
 */
const char *phone_plan(const char *number);

/* A sentence for a flag of phone_plan (or "own_number"). */
const char *phone_flag_text(const char *flag);

#endif
