/* check_text.c: percent-decoding, forms, UTF-8 and UTF-16. */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"
#include "util.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A byte string with its length (it may hold NUL bytes). */
#define BYTES(s) s, sizeof(s) - 1

static const struct {
	const char *in;
	int plus;
	const char *out; /* NULL: an error whose cause contains err */
	size_t outlen;
	const char *err;
} decode_cases[] = {
    {"", 1, "", 0, NULL},
    {"abc", 1, "abc", 3, NULL},
    {"a%20b", 1, "a b", 3, NULL},
    {"a+b", 1, "a b", 3, NULL},
    {"a+b", 0, "a+b", 3, NULL},
    {"%4e%4E%2b", 0, "NN+", 3, NULL},
    {"x%00y", 0, "x\0y", 3, NULL},
    {"%ff%FE", 0, "\xff\xfe", 2, NULL},
    {"%", 1, NULL, 0, "bad percent-encoding at byte 0"},
    {"ab%2", 1, NULL, 0, "bad percent-encoding at byte 2"},
    {"abc%g1", 1, NULL, 0, "bad percent-encoding at byte 3"},
    {"%zz", 1, NULL, 0, "bad percent-encoding at byte 0"},
    {"100%", 1, NULL, 0, "bad percent-encoding at byte 3"},
    {"ok%41%4", 1, NULL, 0, "bad percent-encoding at byte 5"},
};

/* Decode each table entry and compare bytes or cause. */
START_TEST(test_percent_decode)
{
	size_t outlen = 99;
	char *cause = NULL;
	char *out = text_percent_decode(decode_cases[_i].in,
	                                strlen(decode_cases[_i].in),
	                                decode_cases[_i].plus, &outlen, &cause);

	if (decode_cases[_i].out == NULL) {
		ck_assert_ptr_null(out);
		ck_assert_ptr_nonnull(cause);
		ck_assert_str_eq(cause, decode_cases[_i].err);
	} else {
		ck_assert_ptr_nonnull(out);
		ck_assert_uint_eq(outlen, decode_cases[_i].outlen);
		ck_assert_mem_eq(out, decode_cases[_i].out, outlen);
		ck_assert_int_eq(out[outlen], '\0');
	}
	free(out);
	free(cause);
}
END_TEST

static const struct {
	const char *s;
	size_t len;
	int valid;
} utf8_cases[] = {
    {BYTES(""), 1},
    {BYTES("plain ascii"), 1},
    {BYTES("caf\xc3\xa9"), 1},
    {BYTES("Đường Nguyễn Trãi ngập nước"), 1},
    {BYTES("\xf0\x9f\x98\x80"), 1}, /* U+1F600 */
    {BYTES("\xef\xbf\xbf"), 1},     /* U+FFFF */
    {BYTES("\xf4\x8f\xbf\xbf"), 1}, /* U+10FFFF */
    {BYTES("\xee\x80\x80"), 1},     /* U+E000, just past surrogates */
    {BYTES("\xed\x9f\xbf"), 1},     /* U+D7FF, just before */
    {BYTES("a\0b"), 0},             /* NUL */
    {BYTES("\xc0\x80"), 0},         /* overlong NUL */
    {BYTES("\xc1\xbf"), 0},         /* overlong */
    {BYTES("\xe0\x80\x80"), 0},     /* overlong */
    {BYTES("\xe0\x9f\xbf"), 0},     /* overlong U+07FF */
    {BYTES("\xf0\x80\x80\x80"), 0}, /* overlong */
    {BYTES("\xf0\x8f\xbf\xbf"), 0}, /* overlong U+FFFF */
    {BYTES("\xed\xa0\x80"), 0},     /* U+D800 */
    {BYTES("\xed\xbf\xbf"), 0},     /* U+DFFF */
    {BYTES("\xf4\x90\x80\x80"), 0}, /* U+110000 */
    {BYTES("\xf5\x80\x80\x80"), 0}, /* lead byte out of range */
    {BYTES("\xff"), 0},
    {BYTES("\x80"), 0},         /* lone continuation */
    {BYTES("abc\xc3"), 0},      /* truncated */
    {BYTES("\xe1\x80"), 0},     /* truncated */
    {BYTES("\xf0\x9f\x98"), 0}, /* truncated */
    {BYTES("\xe1\x80\x41"), 0}, /* bad continuation */
};

/* Validate each table entry. */
START_TEST(test_utf8_valid)
{
	ck_assert_int_eq(text_utf8_valid(utf8_cases[_i].s, utf8_cases[_i].len),
	                 utf8_cases[_i].valid);
}
END_TEST

static const struct {
	const char *in;
	size_t len;
	const char *out; /* NULL: an error whose cause contains err */
	const char *err;
} utf16_cases[] = {
    {BYTES(""), "", NULL},
    {BYTES("\x00\x41\x00\x42"), "AB", NULL},
    {BYTES("\x01\x10\x01\xb0\x1e\xdd\x00\x6e\x00\x67\x00\x20\x00\x4e\x00"
           "\x67\x00\x75\x00\x79\x1e\xc5\x00\x6e\x00\x20\x00\x54\x00\x72"
           "\x00\xe3\x00\x69\x00\x20\x00\x6e\x00\x67\x1e\xad\x00\x70\x00"
           "\x20\x00\x6e\x01\xb0\x1e\xdb\x00\x63"),
     "Đường Nguyễn Trãi ngập nước", NULL},
    {BYTES("\xd8\x3c\xdf\x0a\xd8\x3d\xde\x00"), "🌊😀", NULL},
    {BYTES("\xdb\xff\xdf\xff"), "\xf4\x8f\xbf\xbf", NULL},
    {BYTES("\xff\xfd"), "\xef\xbf\xbd", NULL},
    {BYTES("\x00\x41\x00"), NULL, "odd number of bytes"},
    {BYTES("\xd8\x3d"), NULL, "unpaired high surrogate"},
    {BYTES("\xd8\x3d\x00\x41"), NULL, "unpaired high surrogate"},
    {BYTES("\xd8\x3d\xd8\x3d"), NULL, "unpaired high surrogate"},
    {BYTES("\x00\x41\xde\x00"), NULL, "unpaired low surrogate at byte 2"},
    {BYTES("\x00\x41\x00\x00"), NULL, "NUL character at byte 2"},
    /* A byte order mark is not text; FF FE means little-endian. */
    {BYTES("\xfe\xff\x00\x41\x1e\xad"), "Aậ", NULL},
    {BYTES("\xfe\xff"), "", NULL},
    {BYTES("\xff\xfe\x41\x00\xad\x1e"), "Aậ", NULL},
    {BYTES("\xff\xfe\x3c\xd8\x0a\xdf"), "🌊", NULL},
    {BYTES("\xff\xfe\x41\x00\x00\x00"), NULL, "NUL character at byte 4"},
    /* Only a leading one: U+FEFF inside the text stays. */
    {BYTES("\x00\x41\xfe\xff"), "A\xef\xbb\xbf", NULL},
};

/* Decode each UTF-16BE table entry. */
START_TEST(test_utf16be)
{
	char *cause = NULL;
	char *out =
	    text_utf16be_to_utf8((const unsigned char *)utf16_cases[_i].in,
	                         utf16_cases[_i].len, &cause);

	if (utf16_cases[_i].out == NULL) {
		ck_assert_ptr_null(out);
		ck_assert_ptr_nonnull(cause);
		ck_assert_ptr_nonnull(strstr(cause, utf16_cases[_i].err));
	} else {
		ck_assert_ptr_nonnull(out);
		ck_assert_str_eq(out, utf16_cases[_i].out);
		ck_assert(text_utf8_valid(out, strlen(out)));
	}
	free(out);
	free(cause);
}
END_TEST

/* Latin-1 maps bytes to code points and refuses NUL. */
START_TEST(test_latin1)
{
	char *cause = NULL, *out;

	out = text_latin1_to_utf8((const unsigned char *)"caf\xe9 \xff", 6,
	                          &cause);
	ck_assert_str_eq(out, "café ÿ");
	free(out);
	out = text_latin1_to_utf8((const unsigned char *)"", 0, &cause);
	ck_assert_str_eq(out, "");
	free(out);
	out = text_latin1_to_utf8((const unsigned char *)"ab\0c", 4, &cause);
	ck_assert_ptr_null(out);
	ck_assert_str_eq(cause, "NUL character at byte 2");
	free(cause);
}
END_TEST

static const struct {
	const char *in;
	const char *out;
} bom_cases[] = {
    {"\xef\xbb\xbfPA ngap nuoc", "PA ngap nuoc"},
    {"\xef\xbb\xbf\xef\xbb\xbfPA", "PA"},
    {"\xef\xbb\xbf", ""},
    {"PA\xef\xbb\xbf", "PA\xef\xbb\xbf"},
    {"\xef\xbb", "\xef\xbb"},
    {"", ""},
};

/* Leading byte order marks are removed from UTF-8 text. */
START_TEST(test_strip_bom)
{
	char *s = strdup(bom_cases[_i].in);

	text_strip_bom(s);
	ck_assert_str_eq(s, bom_cases[_i].out);
	free(s);
}
END_TEST

static const struct {
	const char *h;
	const char *token; /* NULL: refused with a reason holding err */
	const char *err;
} bearer_cases[] = {
    {"Bearer tok-1", "tok-1", NULL},
    {"bearer tok-1", "tok-1", NULL},
    {"BEARER tok-1", "tok-1", NULL},
    {"Bearer    tok-1", "tok-1", NULL},
    {"Bearer \t tok-1", "tok-1", NULL},
    {"Bearer\ttok-1", "tok-1", NULL},
    {"Bearer tok-1  \t", "tok-1", NULL},
    {"Bearer a+b/c=~._-", "a+b/c=~._-", NULL},
    {NULL, NULL, "missing token"},
    {"", NULL, "scheme must be Bearer"},
    {"Basic dXNlcjpwYXNz", NULL, "scheme must be Bearer"},
    {"Bearertok-1", NULL, "scheme must be Bearer"},
    {" Bearer tok-1", NULL, "scheme must be Bearer"},
    {"Bear tok-1", NULL, "scheme must be Bearer"},
    {"Bearer", NULL, "empty bearer token"},
    {"Bearer ", NULL, "empty bearer token"},
    {"Bearer  \t ", NULL, "empty bearer token"},
    {"Bearer tok 1", NULL, "not printable ASCII"},
    {"Bearer tok\x01", NULL, "not printable ASCII"},
    {"Bearer \x7ftok", NULL, "not printable ASCII"},
    {"Bearer tök", NULL, "not printable ASCII"},
    {"Bearer tok\r\n", NULL, "not printable ASCII"},
};

/* Bearer tokens: the scheme in any case, blanks, printable ASCII. */
START_TEST(test_bearer)
{
	const char *tok = "x", *reason = "x";
	size_t n = text_bearer(bearer_cases[_i].h, &tok, &reason);

	if (bearer_cases[_i].token == NULL) {
		ck_assert_uint_eq(n, 0);
		ck_assert_ptr_null(tok);
		ck_assert_ptr_nonnull(strstr(reason, bearer_cases[_i].err));
	} else {
		ck_assert_uint_eq(n, strlen(bearer_cases[_i].token));
		ck_assert(!strncmp(tok, bearer_cases[_i].token, n));
		ck_assert_ptr_null(reason);
	}
}
END_TEST

/* Tokens of 256 characters pass, of 257 do not. */
START_TEST(test_bearer_length)
{
	char h[7 + TEXT_BEARER_MAX + 2];
	const char *tok, *reason;

	memcpy(h, "Bearer ", 7);
	memset(h + 7, 'a', TEXT_BEARER_MAX + 1);
	h[7 + TEXT_BEARER_MAX] = '\0';
	ck_assert_uint_eq(text_bearer(h, &tok, &reason), TEXT_BEARER_MAX);
	h[7 + TEXT_BEARER_MAX] = 'a';
	h[7 + TEXT_BEARER_MAX + 1] = '\0';
	ck_assert_uint_eq(text_bearer(h, &tok, &reason), 0);
	ck_assert_str_eq(reason, "bearer token longer than 256 characters");
}
END_TEST

struct want_kv {
	const char *key;
	const char *val;
	size_t vlen;
};

static const struct {
	const char *in;
	size_t n; /* pairs expected; with err set, an error is expected */
	struct want_kv kv[4];
	const char *err;
} form_cases[] = {
    {"", 0, {{NULL, NULL, 0}}, NULL},
    {"a=1&b=2", 2, {{"a", "1", 1}, {"b", "2", 1}}, NULL},
    {"a=1&&b=2&", 2, {{"a", "1", 1}, {"b", "2", 1}}, NULL},
    {"&&", 0, {{NULL, NULL, 0}}, NULL},
    {"flag&x=", 2, {{"flag", "", 0}, {"x", "", 0}}, NULL},
    {"a+b=c+d%2B", 1, {{"a b", "c d+", 4}}, NULL},
    {"text=%00%41%d8%3d", 1, {{"text", "\0A\xd8\x3d", 4}}, NULL},
    {"=x", 1, {{"", "x", 1}}, NULL},
    {"a=1=2", 1, {{"a", "1=2", 3}}, NULL},
    {"k%C3%A9=v", 1, {{"k\xc3\xa9", "v", 1}}, NULL},
    {"a=1&b=%zz", 0, {{NULL, NULL, 0}}, "bad percent-encoding at byte 6"},
    {"a%2=1", 0, {{NULL, NULL, 0}}, "bad percent-encoding at byte 1"},
    {"k%ff=1", 0, {{NULL, NULL, 0}}, "not UTF-8"},
    {"x=1&k%00=1", 0, {{NULL, NULL, 0}}, "at byte 4 is not UTF-8"},
};

/* Parse each form table entry. */
START_TEST(test_form_parse)
{
	struct form f = {NULL, 0};
	char *cause = NULL;
	size_t i;
	int r = form_parse(&f, form_cases[_i].in, strlen(form_cases[_i].in),
	                   &cause);

	if (form_cases[_i].err != NULL) {
		ck_assert_int_eq(r, -1);
		ck_assert_uint_eq(f.n, 0);
		ck_assert_ptr_nonnull(strstr(cause, form_cases[_i].err));
	} else {
		ck_assert_int_eq(r, 0);
		ck_assert_uint_eq(f.n, form_cases[_i].n);
		for (i = 0; i < f.n; i++) {
			ck_assert_str_eq(f.v[i].key, form_cases[_i].kv[i].key);
			ck_assert_uint_eq(f.v[i].vlen,
			                  form_cases[_i].kv[i].vlen);
			ck_assert_mem_eq(f.v[i].val, form_cases[_i].kv[i].val,
			                 f.v[i].vlen);
			ck_assert_int_eq(f.v[i].val[f.v[i].vlen], '\0');
		}
	}
	form_clear(&f);
	free(cause);
}
END_TEST

/* A second parse appends; a failed one leaves the form as it was. */
START_TEST(test_form_append)
{
	struct form f = {NULL, 0};
	char *cause = NULL;

	ck_assert_int_eq(form_parse(&f, "a=1&b=2", 7, NULL), 0);
	ck_assert_int_eq(form_parse(&f, "a=3&c=4", 7, NULL), 0);
	ck_assert_uint_eq(f.n, 4);
	ck_assert_str_eq(form_get(&f, "a")->val, "1");
	ck_assert_str_eq(form_get(&f, "c")->val, "4");
	ck_assert_ptr_null(form_get(&f, "d"));
	ck_assert_int_eq(form_parse(&f, "d=5&e=%", 7, &cause), -1);
	ck_assert_str_eq(cause, "bad percent-encoding at byte 6");
	ck_assert_uint_eq(f.n, 4);
	ck_assert_ptr_null(form_get(&f, "d"));
	form_clear(&f);
	ck_assert_uint_eq(f.n, 0);
	ck_assert_ptr_null(f.v);
	ck_assert_ptr_null(form_get(NULL, "a"));
	form_clear(&f);
	free(cause);
}
END_TEST

/* Build the suite. */
static Suite *
text_suite(void)
{
	Suite *s = suite_create("text");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_percent_decode, 0, LEN(decode_cases));
	tcase_add_loop_test(tc, test_utf8_valid, 0, LEN(utf8_cases));
	tcase_add_loop_test(tc, test_utf16be, 0, LEN(utf16_cases));
	tcase_add_test(tc, test_latin1);
	tcase_add_loop_test(tc, test_strip_bom, 0, LEN(bom_cases));
	tcase_add_loop_test(tc, test_bearer, 0, LEN(bearer_cases));
	tcase_add_test(tc, test_bearer_length);
	tcase_add_loop_test(tc, test_form_parse, 0, LEN(form_cases));
	tcase_add_test(tc, test_form_append);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit non-zero on failure. */
int
main(void)
{
	SRunner *sr = srunner_create(text_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
