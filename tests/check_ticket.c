/* check_ticket.c: ticket encoding, validation and error detection. */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ticket.h"

#define LEN(a)  (sizeof(a) / sizeof((a)[0]))
#define SAMPLE  2000
#define PERMUTE 50000

/* A test key: bytes 0, 1, ..., 31. */
static const unsigned char key[TICKET_KEY_LEN] = {
    0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15,
    16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31};

/* pakn.ticket_permute(n, key) and pakn.ticket_symbols of it, as
 * PostgreSQL computes them (sql/functions/tickets.sql). */
static const struct {
	uint64_t n, x;
	const char *ticket;
} permute_cases[] = {
    {0, 303299132u, "CMEWUZB"},          {1, 353689456u, "ECZD6BC"},
    {2, 74186137u, "4MC8U8K"},           {3, 376770690u, "F6Z6493"},
    {1000000, 693507507u, "T8Y4XXK"},    {887503680u, 136297393u, "6SM5R57"},
    {887503681u, 303299132u, "CMEWUZB"}, /* reduced modulo 31^6 */
};

static const struct {
	uint64_t x;
	const char *ticket;
} encode_cases[] = {
    {0, "2222222"},          {1, "222223A"},
    {30, "22222ZS"},         {31, "222232K"},
    {887503680u, "ZZZZZZ5"}, {887503681u, "2222222"}, /* reduced modulo 31^6 */
};

static const struct {
	const char *t;
	int ok;
} valid_cases[] = {
    {"KV7R48R", 1}, {"2DQC6CH", 1},  {"FX7Y8GV", 1},    {"2222222", 1},
    {"KV7R48Q", 0}, {"KV7R84R", 0},  {"VK7R48R", 0},    {"kv7r48r", 0},
    {"KV7R48", 0},  {"KV7R48RR", 0}, {"KV7R4OR", 0},    {"KV7R41R", 0},
    {"KV7-48Q", 0}, {"", 0},         {"KV7R48\xc3", 0},
};

static const struct {
	const char *in;
	const char *out; /* NULL: refused */
} normalize_cases[] = {
    {"KV7R48Q", "KV7R48Q"},
    {"kv7r48q", "KV7R48Q"},
    {"kv7-r48q", "KV7R48Q"},
    {"KV7 R48 Q", "KV7R48Q"},
    {" - kv7r48r - ", "KV7R48R"}, /* checksum is not checked */
    {"KV7R48", NULL},
    {"KV7R48QQ", NULL},
    {"KV7R4OQ", NULL},
    {"KV7R4IQ", NULL},
    {"KV7R4LQ", NULL},
    {"KV7R40Q", NULL},
    {"KV7R4\tQQ", NULL},
    {"", NULL},
    {"Đ222222", NULL},
};

/* Encode known payloads; each result is valid. */
START_TEST(test_encode)
{
	char t[8];

	ticket_encode(encode_cases[_i].x, t);
	ck_assert_str_eq(t, encode_cases[_i].ticket);
	ck_assert(ticket_valid(t));
}
END_TEST

/* Validate the table. */
START_TEST(test_valid)
{
	ck_assert_int_eq(ticket_valid(valid_cases[_i].t), valid_cases[_i].ok);
}
END_TEST

/* Normalise the table. */
START_TEST(test_normalize)
{
	char out[8];
	int rc = ticket_normalize(normalize_cases[_i].in, out);

	if (normalize_cases[_i].out == NULL) {
		ck_assert_int_eq(rc, -1);
		ck_assert_str_eq(out, "");
	} else {
		ck_assert_int_eq(rc, 0);
		ck_assert_str_eq(out, normalize_cases[_i].out);
	}
}
END_TEST

/* NULL is refused, not dereferenced. */
START_TEST(test_null)
{
	char out[8];

	ck_assert(!ticket_valid(NULL));
	ck_assert_int_eq(ticket_normalize(NULL, out), -1);
}
END_TEST

/* Compare two uint64_t for qsort. */
static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The permutation gives what PostgreSQL gives for the same key. */
START_TEST(test_permute_sql)
{
	char t[8];
	uint64_t x = ticket_permute(key, permute_cases[_i].n);

	ck_assert_uint_eq(x, permute_cases[_i].x);
	ticket_encode(x, t);
	ck_assert_str_eq(t, permute_cases[_i].ticket);
}
END_TEST

/* The permutation stays below 31^6, is the same for n and n + 31^6, and
 * has no collisions on a sample spread over the whole range. (Check's
 * asserts talk to the parent process, so hot loops count and assert
 * once.) */
START_TEST(test_permute)
{
	size_t n = PERMUTE, i, wrong = 0, dup = 0;
	uint64_t *v = malloc(n * sizeof *v), k;

	ck_assert_ptr_nonnull(v);
	for (i = 0; i < n; i++) {
		k = i < n / 2 ? i : (uint64_t)i * 17659 % TICKET_SPACE;
		v[i] = ticket_permute(key, k);
		wrong += v[i] >= TICKET_SPACE ||
		         (i % 97 == 0 &&
		          v[i] != ticket_permute(key, k + TICKET_SPACE));
	}
	qsort(v, n, sizeof *v, cmp_u64);
	for (i = 1; i < n; i++)
		dup += v[i - 1] == v[i];
	free(v);
	ck_assert_uint_eq(wrong, 0);
	ck_assert_uint_eq(dup, 0);
}
END_TEST

/* Consecutive sequence values give tickets with no visible pattern: the
 * differences between consecutive ticket numbers are not constant (as an
 * affine map's are) and take many values, the 20 tickets share no
 * prefix, and another key gives other tickets. */
START_TEST(test_permute_pattern)
{
	unsigned char other[TICKET_KEY_LEN];
	uint64_t x[21], d[20];
	char t[21][8];
	int distinct = 0, same_first = 1, same_key = 0;

	memcpy(other, key, sizeof other);
	other[31] ^= 1;
	for (int i = 0; i < 21; i++) {
		x[i] = ticket_permute(key, 1000 + (uint64_t)i);
		ticket_encode(x[i], t[i]);
		same_first &= t[i][0] == t[0][0];
		same_key += ticket_permute(other, 1000 + (uint64_t)i) == x[i];
	}
	for (int i = 0; i < 20; i++) {
		d[i] = (x[i + 1] + TICKET_SPACE - x[i]) % TICKET_SPACE;
		int seen = 0;
		for (int j = 0; j < i; j++)
			seen |= d[j] == d[i];
		distinct += !seen;
	}
	ck_assert_int_ge(distinct, 19);
	ck_assert(!same_first);
	ck_assert_int_eq(same_key, 0);
}
END_TEST

/* Every single substitution of 2000 tickets is detected. */
START_TEST(test_substitutions)
{
	char t[8], u[8];
	long tried = 0, missed = 0;
	int n, p, c;

	for (n = 0; n < SAMPLE; n++) {
		ticket_encode(ticket_permute(key, (uint64_t)n), t);
		for (p = 0; p < 7; p++) {
			for (c = 0; c < TICKET_N; c++) {
				if (TICKET_ALPHABET[c] == t[p])
					continue;
				memcpy(u, t, sizeof u);
				u[p] = TICKET_ALPHABET[c];
				tried++;
				missed += ticket_valid(u);
			}
		}
	}
	ck_assert_int_eq(tried, SAMPLE * 7 * 30);
	ck_assert_int_eq(missed, 0);
}
END_TEST

/* Every swap of two different symbols, adjacent or not, is detected. */
START_TEST(test_transpositions)
{
	char t[8], u[8], x;
	long tried = 0, missed = 0;
	int n, p, q;

	for (n = 0; n < SAMPLE; n++) {
		ticket_encode(ticket_permute(key, (uint64_t)n), t);
		for (p = 0; p < 7; p++) {
			for (q = p + 1; q < 7; q++) {
				if (t[p] == t[q])
					continue;
				memcpy(u, t, sizeof u);
				x = u[p];
				u[p] = u[q];
				u[q] = x;
				tried++;
				missed += ticket_valid(u);
			}
		}
	}
	ck_assert_int_gt(tried, SAMPLE * 15);
	ck_assert_int_eq(missed, 0);
}
END_TEST

/* Build the suite. */
static Suite *
ticket_suite(void)
{
	Suite *s = suite_create("ticket");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_encode, 0, LEN(encode_cases));
	tcase_add_loop_test(tc, test_valid, 0, LEN(valid_cases));
	tcase_add_loop_test(tc, test_normalize, 0, LEN(normalize_cases));
	tcase_add_test(tc, test_null);
	tcase_add_loop_test(tc, test_permute_sql, 0, LEN(permute_cases));
	tcase_add_test(tc, test_permute);
	tcase_add_test(tc, test_permute_pattern);
	tcase_add_test(tc, test_substitutions);
	tcase_add_test(tc, test_transpositions);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit non-zero on failure. */
int
main(void)
{
	SRunner *sr = srunner_create(ticket_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
