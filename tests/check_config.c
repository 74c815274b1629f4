/* check_config.c: the paknd.conf parser and its key table. */

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "util.h"

static const char *good = "# a comment\n"
                          "; another\n"
                          "[server]\n"
                          "listen = 0.0.0.0:9090\n"
                          "max_body_size = 1024\n"
                          "\n"
                          "[database]\n"
                          "conninfo = \"host=127.0.0.1 port=5 dbname=pakn\"\n"
                          "pool_size = 2\n"
                          "migrate = yes\n"
                          "[gateway.kannel]\n"
                          "type = kannel\n"
                          "token = s3cret\n"
                          "[gateway.tw-1]\n"
                          "type = twilio\n"
                          "auth_token = 12345\n"
                          "public_url = https://pakn.example.vn\n"
                          "[gateway.at]\n"
                          "  type=africastalking  \n"
                          "token=t\n"
                          "api_key = k\n";

/* Every key given is stored; every other key has its default. */
START_TEST(test_good)
{
	char *cause = NULL;
	struct config *c = config_parse("t.conf", good, &cause);
	const struct gw_conf *gw;

	ck_assert_msg(c != NULL, "%s", cause);
	ck_assert_str_eq(c->listen, "0.0.0.0:9090");
	ck_assert_int_eq(c->max_body_size, 1024);
	ck_assert_int_eq(c->max_header_size, 8192);
	ck_assert_int_eq(c->timeout, 30);
	ck_assert_str_eq(c->conninfo, "host=127.0.0.1 port=5 dbname=pakn");
	ck_assert_int_eq(c->pool_size, 2);
	ck_assert_int_eq(c->migrate, 1);
	ck_assert_int_eq(c->batch_size, 256);
	ck_assert_uint_eq(c->ngateways, 3);
	gw = config_gateway(c, "kannel");
	ck_assert_ptr_nonnull(gw);
	ck_assert_int_eq(gw->type, GW_KANNEL);
	ck_assert_str_eq(gw->token, "s3cret");
	ck_assert_str_eq(gw->send_url, "");
	gw = config_gateway(c, "tw-1");
	ck_assert_int_eq(gw->type, GW_TWILIO);
	ck_assert_str_eq(gw->public_url, "https://pakn.example.vn");
	gw = config_gateway(c, "at");
	ck_assert_int_eq(gw->type, GW_AT);
	ck_assert_str_eq(gw->api_key, "k");
	ck_assert_ptr_null(config_gateway(c, "nope"));
	config_unref(c);
}
END_TEST

/* An empty file gives the defaults and no gateway. */
START_TEST(test_defaults)
{
	char *cause = NULL;
	struct config *c = config_parse("empty", "", &cause);
	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(c->listen, "127.0.0.1:8080");
	ck_assert_str_eq(c->conninfo, "dbname=pakn");
	ck_assert_int_eq(c->pool_size, 4);
	ck_assert_int_eq(c->migrate, 0);
	ck_assert_int_eq(c->query_timeout, 5);
	ck_assert_uint_eq(c->ngateways, 0);
	ck_assert_str_eq(c->journal_dir, ""); /* none unless configured */
	ck_assert_int_eq(c->journal_max, 1LL << 30);
	config_unref(c);
}
END_TEST

/* [intake] journal_max takes a size with a K, M, G or T suffix. */
START_TEST(test_sizes)
{
	static const struct {
		const char *v;
		long long want;
	} sizes[] = {{"1048576", 1 << 20},
	             {"2048K", 2 << 20},
	             {"512M", 512LL << 20},
	             {"3G", 3LL << 30},
	             {"2T", 2LL << 40}};
	char *text, *cause = NULL;
	struct config *c;

	for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
		text = xasprintf("[intake]\njournal_dir = /srv/j\n"
		                 "journal_max = %s\n",
		                 sizes[i].v);
		c = config_parse("t.conf", text, &cause);
		ck_assert_msg(c != NULL, "%s: %s", sizes[i].v, cause);
		ck_assert_int_eq(c->journal_max, sizes[i].want);
		ck_assert_str_eq(c->journal_dir, "/srv/j");
		config_unref(c);
		free(text);
	}
}
END_TEST

/* Bad files are refused with the file, the line and the reason. */
static const struct {
	const char *text;
	const char *cause;
} bad[] = {
    {"[server]\nlisten = x\n", "listen must be address:port"},
    {"[server]\nbogus = 1\n", "t.conf:2: unknown key bogus in [server]"},
    {"[nowhere]\n", "t.conf:1: unknown section [nowhere]"},
    {"listen = 1.2.3.4:5\n", "t.conf:1: listen outside a section"},
    {"[server]\nmax_body_size = 12k\n", "t.conf:2: max_body_size must be"},
    {"[server]\ntimeout = 0\n", "t.conf:2: timeout must be a number"},
    {"[database]\nmigrate = perhaps\n", "t.conf:2: migrate must be yes or no"},
    {"[server\n", "t.conf:1: bad section header"},
    {"[server]\njust words\n", "t.conf:2: expected key = value"},
    {"[intake]\njournal_max = 1X\n", "t.conf:2: journal_max must be a size"},
    {"[intake]\njournal_max = 1K\n", "journal_max must be a size"},
    {"[intake]\njournal_max = G\n", "journal_max must be a size"},
    {"[intake]\njournal_max = -5M\n", "journal_max must be a size"},
    {"[intake]\njournal_max = 99999999999T\n", "journal_max must be a size"},
    {"[gateway.a b]\n", "t.conf:1: gateway name \"a b\""},
    {"[gateway.x]\ntype = kannel\ntoken = a\n[gateway.x]\n",
     "t.conf:4: gateway x defined twice"},
    {"[gateway.x]\ntype = smpp\n", "t.conf:2: type must be kannel"},
    {"[gateway.x]\ntoken = a\n", "[gateway.x] needs a type"},
    {"[gateway.x]\ntype = kannel\n", "[gateway.x] needs a token"},
    {"[gateway.x]\ntype = africastalking\n", "[gateway.x] needs a token"},
    {"[gateway.x]\ntype = twilio\nauth_token = a\n",
     "twilio needs auth_token and public_url"},
};

START_TEST(test_bad)
{
	char *cause = NULL;
	struct config *c = config_parse("t.conf", bad[_i].text, &cause);
	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(cause);
	ck_assert_msg(strstr(cause, bad[_i].cause) != NULL,
	              "case %d: got \"%s\", want \"%s\"", _i, cause,
	              bad[_i].cause);
	free(cause);
}
END_TEST

/* The shipped sample is valid and shows every key with its default. */
START_TEST(test_sample)
{
	char *cause = NULL,
	     *path = xasprintf("%s/config/paknd.conf.sample", PAKN_SRCDIR);
	struct config *c = config_load(path, &cause);
	char line[512];
	FILE *defaults, *sample;
	size_t n = 0;

	ck_assert_msg(c != NULL, "%s", cause);
	ck_assert_uint_eq(c->ngateways, 3);
	config_unref(c);
	/* Each "key = default" line printed by the key table is in it. */
	defaults = tmpfile();
	ck_assert_ptr_nonnull(defaults);
	fflush(stdout);
	{
		FILE *saved = stdout;
		stdout = defaults;
		config_print_defaults();
		stdout = saved;
	}
	rewind(defaults);
	while (fgets(line, sizeof line, defaults) != NULL) {
		char want[512], have[512];
		int found = 0;
		if (line[0] == '#' || line[0] == '[' || line[0] == '\n')
			continue;
		snprintf(want, sizeof want, "%s", line);
		sample = fopen(path, "r");
		ck_assert_ptr_nonnull(sample);
		while (!found && fgets(have, sizeof have, sample) != NULL)
			found = !strcmp(have, want) ||
			        (strstr(want, "gateway") == NULL &&
			         !strncmp(have, want, strcspn(want, "=") + 1));
		fclose(sample);
		ck_assert_msg(found, "sample lacks: %s", want);
		n++;
	}
	fclose(defaults);
	ck_assert_uint_ge(n, 20);
	free(path);
}
END_TEST

/* References keep a configuration alive across a reload. */
START_TEST(test_refcount)
{
	struct config *c = config_parse("r",
	                                "[gateway.k]\ntype=kannel\n"
	                                "token=x\n",
	                                NULL);
	ck_assert_ptr_nonnull(c);
	config_ref(c);
	config_unref(c);
	ck_assert_str_eq(config_gateway(c, "k")->token, "x");
	config_unref(c);
}
END_TEST

/* A missing file says so. */
START_TEST(test_missing_file)
{
	char *cause = NULL;
	ck_assert_ptr_null(config_load("/nonexistent/paknd.conf", &cause));
	ck_assert_str_eq(cause,
	                 "/nonexistent/paknd.conf: No such file or directory");
	free(cause);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("parse");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_sizes);
	tcase_add_loop_test(tc, test_bad, 0, (int)(sizeof bad / sizeof *bad));
	tcase_add_test(tc, test_sample);
	tcase_add_test(tc, test_refcount);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
