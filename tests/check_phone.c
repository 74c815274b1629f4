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

/* Build the suite. */
static Suite *
phone_suite(void)
{
	Suite *s = suite_create("phone");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_phone, 0, LEN(phone_cases));
	tcase_add_test(tc, test_phone_null);
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
