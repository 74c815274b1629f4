/*
 * check_senders.c: honest senders and the scope of officials' actions,
 * end to end. The real paknd against a real PostgreSQL, with the sample
 * units, routing and officials (paknctl import-*) plus a few officials of
 * Hồ Chí Minh City; its gateway "kgw" sends to a fake Kannel
 * (tests/fakegw), whose file shows every SMS that really left.
 *
 * - Senders that are our own numbers or impossible are stored, flagged,
 *   answered 200 and never replied to; the outbox never sends to them.
 * - A transfer to another province waits for a leader of that province,
 *   who accepts (the complaint moves) or refuses (the official is told).
 * - Notices of a unit with nobody who can act fall back to its leaders,
 *   then up the tree; paknctl check-routing lists such units.
 *
 * Check forks every test; each uses its own phone numbers and complaints,
 * so they share the servers.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"
#include "kgw.h"

#ifndef PAKN_SRCDIR
#define PAKN_SRCDIR "."
#endif

#define SHORTCODE "8079"
#define SENDER    "1022" /* [gateway.kgw] sender */
#define WAIT      10.0

/* Officials: the samples (Hà Nội) and those seeded here. */
#define OFFICER4   "+84901000004" /* officer of 00004, Hà Nội */
#define LEADER01   "+84901000001" /* leader of 01, Hà Nội */
#define OFFICER01  "+84901000011" /* officer of 01 (seeded) */
#define LEADER79   "+84901079001" /* leader of 79, Hồ Chí Minh City */
#define OFFICER734 "+84901026734" /* officer of 26740 */
#define LEADER97   "+84901000097" /* the only official of 00097 */
#define T_OFFICER4 "tok-officer-00004"
#define T_LEADER01 "tok-leader-01"
#define T_LEADER79 "tok-leader-79"
#define T_OFF734   "tok-officer-26734"
#define T_LEADER97 "tok-leader-00097"

static const char *seed_sql[] = {
    "INSERT INTO pakn.unit (code, name, parent_code, kind) VALUES"
    " ('00097', 'Phường Thử Nghiệm', '01', 'commune'),"
    " ('00098', 'Phường Chỉ Quản Trị', '01', 'commune')",
    "INSERT INTO pakn.official (unit_code, name, phone, role) VALUES"
    " ('79', 'Lãnh đạo Thành phố HCM', '" LEADER79 "', 'leader'),"
    " ('26740', 'Cán bộ Sài Gòn', '" OFFICER734 "', 'officer'),"
    " ('01', 'Cán bộ Thành phố', '" OFFICER01 "', 'officer'),"
    " ('00097', 'Lãnh đạo Thử Nghiệm', '" LEADER97 "', 'leader'),"
    " ('00098', 'Quản trị', '+84901000098', 'admin')",
    "INSERT INTO pakn.api_token (official_id, token_hash)"
    " SELECT o.id, sha256(convert_to(t.token, 'UTF8'))"
    " FROM (VALUES ('" OFFICER4 "', '" T_OFFICER4 "'),"
    " ('" LEADER01 "', '" T_LEADER01 "'), ('" LEADER79 "', '" T_LEADER79
    "'), ('" OFFICER734 "', '" T_OFF734 "'), ('" LEADER97 "', '" T_LEADER97
    "')) t (phone, token) JOIN pakn.official o ON o.phone = t.phone",
    NULL};

static struct paknd *D;
static struct fakegw G = {.name = "senders"}; /* the fake Kannel */

/* How many SMS the fake gateway received for number. */
static int
fg_count(const char *number)
{
	return fakegw_count(G.file, number);
}

/* Wait until the fake gateway has received at least want SMS for number;
 * returns how many it has. */
static int
fg_wait(const char *number, int want)
{
	return fakegw_wait(G.file, number, want, WAIT);
}

/* How many SMS of a kind were queued for a phone about a ticket. */
static long
queued(const char *ticket, const char *phone, const char *kind)
{
	return qlong("SELECT count(*) FROM pakn.outbox o JOIN pakn.complaint c "
	             "ON c.id = o.complaint_id WHERE c.ticket = $1 AND "
	             "o.msisdn = $2 AND o.kind = $3",
	             ticket, phone, kind, NULL);
}

/* Our own numbers and impossible ones: stored flagged, answered 200, no
 * reply queued or sent, an info line in the log. */
START_TEST(test_bad_senders)
{
	static const struct {
		const char *from, *to, *stored, *flag;
	} cases[] = {
	    {SHORTCODE, SHORTCODE, SHORTCODE, "own_number"},
	    {SENDER, SHORTCODE, SENDER, "own_number"},
	    {"+842830009999", SHORTCODE, "+842830009999", "own_number"},
	    {"+000123456789", SHORTCODE, "+000123456789", "bad_country_code"},
	    {"+840912345678", SHORTCODE, "+840912345678", "vn_doubled_prefix"},
	    {"+84912345678901234", SHORTCODE, "+84912345678901234", "too_long"},
	    {"+8491234", SHORTCODE, "+8491234", "too_short"},
	    {"0912345", SHORTCODE, "+84912345", "too_short"},
	    {"01681234567", SHORTCODE, "+841681234567", "vn_unallocated"},
	    {"12", SHORTCODE, "12", "too_short"},
	};
	size_t from = file_size(D->log), i;
	char id[64], want[96], *log;

	/* A message to +84283000999 makes it one of our numbers. */
	snprintf(id, sizeof id, "own-%d", (int)getpid());
	ck_assert_int_eq(sms_to("+84913000009", "+842830009999", "HD", id),
	                 200);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(id, sizeof id, "bad-%d-%zu", (int)getpid(), i);
		ck_assert_int_eq(sms_to(cases[i].from, cases[i].to,
		                        "PA đường hỏng #00004", id),
		                 200);
		snprintf(want, sizeof want, "%s %s", cases[i].stored,
		         cases[i].flag);
		assert_value(
		    qval("SELECT msisdn || ' ' || coalesce(sender_flag,"
		         " 'none') FROM pakn.inbound_message WHERE "
		         "gateway = 'kgw' AND gateway_msg_id = $1",
		         id, NULL),
		    want);
		ck_assert_int_eq(
		    qlong("SELECT count(*) FROM pakn.outbox o JOIN "
		          "pakn.inbound_message m ON m.id = "
		          "o.inbound_id WHERE m.gateway_msg_id = $1",
		          id, NULL),
		    0);
		ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.complaint "
		                       "WHERE msisdn = $1",
		                       cases[i].stored, NULL),
		                 0);
		/* The same callback again: stored once, still no reply. */
		ck_assert_int_eq(sms_to(cases[i].from, cases[i].to, "PA x", id),
		                 200);
	}
	ck_assert_int_eq(
	    log_wait(D->log, from, "flagged sender (too_short", WAIT), 0);
	log = log_grep(D->log, from, "flagged sender (own_number");
	assert_contains(log, "[info]");
	free(log);
	/* Nothing reached the gateway for any of them. */
	sleep_ms(500);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_int_eq(fg_count(cases[i].stored), 0);
}
END_TEST

/* Good senders in every form still get their ack, sent. */
START_TEST(test_good_senders)
{
	static const struct {
		const char *from, *stored;
	} cases[] = {
	    {"+84913000001", "+84913000001"},
	    {"0913000002", "+84913000002"},
	    {"84913000003", "+84913000003"},
	    {"+12349013030", "+12349013030"},
	    {"+842438251234", "+842438251234"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *t = complaint_as(cases[i].from, cases[i].stored,
		                       "PA đường hỏng #00004");

		ck_assert_int_eq(queued(t, cases[i].stored, "ack"), 1);
		ck_assert_int_eq(qlong("SELECT count(*) FROM "
		                       "pakn.inbound_message WHERE msisdn = $1 "
		                       "AND sender_flag IS NOT NULL",
		                       cases[i].stored, NULL),
		                 0);
		ck_assert_int_eq(fg_wait(cases[i].stored, 1), 1);
		free(t);
	}
}
END_TEST

/* Wait until an outbox row leaves queued/sending; returns its state. */
static char *
outbox_final(long id)
{
	char ids[24], *st = NULL;
	double end = now_secs() + WAIT;

	snprintf(ids, sizeof ids, "%ld", id);
	do {
		free(st);
		st =
		    qval("SELECT state || ' ' || coalesce(last_error, '') FROM "
		         "pakn.outbox WHERE id = $1::bigint",
		         ids, NULL);
		if (st != NULL && strncmp(st, "queued", 6) != 0 &&
		    strncmp(st, "sending", 7) != 0)
			break;
		sleep_ms(50);
	} while (now_secs() < end);
	return st;
}

/* Queue an SMS by SQL, as the SQL functions do; returns its id. */
static long
enqueue(const char *msisdn)
{
	return qlong("INSERT INTO pakn.outbox (gateway, msisdn, body, kind) "
	             "VALUES ('kgw', $1, 'Thử', 'test') RETURNING id",
	             msisdn, NULL);
}

/* The outbox never sends to a flagged sender, one of our numbers or an
 * impossible number; a good number still gets its SMS. */
START_TEST(test_outbox_refuses)
{
	static const struct {
		const char *to, *flag;
	} cases[] = {
	    {"+840912345670", "vn_doubled_prefix"},
	    {SHORTCODE, "own_number"},
	    {SENDER, "own_number"},
	    {"+84301234567", "vn_unallocated"},
	    {"+000987654321", "bad_country_code"},
	};
	size_t from = file_size(D->log), i;
	char *st, id[64], *ps, *needle;
	long good;

	snprintf(id, sizeof id, "flag-%d", (int)getpid());
	ck_assert_int_eq(sms_to("+840912345670", SHORTCODE, "TT X", id), 200);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		st = outbox_final(enqueue(cases[i].to));
		ck_assert_msg(st != NULL &&
		                  !strncmp(st, "failed refused: ", 16) &&
		                  strstr(st, cases[i].flag) != NULL,
		              "to %s: %s, want refused (%s)", cases[i].to, st,
		              cases[i].flag);
		free(st);
	}
	good = enqueue("+84913000020");
	st = outbox_final(good);
	ck_assert_msg(st != NULL && strncmp(st, "sent", 4) == 0, "%s", st);
	free(st);
	ck_assert_int_eq(fg_wait("+84913000020", 1), 1);
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_int_eq(fg_count(cases[i].to), 0);
	/* The log names the number by the pseudonym officials see. */
	ps = qval("SELECT pakn.api_pseudonym('+84301234567')", NULL);
	needle = strf("not sent to %s", ps);
	ck_assert_int_eq(log_wait(D->log, from, needle, WAIT), 0);
	ck_assert_ptr_null(log_grep(D->log, from, "not sent to +8430"));
	free(needle);
	free(ps);
}
END_TEST

/* One trigger (schema 027) decides what the three before it did, in
 * their order: a ban is named before a flag; a row queued already failed
 * or sent is left as it is; an Open311 report's "phone" gets no row. */
START_TEST(test_outbox_refuse_order)
{
	char *st;

	/* Flagged (the doubled prefix) and banned: the ban is the reason. */
	ck_assert_int_eq(sms_to("+840912345671", SHORTCODE, "TT X", "refuse-1"),
	                 200);
	ck_assert_int_eq(
	    qlong("INSERT INTO pakn.ban (msisdn, reason, banned_by) "
	          "VALUES ('+840912345671', 'spam', 'test') "
	          "RETURNING 1",
	          NULL),
	    1);
	st = outbox_final(enqueue("+840912345671"));
	ck_assert_str_eq(st, "failed refused: the number is banned");
	free(st);
	/* Flagged only: the flag is named. */
	st = outbox_final(enqueue("+840912345670"));
	ck_assert_str_eq(st, "failed refused: the number is flagged "
	                     "(vn_doubled_prefix)");
	free(st);
	/* Not queued: not touched (a copy kept for the record). */
	st =
	    qval("INSERT INTO pakn.outbox (gateway, msisdn, body, kind, state, "
	         "last_error) VALUES ('kgw', '+840912345671', 'Thử', 'test', "
	         "'failed', 'kept') RETURNING state || ' ' || last_error",
	         NULL);
	ck_assert_str_eq(st, "failed kept");
	free(st);
	/* An Open311 report has no phone: nothing is queued for it. */
	ck_assert_int_eq(qlong("WITH i AS (INSERT INTO pakn.outbox (gateway, "
	                       "msisdn, body, kind) VALUES ('kgw', "
	                       "'open311:abc', 'Thử', 'test') RETURNING 1) "
	                       "SELECT count(*) FROM i",
	                       NULL),
	                 0);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.outbox "
	                       "WHERE msisdn = 'open311:abc'",
	                       NULL),
	                 0);
}
END_TEST

/* By the API: a transfer to another province waits; the leader of the
 * receiving province sees it and accepts; the complaint moves with its
 * deadline, every step in the ledger. */
START_TEST(test_transfer_api_accepted)
{
	char *t = complaint("+84913000101", "PA đường hỏng ngõ 5 #00004");
	char *due = qval("SELECT due_at::text FROM pakn.complaint WHERE "
	                 "ticket = $1",
	                 t, NULL);
	json_t *j;

	j = api_act(t, "transfer", T_OFFICER4,
	            "{\"unit\": \"26740\", \"reason\": \"thuộc TP HCM\"}", 202);
	ck_assert_str_eq(jstr2(j, "transfer_request", "state"), "pending");
	ck_assert_str_eq(jstr2(j, "responsible_unit", "code"), "00004");
	json_decref(j);
	assert_value(ticket_unit(t), "00004");
	ck_assert_int_eq(queued(t, LEADER79, "transfer_requested"), 1);
	ck_assert_int_eq(fg_wait(LEADER79, 1), 1);
	/* Asked twice: a conflict. */
	json_decref(api_act(t, "transfer", T_OFFICER4,
	                    "{\"unit\": \"26737\", \"reason\": \"x\"}", 409));
	/* The receiving leader sees it; others cannot decide it. */
	j = api_call("GET", "/v1/transfers", T_LEADER79, NULL, 200);
	ck_assert_str_eq(
	    jstr2(json_array_get(json_object_get(j, "incoming"), 0), "ticket",
	          NULL),
	    t);
	json_decref(j);
	j = api_call("GET", "/v1/transfers", T_OFFICER4, NULL, 200);
	ck_assert_str_eq(
	    jstr2(json_array_get(json_object_get(j, "outgoing"), 0), "ticket",
	          NULL),
	    t);
	json_decref(j);
	json_decref(api_act(t, "accept_transfer", T_OFF734, "{}", 404));
	json_decref(api_act(t, "accept_transfer", T_LEADER01, "{}", 404));
	j = api_act(t, "accept_transfer", T_LEADER79, "{\"reason\": \"đúng\"}",
	            200);
	ck_assert_str_eq(jstr2(j, "transfer_request", "state"), "accepted");
	ck_assert_str_eq(jstr2(j, "responsible_unit", "code"), "26740");
	json_decref(j);
	assert_value(ticket_unit(t), "26740");
	assert_value(qval("SELECT due_at::text FROM pakn.complaint WHERE "
	                  "ticket = $1",
	                  t, NULL),
	             due);
	assert_value(ticket_ledger(t),
	             "transfer_requested:" OFFICER4 ":thuộc TP HCM, "
	             "transfer_accepted:" LEADER79 ":đúng, "
	             "transferred:" OFFICER4 ":thuộc TP HCM");
	assert_value(qval("SELECT detail->>'from' || '>' || (detail->>'to') "
	                  "FROM pakn.complaint_event e JOIN pakn.complaint c "
	                  "ON c.id = e.complaint_id WHERE c.ticket = $1 AND "
	                  "e.event = 'transferred'",
	                  t, NULL),
	             "00004>26740");
	ck_assert_int_eq(queued(t, OFFICER4, "transfer_accepted"), 1);
	ck_assert_int_eq(queued(t, OFFICER734, "new_complaint"), 1);
	ck_assert_int_eq(queued(t, "+84913000101", "transferred"), 1);
	ck_assert_int_eq(fg_wait(OFFICER734, 1), 1);
	free(due);
	free(t);
}
END_TEST

/* By SMS: CT to another province waits; the leader refuses with a
 * reason, the complaint stays and the official is told. */
START_TEST(test_transfer_sms_refused)
{
	char *t = complaint("+84913000102", "PA đường hỏng ngõ 7 #00004");
	char *cmd = strf("CT %s 26737 không thuộc Hà Nội", t), *body;
	json_t *j;

	sms(OFFICER4, cmd);
	ck_assert_int_eq(queued(t, OFFICER4, "transfer_pending"), 1);
	ck_assert_int_eq(queued(t, OFFICER4, "official_transferred"), 0);
	ck_assert_int_eq(queued(t, LEADER79, "transfer_requested"), 1);
	assert_value(ticket_unit(t), "00004");
	json_decref(api_act(t, "refuse_transfer", T_LEADER79, "{}", 400));
	j = api_act(t, "refuse_transfer", T_LEADER79,
	            "{\"reason\": \"phường Tân Định không quản lý\"}", 200);
	ck_assert_str_eq(jstr2(j, "transfer_request", "state"), "refused");
	json_decref(j);
	assert_value(ticket_unit(t), "00004");
	assert_value(ticket_ledger(t),
	             "transfer_requested:" OFFICER4 ":không thuộc Hà Nội, "
	             "transfer_refused:" LEADER79
	             ":phường Tân Định không quản lý");
	body = qval("SELECT o.body FROM pakn.outbox o JOIN pakn.complaint c ON "
	            "c.id = o.complaint_id WHERE c.ticket = $1 AND o.msisdn = "
	            "$2 AND o.kind = 'transfer_refused'",
	            t, OFFICER4, NULL);
	assert_contains(body, "phường Tân Định không quản lý");
	free(body);
	/* Nothing more to decide; the official can still act on it. */
	json_decref(api_act(t, "accept_transfer", T_LEADER79, "{}", 404));
	ck_assert_int_eq(fg_wait(OFFICER4, 1) >= 1, 1);
	free(cmd);
	free(t);
}
END_TEST

/* Within the province a transfer needs nobody's consent, by API or SMS. */
START_TEST(test_transfer_in_province)
{
	char *a = complaint("+84913000103", "PA đường hỏng ngõ 9 #00004");
	char *b = complaint("+84913000104", "PA đường hỏng ngõ 11 #00004");
	char *cmd = strf("CT %s 00070 thuộc Hoàn Kiếm", b);
	json_t *j;

	j = api_act(a, "transfer", T_OFFICER4,
	            "{\"unit\": \"00008\", \"reason\": \"thuộc Ngọc Hà\"}",
	            200);
	ck_assert_str_eq(jstr2(j, "responsible_unit", "code"), "00008");
	json_decref(j);
	assert_value(ticket_ledger(a),
	             "transferred:" OFFICER4 ":thuộc Ngọc Hà");
	sms(OFFICER4, cmd);
	assert_value(ticket_unit(b), "00070");
	ck_assert_int_eq(queued(b, OFFICER4, "official_transferred"), 1);
	ck_assert_int_eq(qlong("SELECT count(*) FROM pakn.transfer_request r "
	                       "JOIN pakn.complaint c ON c.id = r.complaint_id"
	                       " WHERE c.ticket IN ($1, $2)",
	                       a, b, NULL),
	                 0);
	free(cmd);
	free(a);
	free(b);
}
END_TEST

/* A unit with nobody who can act: the notice goes up to the parent's
 * officials and leaders (and reaches them through the gateway). */
START_TEST(test_fallback_parent)
{
	/* 00082 has no official and no phone; 00098 only an admin;
	 * primary_school in Hà Nội goes to 01-SGD, which has nobody. */
	static const char *texts[] = {
	    "PA đường hỏng #00082",
	    "PA đường hỏng #00098",
	    "PA giáo viên đánh học sinh #00004",
	};

	for (size_t i = 0; i < 3; i++) {
		char *citizen = strf("+8491300020%zu", i);
		char *t = complaint(citizen, texts[i]);

		ck_assert_int_eq(queued(t, LEADER01, "new_complaint_fallback"),
		                 1);
		ck_assert_int_eq(queued(t, OFFICER01, "new_complaint_fallback"),
		                 1);
		ck_assert_int_eq(queued(t, "+84901000098", "new_complaint"), 0);
		free(t);
		free(citizen);
	}
	ck_assert_int_ge(fg_wait(OFFICER01, 3), 3);
}
END_TEST

/* A notice for officers of a unit that has only a leader goes to that
 * leader (a reopening notifies officers only). */
START_TEST(test_fallback_leader)
{
	char *t = complaint("+84913000301", "PA đường hỏng #00097");

	ck_assert_int_eq(queued(t, LEADER97, "new_complaint"), 1);
	json_decref(api_act(t, "answer", T_LEADER97,
	                    "{\"text\": \"Đã sửa xong\"}", 200));
	json_decref(api_act(t, "reopen", T_LEADER97,
	                    "{\"reason\": \"chưa xong\"}", 200));
	ck_assert_int_eq(queued(t, LEADER97, "new_complaint_fallback"), 1);
	ck_assert_int_eq(queued(t, LEADER01, "new_complaint_fallback"), 0);
	ck_assert_int_ge(fg_wait(LEADER97, 2), 2);
	free(t);
}
END_TEST

/* paknctl check-routing lists the units with nobody who can act and
 * where their notices fall back to; not the units that have someone. */
START_TEST(test_check_routing)
{
	char out[PATH_MAX], *text;
	char *argv[] = {(char *)paknctl_path(), "-c", D->conf, "check-routing",
	                NULL};
	int status;

	harness_path(out, sizeof out, "check-routing.out");
	status = harness_run(argv, out, NULL, 30);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 1,
	              "status 0x%x", status);
	text = file_read(out, NULL);
	assert_contains(text, "00082\tPhường Cửa Nam (commune): no official "
	                      "who can act; notices fall back to 01 (2 "
	                      "phones)");
	assert_contains(text, "00098\t");
	assert_contains(text, "01-SGD\t");
	assert_contains(text, "01-UBND\t");
	assert_contains(text, "26737\tPhường Tân Định (commune): no official "
	                      "who can act; notices fall back to 79 (1 phone)");
	ck_assert_msg(strstr(text, "00004\t") == NULL, "%s", text);
	ck_assert_msg(strstr(text, "00097\t") == NULL, "%s", text);
	ck_assert_msg(strstr(text, "26740\t") == NULL, "%s", text);
	free(text);
}
END_TEST

/* Build the suite. */
static Suite *
senders_suite(void)
{
	Suite *s = suite_create("senders");

	tcase_add_test(tcase(s, "bad_senders", 60), test_bad_senders);
	tcase_add_test(tcase(s, "good_senders", 60), test_good_senders);
	tcase_add_test(tcase(s, "outbox", 60), test_outbox_refuses);
	tcase_add_test(tcase(s, "outbox_order", 60), test_outbox_refuse_order);
	tcase_add_test(tcase(s, "transfer_api", 60),
	               test_transfer_api_accepted);
	tcase_add_test(tcase(s, "transfer_sms", 60), test_transfer_sms_refused);
	tcase_add_test(tcase(s, "transfer_local", 60),
	               test_transfer_in_province);
	tcase_add_test(tcase(s, "fallback_parent", 60), test_fallback_parent);
	tcase_add_test(tcase(s, "fallback_leader", 60), test_fallback_leader);
	tcase_add_test(tcase(s, "check_routing", 60), test_check_routing);
	return s;
}

/* Start the servers, seed them, run the suite, check how paknd ended. */
int
main(void)
{
	SRunner *sr;
	char *extra;
	int failed, status = 0;

	D = harness_main();
	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "check_senders: cannot start PostgreSQL\n");
		return 99;
	}
	if (fakegw_start(&G) == -1) {
		fprintf(stderr, "check_senders: fakegw does not start\n");
		return EXIT_FAILURE;
	}
	extra = strf("[gateway.kgw]\ntype = kannel\ntoken = kgw-secret\n"
	             "send_url = http://127.0.0.1:%d/cgi-bin/sendsms\n"
	             "username = pakn\npassword = kannel-pass\n"
	             "sender = " SENDER "\n\n"
	             "[outbox]\ninterval = 100\n\n"
	             "[deadline]\ninterval = 3600\n",
	             G.port);
	if (paknd_start(D, "main", extra) == -1 ||
	    paknd_wait_ready(D, 10) == -1 ||
	    harness_seed(D->conf, 1, seed_sql) == -1) {
		fprintf(stderr, "check_senders: paknd does not start\n");
		return EXIT_FAILURE;
	}
	free(extra);
	sr = srunner_create(senders_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (paknd_finish(D, "tok-", NULL) == -1)
		failed++;
	kill(G.pid, SIGTERM);
	waitpid(G.pid, &status, 0);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
