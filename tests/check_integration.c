/*
 * check_integration.c: the real paknd against a real PostgreSQL, driven
 * over HTTP the way the SMS gateways drive it. Each test asserts what a
 * user sees: HTTP answers, rows stored with exact values, timing, the log.
 *
 * main() starts one cluster and one paknd; Check forks every test, so the
 * tests share them. Tests that disturb the shared servers (signals, the
 * database going down) run last or use an instance of their own.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <check.h>

#include "harness.h"

#ifndef PAKN_SRCDIR
#define PAKN_SRCDIR "."
#endif

#define KANNEL_PATH "/v1/gw/kannel/sms"
#define TWILIO_PATH "/v1/gw/twilio/sms"
#define AT_PATH     "/v1/gw/at/sms"
#define TWILIO_KEY  "12345"
#define TWILIO_URL  "https://pakn.example.vn" TWILIO_PATH

/* Columns of a stored message, in the order of ROW_SQL. */
enum {
	C_MSISDN,
	C_SHORTCODE,
	C_BODY,
	C_SENT,
	C_SMSC,
	C_SEGMENTS,
	C_RAWREQ,
	C_RAWBODY,
	C_RECENT,
};

#define ROW_SQL                                                                \
	"SELECT msisdn, shortcode, body, "                                     \
	"extract(epoch FROM sent_at)::bigint, smsc, segments, raw_request, "   \
	"encode(raw_body, 'hex'), received_at > now() - interval '5 min' "     \
	"FROM pakn.inbound_message WHERE gateway = $1 AND gateway_msg_id = $2"

/* Fail unless r has status want; print the daemon's log tail if not. */
#define assert_status_of(d, r, want)                                           \
	do {                                                                   \
		const struct http_resp *r_ = (r);                              \
		if (r_->status != (want))                                      \
			paknd_dump(d);                                         \
		ck_assert_msg(r_->status == (want),                            \
		              "HTTP status %ld, want %d; body \"%s\"%s%s",     \
		              r_->status, (want),                              \
		              r_->body != NULL ? r_->body : "",                \
		              r_->err[0] != '\0' ? "; curl: " : "", r_->err);  \
	} while (0)

#define assert_status(r, want) assert_status_of(harness_main(), r, want)

/* A Kannel get-url callback; NULL fields are left out of the query. */
struct kannel_msg {
	const char *gw; /* gateway name, "kannel" if NULL */
	const char *token;
	const char *from;
	const char *to;
	const char *text; /* UTF-8; sent as UTF-16BE when ucs2 is set */
	const char *raw;  /* already URL-encoded text, instead of text */
	int ucs2;         /* coding=2&charset=UTF-16BE, else 0 and UTF-8 */
	const char *id;
	const char *smsc;
	const char *ts;
};

/* Return the port of the shared paknd. */
static int
port(void)
{
	return harness_main()->port;
}

/* Append "&name=value" (value URL-encoded) to a query string. */
static char *
query_add(char *q, const char *name, const void *value, size_t len)
{
	char *enc = url_encode(value, len);
	char *next = strf("%s%s%s=%s", q, *q != '\0' ? "&" : "", name, enc);

	free(enc);
	free(q);
	return next;
}

/* Append a NUL-terminated value to a query string if it is set. */
static char *
query_opt(char *q, const char *name, const char *value)
{
	return value != NULL ? query_add(q, name, value, strlen(value)) : q;
}

/* Build the path and query of a Kannel get-url callback. */
static char *
kannel_path(const struct kannel_msg *m)
{
	char *q = strdup(""), *path, *next;
	unsigned char *u16;
	size_t n;

	q = query_opt(q, "token", m->token);
	q = query_opt(q, "from", m->from);
	q = query_opt(q, "to", m->to);
	if (m->raw != NULL) {
		next = strf("%s&text=%s", q, m->raw);
		free(q);
		q = next;
	} else if (m->text != NULL && m->ucs2) {
		u16 = utf8_to_utf16be(m->text, &n);
		ck_assert_ptr_nonnull(u16);
		q = query_add(q, "text", u16, n);
		free(u16);
	} else {
		q = query_opt(q, "text", m->text);
	}
	q = query_opt(q, "coding", m->ucs2 ? "2" : "0");
	q = query_opt(q, "charset", m->ucs2 ? "UTF-16BE" : "UTF-8");
	q = query_opt(q, "id", m->id);
	q = query_opt(q, "smsc", m->smsc);
	q = query_opt(q, "ts", m->ts);
	path = strf("/v1/gw/%s/sms?%s", m->gw != NULL ? m->gw : "kannel", q);
	free(q);
	return path;
}

/* Send a Kannel get-url callback to an instance; return the status. */
static long
kannel_get_to(int p, const struct kannel_msg *m, struct http_resp *r)
{
	char *path = kannel_path(m);
	long status = http_request(p, "GET", path, NULL, NULL, 0, r);

	free(path);
	return status;
}

/* Send a Kannel get-url callback to the shared paknd. */
static long
kannel_get(const struct kannel_msg *m, struct http_resp *r)
{
	return kannel_get_to(port(), m, r);
}

/* Send a form POST; return the status. */
static long
form_post(const char *path, const char *const *headers, const char *const *kv,
          struct http_resp *r)
{
	char *body = form_encode(kv);
	long status =
	    http_request(port(), "POST", path, headers, body, strlen(body), r);

	free(body);
	return status;
}

/* Send a Twilio-style callback signed with key (no header if NULL). */
static long
twilio_post(const char *key, const char *const *kv, struct http_resp *r)
{
	char *sig = key != NULL ? twilio_signature(key, TWILIO_URL, kv) : NULL;
	char *hdr = sig != NULL ? strf("X-Twilio-Signature: %s", sig) : NULL;
	const char *headers[] = {hdr, NULL};
	long status = form_post(TWILIO_PATH, headers, kv, r);

	free(sig);
	free(hdr);
	return status;
}

/* Return the stored row of a message; fail unless exactly one exists. */
static PGresult *
stored(const char *gw, const char *id)
{
	PGresult *res = sql_query(ROW_SQL, gw, id, NULL);

	ck_assert_msg(res != NULL, "query on pakn.inbound_message failed");
	ck_assert_msg(PQntuples(res) == 1, "%d rows stored for %s/%s, want 1",
	              PQntuples(res), gw, id);
	return res;
}

/* Return how many rows a gateway's message id has. */
static long
stored_count(const char *gw, const char *id)
{
	return sql_long("SELECT count(*) FROM pakn.inbound_message "
	                "WHERE gateway = $1 AND gateway_msg_id = $2",
	                gw, id, NULL);
}

/* Fail unless the response's Content-Type starts with want. */
static void
assert_ctype(const struct http_resp *r, const char *want)
{
	ck_assert_msg(r->ctype != NULL &&
	                  strncasecmp(r->ctype, want, strlen(want)) == 0,
	              "Content-Type \"%s\", want %s",
	              r->ctype ? r->ctype : "(none)", want);
}

/* Fail unless an error answer is one line of text/plain. */
static void
assert_error_body(const struct http_resp *r)
{
	const char *nl = strchr(r->body, '\n');

	assert_ctype(r, "text/plain");
	ck_assert_msg(r->len > 0 && r->body[0] != '\n',
	              "HTTP %ld answer has no reason", r->status);
	ck_assert_msg(nl == NULL || nl[1] == '\0',
	              "HTTP %ld reason is not one line: \"%s\"", r->status,
	              r->body);
	ck_assert_msg(strlen(r->body) == r->len, "reason contains NUL");
}

/* Fail unless a request was refused with want and left nothing stored. */
static void
assert_refused(struct http_resp *r, long want, const char *gw, const char *id)
{
	if (r->status != want)
		paknd_dump(harness_main());
	ck_assert_msg(r->status == want, "%s/%s: HTTP %ld, want %ld; \"%s\"",
	              gw, id, r->status, want, r->body);
	assert_error_body(r);
	assert_lacks(r->body, "kannel-secret");
	assert_lacks(r->body, "at-secret");
	ck_assert_int_eq(stored_count(gw, id), 0);
	http_resp_free(r);
}

/* Fail unless raw_request records the request without its secret. */
static void
assert_raw_request(const char *raw, const char *method, const char *secret)
{
	ck_assert_ptr_nonnull(raw);
	ck_assert_msg(strncmp(raw, method, strlen(method)) == 0 &&
	                  raw[strlen(method)] == ' ',
	              "raw_request does not start with \"%s \": %s", method,
	              raw);
	if (secret != NULL)
		assert_lacks(raw, secret);
}

/* Count the migration files of the source tree. */
static size_t
migration_files(void)
{
	glob_t g;
	size_t n = 0;

	if (glob(PAKN_SRCDIR "/sql/schema/[0-9]*.sql", 0, NULL, &g) == 0) {
		n = g.gl_pathc;
		globfree(&g);
	}
	return n;
}

/* Return the 1-based line of the first occurrence of needle in text. */
static int
line_of(const char *text, const char *needle)
{
	const char *hit = strstr(text, needle), *p;
	int line = 1;

	ck_assert_ptr_nonnull(hit);
	for (p = text; p < hit; p++)
		if (*p == '\n')
			line++;
	return line;
}

/* Poll a path until it answers want; return the last status. */
static long
poll_status(int p, const char *path, long want, double timeout)
{
	double end = now_secs() + timeout;
	struct http_resp r;
	long status;

	for (;;) {
		status = http_get(p, path, &r);
		http_resp_free(&r);
		if (status == want || now_secs() > end)
			return status;
		sleep_ms(100);
	}
}

/* Fail unless a wait status is a normal exit with code want. */
static void
assert_exit(int status, int want, const char *what)
{
	char desc[64];

	if (status == -1)
		snprintf(desc, sizeof desc, "timed out");
	else if (WIFSIGNALED(status))
		snprintf(desc, sizeof desc, "killed by signal %d",
		         WTERMSIG(status));
	else
		snprintf(desc, sizeof desc, "exit %d", WEXITSTATUS(status));
	ck_assert_msg(status != -1 && WIFEXITED(status) &&
	                  WEXITSTATUS(status) == want,
	              "%s: %s, want exit %d", what, desc, want);
}

/* Health and readiness answer 200; every migration was applied. */
START_TEST(test_health)
{
	struct http_resp r;
	char *names;

	http_get(port(), "/healthz", &r);
	assert_status(&r, 200);
	http_resp_free(&r);
	http_get(port(), "/readyz", &r);
	assert_status(&r, 200);
	http_resp_free(&r);

	/* migrate = yes applied every migration of the tree at start. */
	names = sql_value("SELECT string_agg(version || ' ' || name, ', ' "
	                  "ORDER BY version) FROM pakn.schema_migration",
	                  NULL);
	ck_assert_msg(
	    sql_long("SELECT count(*) FROM pakn.schema_migration", NULL) ==
	        (long)migration_files(),
	    "schema_migration holds [%s], the tree has %zu migrations",
	    names != NULL ? names : "", migration_files());
	free(names);
}
END_TEST

/* Store a UCS-2 get-url callback as UTF-8 with every column. */
START_TEST(test_kannel_get_ucs2)
{
	const char *text = "Đường Nguyễn Trãi ngập sâu 50cm, xin xử lý!";
	struct http_resp r;
	unsigned char *u16;
	PGresult *res;
	char *enc;
	size_t n;

	/* The encoder matches what Kannel sends for "Đường". */
	u16 = utf8_to_utf16be("Đường", &n);
	enc = url_encode(u16, n);
	ck_assert_str_eq(enc, "%01%10%01%B0%1E%DD%00n%00g");
	free(u16);
	free(enc);

	kannel_get(&(struct kannel_msg){.token = "kannel-secret",
	                                .from = "0912345678",
	                                .to = "8079",
	                                .text = text,
	                                .ucs2 = 1,
	                                .id = "k-get-ucs2",
	                                .smsc = "fakesmsc",
	                                .ts = "1763865086"},
	           &r);
	assert_status(&r, 200);
	ck_assert_str_eq(r.body, "OK\n");
	assert_ctype(&r, "text/plain");
	http_resp_free(&r);

	res = stored("kannel", "k-get-ucs2");
	ck_assert_str_eq(sql_col(res, C_BODY), text);
	ck_assert_str_eq(sql_col(res, C_MSISDN), "+84912345678");
	ck_assert_str_eq(sql_col(res, C_SHORTCODE), "8079");
	ck_assert_str_eq(sql_col(res, C_SENT), "1763865086");
	ck_assert_str_eq(sql_col(res, C_SMSC), "fakesmsc");
	ck_assert_str_eq(sql_col(res, C_RECENT), "t");
	assert_raw_request(sql_col(res, C_RAWREQ), "GET", "kannel-secret");
	assert_contains(sql_col(res, C_RAWREQ), "token=REDACTED");
	assert_contains(sql_col(res, C_RAWREQ), "id=k-get-ucs2");
	PQclear(res);
}
END_TEST

/* Store a UTF-8 get-url callback (smsbox mo-recode). */
START_TEST(test_kannel_get_utf8)
{
	const char *text = "Cảm ơn cán bộ phường đã xử lý nhanh";
	struct http_resp r;
	PGresult *res;

	/* smsbox with mo-recode = yes: UTF-8 with coding=0. */
	kannel_get(&(struct kannel_msg){.token = "kannel-secret",
	                                .from = "84912345678",
	                                .to = "8079",
	                                .text = text,
	                                .id = "k-get-utf8",
	                                .smsc = "fakesmsc",
	                                .ts = "1763865090"},
	           &r);
	assert_status(&r, 200);
	ck_assert_str_eq(r.body, "OK\n");
	http_resp_free(&r);

	res = stored("kannel", "k-get-utf8");
	ck_assert_str_eq(sql_col(res, C_BODY), text);
	ck_assert_str_eq(sql_col(res, C_MSISDN), "+84912345678");
	ck_assert_str_eq(sql_col(res, C_SHORTCODE), "8079");
	ck_assert_str_eq(sql_col(res, C_SENT), "1763865090");
	PQclear(res);
}
END_TEST

/* Decode UTF-16 surrogate pairs into one character. */
START_TEST(test_kannel_get_surrogates)
{
	const char *text = "Cảm ơn 👍 rất tốt";
	struct http_resp r;
	PGresult *res;

	/* Characters beyond the BMP come as UTF-16 surrogate pairs. */
	kannel_get(&(struct kannel_msg){.token = "kannel-secret",
	                                .from = "0912345678",
	                                .to = "8079",
	                                .text = text,
	                                .ucs2 = 1,
	                                .id = "k-get-pair",
	                                .ts = "1763865091"},
	           &r);
	assert_status(&r, 200);
	http_resp_free(&r);
	res = stored("kannel", "k-get-pair");
	ck_assert_str_eq(sql_col(res, C_BODY), text);
	PQclear(res);
}
END_TEST

/* Store a UCS-2 post-url callback, its raw body and headers. */
START_TEST(test_kannel_post_ucs2)
{
	const char *text = "Rác thải chưa được thu gom 3 ngày";
	const char *headers[] = {"Content-Type: text/plain; charset=UTF-16BE",
	                         "X-Kannel-From: 0912345678",
	                         "X-Kannel-To: 8079",
	                         "X-Kannel-Time: 1763865100",
	                         "X-Kannel-Coding: 2",
	                         "X-Kannel-SMSC: fakesmsc",
	                         NULL};
	struct http_resp r;
	unsigned char *u16;
	PGresult *res;
	char *hex;
	size_t n;

	u16 = utf8_to_utf16be(text, &n);
	http_request(port(), "POST",
	             KANNEL_PATH "?token=kannel-secret&id=k-post-ucs2", headers,
	             u16, n, &r);
	assert_status(&r, 200);
	ck_assert_str_eq(r.body, "OK\n");
	assert_ctype(&r, "text/plain");
	http_resp_free(&r);

	res = stored("kannel", "k-post-ucs2");
	ck_assert_str_eq(sql_col(res, C_BODY), text);
	ck_assert_str_eq(sql_col(res, C_MSISDN), "+84912345678");
	ck_assert_str_eq(sql_col(res, C_SHORTCODE), "8079");
	ck_assert_str_eq(sql_col(res, C_SENT), "1763865100");
	ck_assert_str_eq(sql_col(res, C_SMSC), "fakesmsc");
	hex = hex_encode(u16, n);
	ck_assert_str_eq(sql_col(res, C_RAWBODY), hex);
	assert_raw_request(sql_col(res, C_RAWREQ), "POST", "kannel-secret");
	assert_contains(sql_col(res, C_RAWREQ), "token=REDACTED");
	ck_assert_msg(
	    strcasestr(sql_col(res, C_RAWREQ), "X-Kannel-From") != NULL,
	    "raw_request lacks the headers: %s", sql_col(res, C_RAWREQ));
	free(hex);
	free(u16);
	PQclear(res);
}
END_TEST

/* Accept the secret in X-Pakn-Token and keep it out of storage. */
START_TEST(test_kannel_post_header_token)
{
	const char *text = "Góp ý: cần thêm đèn chiếu sáng ở ngõ 5";
	const char *headers[] = {"Content-Type: text/plain; charset=UTF-8",
	                         "X-Kannel-From: 84912345678",
	                         "X-Kannel-To: 8079",
	                         "X-Kannel-Time: 1763865110",
	                         "X-Kannel-Coding: 0",
	                         "X-Pakn-Token: kannel-secret",
	                         NULL};
	struct http_resp r;
	PGresult *res;

	http_request(port(), "POST", KANNEL_PATH "?id=k-post-hdr", headers,
	             text, strlen(text), &r);
	assert_status(&r, 200);
	ck_assert_str_eq(r.body, "OK\n");
	http_resp_free(&r);

	res = stored("kannel", "k-post-hdr");
	ck_assert_str_eq(sql_col(res, C_BODY), text);
	ck_assert_str_eq(sql_col(res, C_MSISDN), "+84912345678");
	ck_assert_str_eq(sql_col(res, C_SENT), "1763865110");
	/* The header carries the secret; it must not be recorded. */
	assert_raw_request(sql_col(res, C_RAWREQ), "POST", "kannel-secret");
	PQclear(res);
}
END_TEST

/* Store senders in E.164 and short codes as they are. */
START_TEST(test_phone_numbers)
{
	static const struct {
		const char *from, *to, *msisdn, *shortcode;
	} cases[] = {
	    {"0912345678", "8079", "+84912345678", "8079"},
	    {"84912345678", "8079", "+84912345678", "8079"},
	    {"+84912345678", "8079", "+84912345678", "8079"},
	    {"0987654321", "+84912000111", "+84987654321", "+84912000111"},
	};
	struct http_resp r;
	PGresult *res;
	char id[32];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(id, sizeof id, "k-phone-%zu", i);
		kannel_get(&(struct kannel_msg){.token = "kannel-secret",
		                                .from = cases[i].from,
		                                .to = cases[i].to,
		                                .text = "DV 5",
		                                .id = id},
		           &r);
		assert_status(&r, 200);
		http_resp_free(&r);
		res = stored("kannel", id);
		ck_assert_msg(strcmp(sql_col(res, C_MSISDN), cases[i].msisdn) ==
		                  0,
		              "from=%s stored as %s, want %s", cases[i].from,
		              sql_col(res, C_MSISDN), cases[i].msisdn);
		ck_assert_msg(
		    strcmp(sql_col(res, C_SHORTCODE), cases[i].shortcode) == 0,
		    "to=%s stored as %s, want %s", cases[i].to,
		    sql_col(res, C_SHORTCODE), cases[i].shortcode);
		PQclear(res);
	}
}
END_TEST

/* Store a signed Twilio-style callback and answer TwiML. */
START_TEST(test_twilio_signed)
{
	const char *vector[] = {"CallSid", "CA1234567890ABCDE",
	                        "Caller",  "+12349013030",
	                        "Digits",  "1234",
	                        "From",    "+12349013030",
	                        "To",      "+18005551212",
	                        NULL};
	const char *text = "Phản ánh: đèn đường hỏng ở ngõ 12, phường Láng";
	const char *kv[] = {"MessageSid",  "SM0123456789abcdef0123456789abcdef",
	                    "AccountSid",  "AC0123456789abcdef0123456789abcdef",
	                    "From",        "+84912345678",
	                    "To",          "+842873001234",
	                    "Body",        text,
	                    "NumSegments", "2",
	                    "NumMedia",    "0",
	                    NULL};
	struct http_resp r;
	PGresult *res;
	char *sig;

	/* The signer matches the provider's published test vector. */
	sig = twilio_signature(
	    "12345", "https://mycompany.com/myapp.php?foo=1&bar=2", vector);
	ck_assert_str_eq(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
	free(sig);

	twilio_post(TWILIO_KEY, kv, &r);
	assert_status(&r, 200);
	assert_ctype(&r, "text/xml");
	assert_contains(r.body, "<Response/>");
	http_resp_free(&r);

	res = stored("twilio", "SM0123456789abcdef0123456789abcdef");
	ck_assert_str_eq(sql_col(res, C_BODY), text);
	ck_assert_str_eq(sql_col(res, C_MSISDN), "+84912345678");
	ck_assert_str_eq(sql_col(res, C_SHORTCODE), "+842873001234");
	ck_assert_str_eq(sql_col(res, C_SEGMENTS), "2");
	ck_assert_ptr_null(sql_col(res, C_SENT));
	assert_raw_request(sql_col(res, C_RAWREQ), "POST", NULL);
	PQclear(res);
}
END_TEST

/* A UCS-2 message that starts with a byte order mark (FE FF) is stored
 * without U+FEFF, as is a UTF-8 one that starts with EF BB BF. */
START_TEST(test_bom_stripped)
{
	const char *text = "PA Đường Láng ngập nước";
	unsigned char *u16 = NULL, *bom;
	char *enc;
	size_t n;
	struct http_resp r;
	PGresult *res;

	u16 = utf8_to_utf16be(text, &n);
	ck_assert_ptr_nonnull(u16);
	bom = malloc(n + 2);
	memcpy(bom, "\xfe\xff", 2);
	memcpy(bom + 2, u16, n);
	enc = url_encode(bom, n + 2);
	kannel_get(&(struct kannel_msg){.token = "kannel-secret",
	                                .from = "0912345678",
	                                .to = "8079",
	                                .raw = enc,
	                                .ucs2 = 1,
	                                .id = "k-bom-ucs2"},
	           &r);
	assert_status(&r, 200);
	http_resp_free(&r);
	res = stored("kannel", "k-bom-ucs2");
	ck_assert_str_eq(sql_col(res, C_BODY), text);
	PQclear(res);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.complaint WHERE "
	                          "inbound_id = (SELECT id FROM "
	                          "pakn.inbound_message WHERE gateway_msg_id = "
	                          "'k-bom-ucs2') AND text = 'Đường Láng ngập "
	                          "nước' AND category_code = 'flooding'",
	                          NULL),
	                 1);
	free(enc);

	enc = strf("%%EF%%BB%%BF%s", "PA+den+hong");
	kannel_get(&(struct kannel_msg){.token = "kannel-secret",
	                                .from = "0912345678",
	                                .to = "8079",
	                                .raw = enc,
	                                .id = "k-bom-utf8"},
	           &r);
	assert_status(&r, 200);
	http_resp_free(&r);
	res = stored("kannel", "k-bom-utf8");
	ck_assert_str_eq(sql_col(res, C_BODY), "PA den hong");
	PQclear(res);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.inbound_message "
	                          "WHERE strpos(body, U&'\\FEFF') > 0",
	                          NULL),
	                 0);
	free(enc);
	free(bom);
	free(u16);
}
END_TEST

/* A 60 KB message of 30 000 words (no SMS is that long) is answered 200
 * at once: its text is stored cut to max_sms_text characters and
 * flagged, raw_body keeps it whole, the classifier reads only its head;
 * a text longer than its reported parts can carry is cut there. */
START_TEST(test_long_message_cut)
{
	const char *headers[] = {"Content-Type: text/plain; charset=UTF-8",
	                         "X-Kannel-From: 0912000060",
	                         "X-Kannel-To: 8079", NULL};
	const char *head = "PA ngap nuoc ";
	size_t len = strlen(head) + 2 * 30000;
	char *body = malloc(len + 1), *long_text, *cat;
	const char *kv[] = {"MessageSid",  "SM-cut-1",
	                    "From",        "+84912000061",
	                    "To",          "+842873001234",
	                    "Body",        NULL,
	                    "NumSegments", "1",
	                    NULL};
	struct paknd d;
	struct http_resp r;
	PGresult *res;

	memcpy(body, head, strlen(head));
	for (size_t i = strlen(head); i < len; i += 2)
		memcpy(body + i, "a ", 2);
	body[len] = '\0';
	ck_assert_int_eq(
	    paknd_start(&d, "long", "[server]\nmax_body_size = 131072\n"), 0);
	ck_assert_int_eq(paknd_wait_ready(&d, 10), 0);
	http_request(d.port, "POST",
	             KANNEL_PATH "?token=kannel-secret&id=cut-1", headers, body,
	             len, &r);
	assert_status(&r, 200);
	http_resp_free(&r);
	res = sql_query("SELECT char_length(body), text_cut, "
	                "octet_length(raw_body) FROM pakn.inbound_message "
	                "WHERE gateway_msg_id = 'cut-1'",
	                NULL);
	ck_assert_int_eq(PQntuples(res), 1);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "39015");
	ck_assert_str_eq(PQgetvalue(res, 0, 1), "t");
	ck_assert_int_eq(atol(PQgetvalue(res, 0, 2)), (long)len);
	PQclear(res);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.complaint WHERE "
	                          "msisdn = '+84912000060' AND category_code "
	                          "= 'flooding' AND char_length(text) <= 39015",
	                          NULL),
	                 1);
	cat = log_grep(d.log, 0, "cut (max_sms_text 39015");
	ck_assert_ptr_nonnull(cat);
	free(cat);
	ck_assert_int_eq(paknd_finish(&d, NULL), 0);

	/* The classifier reads the head only (speed is the benchmark's
	 * business): a keyword after 30 000 words is not read, neither by
	 * pakn.classify nor by the full classification of complaints. */
	body[len - 2] = '\0';
	long_text = strf("%s ngap nuoc", body + strlen(head));
	cat = sql_value("SELECT pakn.classify($1)", long_text, NULL);
	ck_assert_str_eq(cat, "general");
	free(cat);
	cat = sql_value("SELECT pakn.category_of($1)", long_text, NULL);
	ck_assert_str_eq(cat, "general");
	free(cat);

	/* One part reported: at most 160 characters. */
	long_text[400] = '\0';
	kv[7] = long_text;
	twilio_post(TWILIO_KEY, kv, &r);
	assert_status(&r, 200);
	http_resp_free(&r);
	res = stored("twilio", "SM-cut-1");
	ck_assert_int_eq(strlen(sql_col(res, C_BODY)), 160);
	PQclear(res);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.inbound_message "
	                          "WHERE gateway_msg_id = 'SM-cut-1' AND "
	                          "text_cut",
	                          NULL),
	                 1);
	free(long_text);
	free(body);
}
END_TEST

/* Refuse missing, wrong and stale Twilio signatures. */
START_TEST(test_twilio_bad_signature)
{
	const char *kv[] = {"MessageSid", "SMbad0000000000000000000000000001",
	                    "From",       "+84912345678",
	                    "To",         "+842873001234",
	                    "Body",       "Xin chào",
	                    NULL};
	const char *forged[] = {
	    "MessageSid", "SMbad0000000000000000000000000001",
	    "From",       "+84912345678",
	    "To",         "+842873001234",
	    "Body",       "Xin chào",
	    NULL};
	char *sig, *hdr;
	const char *headers[2] = {NULL, NULL};
	struct http_resp r;

	twilio_post(NULL, kv, &r);
	assert_refused(&r, 401, "twilio", kv[1]);
	twilio_post("54321", kv, &r);
	assert_refused(&r, 403, "twilio", kv[1]);

	/* A signature over other content does not sign this body. */
	forged[7] = "Xin chào!";
	sig = twilio_signature(TWILIO_KEY, TWILIO_URL, forged);
	hdr = strf("X-Twilio-Signature: %s", sig);
	headers[0] = hdr;
	form_post(TWILIO_PATH, headers, kv, &r);
	assert_refused(&r, 403, "twilio", kv[1]);
	free(sig);
	free(hdr);
}
END_TEST

/* Store an Africa's Talking callback with its UTC date. */
START_TEST(test_at_form)
{
	const char *text = "Tôi muốn góp ý về thủ tục & lệ phí = 50.000đ";
	const char *kv[] = {"from",   "+84912345678",
	                    "to",     "8079",
	                    "text",   text,
	                    "date",   "2026-11-23 02:31:26",
	                    "id",     "ATXid_0123456789abcdef",
	                    "linkId", "SampleLinkId123",
	                    NULL};
	struct http_resp r;
	PGresult *res;

	form_post(AT_PATH "?token=at-secret", NULL, kv, &r);
	assert_status(&r, 200);
	ck_assert_uint_eq(r.len, 0);
	assert_ctype(&r, "text/plain");
	http_resp_free(&r);

	res = stored("at", "ATXid_0123456789abcdef");
	ck_assert_str_eq(sql_col(res, C_BODY), text);
	ck_assert_str_eq(sql_col(res, C_MSISDN), "+84912345678");
	ck_assert_str_eq(sql_col(res, C_SHORTCODE), "8079");
	/* The provider's date is UTC. */
	ck_assert_str_eq(sql_col(res, C_SENT), "1795401086");
	assert_raw_request(sql_col(res, C_RAWREQ), "POST", "at-secret");
	assert_contains(sql_col(res, C_RAWREQ), "token=REDACTED");
	PQclear(res);
}
END_TEST

/* Acknowledge a repeated callback and store it once. */
START_TEST(test_duplicates)
{
	const struct kannel_msg k = {.token = "kannel-secret",
	                             .from = "0912345678",
	                             .to = "8079",
	                             .text = "Trùng lặp",
	                             .ucs2 = 1,
	                             .id = "dup-1",
	                             .ts = "1763865200"};
	const char *at[] = {
	    "from", "+84912345678",        "to", "8079",  "text",   "Trùng lặp",
	    "date", "2026-11-23 02:31:26", "id", "dup-1", "linkId", "L1",
	    NULL};
	const char *tw[] = {"MessageSid", "SMdup00000000000000000000000000001",
	                    "From",       "+84912345678",
	                    "To",         "+842873001234",
	                    "Body",       "Trùng lặp",
	                    NULL};
	struct http_resp r;
	int i;

	for (i = 0; i < 2; i++) {
		kannel_get(&k, &r);
		assert_status(&r, 200);
		ck_assert_str_eq(r.body, "OK\n");
		http_resp_free(&r);
		form_post(AT_PATH "?token=at-secret", NULL, at, &r);
		assert_status(&r, 200);
		http_resp_free(&r);
		twilio_post(TWILIO_KEY, tw, &r);
		assert_status(&r, 200);
		http_resp_free(&r);
	}
	ck_assert_int_eq(stored_count("kannel", "dup-1"), 1);
	ck_assert_int_eq(stored_count("at", "dup-1"), 1);
	ck_assert_int_eq(stored_count("twilio", tw[1]), 1);
}
END_TEST

/* Refuse a missing token with 401 and a wrong one with 403. */
START_TEST(test_tokens)
{
	struct kannel_msg k = {.from = "0912345678",
	                       .to = "8079",
	                       .text = "Không có mã",
	                       .id = "tok-1"};
	const char *wrong_hdr[] = {"Content-Type: text/plain; charset=UTF-8",
	                           "X-Kannel-From: 0912345678",
	                           "X-Kannel-To: 8079",
	                           "X-Pakn-Token: kannel-secreT", NULL};
	const char *at[] = {
	    "from", "+84912345678",        "to", "8079",   "text",   "Sai mã",
	    "date", "2026-11-23 02:31:26", "id", "tok-at", "linkId", "L2",
	    NULL};
	static const char *wrong[] = {"wrong", "kannel-secre", "kannel-secretX",
	                              "at-secret"};
	struct http_resp r;
	size_t i;

	kannel_get(&k, &r);
	assert_refused(&r, 401, "kannel", "tok-1");
	for (i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
		k.token = wrong[i];
		kannel_get(&k, &r);
		ck_assert_msg(r.status == 403,
		              "token \"%s\": HTTP %ld, want 403", wrong[i],
		              r.status);
		assert_refused(&r, 403, "kannel", "tok-1");
	}
	http_request(port(), "POST", KANNEL_PATH "?id=tok-2", wrong_hdr, "x", 1,
	             &r);
	assert_refused(&r, 403, "kannel", "tok-2");

	form_post(AT_PATH, NULL, at, &r);
	assert_refused(&r, 401, "at", "tok-at");
	form_post(AT_PATH "?token=kannel-secret", NULL, at, &r);
	assert_refused(&r, 403, "at", "tok-at");
}
END_TEST

/* Refuse broken percent-encoding with 400. */
START_TEST(test_bad_percent_encoding)
{
	static const char *bad[] = {"%ZZ", "abc%4", "%G1bc", "abc%"};
	struct kannel_msg k = {.token = "kannel-secret",
	                       .from = "0912345678",
	                       .to = "8079",
	                       .id = "pct-1"};
	const char *at_body =
	    "from=%2B84912345678&to=8079&text=b%E1%BA%A1n%Z1"
	    "&date=2026-11-23+02%3A31%3A26&id=pct-at&linkId=L3";
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		k.raw = bad[i];
		kannel_get(&k, &r);
		ck_assert_msg(r.status == 400, "text=%s: HTTP %ld, want 400",
		              bad[i], r.status);
		assert_refused(&r, 400, "kannel", "pct-1");
	}
	http_request(port(), "GET",
	             KANNEL_PATH "?token=kannel-secret&from=%2&to=8079&text=x"
	                         "&coding=0&charset=UTF-8&id=pct-2",
	             NULL, NULL, 0, &r);
	assert_refused(&r, 400, "kannel", "pct-2");
	http_request(port(), "POST", AT_PATH "?token=at-secret", NULL, at_body,
	             strlen(at_body), &r);
	assert_refused(&r, 400, "at", "pct-at");
}
END_TEST

/* Refuse text that is not UTF-8 with 400. */
START_TEST(test_invalid_utf8)
{
	static const char *bad[] = {"%C3%28",       "%C0%AF",    "%ED%A0%80",
	                            "%F5%80%80%80", "abc%E1%BA", "%FF"};
	struct kannel_msg k = {.token = "kannel-secret",
	                       .from = "0912345678",
	                       .to = "8079",
	                       .id = "u8-1"};
	const char *headers[] = {"Content-Type: text/plain; charset=UTF-8",
	                         "X-Kannel-From: 0912345678",
	                         "X-Kannel-To: 8079", NULL};
	const char *at_body =
	    "from=%2B84912345678&to=8079&text=b%C3%28n"
	    "&date=2026-11-23+02%3A31%3A26&id=u8-at&linkId=L4";
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		k.raw = bad[i];
		kannel_get(&k, &r);
		ck_assert_msg(r.status == 400, "text=%s: HTTP %ld, want 400",
		              bad[i], r.status);
		assert_refused(&r, 400, "kannel", "u8-1");
	}
	http_request(port(), "POST", KANNEL_PATH "?token=kannel-secret&id=u8-2",
	             headers, "b\xff\xfe", 3, &r);
	assert_refused(&r, 400, "kannel", "u8-2");
	http_request(port(), "POST", AT_PATH "?token=at-secret", NULL, at_body,
	             strlen(at_body), &r);
	assert_refused(&r, 400, "at", "u8-at");
}
END_TEST

/* Refuse odd-length and unpaired-surrogate UTF-16 with 400. */
START_TEST(test_invalid_utf16)
{
	static const char *bad[] = {"%01%10%01", "%D8%00%00A", "%00A%DC%00",
	                            "%00A%D8%3D"};
	struct kannel_msg k = {.token = "kannel-secret",
	                       .from = "0912345678",
	                       .to = "8079",
	                       .ucs2 = 1,
	                       .id = "u16-1"};
	const char *headers[] = {"Content-Type: text/plain; charset=UTF-16BE",
	                         "X-Kannel-From: 0912345678",
	                         "X-Kannel-To: 8079", "X-Kannel-Coding: 2",
	                         NULL};
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		k.raw = bad[i];
		kannel_get(&k, &r);
		ck_assert_msg(r.status == 400, "text=%s: HTTP %ld, want 400",
		              bad[i], r.status);
		assert_refused(&r, 400, "kannel", "u16-1");
	}
	http_request(port(), "POST",
	             KANNEL_PATH "?token=kannel-secret&id=u16-2", headers,
	             "\x01\x10\x01\xb0\x1e", 5, &r);
	assert_refused(&r, 400, "kannel", "u16-2");
}
END_TEST

/* Refuse callbacks without sender, receiver or text with 400. */
START_TEST(test_missing_fields)
{
	const struct kannel_msg cases[] = {
	    {.token = "kannel-secret", .to = "8079", .text = "x", .id = "mf-1"},
	    {.token = "kannel-secret",
	     .from = "0912345678",
	     .text = "x",
	     .id = "mf-1"},
	    {.token = "kannel-secret",
	     .from = "0912345678",
	     .to = "8079",
	     .id = "mf-1"},
	};
	const char *tw[] = {"MessageSid", "SMmissing000000000000000000000001",
	                    "To",         "+842873001234",
	                    "Body",       "Thiếu số gửi",
	                    NULL};
	const char *at_notext[] = {"from", "+84912345678",        "to", "8079",
	                           "date", "2026-11-23 02:31:26", "id", "mf-at",
	                           NULL};
	const char *at_nofrom[] = {"to", "8079",  "text",
	                           "x",  "date",  "2026-11-23 02:31:26",
	                           "id", "mf-at", NULL};
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		kannel_get(&cases[i], &r);
		ck_assert_msg(r.status == 400, "case %zu: HTTP %ld, want 400",
		              i, r.status);
		assert_refused(&r, 400, "kannel", "mf-1");
	}
	twilio_post(TWILIO_KEY, tw, &r);
	assert_refused(&r, 400, "twilio", tw[1]);
	form_post(AT_PATH "?token=at-secret", NULL, at_notext, &r);
	assert_refused(&r, 400, "at", "mf-at");
	form_post(AT_PATH "?token=at-secret", NULL, at_nofrom, &r);
	assert_refused(&r, 400, "at", "mf-at");
}
END_TEST

/* Accept a body of max_body_size bytes and refuse larger ones. */
START_TEST(test_body_size)
{
	const char *headers[] = {"Content-Type: text/plain; charset=UTF-8",
	                         "X-Kannel-From: 0912345678",
	                         "X-Kannel-To: 8079", NULL};
	char *body = malloc(20000);
	struct http_resp r;

	/* max_body_size = 4096 in the test config: the limit itself fits. */
	memset(body, 'a', 20000);
	http_request(port(), "POST",
	             KANNEL_PATH "?token=kannel-secret&id=size-ok", headers,
	             body, 4096, &r);
	assert_status(&r, 200);
	http_resp_free(&r);
	ck_assert_int_eq(sql_long("SELECT octet_length(body) FROM "
	                          "pakn.inbound_message WHERE gateway = "
	                          "'kannel' AND gateway_msg_id = 'size-ok'",
	                          NULL),
	                 4096);

	http_request(port(), "POST",
	             KANNEL_PATH "?token=kannel-secret&id=size-1", headers,
	             body, 4097, &r);
	assert_refused(&r, 413, "kannel", "size-1");
	http_request(port(), "POST",
	             KANNEL_PATH "?token=kannel-secret&id=size-2", headers,
	             body, 20000, &r);
	assert_refused(&r, 413, "kannel", "size-2");
	free(body);

	/* The shared paknd keeps serving after refusing. */
	http_get(port(), "/healthz", &r);
	assert_status(&r, 200);
	http_resp_free(&r);
}
END_TEST

/* Answer 404 for gateways and paths that do not exist. */
START_TEST(test_unknown_gateway)
{
	static const char *paths[] = {
	    "/v1/gw/nope/sms?token=kannel-secret&from=0912345678&to=8079"
	    "&text=x&id=unk-1",
	    "/v1/gw//sms?token=kannel-secret&from=0912345678&to=8079&text=x"
	    "&id=unk-1",
	    "/nowhere",
	};
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof paths / sizeof paths[0]; i++) {
		http_get(port(), paths[i], &r);
		ck_assert_msg(r.status == 404, "GET %s: HTTP %ld, want 404",
		              paths[i], r.status);
		assert_error_body(&r);
		http_resp_free(&r);
	}
	http_request(port(), "POST", "/v1/gw/nope/sms?token=at-secret", NULL,
	             "from=1&to=2&text=3&id=unk-1", 27, &r);
	ck_assert_int_eq(r.status, 404);
	http_resp_free(&r);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.inbound_message "
	                          "WHERE gateway_msg_id = 'unk-1'",
	                          NULL),
	                 0);
}
END_TEST

/* Answer 200 concurrent callbacks and store each once. */
START_TEST(test_concurrent_callbacks)
{
	enum { N = 200 };
	struct http_req reqs[N];
	long status[N];
	char id[32], text[64];
	double t0, secs;
	int i, ok = 0;

	for (i = 0; i < N; i++) {
		snprintf(id, sizeof id, "conc-%03d", i);
		snprintf(text, sizeof text, "Phản ánh số %d", i);
		reqs[i] =
		    (struct http_req){.method = "GET",
		                      .path = kannel_path(&(struct kannel_msg){
		                          .token = "kannel-secret",
		                          .from = "0912345678",
		                          .to = "8079",
		                          .text = text,
		                          .ucs2 = i % 2,
		                          .id = id})};
	}
	t0 = now_secs();
	ck_assert_int_eq(http_multi(port(), reqs, N, status), 0);
	secs = now_secs() - t0;
	for (i = 0; i < N; i++) {
		if (status[i] == 200)
			ok++;
		else
			fprintf(stderr, "conc-%03d: HTTP %ld\n", i, status[i]);
		free(reqs[i].path);
	}
	if (ok != N)
		paknd_dump(harness_main());
	ck_assert_msg(ok == N, "%d of %d concurrent callbacks answered 200", ok,
	              N);
	ck_assert_msg(secs < 15, "%d callbacks took %.1f s", N, secs);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.inbound_message "
	                          "WHERE gateway = 'kannel' AND "
	                          "gateway_msg_id LIKE 'conc-%'",
	                          NULL),
	                 N);
	/* Each row holds its own message, whatever batch it was in. */
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.inbound_message "
	                          "WHERE gateway = 'kannel' AND "
	                          "gateway_msg_id LIKE 'conc-%' AND body = "
	                          "'Phản ánh số ' || "
	                          "substr(gateway_msg_id, 6)::int",
	                          NULL),
	                 N);
}
END_TEST

/* Store a callback sent the moment paknd accepts connections. */
START_TEST(test_callback_at_start)
{
	struct paknd d;
	struct kannel_msg k = {.token = "kannel-secret",
	                       .from = "0912345678",
	                       .to = "8079",
	                       .text = "Vừa khởi động",
	                       .id = "start-1"};
	struct http_resp r;

	/*
	 * A gateway sends as soon as paknd accepts connections; Kannel with
	 * its default http-request-retry = 0 loses a message answered 503,
	 * so a reachable database must not be reported unavailable while
	 * the pool is still connecting.
	 */
	ck_assert_int_eq(paknd_start(&d, "start", NULL), 0);
	kannel_get_to(d.port, &k, &r);
	assert_status_of(&d, &r, 200);
	http_resp_free(&r);
	ck_assert_int_eq(stored_count("kannel", "start-1"), 1);
	assert_exit(paknd_stop(&d, 5), 0, "paknd after SIGTERM");
}
END_TEST

/* paknd -n accepts a good file and names the bad line of another. */
START_TEST(test_config_check)
{
	char *good_text = paknd_config_text(1, "pakn", 1, NULL);
	char *bad_text = paknd_config_text(
	    1, "pakn", 1,
	    "[gateway.bad]\ntype = kannel\ntoken = x\ncolour = blue\n");
	char *good = write_tmp("check-good.conf", good_text);
	char *bad = write_tmp("check-bad.conf", bad_text);
	char err[PATH_MAX], *msg, *where;
	char *argv[] = {(char *)paknd_path(), "-n", "-c", good, NULL};
	int status;

	harness_path(err, sizeof err, "check-n.err");
	status = harness_run(argv, err, err, 10);
	if (status != 0)
		log_tail(err, 10);
	assert_exit(status, 0, "paknd -n on a good config");

	unlink(err);
	argv[3] = bad;
	status = harness_run(argv, err, err, 10);
	msg = file_read(err, NULL);
	assert_exit(status, 1, "paknd -n on a bad config");
	where = strf("check-bad.conf:%d", line_of(bad_text, "colour"));
	ck_assert_msg(msg != NULL && strstr(msg, where) != NULL,
	              "stderr does not name %s: \"%s\"", where, msg ? msg : "");
	free(where);
	free(msg);

	unlink(err);
	argv[3] = "/nonexistent/paknd.conf";
	assert_exit(harness_run(argv, err, err, 10), 1,
	            "paknd -n on a missing file");
	free(good_text);
	free(bad_text);
	free(good);
	free(bad);
}
END_TEST

/* paknd -n refuses bad values, naming their line. */
START_TEST(test_config_bad_values)
{
	static const struct {
		const char *from, *to;
	} edits[] = {
	    {"pool_size = 4", "pool_size = many"},
	    {"type = twilio", "type = smpp"},
	    {"migrate = yes", "migrate = perhaps"},
	    {"max_body_size = 4096", "max_body_size = -1"},
	};
	char err[PATH_MAX], *text, *path, *p, *msg, *where;
	char *argv[] = {(char *)paknd_path(), "-n", "-c", NULL, NULL};
	size_t i;

	harness_path(err, sizeof err, "check-values.err");
	for (i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		text = paknd_config_text(1, "pakn", 1, NULL);
		p = strstr(text, edits[i].from);
		ck_assert_ptr_nonnull(p);
		p = strf("%.*s%s%s", (int)(p - text), text, edits[i].to,
		         p + strlen(edits[i].from));
		free(text);
		text = p;
		path = write_tmp("check-values.conf", text);
		argv[3] = path;
		unlink(err);
		assert_exit(harness_run(argv, err, err, 10), 1, edits[i].to);
		msg = file_read(err, NULL);
		where =
		    strf("check-values.conf:%d", line_of(text, edits[i].to));
		ck_assert_msg(msg != NULL && strstr(msg, where) != NULL,
		              "\"%s\": stderr does not name %s: \"%s\"",
		              edits[i].to, where, msg ? msg : "");
		free(where);
		free(msg);
		free(path);
		free(text);
	}
}
END_TEST

/* paknctl migrate applies every migration once. */
START_TEST(test_paknctl_migrate)
{
	char *conf_text = paknd_config_text(1, "pakn_ctl", 0, NULL);
	char *conf = write_tmp("ctl.conf", conf_text);
	char *argv[] = {(char *)paknctl_path(), "-c", conf, "migrate", NULL};
	char out[PATH_MAX], *first, *second, *before, *after, *table;
	PGresult *res;
	int i;

	ck_assert_int_eq(sql_exec_db("postgres", "CREATE DATABASE pakn_ctl"),
	                 0);
	harness_path(out, sizeof out, "ctl-1.out");
	assert_exit(harness_run(argv, out, out, 30), 0, "paknctl migrate");
	first = file_read(out, NULL);

	/* Every migration of the tree is applied, recorded and printed. */
	res = sql_query_db(
	    "pakn_ctl",
	    "SELECT name FROM pakn.schema_migration ORDER BY version", NULL);
	ck_assert_ptr_nonnull(res);
	ck_assert_int_eq(PQntuples(res), (int)migration_files());
	for (i = 0; i < PQntuples(res); i++)
		ck_assert_msg(
		    strstr(first, PQgetvalue(res, i, 0)) != NULL,
		    "paknctl migrate does not say it applied %s: \"%s\"",
		    PQgetvalue(res, i, 0), first);
	PQclear(res);
	table = sql_value_db(
	    "pakn_ctl", "SELECT to_regclass('pakn.inbound_message')", NULL);
	ck_assert_msg(table != NULL, "no table pakn.inbound_message");
	free(table);
	before = sql_value_db(
	    "pakn_ctl",
	    "SELECT string_agg(version || ' ' || applied_at, ',' ORDER BY "
	    "version) FROM pakn.schema_migration",
	    NULL);

	/* A second run applies nothing and succeeds. */
	harness_path(out, sizeof out, "ctl-2.out");
	assert_exit(harness_run(argv, out, out, 30), 0,
	            "second paknctl migrate");
	second = file_read(out, NULL);
	after = sql_value_db(
	    "pakn_ctl",
	    "SELECT string_agg(version || ' ' || applied_at, ',' ORDER BY "
	    "version) FROM pakn.schema_migration",
	    NULL);
	ck_assert_str_eq(after, before);
	res = sql_query_db("pakn_ctl", "SELECT name FROM pakn.schema_migration",
	                   NULL);
	ck_assert_ptr_nonnull(res);
	for (i = 0; i < PQntuples(res); i++)
		ck_assert_msg(strstr(second, PQgetvalue(res, i, 0)) == NULL,
		              "the second paknctl migrate applied %s again: "
		              "\"%s\"",
		              PQgetvalue(res, i, 0), second);
	PQclear(res);

	/* The shared database, migrated by paknd at start, is current. */
	argv[2] = harness_main()->conf;
	assert_exit(harness_run(argv, out, out, 30), 0,
	            "paknctl migrate on the paknd database");
	ck_assert_int_eq(
	    sql_long("SELECT count(*) FROM pakn.schema_migration", NULL),
	    (long)migration_files());
	free(first);
	free(second);
	free(before);
	free(after);
	free(conf);
	free(conf_text);
}
END_TEST

/* Report not ready until the schema is migrated. */
START_TEST(test_readyz_needs_migrations)
{
	struct paknd d;
	struct http_resp r;
	char *argv[] = {(char *)paknctl_path(), "-c", d.conf, "migrate", NULL};
	char out[PATH_MAX];
	long status;

	/* A database without the schema: the statements cannot prepare. */
	harness_expect_pg("does not exist");
	harness_expect_log("does not exist");
	ck_assert_int_eq(sql_exec_db("postgres", "CREATE DATABASE pakn_ready"),
	                 0);
	ck_assert_int_eq(paknd_config(&d, "ready", "pakn_ready", 0, NULL), 0);
	ck_assert_msg(
	    paknd_spawn(&d) == 0,
	    "paknd with migrate = no on an empty database does not start");
	http_get(d.port, "/readyz", &r);
	assert_status_of(&d, &r, 503);
	http_resp_free(&r);
	http_get(d.port, "/healthz", &r);
	assert_status_of(&d, &r, 200);
	http_resp_free(&r);

	harness_path(out, sizeof out, "ready.out");
	assert_exit(harness_run(argv, out, out, 30), 0, "paknctl migrate");
	status = poll_status(d.port, "/readyz", 200, 5);
	if (status != 200)
		paknd_dump(&d);
	ck_assert_msg(status == 200, "/readyz %ld 5 s after migrating", status);
	/* A function file changed behind this build: not ready. */
	ck_assert_int_eq(sql_exec_db("pakn_ready",
	                             "UPDATE pakn.schema_function SET checksum "
	                             "= 'other' WHERE file = 'sms'"),
	                 0);
	http_get(d.port, "/readyz", &r);
	assert_status_of(&d, &r, 503);
	ck_assert_msg(strstr(r.body, "function files applied") != NULL, "%s",
	              r.body);
	http_resp_free(&r);
	/* Unless a newer build migrated the database (its schema file
	 * recorded): its functions keep this build's calls working. */
	ck_assert_int_eq(sql_exec_db("pakn_ready",
	                             "INSERT INTO pakn.schema_migration "
	                             "(version, name, checksum) VALUES (999, "
	                             "'999_newer', repeat('1', 64))"),
	                 0);
	http_get(d.port, "/readyz", &r);
	assert_status_of(&d, &r, 200);
	http_resp_free(&r);
	assert_exit(paknd_stop(&d, 5), 0, "paknd after SIGTERM");
}
END_TEST

/* SIGHUP with a new gateway makes it accept callbacks. */
START_TEST(test_sighup_adds_gateway)
{
	struct paknd d;
	struct kannel_msg k = {.gw = "extra",
	                       .token = "extra-secret",
	                       .from = "0912345678",
	                       .to = "8079",
	                       .text = "Cổng mới",
	                       .ucs2 = 1,
	                       .id = "hup-1"};
	struct http_resp r;
	double end;
	PGresult *res;

	/* The reply queued through "extra" reaches the shared instance's
	 * outbox too, which has no such gateway and says so. */
	harness_expect_log("no gateway extra configured");
	ck_assert_int_eq(paknd_start(&d, "hup", NULL), 0);
	ck_assert_int_eq(paknd_wait_ready(&d, 10), 0);
	kannel_get_to(d.port, &k, &r);
	assert_status_of(&d, &r, 404);
	http_resp_free(&r);

	ck_assert_int_eq(paknd_rewrite(&d, "pakn", 1,
	                               "[gateway.extra]\ntype = kannel\n"
	                               "token = extra-secret\n"),
	                 0);
	ck_assert_int_eq(paknd_signal(&d, SIGHUP), 0);
	end = now_secs() + 5;
	for (;;) {
		kannel_get_to(d.port, &k, &r);
		if (r.status != 404 || now_secs() > end)
			break;
		http_resp_free(&r);
		sleep_ms(50);
	}
	assert_status_of(&d, &r, 200);
	ck_assert_str_eq(r.body, "OK\n");
	http_resp_free(&r);
	res = stored("extra", "hup-1");
	ck_assert_str_eq(sql_col(res, C_BODY), "Cổng mới");
	PQclear(res);

	/* The gateways it had still work. */
	k.gw = NULL;
	k.token = "kannel-secret";
	k.id = "hup-2";
	kannel_get_to(d.port, &k, &r);
	assert_status_of(&d, &r, 200);
	http_resp_free(&r);
	ck_assert_int_eq(stored_count("kannel", "hup-2"), 1);
	assert_exit(paknd_stop(&d, 5), 0, "paknd after SIGTERM");
}
END_TEST

/* SIGHUP with an invalid file keeps the running configuration. */
START_TEST(test_sighup_rejects_invalid)
{
	const char *extra = "[gateway.extra2]\ntype = kannel\n"
	                    "token = extra2-secret\ncolour = blue\n";
	struct paknd d;
	struct kannel_msg k = {.token = "kannel-secret",
	                       .from = "0912345678",
	                       .to = "8079",
	                       .text = "Vẫn chạy",
	                       .id = "badhup-1"};
	char *text, *where, *lines;
	struct http_resp r;
	size_t from;

	ck_assert_int_eq(paknd_start(&d, "badhup", NULL), 0);
	ck_assert_int_eq(paknd_wait_ready(&d, 10), 0);
	from = file_size(d.log);
	ck_assert_int_eq(paknd_rewrite(&d, "pakn", 1, extra), 0);
	text = file_read(d.conf, NULL);
	where = strf("paknd-badhup.conf:%d", line_of(text, "colour"));
	ck_assert_int_eq(paknd_signal(&d, SIGHUP), 0);
	if (log_wait(d.log, from, where, 5) != 0)
		paknd_dump(&d);
	lines = log_grep(d.log, from, where);
	ck_assert_msg(lines != NULL,
	              "the log does not say why the reload "
	              "was rejected (want a line naming %s)",
	              where);
	ck_assert_msg(strcasestr(lines, "reload") != NULL ||
	                  strcasestr(lines, "reject") != NULL ||
	                  strcasestr(lines, "keep") != NULL,
	              "the log line does not say the reload was rejected: %s",
	              lines);

	ck_assert_msg(paknd_alive(&d), "paknd died on an invalid reload");
	kannel_get_to(d.port, &k, &r);
	assert_status_of(&d, &r, 200);
	http_resp_free(&r);
	ck_assert_int_eq(stored_count("kannel", "badhup-1"), 1);
	k.gw = "extra2";
	k.token = "extra2-secret";
	k.id = "badhup-2";
	kannel_get_to(d.port, &k, &r);
	assert_status_of(&d, &r, 404);
	http_resp_free(&r);
	assert_exit(paknd_stop(&d, 5), 0, "paknd after SIGTERM");
	free(lines);
	free(where);
	free(text);
}
END_TEST

/* SIGTERM ends paknd with status 0 and no error logged. */
START_TEST(test_sigterm)
{
	struct paknd d;
	struct kannel_msg k = {.token = "kannel-secret",
	                       .from = "0912345678",
	                       .to = "8079",
	                       .text = "Tạm biệt",
	                       .id = "term-1"};
	struct http_resp r;
	double t0, secs;
	char *errors;
	int status;

	ck_assert_int_eq(paknd_start(&d, "term", NULL), 0);
	ck_assert_int_eq(paknd_wait_ready(&d, 10), 0);
	kannel_get_to(d.port, &k, &r);
	assert_status_of(&d, &r, 200);
	http_resp_free(&r);
	t0 = now_secs();
	status = paknd_stop(&d, 5);
	secs = now_secs() - t0;
	if (status != 0)
		paknd_dump(&d);
	assert_exit(status, 0, "paknd after SIGTERM");
	ck_assert_msg(secs < 5, "paknd took %.1f s to exit", secs);
	errors = log_grep(d.log, 0, "[error]");
	ck_assert_msg(errors == NULL, "paknd logged errors:\n%s", errors);
	ck_assert_int_eq(stored_count("kannel", "term-1"), 1);
}
END_TEST

/* Answer 503 fast while PostgreSQL is down, recover after. */
START_TEST(test_database_down)
{
	struct kannel_msg k = {.token = "kannel-secret",
	                       .from = "0912345678",
	                       .to = "8079",
	                       .text = "Mất kết nối",
	                       .ucs2 = 1,
	                       .id = "down-1"};
	const char *at[] = {
	    "from", "+84912345678", "to",     "8079",
	    "text", "Mất kết nối",  "date",   "2026-11-23 02:31:26",
	    "id",   "down-at",      "linkId", "L5",
	    NULL};
	struct http_resp r;
	double t0;
	long status;

	/* PostgreSQL stops on purpose: paknd says so, and so does libpq. */
	harness_expect_log("db conn ");
	harness_expect_log("database unavailable");
	ck_assert_int_eq(pg_stop(), 0);

	/* The callbacks are kept in the journal and answered 2xx at once
	 * (a gateway that does not retry loses nothing). */
	kannel_get(&k, &r);
	assert_status(&r, 200);
	ck_assert_msg(r.secs < 2.0, "the journaled answer took %.2f s", r.secs);
	http_resp_free(&r);
	form_post(AT_PATH "?token=at-secret", NULL, at, &r);
	assert_status(&r, 200);
	ck_assert_msg(r.secs < 2.0, "the journaled answer took %.2f s", r.secs);
	http_resp_free(&r);
	ck_assert_msg(log_wait(harness_main()->log, 0,
	                       "message down-at kept in the journal", 5) == 0,
	              "no journal line in the log");
	http_get(port(), "/healthz", &r);
	assert_status(&r, 200);
	http_resp_free(&r);
	http_get(port(), "/readyz", &r);
	assert_status(&r, 503);
	ck_assert_msg(r.secs < 2.0, "/readyz took %.2f s", r.secs);
	http_resp_free(&r);

	/* When the database returns, paknd reconnects by itself, replays
	 * the journal, and processes what it kept: each message once. */
	ck_assert_int_eq(pg_start(), 0);
	t0 = now_secs();
	status = poll_status(port(), "/readyz", 200, 15);
	if (status != 200)
		paknd_dump(harness_main());
	ck_assert_msg(status == 200, "/readyz %ld %.1f s after the restart",
	              status, now_secs() - t0);
	while ((stored_count("kannel", "down-1") < 1 ||
	        stored_count("at", "down-at") < 1) &&
	       now_secs() - t0 < 20)
		sleep_ms(50);
	ck_assert_int_eq(stored_count("kannel", "down-1"), 1);
	ck_assert_int_eq(stored_count("at", "down-at"), 1);
	harness_settle();
	ck_assert_int_eq(
	    sql_long("SELECT count(*) FROM pakn.inbound_message WHERE "
	             "gateway_msg_id IN ('down-1', 'down-at') AND state = "
	             "'done'",
	             NULL),
	    2);
	/* The gateways' retries of the same messages are not stored again. */
	kannel_get(&k, &r);
	assert_status(&r, 200);
	http_resp_free(&r);
	form_post(AT_PATH "?token=at-secret", NULL, at, &r);
	assert_status(&r, 200);
	http_resp_free(&r);
	ck_assert_int_eq(stored_count("kannel", "down-1"), 1);
	ck_assert_int_eq(stored_count("at", "down-at"), 1);
}
END_TEST

/* No paknd log holds an error or a secret. */
START_TEST(test_logs_clean)
{
	static const char *secrets[] = {"kannel-secret", "at-secret",
	                                "extra-secret", "extra2-secret"};
	char pattern[PATH_MAX], *found;
	glob_t g;
	size_t i, j;

	harness_path(pattern, sizeof pattern, "paknd-*.log");
	ck_assert_int_eq(glob(pattern, 0, NULL, &g), 0);
	for (i = 0; i < g.gl_pathc; i++) {
		found = log_grep(g.gl_pathv[i], 0, "[error]");
		ck_assert_msg(found == NULL, "%s has errors:\n%s",
		              g.gl_pathv[i], found);
		for (j = 0; j < sizeof secrets / sizeof secrets[0]; j++) {
			found = log_grep(g.gl_pathv[i], 0, secrets[j]);
			ck_assert_msg(found == NULL, "%s shows a secret:\n%s",
			              g.gl_pathv[i], found);
		}
	}
	globfree(&g);
}
END_TEST

/* Build the suite, in the order the tests must run. */
static Suite *
integration_suite(void)
{
	Suite *s = suite_create("integration");
	TCase *tc;

	tc = tcase(s, "callbacks", 20);
	tcase_add_test(tc, test_health);
	tcase_add_test(tc, test_kannel_get_ucs2);
	tcase_add_test(tc, test_kannel_get_utf8);
	tcase_add_test(tc, test_kannel_get_surrogates);
	tcase_add_test(tc, test_kannel_post_ucs2);
	tcase_add_test(tc, test_kannel_post_header_token);
	tcase_add_test(tc, test_phone_numbers);
	tcase_add_test(tc, test_twilio_signed);
	tcase_add_test(tc, test_at_form);
	tcase_add_test(tc, test_duplicates);
	tcase_add_test(tc, test_bom_stripped);
	tcase_add_test(tc, test_long_message_cut);

	tc = tcase(s, "refusals", 20);
	tcase_add_test(tc, test_tokens);
	tcase_add_test(tc, test_twilio_bad_signature);
	tcase_add_test(tc, test_bad_percent_encoding);
	tcase_add_test(tc, test_invalid_utf8);
	tcase_add_test(tc, test_invalid_utf16);
	tcase_add_test(tc, test_missing_fields);
	tcase_add_test(tc, test_body_size);
	tcase_add_test(tc, test_unknown_gateway);

	tc = tcase(s, "load", 30);
	tcase_add_test(tc, test_concurrent_callbacks);

	tc = tcase(s, "tools", 30);
	tcase_add_test(tc, test_callback_at_start);
	tcase_add_test(tc, test_config_check);
	tcase_add_test(tc, test_config_bad_values);
	tcase_add_test(tc, test_paknctl_migrate);
	tcase_add_test(tc, test_readyz_needs_migrations);

	tc = tcase(s, "signals", 30);
	tcase_add_test(tc, test_sighup_adds_gateway);
	tcase_add_test(tc, test_sighup_rejects_invalid);
	tcase_add_test(tc, test_sigterm);

	tc = tcase(s, "database", 60);
	tcase_add_unchecked_fixture(tc, NULL, harness_ensure_pg);
	tcase_add_test(tc, test_database_down);

	tc = tcase(s, "logs", 10);
	tcase_add_test(tc, test_logs_clean);
	return s;
}

/* Start the servers, run the suite, check how paknd ended. */
int
main(void)
{
	struct paknd *d = harness_main();
	SRunner *sr;
	int failed;

	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "integration: cannot start PostgreSQL\n");
		return 99;
	}
	if (paknd_start(d, "main", NULL) == -1 ||
	    paknd_wait_ready(d, 10) == -1) {
		fprintf(stderr, "integration: paknd does not start\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(integration_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (paknd_finish(d, NULL) == -1)
		failed++;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
