/* check_phone.c: phone number normalisation. */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "phone.h"
#include "util.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *in;
	const char *out; /* NULL: refused with a cause containing err */
	const char *err;
} phone_cases[] = {
    {"0912345678", "+84912345678", NULL},
    {"84912345678", "+84912345678", NULL},
    {"+84912345678", "+84912345678", NULL},
    {"0084912345678", "+84912345678", NULL},
    {"091 234-5678", "+84912345678", NULL},
    {"(091) 234.5678", "+84912345678", NULL},
    {"+84 91 234 56 78", "+84912345678", NULL},
    {"01234567890", "+841234567890", NULL},
    {"841234567890", "+841234567890", NULL},
    {"8079", "8079", NULL},
    {"123", "123", NULL},
    {"199999", "199999", NULL},
    {"+12349013030", "+12349013030", NULL},
    {"12349013030", "+12349013030", NULL},
    {"0012349013030", "+12349013030", NULL},
    {"+12345678", "+12345678", NULL},
    {"+123456789012345", "+123456789012345", NULL},
    {"garbage", NULL, "character 'g' not allowed"},
    {"0912345678x", NULL, "character 'x' not allowed"},
    {"091234567\n", NULL, "byte 0x0a not allowed"},
    {"", NULL, "no digits"},
    {"  --  ", NULL, "no digits"},
    {"+", NULL, "no digits"},
    {"84+912345678", NULL, "'+' is only allowed at the start"},
    {"++84912345678", NULL, "'+' is only allowed at the start"},
    {"+1234567", NULL, "7 digits after '+'"},
    {"+1234567890123456", NULL, "16 digits after '+'"},
    {"12", NULL, "2 digits"},
    {"1234567", NULL, "7 digits"},
    {"912345678", NULL, "9 digits"},
    {"012345678", NULL, "9 digits"},
    {"01234567890123", NULL, "14 digits"},
    {"1234567890123456", NULL, "16 digits"},
    {"1111111111111111111111111111111111111111111111111111111111111111111"
     "111111",
     NULL, "too long"},
    {"Đường", NULL, "byte 0xc4 not allowed"},
};

/* Normalise each table entry. */
START_TEST(test_phone)
{
	char *cause = NULL;
	char *out = phone_normalize(phone_cases[_i].in, &cause);

	if (phone_cases[_i].out == NULL) {
		ck_assert_msg(out == NULL, "%s: got %s", phone_cases[_i].in,
		              out);
		ck_assert_ptr_nonnull(cause);
		ck_assert_msg(strstr(cause, phone_cases[_i].err) != NULL,
		              "%s: cause %s", phone_cases[_i].in, cause);
	} else {
		ck_assert_msg(out != NULL, "%s: %s", phone_cases[_i].in, cause);
		ck_assert_str_eq(out, phone_cases[_i].out);
		ck_assert_ptr_null(cause);
	}
	free(out);
	free(cause);
}
END_TEST

/* NULL input and NULL cause pointers are allowed. */
START_TEST(test_phone_null)
{
	char *cause = NULL;

	ck_assert_ptr_null(phone_normalize(NULL, &cause));
	ck_assert_ptr_nonnull(cause);
	free(cause);
	ck_assert_ptr_null(phone_normalize("x", NULL));
}
END_TEST

/* Senders are kept when they are digits of the wrong length. */
static const struct {
	const char *in;
	const char *out; /* NULL: refused */
} sender_cases[] = {
    {"0912345678", "+84912345678"},
    {"+1234567", "+1234567"},
    {"+1", "+1"},
    {"+1234567890123456", "+1234567890123456"},
    {"12", "12"},
    {"1234567", "1234567"},
    {"0912345", "+84912345"},
    {"00123456", "+123456"},
    {"09123", "09123"},
    {"8079", "8079"},
    {"0", "0"},
    {"00", "00"},
    {"", NULL},
    {"+", NULL},
    {"abc", NULL},
    {"whatsapp:1", NULL},
    {"091234567\n", NULL},
};

/* Normalise each sender of the table. */
START_TEST(test_phone_sender)
{
	char *cause = NULL;
	char *out = phone_normalize_sender(sender_cases[_i].in, &cause);

	if (sender_cases[_i].out == NULL) {
		ck_assert_msg(out == NULL, "%s: got %s", sender_cases[_i].in,
		              out);
		ck_assert_ptr_nonnull(cause);
	} else {
		ck_assert_msg(out != NULL, "%s: %s", sender_cases[_i].in,
		              cause);
		ck_assert_str_eq(out, sender_cases[_i].out);
	}
	free(out);
	free(cause);
}
END_TEST

/* The numbering plans: NULL for a number a subscriber can have. */
static const struct {
	const char *number;
	const char *flag;
} plan_cases[] = {
    /* Vietnam, mobile: every allocated network code, 9 digits. */
    {"+84321234567", NULL},
    {"+84391234567", NULL},
    {"+84521234567", NULL},
    {"+84551234567", NULL},
    {"+84561234567", NULL},
    {"+84581234567", NULL},
    {"+84591234567", NULL},
    {"+84701234567", NULL},
    {"+84761234567", NULL},
    {"+84791234567", NULL},
    {"+84811234567", NULL},
    {"+84851234567", NULL},
    {"+84861234567", NULL},
    {"+84871234567", NULL},
    {"+84881234567", NULL},
    {"+84891234567", NULL},
    {"+84901234567", NULL},
    {"+84912345678", NULL},
    {"+84921234567", NULL},
    {"+84931234567", NULL},
    {"+84941234567", NULL},
    {"+84961234567", NULL},
    {"+84971234567", NULL},
    {"+84981234567", NULL},
    {"+84991234567", NULL},
    /* Vietnam, fixed lines 2x: 10 digits. */
    {"+842438251234", NULL},
    {"+842873001234", NULL},
    {"+842193856001", NULL},
    {"+84281234567", "too_short"},
    {"+8428730012345", "too_long"},
    /* Unallocated codes and the 11-digit numbers retired in 2018. */
    {"+84301234567", "vn_unallocated"},
    {"+84311234567", "vn_unallocated"},
    {"+84501234567", "vn_unallocated"},
    {"+84571234567", "vn_unallocated"},
    {"+84711234567", "vn_unallocated"},
    {"+84751234567", "vn_unallocated"},
    {"+84801234567", "vn_unallocated"},
    {"+84951234567", "vn_unallocated"},
    {"+84401234567", "vn_unallocated"},
    {"+84601234567", "vn_unallocated"},
    {"+841234567890", "vn_unallocated"},
    {"+841681234567", "vn_unallocated"},
    {"+8418001234", "vn_unallocated"},
    /* A national number after +84: the doubled prefix. */
    {"+840912345678", "vn_doubled_prefix"},
    {"+8484912345678", "vn_doubled_prefix"},
    {"+840243825123", "vn_unallocated"},
    {"+8402438251234", "vn_doubled_prefix"},
    /* Wrong lengths for a mobile code. */
    {"+8491234567", "too_short"},
    {"+849123456789", "too_long"},
    {"+849123", "too_short"},
    {"+8491234567890123", "too_long"},
    /* Other countries: E.164 length, country code not 0. */
    {"+12349013030", NULL},
    {"+15005550006", NULL},
    {"+447911123456", NULL},
    {"+12345678", NULL},
    {"+123456789012345", NULL},
    {"+1234567890123456", "too_long"},
    {"+1234567", "too_short"},
    {"+1", "too_short"},
    {"+000123456789", "bad_country_code"},
    {"+0084912345678", "bad_country_code"},
    /* Not international numbers. */
    {"8079", "short_code"},
    {"123", "short_code"},
    {"199999", "short_code"},
    {"12", "too_short"},
    {"1234567", "not_e164"},
    {"99999999999999999999", "too_long"},
    {"+", "not_e164"},
    {"+84abc", "not_e164"},
};

/* Check each number of the table against the plans. */
START_TEST(test_phone_plan)
{
	const char *flag = phone_plan(plan_cases[_i].number);

	if (plan_cases[_i].flag == NULL)
		ck_assert_msg(flag == NULL, "%s: flagged %s",
		              plan_cases[_i].number, flag);
	else
		ck_assert_msg(flag != NULL &&
		                  strcmp(flag, plan_cases[_i].flag) == 0,
		              "%s: %s, want %s", plan_cases[_i].number,
		              flag ? flag : "valid", plan_cases[_i].flag);
}
END_TEST

/* Every flag has a sentence; an unknown one is shown as it is. */
START_TEST(test_phone_flag_text)
{
	for (size_t i = 0; i < LEN(plan_cases); i++)
		if (plan_cases[i].flag != NULL)
			ck_assert_str_ne(phone_flag_text(plan_cases[i].flag),
			                 plan_cases[i].flag);
	ck_assert_str_ne(phone_flag_text("own_number"), "own_number");
	ck_assert_str_eq(phone_flag_text("other"), "other");
}
END_TEST

/* Build the suite. */
static Suite *
phone_suite(void)
{
	Suite *s = suite_create("phone");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_phone, 0, LEN(phone_cases));
	tcase_add_test(tc, test_phone_null);
	tcase_add_loop_test(tc, test_phone_sender, 0, LEN(sender_cases));
	tcase_add_loop_test(tc, test_phone_plan, 0, LEN(plan_cases));
	tcase_add_test(tc, test_phone_flag_text);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit non-zero on failure. */
int
main(void)
{
	SRunner *sr = srunner_create(phone_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
