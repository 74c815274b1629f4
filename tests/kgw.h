/* kgw.h: sending through "kgw", the second Kannel gateway that
 * check_abuse and check_senders configure (token kgw-secret), to the
 * short code SHORTCODE. */
#ifndef PAKN_TESTS_KGW_H
#define PAKN_TESTS_KGW_H

#include "harness.h"

/* One SMS with id id, its HTTP status. */
#define sms_to(from, to, text, id)                                             \
	harness_sms_to("kgw", "kgw-secret", (from), (to), (text), (id))
/* One SMS to the short code (200 or the test fails). */
#define sms(from, text)                                                        \
	harness_sms("kgw", "kgw-secret", (from), SHORTCODE, (text))
/* A complaint's ticket (citizen: the sender's E.164 form), malloc'd. */
#define complaint_as(from, citizen, text)                                      \
	harness_complaint_as("kgw", "kgw-secret", (from), SHORTCODE,           \
	                     (citizen), (text))
/* A complaint from a citizen's E.164 number. */
#define complaint(citizen, text) complaint_as((citizen), (citizen), (text))

#endif
