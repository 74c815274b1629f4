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

#endif
