/* ticket.h: complaint tickets, 6 base-31 symbols and a Luhn mod 31 check. */
#ifndef PAKN_TICKET_H
#define PAKN_TICKET_H

#include <stdint.h>

/* No 0/O, 1/I/L: 31 symbols that cannot be confused when read aloud. */
#define TICKET_ALPHABET "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
#define TICKET_N        31
#define TICKET_LEN      7          /* 6 payload symbols + 1 check symbol */
#define TICKET_SPACE    887503681u /* 31^6 payload values */

/* Is t exactly 7 alphabet symbols (uppercase) with a valid check symbol? */
int ticket_valid(const char *t);

/* Encode x (reduced modulo 31^6) as 6 base-31 symbols, most significant
 * first, then the check symbol; out gets 7 symbols and a NUL. */
void ticket_encode(uint64_t x, char out[8]);

/* The permutation of 0..31^6-1 the SQL side applies to sequence values:
 * (n * 387420489 + 123456789) % 887503681. */
uint64_t ticket_scramble(uint64_t n);

/* Uppercase in and drop spaces and dashes into out; -1 (out "") unless
 * the result is 7 alphabet symbols. The check symbol is not verified. */
int ticket_normalize(const char *in, char out[8]);

#endif
