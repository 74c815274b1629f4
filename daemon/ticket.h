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

/* Bytes of the installation's ticket key (pakn.setting 'ticket_key'). */
#define TICKET_KEY_LEN 32

/* The keyed permutation of 0..31^6-1 that pakn.ticket_permute applies to
 * sequence values (n is reduced modulo 31^6 first): a 10-round Feistel
 * network over 30 bits whose round function is SHA-256(key || round ||
 * right half), cycle-walked into range. Without the key, one ticket tells
 * nothing about the next. */
uint64_t ticket_permute(const unsigned char key[TICKET_KEY_LEN], uint64_t n);

/* Uppercase in and drop spaces and dashes into out; -1 (out "") unless
 * the result is 7 alphabet symbols. The check symbol is not verified. */
int ticket_normalize(const char *in, char out[8]);

#endif
