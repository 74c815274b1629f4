/* ticket.c: complaint tickets (pure). */

#include <string.h>

#include "ticket.h"

#define SCRAMBLE_MUL 387420489u /* 3^18, coprime with 31^6 */
#define SCRAMBLE_ADD 123456789u

/* Index of symbol c in the alphabet, or -1. */
static int
ticket_index(char c)
{
	const char *p;

	if (c == '\0')
		return -1;
	p = strchr(TICKET_ALPHABET, c);
	return p == NULL ? -1 : (int)(p - TICKET_ALPHABET);
}

/*
 * Weighted sum of symbol indexes, position i (from 1) weighing i, mod 31.
 * A ticket is valid when the sum over its 7 symbols is 0. As 31 is prime
 * and the weights 1..7 are distinct and non-zero, every single wrong
 * symbol and every swap of two symbols (adjacent or not) changes the sum.
 */
static unsigned
ticket_sum(const int *v, int n)
{
	unsigned sum = 0;

	for (int i = 0; i < n; i++)
		sum += (unsigned)(i + 1) * (unsigned)v[i];
	return sum % TICKET_N;
}

/* Is t exactly 7 alphabet symbols with a valid check symbol? */
int
ticket_valid(const char *t)
{
	int v[TICKET_LEN], i;

	if (t == NULL)
		return 0;
	for (i = 0; i < TICKET_LEN; i++) {
		if ((v[i] = ticket_index(t[i])) < 0)
			return 0;
	}
	if (t[TICKET_LEN] != '\0')
		return 0;
	return ticket_sum(v, TICKET_LEN) == 0;
}

/* Encode x as 6 base-31 symbols and the check symbol. */
void
ticket_encode(uint64_t x, char out[8])
{
	int v[TICKET_LEN - 1], i;
	unsigned sum;

	x %= TICKET_SPACE;
	for (i = TICKET_LEN - 2; i >= 0; i--) {
		v[i] = (int)(x % TICKET_N);
		x /= TICKET_N;
	}
	for (i = 0; i < TICKET_LEN - 1; i++)
		out[i] = TICKET_ALPHABET[v[i]];
	/* 7 * c + sum = 0 (mod 31), and 9 is the inverse of 7 mod 31. */
	sum = ticket_sum(v, TICKET_LEN - 1);
	out[TICKET_LEN - 1] =
	    TICKET_ALPHABET[(TICKET_N - sum * 9 % TICKET_N) % TICKET_N];
	out[TICKET_LEN] = '\0';
}

/* Map a sequence value to a ticket number, as the SQL side does. */
uint64_t
ticket_scramble(uint64_t n)
{
	return ((n % TICKET_SPACE) * SCRAMBLE_MUL + SCRAMBLE_ADD) %
	       TICKET_SPACE;
}

/* Uppercase, drop spaces and dashes; -1 unless 7 alphabet symbols. */
int
ticket_normalize(const char *in, char out[8])
{
	size_t n = 0;
	char c;

	out[0] = '\0';
	if (in == NULL)
		return -1;
	for (; *in != '\0'; in++) {
		if (*in == ' ' || *in == '-')
			continue;
		c = *in >= 'a' && *in <= 'z' ? (char)(*in - 'a' + 'A') : *in;
		if (n == TICKET_LEN || ticket_index(c) < 0) {
			out[0] = '\0';
			return -1;
		}
		out[n++] = c;
	}
	out[n] = '\0';
	if (n != TICKET_LEN) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}
