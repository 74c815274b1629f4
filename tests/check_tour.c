/* check_tour.c: the first run a newcomer makes, end to end.
 *
 * contrib/tour (what `contrib/quickstart tour` runs) plays a short month
 * against the real paknd, a fake Kannel sendsms and the sample data; the
 * tests check what it prints and what a newcomer then opens: the
 * dashboard with the printed leader's token has figures in Chromium, and
 * the commune's poster prints to one A4 page holding the short number.
 * Also: paknd -V and paknctl version.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>

#include "harness.h"

static struct {
	struct paknd *d;    /* the harness's main instance */
	struct fakegw gw;   /* the fake Kannel: its file has what was sent */
	char out[PATH_MAX]; /* what the tour printed */
} T = {.gw = {.name = "tour"}};

/* The configuration: the standard gateways' names, with a Kannel
 * sendsms (the fake one) so that replies are really sent. */
static char *
tour_config(void)
{
	char ci[512];

	pg_conninfo(ci, sizeof ci, "pakn");
	return strf("[server]\nlisten = 127.0.0.1:%d\n"
	            "[database]\nconninfo = \"%s\"\nmigrate = yes\n"
	            "[deadline]\ninterval = 3600\n"
	            "[stats]\nfold_interval = 1\n"
	            "[intake]\njournal_dir = %s/journal-tour\n"
	            "[gateway.kannel]\ntype = kannel\ntoken = tour-kannel\n"
	            "send_url = http://127.0.0.1:%d/cgi-bin/sendsms\n"
	            "username = pakn\npassword = tour\nsender = 8079\n"
	            "public_url = http://127.0.0.1:%d\nrate = 1000\n"
	            "[gateway.at]\ntype = africastalking\ntoken = tour-at\n",
	            T.d->port, ci, harness_dir(), T.gw.port, T.d->port);
}

/* Run contrib/tour against the servers; its output goes to T.out. */
static int
tour_run(void)
{
	char pid[16], url[64], psql[256], err[PATH_MAX];
	char *argv[] = {PAKN_SRCDIR "/contrib/tour", NULL};
	int status;

	snprintf(pid, sizeof pid, "%d", (int)T.d->pid);
	snprintf(url, sizeof url, "http://127.0.0.1:%d", T.d->port);
	snprintf(psql, sizeof psql,
	         "psql -X -q -h 127.0.0.1 -p %d -U pakn -d pakn", pg_port());
	setenv("PAKN_URL", url, 1);
	setenv("PAKN_CONF", T.d->conf, 1);
	setenv("PAKNCTL", paknctl_path(), 1);
	setenv("PAKND_PID", pid, 1);
	setenv("PAKN_SENT_LOG", T.gw.file, 1);
	setenv("PAKN_PSQL", psql, 1);
	harness_path(T.out, sizeof T.out, "tour.out");
	harness_path(err, sizeof err, "tour.err");
	status = harness_run(argv, T.out, err, 180);
	if (status != 0) {
		fprintf(stderr, "tour: exit status 0x%x\n", status);
		log_tail(T.out, 30);
		log_tail(err, 30);
		return -1;
	}
	return 0;
}

/* The value printed after prefix at the start of a line, malloc'd. */
static char *
printed(const char *text, const char *prefix)
{
	const char *p = text;
	size_t n;

	while (p != NULL && strncmp(p, prefix, strlen(prefix)) != 0)
		p = (p = strchr(p, '\n')) != NULL ? p + 1 : NULL;
	ck_assert_msg(p != NULL, "the tour did not print \"%s\"", prefix);
	p += strlen(prefix);
	n = strcspn(p, "\n");
	return strndup(p, n);
}

/* The tour's report: five tickets, each with its place; the SMS a real
 * citizen would have received; the links to look further. */
START_TEST(test_tour_prints)
{
	char *text = file_read(T.out, NULL), *tickets, *tok;
	int n = 0;

	ck_assert_ptr_nonnull(text);
	tickets = printed(text, "tickets: ");
	for (tok = strtok(tickets, " "); tok != NULL; tok = strtok(NULL, " ")) {
		ck_assert_int_eq(strlen(tok), 7);
		ck_assert_ptr_nonnull(strstr(text, tok));
		n++;
	}
	ck_assert_int_eq(n, 5);
	/* The bribe went to the inspectorate, the late one apologised, the
	 * USSD rating thanked, the answers relayed. */
	ck_assert_ptr_nonnull(strstr(text, "Thanh tra Thành phố Hà Nội"));
	ck_assert_ptr_nonnull(strstr(text, "Xin loi ban: phan anh"));
	ck_assert_ptr_nonnull(strstr(text, "END Cam on ban da danh gia: 4/5."));
	ck_assert_ptr_nonnull(strstr(text, "Tra loi phan anh"));
	ck_assert_ptr_nonnull(strstr(text, "dashboard: http://127.0.0.1:"));
	ck_assert_ptr_nonnull(strstr(text, "poster:    http://127.0.0.1:"));
	/* Everything the tour queued was sent to the gateway. */
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.outbox "
	                       "WHERE state NOT IN ('sent', 'delivered')",
	                       NULL),
	                 0);
	free(tickets);
	free(text);
}
END_TEST

/* The dashboard link the tour printed opens on figures, not an empty
 * page: the leader's token from the fragment, this month's totals. */
START_TEST(test_tour_dashboard)
{
	char *text = file_read(T.out, NULL), *url, out[PATH_MAX], err[PATH_MAX];
	char *dom;

	ck_assert_msg(chromium_path() != NULL, "chromium is not installed");
	url = printed(text, "dashboard: ");
	harness_path(out, sizeof out, "tour-dom.html");
	harness_path(err, sizeof err, "tour-chromium.log");
	ck_assert_int_eq(chromium_run(url, "--dump-dom", out, err), 0);
	dom = file_read(out, NULL);
	ck_assert_ptr_nonnull(dom);
	ck_assert_msg(strstr(dom, "data-loaded=\"1\"") != NULL,
	              "the dashboard did not load");
	ck_assert_msg(strstr(dom, "Tổng hợp: Thành phố Hà Nội") != NULL,
	              "no totals for Hà Nội");
	/* Six complaints received this month (five by SMS, one by USSD is a
	 * rating, not a complaint: five), the tour's ones at least. */
	ck_assert_msg(strstr(dom, "<b>0</b><span>Tiếp nhận</span>") == NULL,
	              "the dashboard shows nothing received");
	ck_assert_ptr_nonnull(strstr(dom, "<span>Tiếp nhận</span>"));
	free(dom);
	free(url);
	free(text);
}
END_TEST

/* The poster prints to one A4 page that holds the short number and the
 * commune's code; paknctl writes the same page. */
START_TEST(test_poster_one_page)
{
	char url[128], pdf[PATH_MAX], opt[PATH_MAX + 32], txt[PATH_MAX];
	char info[PATH_MAX], err[PATH_MAX], out[PATH_MAX], *s;
	char *pdfinfo[] = {"/usr/bin/pdfinfo", pdf, NULL};
	char *pdftotext[] = {"/usr/bin/pdftotext", pdf, txt, NULL};
	char *poster[] = {
	    (char *)paknctl_path(), "-c", T.d->conf, "poster", "00004", NULL};
	struct http_resp r;

	snprintf(url, sizeof url, "http://127.0.0.1:%d/poster/00004",
	         T.d->port);
	ck_assert_int_eq(http_get(T.d->port, "/poster/00004", &r), 200);
	ck_assert_ptr_nonnull(strstr(r.body, "8079"));
	harness_path(out, sizeof out, "poster.html");
	ck_assert_int_eq(harness_run(poster, out, NULL, 30), 0);
	s = file_read(out, NULL);
	ck_assert_str_eq(s, r.body);
	free(s);
	http_resp_free(&r);
	ck_assert_int_eq(http_get(T.d->port, "/poster/99999", &r), 404);
	http_resp_free(&r);

	harness_path(pdf, sizeof pdf, "poster.pdf");
	snprintf(opt, sizeof opt, "--print-to-pdf=%s", pdf);
	harness_path(err, sizeof err, "poster-chromium.log");
	ck_assert_int_eq(chromium_run(url, opt, NULL, err), 0);
	harness_path(info, sizeof info, "poster.info");
	ck_assert_int_eq(harness_run(pdfinfo, info, NULL, 30), 0);
	s = file_read(info, NULL);
	ck_assert_msg(strstr(s, "\nPages:           1\n") != NULL,
	              "the poster is not one page:\n%s", s);
	free(s);
	harness_path(txt, sizeof txt, "poster.txt");
	ck_assert_int_eq(harness_run(pdftotext, NULL, NULL, 30), 0);
	s = file_read(txt, NULL);
	ck_assert_ptr_nonnull(strstr(s, "8079"));
	ck_assert_ptr_nonnull(strstr(s, "#00004"));
	ck_assert_ptr_nonnull(strstr(s, "*8079#"));
	ck_assert_ptr_nonnull(strstr(s, "Phường Ba Đình"));
	free(s);
}
END_TEST

/* paknd -V and paknctl version say the version and the schema. */
START_TEST(test_versions)
{
	char out[PATH_MAX], *s, *want;
	char *v1[] = {(char *)paknd_path(), "-V", NULL};
	char *v2[] = {(char *)paknctl_path(), "version", NULL};
	char *max =
	    qval("SELECT max(version) FROM pakn.schema_migration", NULL);

	want = strf("(schema version %s)\n", max);
	free(max);
	harness_path(out, sizeof out, "version.out");
	ck_assert_int_eq(harness_run(v1, out, NULL, 10), 0);
	s = file_read(out, NULL);
	ck_assert_msg(strncmp(s, "paknd " PACKAGE_VERSION " ", 7) == 0 &&
	                  strstr(s, want) != NULL,
	              "%s", s);
	free(s);
	ck_assert_int_eq(harness_run(v2, out, NULL, 10), 0);
	s = file_read(out, NULL);
	ck_assert_msg(strstr(s, want) != NULL, "%s", s);
	free(s);
	free(want);
}
END_TEST

/* The suite. */
static Suite *
tour_suite(void)
{
	Suite *s = suite_create("tour");
	TCase *tc = tcase(s, "tour", 180);

	tcase_add_test(tc, test_tour_prints);
	tcase_add_test(tc, test_tour_dashboard);
	tcase_add_test(tc, test_poster_one_page);
	tcase_add_test(tc, test_versions);
	return s;
}

int
main(void)
{
	SRunner *sr;
	char *conf;
	int failed;

	T.d = harness_main();
	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "tour: cannot start PostgreSQL\n");
		return 99;
	}
	if (fakegw_start(&T.gw) == -1 ||
	    paknd_config(T.d, "tour", "pakn", 1, NULL) == -1) {
		fprintf(stderr, "tour: cannot start the fake gateway\n");
		return EXIT_FAILURE;
	}
	conf = tour_config();
	file_write(T.d->conf, conf);
	free(conf);
	if (paknd_spawn(T.d) == -1 || paknd_wait_ready(T.d, 10) == -1 ||
	    harness_import_samples(T.d->conf, 1) == -1 || tour_run() == -1)
		return EXIT_FAILURE;
	sr = srunner_create(tour_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (paknd_finish(T.d, "tour-kannel", "password=tour", NULL) == -1)
		failed++;
	kill(T.gw.pid, SIGTERM);
	waitpid(T.gw.pid, NULL, 0);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
