/* ticket.c: complaint tickets (pure). */

#include <string.h>

#include <openssl/evp.h>

#include "log.h"
#include "ticket.h"

#define FEISTEL_ROUNDS 10
#define FEISTEL_HALF   15 /* bits per half: 2^30 >= 31^6 */
#define FEISTEL_MASK   ((1u << FEISTEL_HALF) - 1)

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

/* SHA-256, fetched once: EVP_sha256() in EVP_Digest looks the
 * algorithm up at every call (3 of the 5 % of paknd's time that tickets
 * took in a drain). */
static EVP_MD *
ticket_sha256(void)
{
	static EVP_MD *md;

	if (md == NULL && (md = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL)
		fatalx("ticket: no SHA-256");
	return md;
}

/* Round function: 15 bits of SHA-256(key || round || right half). */
static unsigned
ticket_round(EVP_MD_CTX *ctx, const unsigned char key[TICKET_KEY_LEN],
             unsigned round, unsigned r)
{
	unsigned char msg[TICKET_KEY_LEN + 3], md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	memcpy(msg, key, TICKET_KEY_LEN);
	msg[TICKET_KEY_LEN] = (unsigned char)round;
	msg[TICKET_KEY_LEN + 1] = (unsigned char)(r >> 8);
	msg[TICKET_KEY_LEN + 2] = (unsigned char)(r & 0xff);
	if (EVP_DigestInit_ex(ctx, ticket_sha256(), NULL) != 1 ||
	    EVP_DigestUpdate(ctx, msg, sizeof msg) != 1 ||
	    EVP_DigestFinal_ex(ctx, md, &mdlen) != 1)
		fatalx("ticket: SHA-256 failed");
	return ((unsigned)md[0] << 8 | md[1]) & FEISTEL_MASK;
}

/* One pass of the Feistel network over 30 bits. */
static uint64_t
ticket_feistel(EVP_MD_CTX *ctx, const unsigned char key[TICKET_KEY_LEN],
               uint64_t x)
{
	unsigned l = (unsigned)(x >> FEISTEL_HALF) & FEISTEL_MASK;
	unsigned r = (unsigned)x & FEISTEL_MASK, t;

	for (unsigned i = 0; i < FEISTEL_ROUNDS; i++) {
		t = l ^ ticket_round(ctx, key, i, r);
		l = r;
		r = t;
	}
	return (uint64_t)l << FEISTEL_HALF | r;
}

/*
 * The keyed permutation of 0..31^6-1 that turns a sequence value into a
 * ticket number, as pakn.ticket_permute does: a Feistel network permutes
 * 0..2^30-1, and cycle-walking (apply it again while the value is 31^6 or
 * more) restricts it to 0..31^6-1, still a permutation.
 */
uint64_t
ticket_permute(const unsigned char key[TICKET_KEY_LEN], uint64_t n)
{
	uint64_t x = n % TICKET_SPACE;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (ctx == NULL)
		fatalx("ticket: out of memory");
	do
		x = ticket_feistel(ctx, key, x);
	while (x >= TICKET_SPACE);
	EVP_MD_CTX_free(ctx);
	return x;
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
