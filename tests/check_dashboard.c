/*
 * check_dashboard.c: the leaders' dashboard in headless Chromium (Debian
 * package chromium) against the real paknd and a small known data set:
 * the page loads, shows the known numbers, logs no script error, and a
 * screenshot is kept (dashboard.png in the build directory's tests/).
 *
 * Data, October 2026, province P01 with communes C01, C03, C04:
 *   A0 C01 procedures, September: on time, rated 3 (score 5.50)
 *   A1 C01 procedures: on time, rated 5            (score 10.00, up 4.50)
 *   M1 C04 procedures: late, rated 1               (score 1.00)
 *   K2 C03 corruption: open and overdue (sensitive: text hidden)
 * Totals: received 3, answered 2, on time 50,0 %, satisfied 50,0 %.
 * The triage desk P01-TN holds D1, a complaint without a place.
 * A survey after a service of C01 (1.001): recorded on time, answered
 * "late", rated 4.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

#ifndef PAKN_BUILDDIR
#define PAKN_BUILDDIR "."
#endif

#define TOKEN "tok-dash-p01"

static const char seed_sql[] =
    "INSERT INTO pakn.unit (code, name, parent_code, kind) VALUES"
    " ('P01', 'Tỉnh Thử Nghiệm', NULL, 'province'),"
    " ('C01', 'Xã An Bình', 'P01', 'commune'),"
    " ('C03', 'Phường Cầu Giấy', 'P01', 'commune'),"
    " ('C04', 'Xã Đồng Tâm', 'P01', 'commune');"
    "INSERT INTO pakn.citizen (msisdn) VALUES ('+84900000001');"
    "INSERT INTO pakn.official (unit_code, name, phone, role) VALUES"
    " ('P01', 'Lãnh đạo tỉnh', '+84911000001', 'leader');"
    "INSERT INTO pakn.api_token (official_id, token_hash) SELECT id,"
    " sha256(convert_to('" TOKEN "', 'UTF8')) FROM pakn.official;"
    "CREATE FUNCTION pg_temp.c(p_ticket text, p_cat text, p_unit text,"
    " p_at timestamptz, p_status text, p_due timestamptz) RETURNS bigint"
    " LANGUAGE plpgsql AS $$ DECLARE v bigint; cat pakn.category; BEGIN"
    " SELECT * INTO cat FROM pakn.category WHERE code = p_cat;"
    " INSERT INTO pakn.complaint (ticket, msisdn, gateway, category_code,"
    "  dimension, sensitive, location_unit, responsible_unit, status, text,"
    "  created_at, routed_at, due_at)"
    " VALUES (p_ticket, '+84900000001', 'kannel', p_cat, cat.dimension,"
    "  cat.sensitive, p_unit, p_unit, p_status, 'hối lộ ' || p_ticket,"
    "  p_at, p_at, coalesce(p_due, p_at + interval '10 days'))"
    " RETURNING id INTO v;"
    " INSERT INTO pakn.complaint_event (complaint_id, at, actor, event,"
    "  detail) VALUES (v, p_at, 'system', 'routed',"
    "  jsonb_build_object('unit', p_unit));"
    " RETURN v; END $$;"
    "CREATE FUNCTION pg_temp.a(p_ticket text, p_at timestamptz, p_on boolean,"
    " p_score integer) RETURNS void LANGUAGE sql AS $$"
    " INSERT INTO pakn.complaint_event (complaint_id, at, actor, event,"
    "  detail) SELECT id, p_at, 'official', 'answered',"
    "  jsonb_build_object('on_time', p_on) FROM pakn.complaint"
    "  WHERE ticket = p_ticket;"
    " INSERT INTO pakn.rating (complaint_id, unit_code, dimension, msisdn,"
    "  score, at) SELECT id, responsible_unit, dimension, msisdn, p_score,"
    "  p_at + interval '1 hour' FROM pakn.complaint WHERE ticket = p_ticket"
    " $$;"
    "SELECT pg_temp.c('A0', 'certification', 'C01', '2026-09-08 09:00+07',"
    " 'closed', NULL);"
    "SELECT pg_temp.a('A0', '2026-09-09 10:00+07', true, 3);"
    "SELECT pg_temp.c('A1', 'certification', 'C01', '2026-10-05 09:00+07',"
    " 'closed', NULL);"
    "SELECT pg_temp.a('A1', '2026-10-07 10:00+07', true, 5);"
    "SELECT pg_temp.c('M1', 'certification', 'C04', '2026-10-07 09:00+07',"
    " 'closed', NULL);"
    "SELECT pg_temp.a('M1', '2026-10-09 10:00+07', false, 1);"
    "SELECT pg_temp.c('K2', 'corruption', 'C03', '2026-10-02 09:00+07',"
    " 'open', now() - interval '3 days');"
    /* The province's triage desk with one complaint waiting, without a
     * place (not routed, so in no figure). */
    "INSERT INTO pakn.unit (code, name, parent_code, kind) VALUES"
    " ('P01-TN', 'Bộ phận tiếp nhận tỉnh', 'P01', 'department');"
    "UPDATE pakn.unit SET desk_unit = 'P01-TN' WHERE code = 'P01';"
    "INSERT INTO pakn.complaint (ticket, msisdn, gateway, category_code,"
    " dimension, responsible_unit, status, text, due_at, desk_reason)"
    " VALUES ('D1', '+84900000001', 'kannel', 'general', 3, 'P01-TN',"
    " 'open', 'đèn đường hỏng D1', now() + interval '10 days',"
    " 'no_place');"
    /* A survey after a service of C01: recorded on time, experienced
     * late, rated 4. */
    "INSERT INTO pakn.service_record (unit_code, procedure_code,"
    " procedure_name, msisdn, received_at, returned_at, on_time, source,"
    " considered) VALUES ('C01', '1.001', 'Chứng thực bản sao',"
    " '+84900000002', '2026-10-06 08:00+07', '2026-10-06 10:00+07', true,"
    " 'api', true);"
    "INSERT INTO pakn.survey (service_id, msisdn, state, due_at, created_at,"
    " sent_at, answered_at, satisfaction, on_time, money_asked)"
    " SELECT id, msisdn, 'answered', returned_at, returned_at, returned_at,"
    " returned_at + interval '1 hour', 4, false, false"
    " FROM pakn.service_record;";

/* Run headless Chromium on the dashboard with one extra option (the
 * output), stdout to out and its log to err; the wait status. */
static int
browse(const char *what, const char *out, const char *err)
{
	char url[256];

	snprintf(url, sizeof url,
	         "http://127.0.0.1:%d/dashboard#token=" TOKEN
	         "&period=2026-10&unit=P01",
	         harness_main()->port);
	return chromium_run(url, what, out, err);
}

START_TEST(test_dashboard_numbers)
{
	char out[PATH_MAX], err[PATH_MAX], *dom, *log;

	ck_assert_msg(chromium_path() != NULL, "chromium is not installed "
	                                       "(apt-get install chromium)");
	harness_path(out, sizeof out, "dom.html");
	harness_path(err, sizeof err, "chromium-dom.log");
	ck_assert_int_eq(browse("--dump-dom", out, err), 0);
	dom = file_read(out, NULL);
	log = file_read(err, NULL);
	/* Loaded, no error caught in the page or logged by the console. */
	assert_contains(dom, "data-loaded=\"1\"");
	assert_contains(dom, "<p id=\"errors\"></p>");
	assert_lacks(dom, "data-errors=\"1\"");
	assert_lacks(log, "Uncaught");
	assert_lacks(log, ":ERROR:CONSOLE");
	/* Totals in Vietnamese number format. */
	assert_contains(dom, "Tổng hợp: Tỉnh Thử Nghiệm, kỳ 2026-10 "
	                     "(2026-10-01 đến 2026-10-31)");
	assert_contains(dom, "<b>3</b><span>Tiếp nhận</span>");
	assert_contains(dom, "<b>50,0</b><span>Đúng hạn (%)</span>");
	assert_contains(dom, "<b>50,0</b><span>Hài lòng (%)</span>");
	assert_contains(dom, "<b>1</b><span>Đang quá hạn</span>");
	/* The chart: procedures (5) 50 % on time, target lines. */
	assert_contains(dom, "data-dim=\"5\"");
	assert_contains(dom, "Đúng hạn 99%");
	assert_contains(dom, "Hài lòng 85%");
	/* The ranking: C01 10,00 first (up 4,50 from 5,50), C04 second;
	 * C03 has no answer or rating yet. */
	assert_contains(dom, "<tr class=\"tier1\" data-unit=\"C01\"><td "
	                     "class=\"n\">1/2</td>");
	assert_contains(dom, "▲ +4,50");
	assert_contains(dom, "<tr class=\"tier3\" data-unit=\"C04\"><td "
	                     "class=\"n\">2/2</td>");
	assert_contains(dom, "Chưa xếp hạng");
	/* The overdue list: K2 of C03, its text hidden. */
	assert_contains(dom, "<td>K2</td><td>Phường Cầu Giấy</td>");
	assert_contains(dom, "(nội dung được bảo vệ)");
	assert_lacks(dom, "hối lộ K2");
	/* The triage desk's queue, shown to an official of its province. */
	assert_contains(dom, "<section id=\"desk\"><h2 id=\"desktitle\">Bộ "
	                     "phận tiếp nhận: Bộ phận tiếp nhận tỉnh (1 phản "
	                     "ánh chờ)</h2>");
	assert_contains(dom, "<tr data-ticket=\"D1\"><td>D1</td><td>Chưa rõ "
	                     "xã/phường</td>");
	assert_contains(dom, "đèn đường hỏng D1");
	/* The survey section: one procedure of C01, the gap of 100 points
	 * between the shop's record and the citizen's answer. */
	assert_contains(dom, "<td>Xã An Bình</td><td>Chứng thực bản sao</td>"
	                     "<td class=\"n\">1</td><td class=\"n\">1</td>"
	                     "<td class=\"n\">100,0</td><td class=\"n\">100,0"
	                     "</td><td class=\"n\">4,00</td><td class=\"n\">"
	                     "0,0</td><td class=\"n\">100,0</td><td "
	                     "class=\"n\">100,0</td><td class=\"n\">0,0</td>");
	free(dom);
	free(log);
}
END_TEST

START_TEST(test_dashboard_screenshot)
{
	char err[PATH_MAX], *opt;
	const char *png = PAKN_BUILDDIR "/tests/dashboard.png";
	struct stat st;

	unlink(png);
	opt = strf("--screenshot=%s", png);
	harness_path(err, sizeof err, "chromium-shot.log");
	ck_assert_int_eq(browse(opt, NULL, err), 0);
	ck_assert_msg(stat(png, &st) == 0 && st.st_size > 10000,
	              "no screenshot at %s", png);
	free(opt);
}
END_TEST

/* Start the servers, seed the data set, run the browser. */
int
main(void)
{
	struct paknd *d = harness_main();
	Suite *s = suite_create("dashboard");
	TCase *tc = tcase_create("chromium");
	SRunner *sr;
	int failed;

	if (harness_init() == -1 || pg_setup() == -1)
		return 99;
	if (paknd_start(d, "dashboard", NULL) == -1 ||
	    paknd_wait_ready(d, 10) == -1 || sql_exec_db("pakn", seed_sql) != 0)
		return EXIT_FAILURE;
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_dashboard_numbers);
	tcase_add_test(tc, test_dashboard_screenshot);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	paknd_stop(d, 10);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
