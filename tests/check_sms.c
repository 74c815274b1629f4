/* check_sms.c: GSM-7 and UCS-2 lengths, segments and conversions. */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "sms.h"
#include "text.h"
#include "util.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

#define VI_REPLY "Phản ánh của bạn đã được tiếp nhận. Mã: KV7R48Q"

static const struct {
	const char *s;
	int gsm7;
} gsm7_cases[] = {
    {"", 1},
    {"Hello, world! 0-9 @$_#%&'()*+,-./:;<=>?", 1},
    {"\n\r\f", 1},
    {"^{}\\[~]|€", 1},
    {"£¥èéùìòÇØøÅåÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", 1},
    {"ΔΦΓΛΩΠΨΣΘΞ", 1},
    {"`", 0},
    {"\t", 0},
    {"α", 0},
    {"Đường", 0},
    {"ư", 0},
    {"😀", 0},
    {"a\xff", 0},
};

/* A message made of rep repeated n times between head and tail. */
static const struct {
	const char *head;
	const char *rep;
	int n;
	const char *tail;
	int ucs2;
	int units;
	int segments;
} len_cases[] = {
    {"", "", 0, "", 0, 0, 1},
    {"", "a", 160, "", 0, 160, 1},
    {"", "a", 161, "", 0, 161, 2},
    {"", "a", 306, "", 0, 306, 2},
    {"", "a", 307, "", 0, 307, 3},
    {"", "a", 459, "", 0, 459, 3},
    {"", "a", 460, "", 0, 460, 4},
    /* Extension characters count 2, also at the boundary. */
    {"", "a", 158, "€", 0, 160, 1},
    {"", "a", 159, "€", 0, 161, 2},
    {"", "a", 159, "^", 0, 161, 2},
    {"", "{}", 80, "", 0, 320, 3},
    {"", "[]", 40, "", 0, 160, 1},
    {"", "[]", 40, "a", 0, 161, 2},
    /* An escape pair is not split: 152 + ESC€ cannot share part one. */
    {"", "a", 151, "€", 0, 153, 1},
    {"€", "a", 304, "", 0, 306, 2},
    {"", "a", 152, "€", 0, 154, 1},
    {"", "a", 305, "€", 0, 307, 3},
    /* UCS-2. */
    {"", "ư", 70, "", 1, 70, 1},
    {"", "ư", 71, "", 1, 71, 2},
    {"", "ư", 134, "", 1, 134, 2},
    {"", "ư", 135, "", 1, 135, 3},
    {"", "a", 69, "ư", 1, 70, 1},
    {"", "a", 70, "ư", 1, 71, 2},
    {"", "a", 69, "`", 1, 70, 1},
    {VI_REPLY, "", 0, "", 1, 47, 1},
    {"Đường", "", 0, "", 1, 5, 1},
    /* Characters outside the BMP count 2; a pair is not split. */
    {"", "😀", 35, "", 1, 70, 1},
    {"", "😀", 36, "", 1, 72, 2},
    {"", "a", 65, "😀", 1, 67, 1},
    {"", "a", 66, "😀", 1, 68, 1},
    {"", "a", 69, "😀", 1, 71, 2},
};

/* The 306-septet and 134-unit messages whose pairs straddle a part
 * boundary: ceil(n / 153) and ceil(n / 67) say 2, the network needs 3. */
static const struct {
	int before;
	const char *pair;
	int after;
	int units;
	int segments;
} straddle_cases[] = {
    {152, "€", 152, 306, 3},
    {151, "€", 153, 306, 2},
    {66, "😀", 66, 134, 3},
    {65, "😀", 67, 134, 2},
};

static const struct {
	const char *in;
	const char *out;
} to_gsm7_cases[] = {
    {"Đường Lê Lợi", "Duong Le Loi"},
    {"ĐẮK LẮK", "DAK LAK"},
    {VI_REPLY, "Phan anh cua ban da duoc tiep nhan. Ma: KV7R48Q"},
    {"\xc4\x91u\xcc\x9bo\xcc\x9b\xcc\x80ng", "duong"},
    {"“Xin chào” – ok…", "\"Xin chao\" - ok..."},
    {"a\tb\xc2\xa0"
     "c",
     "a b c"},
    {"😀x", "?x"},
    {"日本", "??"},
    {"€5 {x} ^[~]|\\", "€5 {x} ^[~]|\\"},
    {"Ωé ß Æ ¿", "Ωe ß Æ ¿"},
    {"`", "?"},
    {"a\xff"
     "b",
     "a?b"},
    {"", ""},
};

/* Is each table entry GSM-7? */
START_TEST(test_is_gsm7)
{
	ck_assert_int_eq(sms_is_gsm7(gsm7_cases[_i].s), gsm7_cases[_i].gsm7);
}
END_TEST

/* Units and segments of each table entry. */
START_TEST(test_lengths)
{
	struct buf b;
	int i, ucs2 = -1;

	buf_init(&b);
	buf_adds(&b, len_cases[_i].head);
	for (i = 0; i < len_cases[_i].n; i++)
		buf_adds(&b, len_cases[_i].rep);
	buf_adds(&b, len_cases[_i].tail);
	ck_assert_int_eq(sms_units(b.data, &ucs2), len_cases[_i].units);
	ck_assert_int_eq(ucs2, len_cases[_i].ucs2);
	ck_assert_int_eq(sms_units(b.data, NULL), len_cases[_i].units);
	ck_assert_int_eq(sms_segments(b.data), len_cases[_i].segments);
	buf_clear(&b);
}
END_TEST

/* Pairs on a part boundary move to the next part. */
START_TEST(test_straddle)
{
	struct buf b;
	int i;

	buf_init(&b);
	for (i = 0; i < straddle_cases[_i].before; i++)
		buf_addc(&b, 'a');
	buf_adds(&b, straddle_cases[_i].pair);
	for (i = 0; i < straddle_cases[_i].after; i++)
		buf_addc(&b, 'a');
	ck_assert_int_eq(sms_units(b.data, NULL), straddle_cases[_i].units);
	ck_assert_int_eq(sms_segments(b.data), straddle_cases[_i].segments);
	buf_clear(&b);
}
END_TEST

/* Convert each table entry to GSM-7. */
START_TEST(test_to_gsm7)
{
	char *out = sms_to_gsm7(to_gsm7_cases[_i].in);

	ck_assert_str_eq(out, to_gsm7_cases[_i].out);
	ck_assert(sms_is_gsm7(out));
	free(out);
}
END_TEST

/* UTF-16BE bytes, surrogate pairs, U+FFFD, and a round trip. */
START_TEST(test_utf16be)
{
	static const struct {
		const char *in;
		const char *out;
		size_t len;
	} c[] = {
	    {"", "", 0},
	    {"A", "\x00\x41", 2},
	    {"Đư", "\x01\x10\x01\xb0", 4},
	    {"😀", "\xd8\x3d\xde\x00", 4},
	    {"a\xff", "\x00\x61\xff\xfd", 4},
	};
	size_t i, len;
	char *out, *back, *cause = NULL;

	for (i = 0; i < LEN(c); i++) {
		out = sms_utf16be(c[i].in, &len);
		ck_assert_uint_eq(len, c[i].len);
		ck_assert(memcmp(out, c[i].out, len) == 0);
		free(out);
	}
	out = sms_utf16be(VI_REPLY " 😀", &len);
	ck_assert_uint_eq(len, 2 * (47 + 1 + 2));
	back = text_utf16be_to_utf8((unsigned char *)out, len, &cause);
	ck_assert_ptr_nonnull(back);
	ck_assert_str_eq(back, VI_REPLY " 😀");
	free(back);
	free(out);
}
END_TEST

/* NULL is the empty message. */
START_TEST(test_null)
{
	size_t len = 1;
	char *s;

	ck_assert(sms_is_gsm7(NULL));
	ck_assert_int_eq(sms_units(NULL, NULL), 0);
	ck_assert_int_eq(sms_segments(NULL), 1);
	s = sms_to_gsm7(NULL);
	ck_assert_str_eq(s, "");
	free(s);
	s = sms_utf16be(NULL, &len);
	ck_assert_uint_eq(len, 0);
	free(s);
}
END_TEST

/* Segments as a gateway sends: Vietnamese folded to GSM-7 without
 * diacritics, UCS-2 with them. */
START_TEST(test_segments_sent)
{
	struct buf b;

	buf_init(&b);
	for (int i = 0; i < 100; i++)
		buf_add(&b, "Đường ", strlen("Đường "));
	/* 600 characters: 4 GSM-7 parts of 153, or 9 UCS-2 parts of 67. */
	ck_assert_int_eq(sms_segments_sent(b.data, 0), 4);
	ck_assert_int_eq(sms_segments_sent(b.data, 1), 9);
	ck_assert_int_eq(sms_segments_sent("Da sua xong", 1), 1);
	ck_assert_int_eq(sms_segments_sent("Đã sửa xong", 0), 1);
	ck_assert_int_eq(sms_segments_sent(NULL, 0), 1);
	buf_clear(&b);
}
END_TEST

/* Build the suite. */
static Suite *
sms_suite(void)
{
	Suite *s = suite_create("sms");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_is_gsm7, 0, LEN(gsm7_cases));
	tcase_add_loop_test(tc, test_lengths, 0, LEN(len_cases));
	tcase_add_loop_test(tc, test_straddle, 0, LEN(straddle_cases));
	tcase_add_loop_test(tc, test_to_gsm7, 0, LEN(to_gsm7_cases));
	tcase_add_test(tc, test_utf16be);
	tcase_add_test(tc, test_null);
	tcase_add_test(tc, test_segments_sent);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit non-zero on failure. */
int
main(void)
{
	SRunner *sr = srunner_create(sms_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
