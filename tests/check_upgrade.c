/* check_upgrade.c: databases built by earlier releases (tests/fixtures:
 * the migrations of 0.1.0 and 0.2.0, as their paknctl applied them, before
 * sql/ was split into schema and function files) migrate to this build
 * and then have exactly the schema of a fresh database; an edited schema
 * file is refused; a changed function file is applied again. */

#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#ifndef PAKN_SRCDIR
#define PAKN_SRCDIR "."
#endif

/* Write a paknctl configuration for database db; its path (static).
 * No ck_ call: main() uses it before the tests. */
static const char *
conf_for(const char *db)
{
	static char path[PATH_MAX];
	char *text = paknd_config_text(1, db, 0, NULL), name[64];

	snprintf(name, sizeof name, "%s.conf", db);
	harness_path(path, sizeof path, name);
	if (file_write(path, text) != 0)
		path[0] = '\0';
	free(text);
	return path;
}

/* Run a shell command line; its exit code, its output in *out. */
static int
sh(const char *cmd, char **out)
{
	static int n;
	char path[PATH_MAX], name[32];
	char *argv[] = {"/bin/sh", "-c", (char *)cmd, NULL};
	int st;

	/* The pid too: each test runs in a child forked with the same n. */
	snprintf(name, sizeof name, "sh-%d-%d.out", (int)getpid(), n++);
	harness_path(path, sizeof path, name);
	st = harness_run(argv, path, path, 120);
	if (out != NULL)
		*out = file_read(path, NULL);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* `paknctl -c CONF migrate` on database db; exit code, output in *out. */
static int
migrate(const char *db, char **out)
{
	char *cmd = strf("'%s' -c '%s' migrate", paknctl_path(), conf_for(db));
	int rc = sh(cmd, out);

	free(cmd);
	return rc;
}

/* CREATE DATABASE db. */
static void
create_db(const char *db)
{
	char *q = strf("CREATE DATABASE %s", db);

	ck_assert_int_eq(sql_exec_db("postgres", q), 0);
	free(q);
}

/* Create database db from a fixture of tests/fixtures. */
static void
restore(const char *db, const char *fixture)
{
	create_db(db);
	ck_assert_msg(harness_restore(db, fixture) == 0, "restoring %s",
	              fixture);
}

/* A fresh database migrated by this build. */
static void
fresh(const char *db)
{
	char *out = NULL;

	create_db(db);
	ck_assert_msg(migrate(db, &out) == 0, "migrating %s: %s", db, out);
	free(out);
}

/* pg_dump of db's schema pakn (args: pg_dump options) into a file of the
 * temporary directory, times and secrets masked; the file's path. */
static char *
dump(const char *db, const char *what, const char *args)
{
	char ci[512], path[PATH_MAX], name[128], *cmd, *out = NULL;

	pg_conninfo(ci, sizeof ci, db);
	snprintf(name, sizeof name, "%s.%s.sql", db, what);
	harness_path(path, sizeof path, name);
	cmd = strf("pg_dump --no-owner --no-privileges -n pakn %s '%s' | "
	           "sed -E -e '/^\\\\(un)?restrict /d' "
	           "-e 's/[0-9]{4}-[0-9]{2}-[0-9]{2} "
	           "[0-9]{2}:[0-9]{2}:[0-9.]+[+-][0-9]{2}/TIME/g' > '%s'",
	           args, ci, path);
	ck_assert_msg(sh(cmd, &out) == 0, "pg_dump %s: %s", db, out);
	free(cmd);
	free(out);
	return strdup(path);
}

/* The two dumps are the same; else fail with their diff. */
static void
assert_same(const char *a, const char *b)
{
	char *cmd = strf("diff -u '%s' '%s' | head -n 60", a, b), *out = NULL;
	char *cmp = strf("cmp -s '%s' '%s'", a, b);

	if (sh(cmp, NULL) != 0) {
		sh(cmd, &out);
		ck_abort_msg("%s and %s differ:\n%s", a, b, out);
	}
	free(cmd);
	free(cmp);
}

/* Schema and seed data of db equal those of a fresh database. */
static void
assert_like_fresh(const char *db)
{
	static const char data_args[] =
	    "--data-only --exclude-table-data=pakn.schema_migration "
	    "--exclude-table-data=pakn.schema_function "
	    "--exclude-table-data=pakn.setting";
	char *a = dump(db, "schema", "--schema-only");
	char *b = dump("pakn_fresh", "schema", "--schema-only");
	char *c = dump(db, "data", data_args);
	char *d = dump("pakn_fresh", "data", data_args);

	assert_same(a, b);
	assert_same(c, d);
	free(a);
	free(b);
	free(c);
	free(d);
}

/* A database of release rel (fixture file) migrates to this build. */
static void
upgrade(const char *db, const char *fixture)
{
	char *out = NULL, *n;

	restore(db, fixture);
	ck_assert_msg(migrate(db, &out) == 0, "migrating %s: %s", db, out);
	/* Files applied before checksums get this build's checksum. */
	ck_assert_msg(strstr(out, "recorded the checksum of 001_schema") !=
	                  NULL,
	              "%s", out);
	free(out);
	n = sql_value_db(db,
	                 "SELECT count(*) FROM pakn.schema_migration "
	                 "WHERE checksum IS NULL",
	                 NULL);
	ck_assert_str_eq(n, "0");
	free(n);
	assert_like_fresh(db);
	/* A second run has nothing to do. */
	ck_assert_int_eq(migrate(db, &out), 0);
	ck_assert_msg(strstr(out, "0 migrations applied; 0 function files") !=
	                  NULL,
	              "%s", out);
	free(out);
}

/* 0.2.0 (migrations 001-021, functions inside them) to this build. */
START_TEST(test_upgrade_0_2_0)
{
	upgrade("pakn_v020", "pakn-0.2.0.sql.gz");
}
END_TEST

/* 0.1.0 (migrations 001-009): the later schema files apply on top. */
START_TEST(test_upgrade_0_1_0)
{
	upgrade("pakn_v010", "pakn-0.1.0.sql.gz");
}
END_TEST

/* `paknctl migrate` on db exits with rc and says a and b (b may be
 * NULL). */
static void
migrate_says(const char *db, int rc, const char *a, const char *b)
{
	char *out = NULL;

	ck_assert_int_eq(migrate(db, &out), rc);
	ck_assert_msg(strstr(out, a) != NULL, "%s", out);
	ck_assert_msg(b == NULL || strstr(out, b) != NULL, "%s", out);
	free(out);
}

/* What db records of its function files: each file, checksum and when
 * it was applied (malloc'd). */
static char *
functions_record(const char *db)
{
	return sql_value_db(db,
	                    "SELECT string_agg(file || checksum || applied_at, "
	                    "',' ORDER BY file) FROM pakn.schema_function",
	                    NULL);
}

/* A schema file that differs from the one applied is refused, by name,
 * and nothing is applied. */
START_TEST(test_edited_schema_refused)
{
	char *before, *after;

	fresh("pakn_edited");
	ck_assert_int_eq(
	    sql_exec_db("pakn_edited",
	                "UPDATE pakn.schema_migration SET checksum = "
	                "repeat('0', 64) WHERE version = 4"),
	    0);
	ck_assert_int_eq(sql_exec_db("pakn_edited",
	                             "UPDATE pakn.schema_function SET "
	                             "checksum = 'old' WHERE file = 'sms'"),
	                 0);
	before = functions_record("pakn_edited");
	migrate_says("pakn_edited", 1,
	             "sql/schema/004_complaints.sql was changed after it was "
	             "applied",
	             "put the change in a new file");
	after = functions_record("pakn_edited");
	ck_assert_str_eq(after, before);
	free(before);
	free(after);
}
END_TEST

/* A fresh database db whose pakn.render has body, and whose record of
 * the function file sms has checksum: as another build left it. */
static void
fresh_render(const char *db, const char *body, const char *checksum)
{
	char *q = strf("UPDATE pakn.schema_function SET checksum = '%s' "
	               "WHERE file = 'sms'",
	               checksum);
	char *create = strf("CREATE OR REPLACE FUNCTION pakn.render(p_code "
	                    "text, p_vars jsonb) RETURNS text LANGUAGE sql "
	                    "AS $$ SELECT %s::text $$",
	                    body);

	fresh(db);
	ck_assert_int_eq(sql_exec_db(db, create), 0);
	ck_assert_int_eq(sql_exec_db(db, q), 0);
	free(create);
	free(q);
}

/* A function file whose checksum changed is applied again (and only
 * it): an old body of one of its functions is replaced. */
START_TEST(test_changed_functions_applied)
{
	char *v, *others;

	fresh_render("pakn_funcs", "'old'", "old");
	others = sql_value_db("pakn_funcs",
	                      "SELECT string_agg(file || applied_at, ',' "
	                      "ORDER BY file) FROM pakn.schema_function "
	                      "WHERE file <> 'sms'",
	                      NULL);
	migrate_says("pakn_funcs", 0, "applied functions sms",
	             "1 function file applied");
	v = sql_value_db("pakn_funcs", "SELECT pakn.render('ack', '{}')", NULL);
	ck_assert_ptr_nonnull(v);
	ck_assert_str_ne(v, "old");
	free(v);
	v = sql_value_db("pakn_funcs",
	                 "SELECT string_agg(file || applied_at, ',' ORDER BY "
	                 "file) FROM pakn.schema_function WHERE file <> 'sms'",
	                 NULL);
	ck_assert_str_eq(v, others);
	free(v);
	free(others);
}
END_TEST

/* A database a newer build migrated (a schema file this build lacks is
 * recorded) is left as it is, its functions those of the newer build:
 * an older paknd restarted during a rolling upgrade re-applied its own
 * function files over the newer ones. */
START_TEST(test_newer_schema_left_alone)
{
	char *v, *before;

	fresh_render("pakn_newer", "'newer'", "newer");
	ck_assert_int_eq(
	    sql_exec_db("pakn_newer",
	                "INSERT INTO pakn.schema_migration (version, name, "
	                "checksum) VALUES (999, '999_newer', repeat('1', 64))"),
	    0);
	before = functions_record("pakn_newer");
	migrate_says("pakn_newer", 0,
	             "schema is at version 999, newer than this build's",
	             "0 function files applied");
	v = sql_value_db("pakn_newer", "SELECT pakn.render('ack', '{}')", NULL);
	ck_assert_str_eq(v, "newer");
	free(v);
	v = functions_record("pakn_newer");
	ck_assert_str_eq(v, before);
	free(v);
	free(before);
}
END_TEST

/* The suite. */
static Suite *
upgrade_suite(void)
{
	Suite *s = suite_create("upgrade");
	TCase *tc = tcase(s, "upgrade", 240);

	tcase_add_test(tc, test_upgrade_0_2_0);
	tcase_add_test(tc, test_upgrade_0_1_0);
	tcase_add_test(tc, test_edited_schema_refused);
	tcase_add_test(tc, test_changed_functions_applied);
	tcase_add_test(tc, test_newer_schema_left_alone);
	return s;
}

/* Start PostgreSQL and a fresh database to compare with; run. */
int
main(void)
{
	SRunner *sr;
	int failed;
	char *out = NULL;

	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "check_upgrade: cannot start PostgreSQL\n");
		return 99;
	}
	if (sql_exec_db("postgres", "CREATE DATABASE pakn_fresh") != 0 ||
	    migrate("pakn_fresh", &out) != 0) {
		fprintf(stderr, "check_upgrade: cannot migrate: %s\n",
		        out != NULL ? out : "");
		return EXIT_FAILURE;
	}
	free(out);
	sr = srunner_create(upgrade_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
