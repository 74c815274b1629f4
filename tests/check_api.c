/*
 * check_api.c: the officials' JSON API, against the real paknd and a real
 * PostgreSQL. Complaints arrive the way citizens send them (Kannel
 * callbacks), so they are classified and routed by the real code; the
 * tests then act as officials of different units and check what each one
 * sees, what each action changes (complaint, ledger, outbox), and that no
 * answer ever shows a citizen's phone number.
 *
 * main() starts one cluster and one paknd and seeds units, routing,
 * officials and tokens; Check forks every test. The database goes down
 * only in the last test case.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <check.h>
#include <jansson.h>

#include "harness.h"

#ifndef PAKN_SRCDIR
#define PAKN_SRCDIR "."
#endif

/* Citizens' numbers all contain this; no API answer may. */
#define CITIZEN_DIGITS "98700"
#define CITIZEN(n)     "+849870000" #n

/* Tokens of the seeded officials. */
#define T_OFF4     "tok-officer-00004"
#define T_OFF8     "tok-officer-00008"
#define T_OFF01    "tok-officer-01"
#define T_LEAD01   "tok-leader-01"
#define T_OFF376   "tok-officer-00376"
#define T_OFF454   "tok-officer-00454"
#define T_REVOKED  "tok-revoked-00004"
#define T_INACTIVE "tok-inactive-00004"

/* Officials and their tokens (the last two cannot sign in). */
static const char *seed_sql[] = {
    "INSERT INTO pakn.official (unit_code, name, phone, role, active) VALUES"
    " ('00004', 'Cán bộ Ba Đình', '+84900000004', 'officer', true),"
    " ('00008', 'Cán bộ Ngọc Hà', '+84900000008', 'officer', true),"
    " ('01', 'Cán bộ Thành phố', '+84900000001', 'officer', true),"
    " ('01', 'Lãnh đạo Thành phố', '+84900000011', 'leader', true),"
    " ('00376', 'Cán bộ Sóc Sơn', '+84900000376', 'officer', true),"
    " ('00454', 'Cán bộ Đông Anh', '+84900000454', 'officer', true),"
    " ('00004', 'Cán bộ nghỉ việc', '+84900000044', 'officer', false)",
    "INSERT INTO pakn.api_token (official_id, token_hash, revoked_at)"
    " SELECT o.id, sha256(convert_to(t.token, 'UTF8')), t.revoked"
    " FROM (VALUES ('+84900000004', '" T_OFF4 "', NULL::timestamptz),"
    " ('+84900000008', '" T_OFF8 "', NULL), ('+84900000001', '" T_OFF01
    "', NULL), ('+84900000011', '" T_LEAD01 "', NULL),"
    " ('+84900000376', '" T_OFF376 "', NULL),"
    " ('+84900000454', '" T_OFF454 "', NULL),"
    " ('+84900000004', '" T_REVOKED "', now()),"
    " ('+84900000044', '" T_INACTIVE "', NULL)) t (phone, token, revoked)"
    " JOIN pakn.official o ON o.phone = t.phone",
    NULL};

/* Return the port of the shared paknd. */
static int
port(void)
{
	return harness_main()->port;
}

/* An integer member; fail unless it is one. */
static long
jint(json_t *j, const char *path)
{
	json_t *v = jget(j, path);

	ck_assert_msg(json_is_integer(v), "%s is not an integer", path);
	return (long)json_integer_value(v);
}

/* Call the API with a token (none if NULL) and a JSON body (none if
 * NULL). Fails unless the answer has want status, is a JSON object and
 * shows no phone number. Returns the parsed body. */
static json_t *
api(const char *method, const char *path, const char *token, const char *body,
    long want)
{
	char *auth = token ? strf("Authorization: Bearer %s", token) : NULL;
	const char *headers[] = {"Content-Type: application/json", auth, NULL};
	struct http_resp r;
	json_error_t err;
	json_t *j;

	http_request(port(), method, path, headers, body,
	             body ? strlen(body) : 0, &r);
	if (r.status != want)
		paknd_dump(harness_main());
	ck_assert_msg(r.status == want, "%s %s: HTTP %ld, want %ld; %s%s",
	              method, path, r.status, want, r.body, r.err);
	ck_assert_msg(r.ctype && !strncmp(r.ctype, "application/json", 16),
	              "%s %s: Content-Type %s", method, path, r.ctype);
	assert_lacks(r.body, "+84");
	assert_lacks(r.body, CITIZEN_DIGITS);
	j = json_loads(r.body, 0, &err);
	ck_assert_msg(json_is_object(j), "%s %s: not a JSON object: %s", method,
	              path, r.body);
	http_resp_free(&r);
	free(auth);
	return j;
}

/* GET with a token; fails unless the status is want. */
static json_t *
api_get(const char *path, const char *token, long want)
{
	return api("GET", path, token, NULL, want);
}

/* Fail unless an API call is refused with want and the error code. Returns
 * the message. */
static char *
api_refused(const char *method, const char *path, const char *token,
            const char *body, long want, const char *code)
{
	json_t *j = api(method, path, token, body, want);
	const char *msg = jstr(j, "error.message");
	char *copy;

	ck_assert_msg(jstr(j, "error.code") != NULL &&
	                  !strcmp(jstr(j, "error.code"), code),
	              "%s %s: error code %s, want %s", method, path,
	              jstr(j, "error.code"), code);
	ck_assert_msg(msg != NULL && *msg != '\0', "error without a message");
	copy = strdup(msg);
	json_decref(j);
	return copy;
}

/* Check a refusal and that its message names what was wrong. */
static void
assert_refused(const char *method, const char *path, const char *token,
               const char *body, long want, const char *code, const char *names)
{
	char *msg = api_refused(method, path, token, body, want, code);

	if (names != NULL)
		assert_contains(msg, names);
	free(msg);
}

/* POST an action on a ticket; returns the body. */
static json_t *
act(const char *ticket, const char *action, const char *token, const char *body,
    long want)
{
	char *path = strf("/v1/complaints/%s/%s", ticket, action);
	json_t *j = api("POST", path, token, body, want);

	free(path);
	return j;
}

/* Check that an action is refused with want and code, naming names. */
static void
act_refused(const char *ticket, const char *action, const char *token,
            const char *body, long want, const char *code, const char *names)
{
	char *path = strf("/v1/complaints/%s/%s", ticket, action);

	assert_refused("POST", path, token, body, want, code, names);
	free(path);
}

/* GET one complaint. */
static json_t *
show(const char *ticket, const char *token, long want)
{
	char *path = strf("/v1/complaints/%s", ticket);
	json_t *j = api_get(path, token, want);

	free(path);
	return j;
}

/* Send a complaint by SMS as Kannel does (UCS-2); return its ticket. */
static char *
sms_complaint(const char *from, const char *text)
{
	static int seq;
	size_t n;
	unsigned char *u16 = utf8_to_utf16be(text, &n);
	char *enc = url_encode(u16, n),
	     *id = strf("api-%d-%d", getpid(), ++seq);
	char *efrom = url_encode(from, strlen(from));
	char *path =
	    strf("/v1/gw/kannel/sms?token=kannel-secret&from=%s&to=8079"
	         "&text=%s&coding=2&charset=UTF-16BE&id=%s",
	         efrom, enc, id);
	struct http_resp r;
	char *ticket;

	http_get(port(), path, &r);
	ck_assert_msg(r.status == 200, "SMS callback: HTTP %ld %s", r.status,
	              r.body);
	http_resp_free(&r);
	ticket =
	    sql_value("SELECT c.ticket FROM pakn.complaint c "
	              "JOIN pakn.inbound_message i ON i.id = c.inbound_id "
	              "WHERE i.gateway = 'kannel' AND i.gateway_msg_id = $1",
	              id, NULL);
	ck_assert_msg(ticket != NULL, "no complaint for SMS \"%s\"", text);
	free(u16);
	free(enc);
	free(efrom);
	free(id);
	free(path);
	return ticket;
}

/* Fail unless a query with up to two parameters answers want. */
static void
assert_sql(const char *want, const char *query, const char *p1, const char *p2)
{
	char *got = sql_value(query, p1, p2, NULL);

	ck_assert_msg(got != NULL && !strcmp(got, want),
	              "%s: \"%s\", want \"%s\"", query, got ? got : "(null)",
	              want);
	free(got);
}

/* Run an UPDATE ... RETURNING with one parameter; fail unless it did. */
static void
sql_update(const char *query, const char *p1)
{
	char *got = sql_value(query, p1, NULL);

	ck_assert_msg(got != NULL, "%s: no row", query);
	free(got);
}

/* The id of a seeded official, as the ledger records it. */
static char *
official_id(const char *phone)
{
	char *id = sql_value(
	    "SELECT id::text FROM pakn.official WHERE phone = $1", phone, NULL);

	ck_assert_ptr_nonnull(id);
	return id;
}

/* Fail unless the latest ledger event of a kind on a ticket was by the
 * official with this phone. */
static void
assert_ledger(const char *ticket, const char *event, const char *phone)
{
	char *id = official_id(phone);
	char *who = sql_value(
	    "SELECT e.actor || ':' || coalesce(e.actor_id, '') "
	    "FROM pakn.complaint_event e JOIN pakn.complaint c "
	    "ON c.id = e.complaint_id WHERE c.ticket = $1 AND e.event = $2 "
	    "ORDER BY e.id DESC LIMIT 1",
	    ticket, event, NULL);
	char *want = strf("official:%s", id);

	ck_assert_msg(who != NULL && !strcmp(who, want),
	              "%s %s: ledger actor %s, want %s", ticket, event, who,
	              want);
	free(id);
	free(who);
	free(want);
}

/* SMS queued to the complaint's citizen from a template. */
static long
outbox_count(const char *ticket, const char *kind)
{
	return sql_long("SELECT count(*) FROM pakn.outbox o "
	                "JOIN pakn.complaint c ON c.id = o.complaint_id "
	                "WHERE c.ticket = $1 AND o.kind = $2 "
	                "AND o.msisdn = c.msisdn",
	                ticket, kind, NULL);
}

/* Does a list answer hold the ticket? */
static int
list_has(json_t *list, const char *ticket)
{
	json_t *items = jget(list, "complaints"), *c;
	size_t i;

	json_array_foreach(items, i,
	                   c) if (!strcmp(jstr(c, "ticket"), ticket)) return 1;
	return 0;
}

/* Fail unless an official's queue (first 100, query appended) lists
 * the ticket (want 1) or does not (want 0). */
static void
assert_listed(const char *token, const char *query, const char *ticket,
              int want)
{
	char *path = strf("/v1/complaints?per_page=100%s", query);
	json_t *j = api_get(path, token, 200);

	ck_assert_msg(list_has(j, ticket) == want, "%s as %s: %s %slisted",
	              path, token, ticket, want ? "not " : "");
	json_decref(j);
	free(path);
}

/* One raw HTTP/1.0 exchange (to see headers); returns the answer. */
static char *
raw_http(const char *request)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char *out = calloc(1, 65536);
	size_t len = 0;
	ssize_t n;

	sa.sin_port = htons((uint16_t)port());
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(write(fd, request, strlen(request)),
	                 (ssize_t)strlen(request));
	while (len < 65535 && (n = read(fd, out + len, 65535 - len)) > 0)
		len += (size_t)n;
	close(fd);
	return out;
}

/* Missing, wrong, revoked tokens and inactive officials get 401. */
START_TEST(test_unauthorized)
{
	static const char *bad[] = {"nope", T_REVOKED, T_INACTIVE};
	const char *basic[] = {"Authorization: Basic dXNlcjpwYXNz", NULL};
	struct http_resp r;
	char *raw;
	size_t i;

	assert_refused("GET", "/v1/complaints", NULL, NULL, 401, "unauthorized",
	               "Bearer");
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_refused("GET", "/v1/complaints", bad[i], NULL, 401,
		               "unauthorized", NULL);
		assert_refused("GET", "/v1/complaints/KV7R48Q", bad[i], NULL,
		               401, "unauthorized", NULL);
		assert_refused("POST", "/v1/complaints/KV7R48Q/answer", bad[i],
		               "{\"text\": \"x\"}", 401, "unauthorized", NULL);
	}
	http_request(port(), "GET", "/v1/complaints", basic, NULL, 0, &r);
	ck_assert_int_eq(r.status, 401);
	http_resp_free(&r);
	raw = raw_http("GET /v1/complaints HTTP/1.0\r\n\r\n");
	assert_contains(raw, " 401 ");
	assert_contains(raw, "WWW-Authenticate: Bearer");
	free(raw);
	raw = raw_http("GET /v1/complaints HTTP/1.0\r\n"
	               "Authorization: Bearer nope\r\n\r\n");
	assert_contains(raw, "WWW-Authenticate: Bearer");
	assert_contains(raw, "invalid_token");
	free(raw);
}
END_TEST

/* GET a path with an Authorization header (none if NULL); returns the
 * status and the error reason of the JSON answer ("" when it has none):
 * error.message (officials' API) or error (statistics). */
static long
auth_get(const char *path, const char *auth, char **reason)
{
	char *line = auth != NULL ? strf("Authorization: %s", auth) : NULL;
	const char *headers[] = {line, NULL};
	struct http_resp r;
	json_error_t err;
	json_t *j;
	const char *why;
	long status;

	status = http_request(port(), "GET", path, headers, NULL, 0, &r);
	j = json_loads(r.body, 0, &err);
	ck_assert_msg(j != NULL, "GET %s with \"%s\": not JSON: %s", path,
	              auth != NULL ? auth : "(none)", r.body);
	why = json_string_value(json_object_get(j, "error"));
	if (why == NULL)
		why = jstr(j, "error.message");
	*reason = strdup(why != NULL ? why : "");
	json_decref(j);
	http_resp_free(&r);
	free(line);
	return status;
}

/* A header value with '@' replaced by the leader's token and '#' by 300
 * letters. */
static char *
fill(const char *pattern)
{
	char *out = calloc(1, strlen(pattern) + strlen(T_LEAD01) + 301);
	size_t n = 0;

	for (; *pattern != '\0'; pattern++) {
		if (*pattern == '@') {
			memcpy(out + n, T_LEAD01, strlen(T_LEAD01));
			n += strlen(T_LEAD01);
		} else if (*pattern == '#') {
			memset(out + n, 'a', 300);
			n += 300;
		} else
			out[n++] = *pattern;
	}
	return out;
}

/* Bearer parsing is one function for the officials' API and /v1/stats:
 * the scheme in any case, one or more blanks; an empty, oversized or
 * non-printable token is refused with 401 and the same reason on both. */
START_TEST(test_bearer_variants)
{
	static const struct {
		const char *auth;   /* "%s": the leader's token */
		const char *reason; /* NULL: accepted */
	} cases[] = {
	    {"Bearer @", NULL},
	    {"bearer @", NULL},
	    {"BEARER   @", NULL},
	    {"Bearer\t@", NULL},
	    {"Bearer @   ", NULL},
	    {NULL, "missing token"},
	    {"Basic dXNlcjpwYXNz", "scheme must be Bearer"},
	    {"Bearer@", "scheme must be Bearer"},
	    {"Bearer", "empty bearer token"},
	    {"Bearer    ", "empty bearer token"},
	    {"Bearer @ extra", "not printable ASCII"},
	    {"Bearer t\xc3\xb6k", "not printable ASCII"},
	    {"Bearer @#", "longer than 256 characters"},
	};

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		char *auth = cases[i].auth != NULL ? fill(cases[i].auth) : NULL;
		char *r_api, *r_stats;
		long s_api = auth_get("/v1/complaints", auth, &r_api);
		long s_stats = auth_get("/v1/stats?unit=01", auth, &r_stats);
		long want = cases[i].reason != NULL ? 401 : 200;

		ck_assert_msg(s_api == want && s_stats == want,
		              "\"%s\": API %ld (%s), stats %ld (%s), want %ld",
		              auth, s_api, r_api, s_stats, r_stats, want);
		if (cases[i].reason != NULL) {
			assert_contains(r_api, cases[i].reason);
			ck_assert_str_eq(r_stats, r_api);
		}
		free(r_api);
		free(r_stats);
		free(auth);
	}
}
END_TEST

/* An officer sees their unit's complaint, with its history. */
START_TEST(test_officer_sees_own)
{
	char *t = sms_complaint(CITIZEN(01), "PA #00004 ổ gà trước cổng chợ");
	json_t *j = show(t, T_OFF4, 200);

	ck_assert_str_eq(jstr(j, "ticket"), t);
	ck_assert_str_eq(jstr(j, "status"), "open");
	ck_assert_str_eq(jstr(j, "category.code"), "roads");
	ck_assert_int_eq(jint(j, "dimension.code"), 6);
	ck_assert_str_eq(jstr(j, "responsible_unit.code"), "00004");
	ck_assert_str_eq(jstr(j, "location_unit.code"), "00004");
	ck_assert_str_eq(jstr(j, "text"), "#00004 ổ gà trước cổng chợ");
	ck_assert_str_eq(jstr(j, "history.0.event"), "received");
	ck_assert_str_eq(jstr(j, "history.0.actor"), "citizen");
	ck_assert_ptr_nonnull(jstr(j, "due_at"));
	ck_assert(json_is_false(jget(j, "overdue")));
	ck_assert(json_is_false(jget(j, "extended")));
	json_decref(j);
	assert_listed(T_OFF4, "", t, 1);
	assert_listed(T_LEAD01, "&category=roads", t, 1);
	json_decref(show(t, T_LEAD01, 200));
	free(t);
}
END_TEST

/* Another unit's complaint is exactly like one that does not exist, for
 * reading and for acting; an officer above does not see it either. */
START_TEST(test_other_unit_404)
{
	char *t = sms_complaint(CITIZEN(01), "PA #00004 ổ gà giữa đường");
	json_t *none = show("ZZZZZZZ", T_OFF4, 404),
	       *other = show(t, T_OFF8, 404);
	char *none_text = json_dumps(none, JSON_SORT_KEYS);
	char *other_text = json_dumps(other, JSON_SORT_KEYS);

	ck_assert_str_eq(none_text, other_text);
	ck_assert_str_eq(jstr(other, "error.code"), "not_found");
	json_decref(show(t, T_OFF01, 404));
	act_refused(t, "answer", T_OFF8, "{\"text\": \"x\"}", 404, "not_found",
	            NULL);
	act_refused(t, "reject", T_OFF01, "{\"reason\": \"x\"}", 404,
	            "not_found", NULL);
	assert_listed(T_OFF8, "", t, 0);
	assert_listed(T_OFF01, "", t, 0);
	assert_sql("open",
	           "SELECT status FROM pakn.complaint WHERE ticket = $1", t,
	           NULL);
	free(none_text);
	free(other_text);
	json_decref(none);
	json_decref(other);
	free(t);
}
END_TEST

/* A commune's officer does not see the province's own complaints. */
START_TEST(test_parent_not_visible)
{
	char *t = sms_complaint(CITIZEN(02), "PA #01 góp ý chung về thành phố");
	json_t *j = show(t, T_OFF01, 200);

	ck_assert_str_eq(jstr(j, "responsible_unit.code"), "01");
	json_decref(j);
	json_decref(show(t, T_LEAD01, 200));
	json_decref(show(t, T_OFF4, 404));
	json_decref(show(t, T_OFF8, 404));
	assert_listed(T_OFF4, "", t, 0);
	assert_listed(T_OFF01, "", t, 1);
	free(t);
}
END_TEST

/* A citizen is a stable pseudonym, different from other citizens. */
START_TEST(test_pseudonym)
{
	char *a1 = sms_complaint(CITIZEN(03), "PA #00004 đèn đường hỏng");
	char *a2 = sms_complaint(CITIZEN(03), "PA #00004 ổ gà sâu");
	char *b = sms_complaint(CITIZEN(04), "PA #00004 ổ gà to");
	char *want = sql_value(
	    "SELECT 'CD-' || upper(left(encode(sha256(convert_to(value || $1, "
	    "'UTF8')), 'hex'), 8)) FROM pakn.setting "
	    "WHERE name = 'pseudonym_secret'",
	    CITIZEN(03), NULL);
	json_t *j1 = show(a1, T_OFF4, 200), *j2 = show(a2, T_LEAD01, 200);
	json_t *j3 = show(b, T_OFF4, 200);

	ck_assert_str_eq(jstr(j1, "citizen"), want);
	ck_assert_str_eq(jstr(j2, "citizen"), want);
	ck_assert_int_eq(strlen(want), 11);
	ck_assert_str_ne(jstr(j3, "citizen"), want);
	ck_assert_int_eq(strncmp(jstr(j3, "citizen"), "CD-", 3), 0);
	ck_assert(json_is_false(jget(j1, "anonymous")));
	json_decref(j1);
	json_decref(j2);
	json_decref(j3);
	free(a1);
	free(a2);
	free(b);
	free(want);
}
END_TEST

/* Reports in a sensitive category show the reporter as a pseudonym of
 * that report alone (never the citizen's usual one), to leaders too, and
 * their history keeps no identifying detail. */
START_TEST(test_sensitive)
{
	char *t = sms_complaint(CITIZEN(05), "PA #00004 cán bộ địa chính đòi "
	                                     "tiền lót tay, tham nhũng");
	json_t *j = show(t, T_LEAD01, 200), *e;
	char *text;
	size_t i;

	ck_assert_str_eq(jstr(j, "category.code"), "corruption");
	ck_assert(json_is_true(jget(j, "sensitive")));
	ck_assert(json_is_true(jget(j, "anonymous")));
	ck_assert_int_eq(strncmp(jstr(j, "citizen"), "TC-", 3), 0);
	ck_assert_int_eq(strlen(jstr(j, "citizen")), 11);
	json_array_foreach(jget(j, "history"), i, e)
	{
		ck_assert_ptr_null(jget(e, "detail.location"));
		ck_assert_ptr_null(jget(e, "detail.keyword"));
	}
	text = json_dumps(j, 0);
	assert_lacks(text, "CD-");
	free(text);
	json_decref(j);
	j = api_get("/v1/complaints?category=corruption&per_page=100", T_LEAD01,
	            200);
	ck_assert(list_has(j, t));
	text = json_dumps(j, 0);
	assert_lacks(text, "CD-");
	free(text);
	json_decref(j);
	json_decref(show(t, T_OFF4, 404));
	free(t);
}
END_TEST

/* Answer: the citizen gets the answer and the rating question; the
 * ledger names the official; a second answer is a conflict. Reopen. */
START_TEST(test_answer_reopen)
{
	char *t = sms_complaint(CITIZEN(06), "PA #00004 ổ gà ngã tư");
	json_t *j;

	act_refused(t, "reopen", T_OFF4, "{\"reason\": \"x\"}", 409, "conflict",
	            "open");
	j = act(t, "answer", T_OFF4, "{\"text\": \"Đã vá ổ gà.\"}", 200);
	ck_assert_str_eq(jstr(j, "status"), "answered");
	ck_assert_str_eq(jstr(j, "answer"), "Đã vá ổ gà.");
	ck_assert_ptr_nonnull(jstr(j, "answered_at"));
	json_decref(j);
	ck_assert_int_eq(outbox_count(t, "answer"), 1);
	ck_assert_int_eq(outbox_count(t, "ask_rating"), 1);
	assert_ledger(t, "answered", "+84900000004");
	act_refused(t, "answer", T_OFF4, "{\"text\": \"again\"}", 409,
	            "conflict", "answered");
	act_refused(t, "extend", T_OFF4, "{\"reason\": \"x\"}", 409, "conflict",
	            NULL);
	ck_assert_int_eq(outbox_count(t, "answer"), 1);

	j = act(t, "reopen", T_LEAD01, "{\"reason\": \"Chưa vá xong\"}", 200);
	ck_assert_str_eq(jstr(j, "status"), "open");
	ck_assert_int_eq(jint(j, "reopen_count"), 1);
	ck_assert(json_is_null(jget(j, "answer")));
	json_decref(j);
	assert_ledger(t, "reopened", "+84900000011");
	ck_assert_int_eq(outbox_count(t, "reopened"), 1);
	act_refused(t, "reopen", T_OFF4, "{\"reason\": \"x\"}", 409, "conflict",
	            NULL);
	free(t);
}
END_TEST

/* Bodies an action refuses with 400, and what the message names. */
static const struct {
	const char *action, *body, *names;
} bad_bodies[] = {
    {"answer", "{}", "text"},
    {"answer", "{\"text\": null}", "text"},
    {"answer", "{\"text\": \"   \"}", "text"},
    {"answer", "{\"text\": 5}", "text"},
    {"answer", "{\"text\": [\"a\"]}", "text"},
    {"answer", "{\"text\": \"a\", \"txet\": \"b\"}", "txet"},
    {"answer", "{\"text\": \"a\", \"text\": \"b\"}", NULL},
    {"answer", "{\"text\": ", "JSON"},
    {"answer", "not json", "JSON"},
    {"answer", "[\"text\"]", "object"},
    {"answer", "\"text\"", NULL},
    {"answer", "", "object"},
    {"transfer", "{\"reason\": \"x\"}", "unit"},
    {"transfer", "{\"unit\": \"00008\"}", "reason"},
    {"transfer", "{\"unit\": 8, \"reason\": \"x\"}", "unit"},
    {"reject", "{}", "reason"},
    {"extend", "{\"reason\": \"\"}", "reason"},
    {"reopen", "{\"why\": \"x\"}", "why"},
};

/* Bad bodies are refused with 400 (or 413) and change nothing. */
START_TEST(test_bad_bodies)
{
	char *t = sms_complaint(CITIZEN(07), "PA #00004 ổ gà cầu");
	char *big = malloc(6000);
	size_t i;

	for (i = 0; i < sizeof bad_bodies / sizeof bad_bodies[0]; i++)
		act_refused(t, bad_bodies[i].action, T_OFF4, bad_bodies[i].body,
		            400, "bad_request", bad_bodies[i].names);
	memset(big, 'a', 5999);
	big[5999] = '\0';
	memcpy(big, "{\"text\": \"", 10);
	memcpy(big + 5997, "\"}", 2);
	act_refused(t, "answer", T_OFF4, big, 413, "too_large", NULL);
	free(big);
	/* 2001 characters: 14 SMS parts, over [sms] max_answer_parts (3)
	 * before the database's 2000 characters (issue 14). */
	big = strf("{\"text\": \"%02001d\"}", 7);
	act_refused(t, "answer", T_OFF4, big, 400, "bad_request",
	            "max_answer_parts");
	assert_sql("open",
	           "SELECT status FROM pakn.complaint WHERE ticket = $1", t,
	           NULL);
	ck_assert_int_eq(
	    sql_long("SELECT count(*) FROM pakn.complaint_event e "
	             "JOIN pakn.complaint c ON c.id = e.complaint_id"
	             " WHERE c.ticket = $1 AND e.actor = 'official'",
	             t, NULL),
	    0);
	free(big);
	free(t);
}
END_TEST

/* Transfer: to an existing other unit only; then it is that unit's. */
START_TEST(test_transfer)
{
	char *t = sms_complaint(CITIZEN(08), "PA #00004 ổ gà phố Kim Mã");
	json_t *j;

	act_refused(t, "transfer", T_OFF4,
	            "{\"unit\": \"99999\", \"reason\": \"x\"}", 400,
	            "bad_request", "99999");
	act_refused(t, "transfer", T_OFF4,
	            "{\"unit\": \"00004\", \"reason\": \"x\"}", 400,
	            "bad_request", "unit");
	j = act(t, "transfer", T_OFF4,
	        "{\"unit\": \"00008\", \"reason\": \"Thuộc địa bàn Ngọc Hà\"}",
	        200);
	ck_assert_str_eq(jstr(j, "responsible_unit.code"), "00008");
	ck_assert_str_eq(jstr(j, "status"), "open");
	json_decref(j);
	assert_ledger(t, "transferred", "+84900000004");
	assert_sql("00004>00008:Thuộc địa bàn Ngọc Hà",
	           "SELECT e.detail->>'from' || '>' || (e.detail->>'to') || "
	           "':' || e.reason FROM pakn.complaint_event e "
	           "JOIN pakn.complaint c ON c.id = e.complaint_id "
	           "WHERE c.ticket = $1 AND e.event = 'transferred'",
	           t, NULL);
	ck_assert_int_eq(outbox_count(t, "transferred"), 1);
	json_decref(show(t, T_OFF4, 404));
	j = show(t, T_OFF8, 200);
	ck_assert_str_eq(jstr(j, "history.3.event"), "transferred");
	ck_assert_str_eq(jstr(j, "history.3.reason"), "Thuộc địa bàn Ngọc Hà");
	ck_assert_str_eq(jstr(j, "history.3.actor"), "official");
	json_decref(j);
	free(t);
}
END_TEST

/* Reject: open complaints only, once; then it can be reopened. */
START_TEST(test_reject)
{
	char *t = sms_complaint(CITIZEN(09), "PA #00004 ổ gà ngõ 12");
	json_t *j;

	j = act(t, "reject", T_OFF4,
	        "{\"reason\": \"Đường của dự án tư nhân\"}", 200);
	ck_assert_str_eq(jstr(j, "status"), "rejected");
	ck_assert_str_eq(jstr(j, "close_reason"), "rejected");
	json_decref(j);
	assert_ledger(t, "rejected", "+84900000004");
	ck_assert_int_eq(outbox_count(t, "rejected"), 1);
	act_refused(t, "reject", T_OFF4, "{\"reason\": \"x\"}", 409, "conflict",
	            "rejected");
	act_refused(t, "answer", T_OFF4, "{\"text\": \"x\"}", 409, "conflict",
	            NULL);
	act_refused(t, "transfer", T_OFF4,
	            "{\"unit\": \"00008\", \"reason\": \"x\"}", 409, "conflict",
	            NULL);
	j = act(t, "reopen", T_OFF4, "{\"reason\": \"Xem lại\"}", 200);
	ck_assert_str_eq(jstr(j, "status"), "open");
	json_decref(j);
	free(t);
}
END_TEST

/* Extend: once, by the category's extension in working days. */
START_TEST(test_extend)
{
	char *t = sms_complaint(CITIZEN(10), "PA #00004 ổ gà lớn");
	json_t *j = show(t, T_OFF4, 200);
	char *before = strdup(jstr(j, "due_date")), *after, *days;
	long workdays;

	ck_assert(json_is_false(jget(j, "extended")));
	json_decref(j);
	j = act(t, "extend", T_OFF4, "{\"reason\": \"Cần khảo sát\"}", 200);
	ck_assert(json_is_true(jget(j, "extended")));
	after = strdup(jstr(j, "due_date"));
	json_decref(j);
	days = sql_value("SELECT extension_days::text FROM pakn.category "
	                 "WHERE code = 'roads'",
	                 NULL);
	workdays =
	    sql_long("SELECT count(*) FROM generate_series($1::date + 1, "
	             "$2::date, interval '1 day') d "
	             "WHERE pakn.is_working_day(d::date)",
	             before, after, NULL);
	ck_assert_int_eq(workdays, atol(days));
	assert_sql("true", "SELECT pakn.is_working_day($1::date)::text", after,
	           NULL);
	assert_ledger(t, "extended", "+84900000004");
	ck_assert_int_eq(outbox_count(t, "extended"), 1);
	act_refused(t, "extend", T_OFF4, "{\"reason\": \"again\"}", 409,
	            "conflict", "once");
	j = show(t, T_OFF4, 200);
	ck_assert_str_eq(jstr(j, "due_date"), after);
	json_decref(j);
	free(before);
	free(after);
	free(days);
	free(t);
}
END_TEST

/* The tickets of a list answer, in order, joined by spaces. */
static char *
list_tickets(json_t *list)
{
	json_t *c;
	size_t i;
	char *s = strdup(""), *next;

	json_array_foreach(jget(list, "complaints"), i, c)
	{
		next = strf("%s%s%s", s, *s ? " " : "", jstr(c, "ticket"));
		free(s);
		s = next;
	}
	return s;
}

static void assert_list(const char *token, const char *query, const char *fmt,
                        ...) HARNESS_PRINTF(3, 4);

/* Fail unless an official's queue query answers "total: tickets", the
 * tickets in order, as printf builds want. */
static void
assert_list(const char *token, const char *query, const char *fmt, ...)
{
	char *path = strf("/v1/complaints%s", query), *want, *tickets, *got;
	json_t *j = api_get(path, token, 200);
	va_list ap;

	va_start(ap, fmt);
	ck_assert_int_ne(vasprintf(&want, fmt, ap), -1);
	va_end(ap);
	tickets = list_tickets(j);
	got = strf("%ld: %s", jint(j, "total"), tickets);
	ck_assert_msg(!strcmp(got, want), "%s: \"%s\", want \"%s\"", query, got,
	              want);
	free(path);
	free(want);
	free(tickets);
	free(got);
	json_decref(j);
}

/* Filters (status, overdue, category, dimension) and their order: most
 * urgent first for open complaints, else newest first. */
START_TEST(test_filters)
{
	char *w1 = sms_complaint(CITIZEN(11), "PA #00376 rác thải ùn ứ");
	char *w2 = sms_complaint(CITIZEN(12), "PA #00376 bãi rác tự phát");
	char *r = sms_complaint(CITIZEN(13), "PA #00376 ổ gà nguy hiểm");
	char *e = sms_complaint(CITIZEN(14), "PA #00376 mất điện cả ngày");
	char *c = sms_complaint(CITIZEN(15), "PA #00376 nước bẩn");
	const char *tok = T_OFF376;

	assert_list(tok, "", "5: %s %s %s %s %s", c, e, r, w2, w1);
	assert_list(tok, "?category=waste", "2: %s %s", w2, w1);
	assert_list(tok, "?dimension=7", "2: %s %s", w2, w1);
	assert_list(tok, "?dimension=6", "3: %s %s %s", c, e, r);
	json_decref(act(r, "answer", tok, "{\"text\": \"Đã vá\"}", 200));
	sql_update("UPDATE pakn.complaint SET due_at = now() - interval '1 day'"
	           " WHERE ticket = $1 RETURNING ticket",
	           e);
	sql_update(
	    "UPDATE pakn.complaint SET due_at = due_at + interval '3 day'"
	    " WHERE ticket = $1 RETURNING ticket",
	    w1);
	assert_list(tok, "?status=answered", "1: %s", r);
	assert_list(tok, "?status=open", "4: %s %s %s %s", e, c, w2, w1);
	assert_list(tok, "?status=open&sort=newest", "4: %s %s %s %s", c, e, w2,
	            w1);
	assert_list(tok, "?status=answered,open&dimension=6&sort=newest",
	            "3: %s %s %s", c, e, r);
	assert_list(tok, "?sort=due&category=waste", "2: %s %s", w2, w1);
	assert_list(tok, "?overdue=true", "1: %s", e);
	assert_list(tok, "?status=open&overdue=false", "3: %s %s %s", c, w2,
	            w1);
	assert_list(tok, "?status=closed", "0: %s", "");
	assert_listed(T_LEAD01, "&category=waste", w1, 1);
	assert_listed(T_OFF4, "&category=waste", w1, 0);
	free(w1);
	free(w2);
	free(r);
	free(e);
	free(c);
}
END_TEST

/* Paging: page and per_page, or limit and offset; at most 100. */
START_TEST(test_paging)
{
	const char *tok = T_OFF454;
	char *t[5];
	json_t *j;

	for (int i = 0; i < 5; i++) {
		char *text = strf("PA #00454 ổ gà số %d", i + 1);
		t[i] = sms_complaint(CITIZEN(16), text);
		free(text);
	}
	assert_list(tok, "?per_page=2", "5: %s %s", t[4], t[3]);
	assert_list(tok, "?per_page=2&page=1", "5: %s %s", t[4], t[3]);
	assert_list(tok, "?per_page=2&page=2", "5: %s %s", t[2], t[1]);
	assert_list(tok, "?per_page=2&page=3", "5: %s", t[0]);
	assert_list(tok, "?page=2", "5: %s", "");
	assert_list(tok, "?limit=3&offset=1", "5: %s %s %s", t[3], t[2], t[1]);
	assert_list(tok, "?offset=4", "5: %s", t[0]);
	j = api_get("/v1/complaints?per_page=1000", tok, 200);
	ck_assert_int_eq(jint(j, "limit"), 100);
	ck_assert_int_eq(json_array_size(jget(j, "complaints")), 5);
	json_decref(j);
	j = api_get("/v1/complaints?per_page=3&page=2", tok, 200);
	ck_assert_int_eq(jint(j, "offset"), 3);
	json_decref(j);
	for (int i = 0; i < 5; i++)
		free(t[i]);
}
END_TEST

/* A complaint's JSON is one expression that PostgreSQL inlines into the
 * statement listing complaints (pakn.api_complaint has no FROM): run as
 * a query of its own, its plan was started for each complaint of a page
 * (0.75 ms a complaint, twice the inlined). With every function's calls
 * counted, listing three complaints calls it none; the JSON is the same
 * as the category's and the dimension's rows say. */
START_TEST(test_complaint_inlined)
{
	char *v;

	free(sms_complaint(CITIZEN(17), "PA #00454 đèn đường hỏng"));
	/* (Counted from the next statement on: a call's counting is
	 * decided when its statement starts.) */
	PQclear(q("SET track_functions = 'all'", NULL));
	v = qval("WITH l AS MATERIALIZED (SELECT pakn.api_complaint(c) AS j "
	         "FROM pakn.complaint c ORDER BY c.id DESC LIMIT 3) SELECT "
	         "count(*) || ' ' || coalesce(pg_stat_get_xact_function_calls("
	         "'pakn.api_complaint(pakn.complaint)'::regprocedure), 0) || "
	         "' ' || bool_and(l.j->'category'->>'name' = cat.name AND "
	         "(l.j->'dimension'->>'code')::smallint = cat.dimension AND "
	         "l.j->'dimension'->>'name' = d.name_vi) FROM l JOIN "
	         "pakn.category cat ON cat.code = l.j->'category'->>'code' "
	         "JOIN pakn.papi_dimension d ON d.code = cat.dimension",
	         NULL);
	ck_assert_str_eq(v, "3 0 true");
	free(v);
}
END_TEST

/* Bad list parameters are refused with 400 naming the parameter. */
START_TEST(test_bad_filters)
{
	static const char *cases[][2] = {
	    {"dimension=9", "dimension"},
	    {"dimension=x", "dimension"},
	    {"overdue=maybe", "overdue"},
	    {"page=0", "page"},
	    {"per_page=abc", "per_page"},
	    {"limit=0", "limit"},
	    {"offset=-1", "offset"},
	    {"foo=1", "foo"},
	    {"status=bogus", "bogus"},
	    {"category=nope", "nope"},
	    {"sort=random", "sort"},
	    {"page=2&offset=4", "page"},
	    {"status=open&status=closed", "status"},
	    {"dimension=", "dimension"},
	};
	size_t i;
	char *path;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		path = strf("/v1/complaints?%s", cases[i][0]);
		assert_refused("GET", path, T_OFF4, NULL, 400, "bad_request",
		               cases[i][1]);
		free(path);
	}
}
END_TEST

/* Unknown paths are 404, wrong methods 405, both JSON. */
START_TEST(test_routes)
{
	char *raw;

	assert_refused("GET", "/v1/complaints/KV7R48Q/bogus", T_OFF4, NULL, 404,
	               "not_found", NULL);
	assert_refused("GET", "/v1/complaints/", T_OFF4, NULL, 404, "not_found",
	               NULL);
	assert_refused("GET", "/v1/complaints/KV7R48Q/answer/x", T_OFF4, NULL,
	               404, "not_found", NULL);
	assert_refused("GET", "/v1/complaints/K%2F7", T_OFF4, NULL, 404,
	               "not_found", NULL);
	assert_refused("POST", "/v1/complaints", T_OFF4, "{}", 405,
	               "method_not_allowed", "GET");
	assert_refused("POST", "/v1/complaints/KV7R48Q", T_OFF4, "{}", 405,
	               "method_not_allowed", NULL);
	assert_refused("GET", "/v1/complaints/KV7R48Q/answer", T_OFF4, NULL,
	               405, "method_not_allowed", "POST");
	assert_refused("POST", "/v1/complaints/ZZZZZZZ/answer", T_OFF4,
	               "{\"text\": \"x\"}", 404, "not_found", NULL);
	raw = raw_http("GET /v1/complaints/KV7R48Q/answer HTTP/1.0\r\n\r\n");
	assert_contains(raw, " 405 ");
	assert_contains(raw, "Allow: POST");
	free(raw);
}
END_TEST

/* A token's last use is noted, at most once a minute. */
START_TEST(test_last_used)
{
	const char *q =
	    "SELECT (now() - last_used_at < interval '10 second')::text"
	    " FROM pakn.api_token WHERE token_hash = "
	    "sha256(convert_to($1, 'UTF8'))";
	const char *set =
	    "UPDATE pakn.api_token SET last_used_at = now() - $2::"
	    "interval WHERE token_hash = sha256(convert_to($1, "
	    "'UTF8')) RETURNING 'ok'";

	json_decref(api_get("/v1/complaints", T_OFF8, 200));
	assert_sql("true", q, T_OFF8, NULL);
	assert_sql("ok", set, T_OFF8, "30 seconds");
	json_decref(api_get("/v1/complaints", T_OFF8, 200));
	assert_sql("false", q, T_OFF8, NULL);
	assert_sql("ok", set, T_OFF8, "2 minutes");
	json_decref(api_get("/v1/complaints", T_OFF8, 200));
	assert_sql("true", q, T_OFF8, NULL);
}
END_TEST

/* With PostgreSQL down the API answers 503 JSON at once; it recovers. */
START_TEST(test_database_down)
{
	struct http_resp r;
	double t0, end;
	json_t *j;

	/* PostgreSQL stops on purpose: paknd says so, and so does libpq. */
	harness_expect_log("db conn ");
	harness_expect_log("database unavailable");
	ck_assert_int_eq(pg_stop(), 0);
	t0 = now_secs();
	assert_refused("GET", "/v1/complaints", T_OFF4, NULL, 503,
	               "unavailable", NULL);
	assert_refused("POST", "/v1/complaints/KV7R48Q/answer", T_OFF4,
	               "{\"text\": \"x\"}", 503, "unavailable", NULL);
	ck_assert_msg(now_secs() - t0 < 4.0, "503s took %.2f s",
	              now_secs() - t0);
	ck_assert_int_eq(pg_start(), 0);
	end = now_secs() + 15;
	do {
		sleep_ms(100);
		http_get(port(), "/readyz", &r);
		http_resp_free(&r);
	} while (r.status != 200 && now_secs() < end);
	ck_assert_int_eq(r.status, 200);
	j = api_get("/v1/complaints", T_OFF4, 200);
	json_decref(j);
}
END_TEST

/* Build the suite, in the order the tests must run. */
static Suite *
api_suite(void)
{
	Suite *s = suite_create("api");
	TCase *tc = tcase(s, "access", 30);

	tcase_add_test(tc, test_unauthorized);
	tcase_add_test(tc, test_bearer_variants);
	tcase_add_test(tc, test_officer_sees_own);
	tcase_add_test(tc, test_other_unit_404);
	tcase_add_test(tc, test_parent_not_visible);
	tcase_add_test(tc, test_pseudonym);
	tcase_add_test(tc, test_sensitive);
	tcase_add_test(tc, test_routes);
	tcase_add_test(tc, test_last_used);

	tc = tcase(s, "actions", 30);
	tcase_add_test(tc, test_answer_reopen);
	tcase_add_test(tc, test_bad_bodies);
	tcase_add_test(tc, test_transfer);
	tcase_add_test(tc, test_reject);
	tcase_add_test(tc, test_extend);

	tc = tcase(s, "queue", 30);
	tcase_add_test(tc, test_filters);
	tcase_add_test(tc, test_paging);
	tcase_add_test(tc, test_bad_filters);
	tcase_add_test(tc, test_complaint_inlined);

	tc = tcase(s, "database", 60);
	tcase_add_unchecked_fixture(tc, NULL, harness_ensure_pg);
	tcase_add_test(tc, test_database_down);
	return s;
}

/* Start the servers, seed them, run the suite, check how paknd ended. */
int
main(void)
{
	struct paknd *d = harness_main();
	SRunner *sr;
	int failed;

	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "check_api: cannot start PostgreSQL\n");
		return 99;
	}
	if (paknd_start(d, "main", NULL) == -1 ||
	    paknd_wait_ready(d, 10) == -1 ||
	    harness_seed(NULL, 0, seed_sql) == -1) {
		fprintf(stderr, "check_api: paknd does not start\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(api_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (paknd_finish(d, "tok-", NULL) == -1)
		failed++;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
