/* sms.h: SMS encodings and lengths: GSM 03.38 and UCS-2 (pure). */
#ifndef PAKN_SMS_H
#define PAKN_SMS_H

#include <stddef.h>

#define SMS_GSM7_SINGLE 160 /* septets in a message of one segment */
#define SMS_GSM7_PART   153 /* septets per segment of a long message */
#define SMS_UCS2_SINGLE 70  /* UTF-16 code units in one segment */
#define SMS_UCS2_PART   67  /* UTF-16 code units per long segment */

/* Is every character of utf8 in the GSM 03.38 default alphabet or its
 * extension table? */
int sms_is_gsm7(const char *utf8);

/* Length in GSM-7 septets (extension characters ^ { } \ [ ~ ] | € and
 * form feed count 2) if sms_is_gsm7, else in UTF-16 code units
 * (characters outside the BMP count 2); *ucs2 (if not NULL) says which. */
int sms_units(const char *utf8, int *ucs2);

/* Segments needed to send utf8: 1 up to 160 septets (70 UCS-2 units),
 * else parts of 153 (67). An escape pair or surrogate pair is never split
 * across parts, so this may be one more than ceil(n / 153). Empty: 1. */
int sms_segments(const char *utf8);

/* Segments utf8 takes as a gateway sends it: with its diacritics (UCS-2
 * when it needs it) if diacritics, else folded to GSM-7 (sms_to_gsm7),
 * as the outbox does. */
int sms_segments_sent(const char *utf8, int diacritics);

/* Fold Vietnamese to plain ASCII keeping case ("Đường" -> "Duong"), turn
 * typographic quotes, dashes, ellipsis, no-break space and tab into ASCII,
 * and replace any other character outside GSM 03.38 by '?'. Returns a new
 * UTF-8 string for which sms_is_gsm7 holds. */
char *sms_to_gsm7(const char *utf8);

/* Encode utf8 as UTF-16BE (malformed bytes become U+FFFD); returns a new
 * buffer (not NUL-terminated) and its length in bytes in *len. */
char *sms_utf16be(const char *utf8, size_t *len);

#endif
