/*
 * check_outbox.c: every SMS pakn sends leaves through the outbox. The real
 * paknd against a real PostgreSQL and fake SMS gateways (tests/fakegw):
 * each test queues messages (by an inbound SMS or by SQL), then asserts
 * what reaches the gateway, what the outbox row says, and what delivery
 * reports do to it.
 *
 * main() starts the cluster, one fakegw per behaviour, a port where
 * nothing listens, a socket that never answers, and one paknd whose
 * gateways point at them. Check forks every test; each uses its own
 * phone numbers, so the tests can share the servers.
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
#include <libpq-fe.h>

#include "harness.h"

#ifndef PAKN_SRCDIR
#define PAKN_SRCDIR "."
#endif

#define TWILIO_KEY   "12345"
#define TWILIO_URL   "https://pakn.example.vn"
#define TWILIO_BASIC "Basic QUMxMjM6dHdpbGlvLXBhc3M=" /* AC123:twilio-pass */
#define WAIT         10.0 /* seconds for a message to reach a state */
#define BACKLOG_RATE "2"  /* [outbox] backlog_rate */
#define BURST_RATE   "1"  /* [outbox] burst_rate in test_burst_rate */

/* The [outbox] burst_rate and [intake] yield_requests of write_conf:
 * the defaults but in test_burst_rate. */
static const char *burst_conf = "";

/* The fake gateways, one per behaviour. */
enum {
	FG_KANNEL,    /* Kannel, accepts everything */
	FG_TWILIO,    /* Twilio-style, accepts everything */
	FG_AT,        /* Africa's Talking, accepts everything */
	FG_FLAKY,     /* Kannel, 503 to the first two sends */
	FG_OPTOUT,    /* Twilio-style, 400 error 21610 to every send */
	FG_BLACKLIST, /* Africa's Talking, recipient UserInBlacklist */
	FG_LATE,      /* Africa's Talking, answers after 200 ms */
	NFG,
};

static struct fakegw fgs[NFG] = {
    [FG_KANNEL] = {"kannel", "kannel", NULL, NULL, 0, 0, ""},
    [FG_TWILIO] = {"twilio", "twilio", NULL, NULL, 0, 0, ""},
    [FG_AT] = {"at", "at", NULL, NULL, 0, 0, ""},
    [FG_FLAKY] = {"flaky", "kannel", "-f", "2", 0, 0, ""},
    [FG_OPTOUT] = {"optout", "twilio", "-s", "400", 0, 0, ""},
    [FG_BLACKLIST] = {"blacklist", "at", "-b",
                      "{\"SMSMessageData\":{\"Message\":\"Sent to 0/1\","
                      "\"Recipients\":[{\"statusCode\":406,\"number\":"
                      "\"+84900000702\",\"status\":\"UserInBlacklist\","
                      "\"cost\":\"0\",\"messageId\":\"None\"}]}}",
                      0, 0, ""},
    [FG_LATE] = {"late", "at", "-d", "200", 0, 0, ""},
};

static struct paknd D; /* the paknd under test */
static int down_port;  /* nothing listens here */
static int hole_port;  /* accepts connections, never answers */
static int hole_fd = -1;

/* Fail unless the answer has status want; show the daemon's log if not. */
#define assert_status(r, want)                                                 \
	do {                                                                   \
		const struct http_resp *r_ = (r);                              \
		if (r_->status != (want))                                      \
			paknd_dump(&D);                                        \
		ck_assert_msg(r_->status == (want),                            \
		              "HTTP status %ld, want %d; body \"%s\"",         \
		              r_->status, (want),                              \
		              r_->body != NULL ? r_->body : "");               \
	} while (0)

/* Listen on a free port and never accept: sends there time out. */
static int
hole_open(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof sa;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	hole_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (hole_fd == -1 || bind(hole_fd, (struct sockaddr *)&sa, sizeof sa) ||
	    listen(hole_fd, 64) != 0 ||
	    getsockname(hole_fd, (struct sockaddr *)&sa, &len) != 0)
		return -1;
	hole_port = ntohs(sa.sin_port);
	return 0;
}

/* The [gateway.*] sections: every gateway points at a fake one. */
static char *
gateways_conf(void)
{
	return strf(
	    "[gateway.kannel]\ntype = kannel\ntoken = kannel-secret\n"
	    "send_url = http://127.0.0.1:%d/cgi-bin/sendsms\n"
	    "username = pakn\npassword = kannel-pass\nsender = 1022\n"
	    "public_url = http://127.0.0.1:%d\n\n"
	    "[gateway.kannelvi]\ntype = kannel\ntoken = kannelvi-secret\n"
	    "send_url = http://127.0.0.1:%d/cgi-bin/sendsms\n"
	    "username = pakn\npassword = kannel-pass\nsender = 1022\n"
	    "diacritics = yes\n\n"
	    "[gateway.slow]\ntype = kannel\ntoken = slow-secret\nrate = 2\n"
	    "send_url = http://127.0.0.1:%d/cgi-bin/sendsms\n\n"
	    "[gateway.fast]\ntype = kannel\ntoken = fast-secret\nrate = 1000\n"
	    "send_url = http://127.0.0.1:%d/cgi-bin/sendsms\n\n"
	    "[gateway.flaky]\ntype = kannel\ntoken = flaky-secret\n"
	    "send_url = http://127.0.0.1:%d/cgi-bin/sendsms\n\n"
	    "[gateway.down]\ntype = kannel\ntoken = down-secret\n"
	    "send_url = http://127.0.0.1:%d/cgi-bin/sendsms\n\n"
	    "[gateway.hole]\ntype = kannel\ntoken = hole-secret\n"
	    "send_url = http://127.0.0.1:%d/cgi-bin/sendsms\n\n"
	    "[gateway.twilio]\ntype = twilio\nauth_token = " TWILIO_KEY "\n"
	    "public_url = " TWILIO_URL "\n"
	    "send_url = http://127.0.0.1:%d/2010-04-01/Accounts/AC123/"
	    "Messages.json\n"
	    "username = AC123\npassword = twilio-pass\nsender = "
	    "+15005550006\n\n"
	    "[gateway.optout]\ntype = twilio\nauth_token = " TWILIO_KEY "\n"
	    "public_url = " TWILIO_URL "\n"
	    "send_url = http://127.0.0.1:%d/Messages.json\n"
	    "username = AC123\npassword = twilio-pass\n\n"
	    "[gateway.at]\ntype = africastalking\ntoken = at-secret\n"
	    "send_url = http://127.0.0.1:%d/version1/messaging\n"
	    "username = sandbox\napi_key = at-api-key\nsender = 8079\n\n"
	    "[gateway.blacklist]\ntype = africastalking\ntoken = bl-secret\n"
	    "send_url = http://127.0.0.1:%d/version1/messaging\n"
	    "username = sandbox\napi_key = at-api-key\n\n"
	    "[gateway.late]\ntype = africastalking\ntoken = late-secret\nrate "
	    "= 1000\n"
	    "send_url = http://127.0.0.1:%d/version1/messaging\n"
	    "username = sandbox\napi_key = at-api-key\nsender = 8079\n",
	    fgs[FG_KANNEL].port, D.port, fgs[FG_KANNEL].port,
	    fgs[FG_KANNEL].port, fgs[FG_KANNEL].port, fgs[FG_FLAKY].port,
	    down_port, hole_port, fgs[FG_TWILIO].port, fgs[FG_OPTOUT].port,
	    fgs[FG_AT].port, fgs[FG_BLACKLIST].port, fgs[FG_LATE].port);
}

/* Write the daemon's configuration over the harness's standard one. */
static int
write_conf(void)
{
	char conninfo[256], *gws, *text;
	FILE *f;
	int rc;

	pg_conninfo(conninfo, sizeof conninfo, "pakn");
	gws = gateways_conf();
	text = strf("[server]\nlisten = 127.0.0.1:%d\ntimeout = 10\n"
	            "drain_timeout = 5\n\n"
	            "[database]\nconninfo = \"%s\"\npool_size = 4\n"
	            "migrate = yes\nreconnect_max = 2\n\n"
	            "[abuse]\ncomplaints_per_hour = 0\ncomplaints_per_day = 0\n"
	            "replies_per_day = 0\nrepeat_window = 0\n\n"
	            "[summary]\nweekly = no\nmonthly = no\n\n"
	            "[outbox]\ninterval = 100\nbatch = 50\nmax_attempts = 3\n"
	            "retry_base = 1\nlease = 30\nsend_timeout = 1\n"
	            "max_inflight = 32\nbacklog_rate = " BACKLOG_RATE "\n\n"
	            "[intake]\nbatch = 8\n\n%s%s",
	            D.port, conninfo, gws, burst_conf);
	if ((f = fopen(D.conf, "w")) == NULL)
		return -1;
	fputs(text, f);
	rc = fclose(f);
	free(gws);
	free(text);
	return rc;
}

/* One line of a fake gateway's file, split into fields. */
struct fg_line {
	char *raw;
	double t;
};

/* Copy the value of the field name= of a line, unescaped; NULL if none. */
static char *
fg_field(const char *line, const char *name)
{
	size_t n = strlen(name);
	const char *p = line, *end;
	char *out, *o;

	while ((p = strchr(p, '\t')) != NULL) {
		p++;
		if (strncmp(p, name, n) == 0 && p[n] == '=')
			break;
	}
	if (p == NULL)
		return NULL;
	p += n + 1;
	end = p + strcspn(p, "\t\n");
	out = o = malloc((size_t)(end - p) + 1);
	ck_assert_ptr_nonnull(out);
	for (; p < end; p++) {
		if (*p != '\\' || p + 1 == end) {
			*o++ = *p;
			continue;
		}
		p++;
		*o++ = *p == 't'   ? '\t'
		       : *p == 'n' ? '\n'
		       : *p == 'r' ? '\r'
		                   : *p;
	}
	*o = '\0';
	return out;
}

/* The n-th field (0: time, 1: method, 2: path) of a line, copied. */
static char *
fg_column(const char *line, int n)
{
	const char *p = line;

	while (n-- > 0 && (p = strchr(p, '\t')) != NULL)
		p++;
	if (p == NULL)
		return NULL;
	return strndup(p, strcspn(p, "\t\n"));
}

/* The lines of a fake gateway whose field name equals value; returns
 * how many, storing at most max of them. */
static int
fg_find(int g, const char *name, const char *value, struct fg_line *out,
        int max)
{
	char *text = file_read(fgs[g].file, NULL), *line, *next, *v;
	int n = 0;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if ((v = fg_field(line, name)) != NULL &&
		    strcmp(v, value) == 0) {
			if (n < max) {
				out[n].raw = strdup(line);
				out[n].t = atof(line);
			}
			n++;
		}
		free(v);
	}
	free(text);
	return n;
}

/* Free the lines fg_find stored. */
static void
fg_free(struct fg_line *lines, int n)
{
	for (int i = 0; i < n; i++)
		free(lines[i].raw);
}

/* Wait until a fake gateway has received want lines for a recipient. */
static int
fg_wait(int g, const char *name, const char *value, int want,
        struct fg_line *out, int max)
{
	double end = now_secs() + WAIT;
	int n;

	while ((n = fg_find(g, name, value, out, max)) < want &&
	       now_secs() < end) {
		fg_free(out, n < max ? n : max);
		sleep_ms(50);
	}
	return n;
}

/* Queue one SMS by SQL, as the SQL functions do; returns its id. */
static long
enqueue(const char *gw, const char *msisdn, const char *body)
{
	long id = sql_long("INSERT INTO pakn.outbox (gateway, msisdn, body, "
	                   "kind) VALUES ($1, $2, $3, 'test') RETURNING id",
	                   gw, msisdn, body, NULL);

	ck_assert_int_gt(id, 0);
	return id;
}

/* A column of an outbox row as text (malloc'd), NULL if NULL. */
static char *
outbox_col(long id, const char *col)
{
	char ids[24],
	    *q = strf("SELECT %s::text FROM pakn.outbox WHERE id = $1", col),
	    *v;

	snprintf(ids, sizeof ids, "%ld", id);
	v = sql_value(q, ids, NULL);
	free(q);
	return v;
}

/* Wait until an outbox row is in state want; fail with its error if not. */
static void
wait_state(long id, const char *want)
{
	double end = now_secs() + WAIT;
	char *st = NULL, *err;

	for (;;) {
		free(st);
		st = outbox_col(id, "state");
		if ((st != NULL && strcmp(st, want) == 0) || now_secs() > end)
			break;
		sleep_ms(50);
	}
	if (st == NULL || strcmp(st, want) != 0) {
		err = outbox_col(id, "last_error");
		paknd_dump(&D);
		ck_abort_msg("outbox %ld: state %s, want %s (last_error %s)",
		             id, st ? st : "(none)", want,
		             err ? err : "(none)");
	}
	free(st);
}

/* Wait until an outbox row has a last_error; return it. */
static char *
wait_error(long id)
{
	double end = now_secs() + WAIT;
	char *err;

	while ((err = outbox_col(id, "last_error")) == NULL && now_secs() < end)
		sleep_ms(50);
	ck_assert_msg(err != NULL, "outbox %ld: no last_error", id);
	return err;
}

/* Fail unless an outbox column has a value. */
static void
assert_col(long id, const char *col, const char *want)
{
	char *v = outbox_col(id, col);

	ck_assert_msg(v != NULL && strcmp(v, want) == 0,
	              "outbox %ld: %s is %s, want %s", id, col, v ? v : "NULL",
	              want);
	free(v);
}

/* Send an inbound SMS through a Kannel gateway's get-url callback. */
static void
kannel_sms(const char *gw, const char *token, const char *from,
           const char *text, const char *id)
{
	struct http_resp r;
	char *f = url_encode(from, strlen(from)),
	     *t = url_encode(text, strlen(text));
	char *path = strf("/v1/gw/%s/sms?token=%s&from=%s&to=1022&text=%s"
	                  "&id=%s",
	                  gw, token, f, t, id);

	http_get(D.port, path, &r);
	assert_status(&r, 200);
	http_resp_free(&r);
	free(path);
	free(f);
	free(t);
}

/* The id of the newest outbox row for a number and kind; waits for it. */
static long
outbox_of(const char *msisdn, const char *kind)
{
	double end = now_secs() + WAIT;
	long id;

	while ((id = sql_long("SELECT max(id) FROM pakn.outbox WHERE msisdn = "
	                      "$1 AND kind = $2",
	                      msisdn, kind, NULL)) <= 0 &&
	       now_secs() < end)
		sleep_ms(50);
	ck_assert_msg(id > 0, "no %s queued for %s", kind, msisdn);
	return id;
}

/* Segments of a GSM-7 text of plain ASCII (no extension characters). */
static int
gsm_segments(const char *s)
{
	size_t n = strlen(s);

	return n <= 160 ? 1 : (int)((n + 152) / 153);
}

/* Segments of a text sent as UCS-2. */
static int
ucs2_segments(const char *s)
{
	size_t len;
	unsigned char *u = utf8_to_utf16be(s, &len);

	free(u);
	return len / 2 <= 70 ? 1 : (int)((len / 2 + 66) / 67);
}

/* Is every byte of s a printable ASCII character? */
static int
is_ascii(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

/* GET a path of the daemon; return the status. */
static long
get_status(const char *path)
{
	struct http_resp r;
	long status = http_get(D.port, path, &r);

	http_resp_free(&r);
	return status;
}

/* Fail unless field name of a fake gateway's line is want (NULL: absent). */
static void
assert_field(const char *line, const char *name, const char *want)
{
	char *v = fg_field(line, name);

	if (want == NULL)
		ck_assert_msg(v == NULL, "%s=%s, want none", name, v);
	else
		ck_assert_msg(v != NULL && strcmp(v, want) == 0,
		              "%s=%s, want %s", name, v ? v : "(none)", want);
	free(v);
}

/* Fail unless the method and path of a line are these. */
static void
assert_request(const char *line, const char *method, const char *path)
{
	char *m = fg_column(line, 1), *p = fg_column(line, 2);

	ck_assert_str_eq(m, method);
	ck_assert_str_eq(p, path);
	free(m);
	free(p);
}

/* Fail unless a text field starts with the prefix. */
static void
assert_prefix(const char *line, const char *name, const char *prefix)
{
	char *v = fg_field(line, name);

	ck_assert_msg(v != NULL && strncmp(v, prefix, strlen(prefix)) == 0,
	              "%s=%s, want it to start with %s", name, v, prefix);
	free(v);
}

/* Check the sendsms request of an ack and the row it came from. */
static void
check_ack(const char *line, const char *ticket, long id)
{
	char *text = fg_field(line, "text"), *want;

	assert_request(line, "GET", "/cgi-bin/sendsms");
	assert_field(line, "username", "pakn");
	assert_field(line, "password", "kannel-pass");
	assert_field(line, "from", "1022");
	assert_field(line, "charset", "UTF-8");
	assert_field(line, "coding", NULL);
	want = strf("Da nhan phan anh, ma %s (", ticket);
	assert_prefix(line, "text", want);
	free(want);
	assert_contains(text, "Tra cuu: TT");
	ck_assert_msg(is_ascii(text), "not folded: %s", text);
	assert_col(id, "encoding", "gsm7");
	want = strf("%d", gsm_segments(text));
	assert_col(id, "segments", want);
	free(want);
	want = strf("%ld", id);
	assert_col(id, "gateway_ref", want);
	free(want);
	assert_col(id, "attempts", "1");
	assert_field(line, "dlr-mask", "3");
	want = strf("http://127.0.0.1:%d/v1/gw/kannel/dlr?token=kannel-secret"
	            "&id=%ld&status=%%d",
	            D.port, id);
	assert_field(line, "dlr-url", want);
	free(want);
	free(text);
}

/* The path of the dlr-url in a sendsms request, %d replaced by status. */
static char *
dlr_path(const char *line, const char *status)
{
	char *url = fg_field(line, "dlr-url"), *path, *p;

	ck_assert_ptr_nonnull(url);
	/* Skip "http://host:port". */
	path = url + 7 + strcspn(url + 7, "/");
	ck_assert_ptr_nonnull(p = strstr(path, "%d"));
	*p = '\0';
	path = strf("%s%s%s", path, status, p + 2);
	free(url);
	return path;
}

/* A complaint by SMS: the ack reaches the gateway with the ticket, folded
 * to GSM-7; then TT <ticket> gets the status; the dlr-url marks it
 * delivered. */
START_TEST(test_complaint_ack)
{
	const char *msisdn = "+84900000101";
	struct fg_line l[4];
	char *ticket, *v;
	long id, st;

	kannel_sms("kannel", "kannel-secret", msisdn,
	           "PA #00004 Duong Hoang Hoa Tham ngap nuoc", "ob-ack-1");
	ticket =
	    sql_value("SELECT ticket FROM pakn.complaint WHERE msisdn = $1",
	              msisdn, NULL);
	ck_assert_ptr_nonnull(ticket);
	wait_state(id = outbox_of(msisdn, "ack"), "sent");
	ck_assert_int_eq(fg_wait(FG_KANNEL, "to", msisdn, 1, l, 4), 1);
	check_ack(l[0].raw, ticket, id);

	/* The citizen asks for the status. */
	v = strf("TT %s", ticket);
	kannel_sms("kannel", "kannel-secret", msisdn, v, "ob-ack-2");
	free(v);
	wait_state(st = outbox_of(msisdn, "status"), "sent");
	ck_assert_int_eq(fg_wait(FG_KANNEL, "to", msisdn, 2, l + 1, 3), 2);
	v = strf("Phan anh %s: ", ticket);
	assert_prefix(l[2].raw, "text", v);
	free(v);

	/* Kannel reports the ack delivered through the dlr-url it got. */
	v = dlr_path(l[0].raw, "1");
	ck_assert_int_eq(get_status(v), 200);
	wait_state(id, "delivered");
	free(v);
	ck_assert_ptr_nonnull(v = outbox_col(id, "delivered_at"));
	free(v);
	assert_col(st, "state", "sent");
	fg_free(l, 3);
	free(ticket);
}
END_TEST

/* A gateway with diacritics = yes: coding=2 and the Vietnamese intact. */
START_TEST(test_complaint_diacritics)
{
	const char *msisdn = "+84900000102";
	struct fg_line l[2];
	char *ticket, *body, *want, *v;
	long id;

	kannel_sms("kannelvi", "kannelvi-secret", msisdn,
	           "PA #00004 Đường Hoàng Hoa Thám ngập nước", "ob-vi-1");
	ticket =
	    sql_value("SELECT ticket FROM pakn.complaint WHERE msisdn = $1",
	              msisdn, NULL);
	ck_assert_ptr_nonnull(ticket);
	wait_state(id = outbox_of(msisdn, "ack"), "sent");
	ck_assert_int_eq(fg_wait(FG_KANNEL, "to", msisdn, 1, l, 2), 1);
	assert_field(l[0].raw, "coding", "2");
	assert_field(l[0].raw, "charset", "UTF-8");
	body = outbox_col(id, "body");
	assert_field(l[0].raw, "text", body);
	want = strf("Đã nhận phản ánh, mã %s (", ticket);
	assert_prefix(l[0].raw, "text", want);
	assert_col(id, "encoding", "ucs2");
	v = strf("%d", ucs2_segments(body));
	assert_col(id, "segments", v);
	/* No public_url: no delivery reports asked for. */
	assert_field(l[0].raw, "dlr-url", NULL);
	free(v);
	free(want);
	free(body);
	free(ticket);
	fg_free(l, 1);
}
END_TEST

/* Post a signed Twilio-style status callback; return the status. */
static long
twilio_dlr(const char *sid, const char *status, const char *code,
           int sign_right)
{
	const char *kv[] = {
	    "MessageSid", sid,     "MessageStatus",           status,
	    "AccountSid", "AC123", code ? "ErrorCode" : NULL, code,
	    NULL};
	char *body = form_encode(kv);
	char *sig = twilio_signature(sign_right ? TWILIO_KEY : "wrong",
	                             TWILIO_URL "/v1/gw/twilio/dlr", kv);
	char *hdr = strf("X-Twilio-Signature: %s", sig);
	const char *headers[] = {hdr, NULL};
	struct http_resp r;
	long st = http_request(D.port, "POST", "/v1/gw/twilio/dlr", headers,
	                       body, strlen(body), &r);

	http_resp_free(&r);
	free(body);
	free(sig);
	free(hdr);
	return st;
}

/* Twilio-style sending: form POST with basic authentication; the sid
 * comes back in status callbacks. */
START_TEST(test_twilio_send)
{
	const char *msisdn = "+84900000201";
	struct fg_line l[2];
	char *ref, *v;
	long id =
	    enqueue("twilio", msisdn, "Phản ánh K7M4Q9X: đã được trả lời");
	long id2;

	wait_state(id, "sent");
	ck_assert_int_eq(fg_wait(FG_TWILIO, "To", msisdn, 1, l, 2), 1);
	assert_request(l[0].raw, "POST",
	               "/2010-04-01/Accounts/AC123/Messages.json");
	assert_field(l[0].raw, "From", "+15005550006");
	assert_field(l[0].raw, "Body", "Phan anh K7M4Q9X: da duoc tra loi");
	assert_field(l[0].raw, "StatusCallback",
	             TWILIO_URL "/v1/gw/twilio/dlr");
	assert_field(l[0].raw, "Authorization", TWILIO_BASIC);
	assert_field(l[0].raw, "Accept", "application/json");
	fg_free(l, 1);
	ref = outbox_col(id, "gateway_ref");
	ck_assert_msg(ref != NULL && strncmp(ref, "SM", 2) == 0, "ref %s", ref);
	assert_col(id, "segments", "1");

	/* Wrongly signed reports and intermediate states change nothing. */
	ck_assert_int_eq(twilio_dlr(ref, "delivered", NULL, 0), 403);
	ck_assert_int_eq(twilio_dlr(ref, "sent", NULL, 1), 200);
	assert_col(id, "state", "sent");
	ck_assert_int_eq(twilio_dlr(ref, "delivered", NULL, 1), 200);
	wait_state(id, "delivered");
	free(ref);

	id2 = enqueue("twilio", "+84900000202", "Tin thu hai");
	wait_state(id2, "sent");
	ref = outbox_col(id2, "gateway_ref");
	ck_assert_int_eq(twilio_dlr(ref, "undelivered", "30005", 1), 200);
	wait_state(id2, "undelivered");
	assert_contains(v = outbox_col(id2, "last_error"), "30005");
	free(v);
	free(ref);
}
END_TEST

/* Post an Africa's Talking delivery report; return the status. */
static long
at_dlr(const char *token, const char *ref, const char *status,
       const char *reason)
{
	const char *kv[] = {"id",
	                    ref,
	                    "status",
	                    status,
	                    "phoneNumber",
	                    "+84900000301",
	                    reason ? "failureReason" : NULL,
	                    reason,
	                    NULL};
	char *body = form_encode(kv),
	     *path = strf("/v1/gw/at/dlr?token=%s", token);
	struct http_resp r;
	long st =
	    http_request(D.port, "POST", path, NULL, body, strlen(body), &r);

	http_resp_free(&r);
	free(body);
	free(path);
	return st;
}

/* Africa's Talking sending: apiKey header, form fields; messageId is the
 * reference its delivery reports carry. */
START_TEST(test_at_send)
{
	const char *msisdn = "+84900000301";
	struct fg_line l[2];
	char *ref, *v;
	long id = enqueue("at", msisdn, "Đã nhận phản ánh");
	long id2;

	wait_state(id, "sent");
	ck_assert_int_eq(fg_wait(FG_AT, "to", msisdn, 1, l, 2), 1);
	assert_request(l[0].raw, "POST", "/version1/messaging");
	assert_field(l[0].raw, "username", "sandbox");
	assert_field(l[0].raw, "message", "Da nhan phan anh");
	assert_field(l[0].raw, "from", "8079");
	assert_field(l[0].raw, "apiKey", "at-api-key");
	assert_field(l[0].raw, "Accept", "application/json");
	assert_field(l[0].raw, "Authorization", NULL);
	fg_free(l, 1);
	ref = outbox_col(id, "gateway_ref");
	ck_assert_msg(ref != NULL && strncmp(ref, "ATXid_", 6) == 0, "ref %s",
	              ref);

	ck_assert_int_eq(at_dlr("wrong", ref, "Success", NULL), 403);
	ck_assert_int_eq(at_dlr("at-secret", ref, "Buffered", NULL), 200);
	assert_col(id, "state", "sent");
	ck_assert_int_eq(at_dlr("at-secret", ref, "Failed", "UserInBlacklist"),
	                 200);
	wait_state(id, "undelivered");
	assert_contains(v = outbox_col(id, "last_error"), "UserInBlacklist");
	free(v);
	free(ref);

	id2 = enqueue("at", "+84900000302", "Tin thu hai");
	wait_state(id2, "sent");
	ref = outbox_col(id2, "gateway_ref");
	ck_assert_int_eq(at_dlr("at-secret", ref, "Success", NULL), 200);
	wait_state(id2, "delivered");
	free(ref);
}
END_TEST

/* Kannel reports: a wrong token is refused and changes nothing; an
 * intermediate status changes nothing; 2 is undelivered. */
START_TEST(test_kannel_dlr)
{
	long id = enqueue("kannel", "+84900000401", "Kiem tra DLR");
	char *path, *v;

	wait_state(id, "sent");
	path = strf("/v1/gw/kannel/dlr?token=wrong&id=%ld&status=1", id);
	ck_assert_int_eq(get_status(path), 403);
	free(path);
	path = strf("/v1/gw/kannel/dlr?id=%ld&status=1", id);
	ck_assert_int_eq(get_status(path), 401);
	free(path);
	path =
	    strf("/v1/gw/kannel/dlr?token=kannel-secret&id=%ld&status=8", id);
	ck_assert_int_eq(get_status(path), 200);
	free(path);
	sleep_ms(200);
	assert_col(id, "state", "sent");
	ck_assert_int_eq(get_status("/v1/gw/kannel/dlr?token=kannel-secret"
	                            "&id=abc&status=1"),
	                 400);
	ck_assert_int_eq(get_status("/v1/gw/nosuch/dlr?token=x&id=1&status=1"),
	                 404);
	path =
	    strf("/v1/gw/kannel/dlr?token=kannel-secret&id=%ld&status=2", id);
	ck_assert_int_eq(get_status(path), 200);
	free(path);
	wait_state(id, "undelivered");
	assert_contains(v = outbox_col(id, "last_error"), "kannel status 2");
	free(v);
	/* A report for a message that does not exist is acknowledged. */
	ck_assert_int_eq(get_status("/v1/gw/kannel/dlr?token=kannel-secret"
	                            "&id=999999999&status=1"),
	                 200);
}
END_TEST

/* The gateway fails the first two sends: retried with backoff, sent at
 * the third attempt. */
START_TEST(test_retry_then_sent)
{
	const char *msisdn = "+84900000501";
	struct fg_line l[4];
	long id = enqueue("flaky", msisdn, "Thu lai");
	double end = now_secs() + 15;
	char *st = NULL;

	while (now_secs() < end) {
		free(st);
		if ((st = outbox_col(id, "state")) != NULL &&
		    strcmp(st, "sent") == 0)
			break;
		sleep_ms(100);
	}
	ck_assert_msg(st != NULL && strcmp(st, "sent") == 0, "state %s", st);
	free(st);
	assert_col(id, "attempts", "3");
	ck_assert_ptr_null(outbox_col(id, "last_error"));
	ck_assert_int_eq(fg_find(FG_FLAKY, "to", msisdn, l, 4), 3);
	/* Backoff: at least 0.5 s, then 1 s (retry_base 1, jitter 0.5-1.5). */
	ck_assert_msg(l[1].t - l[0].t >= 0.4 && l[2].t - l[0].t >= 1.2,
	              "attempts at +%.2f s and +%.2f s", l[1].t - l[0].t,
	              l[2].t - l[0].t);
	fg_free(l, 3);
	ck_assert_int_eq(log_wait(D.log, 0, "HTTP 503", 1), 0);
}
END_TEST

/* Refusals for good: Twilio error 21610 (the citizen sent STOP) and an
 * Africa's Talking recipient on the blacklist fail at the first try. */
START_TEST(test_permanent_failure)
{
	long id = enqueue("optout", "+84900000701", "Khong gui duoc");
	long id2 = enqueue("blacklist", "+84900000702", "Khong gui duoc");
	char *err;

	wait_state(id, "failed");
	assert_col(id, "attempts", "1");
	assert_contains(err = outbox_col(id, "last_error"), "21610");
	assert_contains(err, "unsubscribed");
	free(err);
	wait_state(id2, "failed");
	assert_col(id2, "attempts", "1");
	assert_contains(err = outbox_col(id2, "last_error"), "UserInBlacklist");
	free(err);
	ck_assert_ptr_null(outbox_col(id, "sent_at"));
}
END_TEST

/* A gateway that cannot be reached: retried until max_attempts (3), then
 * failed with the connection error. */
START_TEST(test_attempts_exhausted)
{
	long id = enqueue("down", "+84900000801", "Khong toi duoc");
	double end = now_secs() + 15;
	char *st = NULL, *err;

	while (now_secs() < end) {
		free(st);
		if ((st = outbox_col(id, "state")) != NULL &&
		    strcmp(st, "failed") == 0)
			break;
		sleep_ms(100);
	}
	ck_assert_msg(st != NULL && strcmp(st, "failed") == 0, "state %s", st);
	free(st);
	assert_col(id, "attempts", "3");
	err = outbox_col(id, "last_error");
	ck_assert_msg(err != NULL && strcasestr(err, "connect") != NULL,
	              "last_error %s", err);
	free(err);
}
END_TEST

/* A gateway that never answers: the send times out (send_timeout 1 s)
 * and the message goes back to the queue. */
START_TEST(test_send_timeout)
{
	long id = enqueue("hole", "+84900000901", "Cham qua");
	double t0 = now_secs();
	char *err = wait_error(id);

	ck_assert_msg(strcasestr(err, "timed out") != NULL, "last_error %s",
	              err);
	ck_assert_msg(now_secs() - t0 >= 0.9, "gave up after %.2f s",
	              now_secs() - t0);
	free(err);
}
END_TEST

/* A message for a gateway that is not configured waits for it. */
START_TEST(test_no_gateway)
{
	long id = enqueue("nosuch", "+84900001001", "Khong co cong");
	char *err = wait_error(id);

	ck_assert_str_eq(err, "no gateway nosuch configured");
	free(err);
}
END_TEST

/* rate = 2 per second: six messages take at least about two seconds. */
START_TEST(test_rate_limit)
{
	struct fg_line l[6];
	char num[16];
	double first = 1e18, last = 0;
	long ids[6];
	int i;

	PQclear(
	    sql_query("INSERT INTO pakn.outbox (gateway, msisdn, body, kind) "
	              "SELECT 'slow', '+849000011' || lpad(i::text, 2, '0'), "
	              "'Tin ' || i, 'test' FROM generate_series(1, 6) i",
	              NULL));
	for (i = 0; i < 6; i++) {
		snprintf(num, sizeof num, "+849000011%02d", i + 1);
		wait_state(ids[i] = outbox_of(num, "test"), "sent");
	}
	for (i = 0; i < 6; i++) {
		snprintf(num, sizeof num, "+849000011%02d", i + 1);
		ck_assert_int_eq(fg_find(FG_KANNEL, "to", num, &l[i], 1), 1);
		if (l[i].t < first)
			first = l[i].t;
		if (l[i].t > last)
			last = l[i].t;
	}
	ck_assert_msg(last - first >= 1.5, "six sends in %.2f s", last - first);
	ck_assert_msg(last - first < 8, "six sends in %.2f s", last - first);
	fg_free(l, 6);
}
END_TEST

/* Replies first (028): of six messages due at once for a gateway that
 * sends 2 a second, the two that answer a message just received (an
 * ack, a status) are sent before the four notices queued before them. */
START_TEST(test_replies_first)
{
	struct fg_line l[6];
	char num[16], *key;
	double notices = 1e18, replies = 0;
	int i;

	key = sql_value("INSERT INTO pakn.inbound_key (gateway, "
	                "gateway_msg_id) VALUES ('slow', 'ob-first') "
	                "RETURNING id",
	                NULL);
	ck_assert_ptr_nonnull(key);
	PQclear(sql_query(
	    "INSERT INTO pakn.outbox (gateway, msisdn, body, kind, inbound_id) "
	    "SELECT 'slow', '+849000061' || lpad(i::text, 2, '0'), 'Tin ' || "
	    "i, "
	    "'test', CASE WHEN i > 4 THEN $1::bigint END "
	    "FROM generate_series(1, 6) i ORDER BY i",
	    key, NULL));
	free(key);
	for (i = 0; i < 6; i++) {
		snprintf(num, sizeof num, "+849000061%02d", i + 1);
		wait_state(outbox_of(num, "test"), "sent");
	}
	for (i = 0; i < 6; i++) {
		snprintf(num, sizeof num, "+849000061%02d", i + 1);
		ck_assert_int_eq(fg_find(FG_KANNEL, "to", num, &l[i], 1), 1);
		if (i < 4 && l[i].t < notices)
			notices = l[i].t;
		if (i >= 4 && l[i].t > replies)
			replies = l[i].t;
	}
	ck_assert_msg(replies <= notices,
	              "the last reply sent %.3f s after the first notice",
	              replies - notices);
	fg_free(l, 6);
}
END_TEST

/* A burst: 200 messages queued at once are sent once each, each with
 * its own outcome recorded: its state and its gateway's reference. */
START_TEST(test_burst)
{
	struct fg_line l[2];
	char num[16];

	PQclear(
	    sql_query("INSERT INTO pakn.outbox (gateway, msisdn, body, kind) "
	              "SELECT 'at', '+84900002' || lpad(i::text, 3, '0'), "
	              "'Dot ' || i, 'burst' FROM generate_series(1, 200) i",
	              NULL));
	for (int i = 1; i <= 200; i++) {
		snprintf(num, sizeof num, "+84900002%03d", i);
		wait_state(outbox_of(num, "burst"), "sent");
	}
	for (int i = 1; i <= 200; i++) {
		snprintf(num, sizeof num, "+84900002%03d", i);
		ck_assert_int_eq(fg_find(FG_AT, "to", num, l, 2), 1);
		fg_free(l, 1);
	}
	ck_assert_int_eq(sql_long("SELECT count(DISTINCT gateway_ref) FROM "
	                          "pakn.outbox WHERE kind = 'burst' AND state "
	                          "= 'sent' AND gateway_ref LIKE 'ATXid_%' AND "
	                          "segments = 1 AND encoding = 'gsm7' AND "
	                          "lease_until IS NULL",
	                          NULL),
	                 200);
}
END_TEST

/* The connections a fake gateway's requests to numbers starting with
 * prefix came on (distinct client ports). */
static int
fg_peers(int g, const char *prefix)
{
	char *text = file_read(fgs[g].file, NULL), *line, *next;
	char *seen[512];
	int n = 0;

	for (line = text; line != NULL && *line != '\0'; line = next) {
		char *to, *peer;
		int dup = 0;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		to = fg_field(line, "to");
		peer = fg_field(line, "peer");
		if (to != NULL && peer != NULL &&
		    strncmp(to, prefix, strlen(prefix)) == 0) {
			for (int i = 0; i < n && !dup; i++)
				dup = strcmp(seen[i], peer) == 0;
			if (!dup && n < 512) {
				seen[n++] = peer;
				peer = NULL;
			}
		}
		free(to);
		free(peer);
	}
	for (int i = 0; i < n; i++)
		free(seen[i]);
	free(text);
	return n;
}

/* Two bursts of 64 to a gateway that answers after 200 ms (so that 32
 * are in flight at once) with a lull between them go over the
 * connections the first opened: no more connections than sends at once
 * (max_inflight, 32). libcurl kept four idle connections a transfer
 * running, so as the first burst ended it closed most of them, and the
 * second opened them again (a TCP, with https a TLS handshake each). */
START_TEST(test_connections_kept)
{
	char num[16];
	int peers;

	for (int burst = 0; burst < 2; burst++) {
		char *sql = strf("INSERT INTO pakn.outbox (gateway, msisdn, "
		                 "body, kind) SELECT 'late', '+84900003' || "
		                 "lpad((%d + i)::text, 3, '0'), 'Lan ' || i, "
		                 "'kept' FROM generate_series(1, 64) i",
		                 burst * 64);
		PQclear(sql_query(sql, NULL));
		free(sql);
		for (int i = 1; i <= 64; i++) {
			snprintf(num, sizeof num, "+84900003%03d",
			         burst * 64 + i);
			wait_state(outbox_of(num, "kept"), "sent");
		}
		/* The lull: nothing in flight. */
		sleep_ms(300);
	}
	peers = fg_peers(FG_LATE, "+84900003");
	ck_assert_msg(peers >= 16 && peers <= 32,
	              "128 sends in two bursts came on %d connections", peers);
}
END_TEST

/* When paknd logged the line holding needle (from offset from on), in
 * epoch seconds (its UTC time stamp, to the millisecond); fails the test
 * if there is none. */
static double
log_time(size_t from, const char *needle)
{
	char *line = log_grep(D.log, from, needle);
	struct tm tm = {0};
	int ms = 0;

	ck_assert_msg(line != NULL, "no log line with %s", needle);
	ck_assert_int_eq(sscanf(line, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year,
	                        &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
	                        &tm.tm_min, &tm.tm_sec, &ms),
	                 7);
	free(line);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm) + ms / 1000.0;
}

/* Wait (up to WAIT s) until n messages of gateway fast to numbers
 * starting with prefix are sent. */
static void
wait_fast_sent(const char *prefix, long n)
{
	double end = now_secs() + WAIT;
	char *like = strf("%s%%", prefix);

	while (sql_long("SELECT count(*) FROM pakn.outbox WHERE gateway = "
	                "'fast' AND msisdn LIKE $1 AND state = 'sent'",
	                like, NULL) < n &&
	       now_secs() < end)
		sleep_ms(100);
	free(like);
}

/* What the Kannel fake gateway got for the numbers starting with
 * prefix: how many (*total), the time of the last (*last, when not
 * NULL), and how many came from t0 to t1 (its wall clock), returned. */
static int
fg_sent_between(const char *prefix, double t0, double t1, int *total,
                double *last)
{
	char *text = file_read(fgs[FG_KANNEL].file, NULL), *line, *next;
	int during = 0;

	*total = 0;
	if (last != NULL)
		*last = 0;
	for (line = text; line != NULL && *line != '\0'; line = next) {
		char *to;
		double t = atof(line);

		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		to = fg_field(line, "to");
		if (to != NULL && strncmp(to, prefix, strlen(prefix)) == 0) {
			(*total)++;
			during += t >= t0 && t <= t1;
			if (last != NULL && t > *last)
				*last = t;
		}
		free(to);
	}
	free(text);
	return during;
}

/* [outbox] backlog_rate: while stored messages wait for processing (the
 * worker's claims of 8 come back full), the gateway sends at most 2 a
 * second though its own rate is 1000; once processing has caught up,
 * the rest goes at once. Every reply is sent once. */
START_TEST(test_backlog_rate)
{
	enum { N = 300 };
	const double cap = atof(BACKLOG_RATE);
	size_t from = file_size(D.log);
	char num[16], id[32];
	double t0, t1;
	PGconn *hold;
	int during = 0, total = 0;

	/* Processing held off while the messages are stored. */
	hold = harness_hold_processing();
	for (int i = 0; i < N; i++) {
		snprintf(num, sizeof num, "+84900005%03d", i);
		snprintf(id, sizeof id, "ob-backlog-%d", i);
		kannel_sms("fast", "fast-secret", num, "PA Duong ngap nuoc",
		           id);
	}
	harness_release_processing(hold);
	ck_assert_int_eq(
	    log_wait(D.log, from, "stored messages wait for processing", WAIT),
	    0);
	ck_assert_int_eq(
	    log_wait(D.log, from, "processing has caught up", WAIT), 0);
	wait_fast_sent("+84900005", N);
	t0 = log_time(from, "stored messages wait for processing");
	t1 = log_time(from, "processing has caught up");
	during = fg_sent_between("+84900005", t0, t1, &total, NULL);
	ck_assert_int_eq(total, N);
	/* A grant of the rate per second, and the bucket's burst. */
	ck_assert_msg(during <= cap * (t1 - t0 + 2),
	              "%d sent in the %.2f s processing had a backlog", during,
	              t1 - t0);
	ck_assert_int_eq(metric_value(D.port, "pakn_outbox_yielding"), 0);
}
END_TEST

/* The wall clock in seconds, as the fake gateways write it. */
static double
wall_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Write the configuration with extra (the [outbox] and [intake] keys of
 * test_burst_rate, or "") and reload it. */
static void
reload_with(const char *extra)
{
	size_t from = file_size(D.log);

	burst_conf = extra;
	ck_assert_int_eq(write_conf(), 0);
	ck_assert_int_eq(paknd_signal(&D, SIGHUP), 0);
	ck_assert_int_eq(log_wait(D.log, from, "configuration reloaded", WAIT),
	                 0);
}

/* [outbox] burst_rate: while intake is under a surge (the requests in
 * flight average [intake] yield_requests, 1 here, and come at [intake]
 * surge_rate, 10 a second here: eight children keep
 * sending one callback again and again while the others come, and a
 * second after; each waits for its group's commit, as a duplicate), the
 * gateway sends at most 1 a second though its own rate is 1000; once
 * intake is quiet, the rest goes at once. Every reply is sent once. */
START_TEST(test_burst_rate)
{
	enum { N = 30 };
	const double cap = atof(BURST_RATE);
	char num[16], id[32];
	double t0, t1, last = 0;
	int during = 0, total = 0;
	pid_t pid[8];

	reload_with("\n[outbox]\nburst_rate = " BURST_RATE
	            "\n\n[intake]\nyield_requests = 1\nsurge_rate = 10\n");
	t0 = wall_secs();
	http_hammers(D.port,
	             "/v1/gw/fast/sms?token=fast-secret&"
	             "from=%2B84900008000&to=1022&text=TT&"
	             "id=ob-surge",
	             pid, 8);
	/* A window of the average (0.25 s) with them in flight. */
	sleep_ms(600);
	for (int i = 0; i < N; i++) {
		snprintf(num, sizeof num, "+84900009%03d", i);
		snprintf(id, sizeof id, "ob-burst-%d", i);
		kannel_sms("fast", "fast-secret", num, "PA Duong ngap nuoc",
		           id);
	}
	sleep_ms(1000);
	http_hammers_stop(pid, 8);
	t1 = wall_secs();
	wait_fast_sent("+84900009", N);
	reload_with("");
	during = fg_sent_between("+84900009", 0, t1, &total, &last);
	ck_assert_int_eq(total, N);
	/* A grant of the rate per second, and the bucket's burst. */
	ck_assert_msg(during <= cap * (t1 - t0 + 2),
	              "%d sent in the %.2f s intake was busy", during, t1 - t0);
	/* The rest went once intake was quiet, at the gateway's rate. */
	ck_assert_msg(last - t1 < 3, "the last sent %.2f s after the burst",
	              last - t1);
}
END_TEST

/* The per-message lines of the log after from (debug lines aside): how
 * many name one of ids (pre, the id, post: "outbox ", ID, ": sent via "),
 * and the sum of the counts of the summary lines that start with what. */
static long
log_rate_count(size_t from, const char *pre, char **ids, int n,
               const char *post, const char *what, long *counted)
{
	char *text = file_read(D.log, NULL), *p, *eol, *needle;
	long logged = 0;

	ck_assert_ptr_nonnull(text);
	/* Debug lines (-v) out: intake's "stored as N, to process". */
	for (p = text + from; (p = strstr(p, "[debug]")) != NULL;) {
		if ((eol = strchr(p, '\n')) == NULL)
			eol = p + strlen(p);
		memset(p, ' ', (size_t)(eol - p));
	}
	for (int i = 0; i < n; i++) {
		needle = strf("%s%s%s", pre, ids[i], post);
		if (strstr(text + from, needle) != NULL)
			logged++;
		free(needle);
	}
	*counted = 0;
	for (p = text + from; (p = strstr(p, what)) != NULL; p += strlen(what))
		*counted += strtol(p + strlen(what), NULL, 10);
	free(text);
	return logged;
}

/* [server] log_messages: in a burst, at most that many lines a second of
 * each kind (here 2); the others are counted, and one line a second
 * says how many: every message processed and every SMS sent is either
 * named in the log or counted, and most are counted. With the default
 * (50), a few messages are each named again. */
START_TEST(test_log_rate)
{
	enum { N = 30 };
	char num[16], *mids[N], *again[3], **oids, *start;
	size_t from;
	long logged, counted;
	double end = now_secs() + WAIT;
	PGresult *res;
	int n;

	/* Quiet first: no SMS of the tests before in flight or due soon
	 * (their lines would share the count). */
	while (sql_long("SELECT count(*) FROM pakn.outbox WHERE state = "
	                "'sending' OR (state = 'queued' AND next_attempt_at < "
	                "now() + interval '10 s')",
	                NULL) > 0 &&
	       now_secs() < end)
		sleep_ms(100);
	reload_with("\n[server]\nlog_messages = 2\n");
	from = file_size(D.log);
	start = sql_value("SELECT coalesce(max(id), 0) FROM pakn.outbox", NULL);
	for (int i = 0; i < N; i++) {
		snprintf(num, sizeof num, "+84900019%03d", i);
		mids[i] = strf("ob-lograte-%d", i);
		kannel_sms("fast", "fast-secret", num, "PA Duong ngap nuoc",
		           mids[i]);
	}
	wait_fast_sent("+84900019", N);
	/* Every SMS of these complaints (the acks, the unit's notices). */
	end = now_secs() + WAIT;
	while (sql_long("SELECT count(*) FROM pakn.outbox WHERE id > "
	                "$1::bigint AND state IN ('queued', 'sending')",
	                start, NULL) > 0 &&
	       now_secs() < end)
		sleep_ms(100);
	res =
	    sql_query("SELECT id::text FROM pakn.outbox WHERE id > $1::bigint "
	              "AND state = 'sent' ORDER BY id",
	              start, NULL);
	n = PQntuples(res);
	ck_assert_int_ge(n, N);
	oids = calloc((size_t)n, sizeof *oids);
	ck_assert_ptr_nonnull(oids);
	for (int i = 0; i < n; i++)
		oids[i] = PQgetvalue(res, i, 0);
	/* The counts of a second come with the next second's first line or
	 * tick. */
	end = now_secs() + WAIT;
	do {
		sleep_ms(200);
		logged = log_rate_count(from, "outbox ", oids, n, ": sent via ",
		                        "outbox: SMS sent: ", &counted);
	} while (logged + counted < n && now_secs() < end);
	ck_assert_int_eq(logged + counted, n);
	ck_assert_msg(counted > 0 && logged < n, "%ld of %d SMS named", logged,
	              n);
	do {
		sleep_ms(200);
		logged = log_rate_count(
		    from, "message ", mids, N, " stored as ",
		    "processing: messages processed: ", &counted);
	} while (logged + counted < N && now_secs() < end);
	ck_assert_int_eq(logged + counted, N);
	ck_assert_msg(counted > 0 && logged < N, "%ld of %d messages named",
	              logged, N);
	PQclear(res);
	free(oids);
	free(start);
	/* The default (50 a second): each named. */
	reload_with("");
	from = file_size(D.log);
	for (int i = 0; i < 3; i++) {
		again[i] = strf("ob-lograte-again-%d", i);
		kannel_sms("fast", "fast-secret", "+84900019100",
		           "PA Duong ngap nuoc", again[i]);
	}
	wait_fast_sent("+84900019100", 3);
	ck_assert_int_eq(log_wait(D.log, from, again[2], WAIT), 0);
	ck_assert_int_eq(
	    log_rate_count(from, "message ", again, 3, " stored as ",
	                   "processing: messages processed: ", &counted),
	    3);
	ck_assert_int_eq(counted, 0);
	for (int i = 0; i < 3; i++)
		free(again[i]);
	for (int i = 0; i < N; i++)
		free(mids[i]);
}
END_TEST

/* The log names each sent message and never a password or key. */
START_TEST(test_log)
{
	char *hit;

	ck_assert_int_eq(log_wait(D.log, 0, ": sent via kannel, ", 1), 0);
	ck_assert_int_eq(log_wait(D.log, 0, ": sent via twilio, ", 1), 0);
	ck_assert_int_eq(log_wait(D.log, 0, ": sent via at, ", 1), 0);
	hit = log_grep(D.log, 0, "kannel-pass");
	ck_assert_msg(hit == NULL, "password logged: %s", hit);
	hit = log_grep(D.log, 0, "twilio-pass");
	ck_assert_msg(hit == NULL, "password logged: %s", hit);
	hit = log_grep(D.log, 0, "at-api-key");
	ck_assert_msg(hit == NULL, "API key logged: %s", hit);
}
END_TEST

/* SIGTERM with messages waiting for the rate: paknd sends them all
 * before it exits (main() checks that it exits 0). Runs last. */
START_TEST(test_drain)
{
	size_t from = file_size(D.log);
	double end = now_secs() + WAIT;
	char *text, *stop;

	PQclear(
	    sql_query("INSERT INTO pakn.outbox (gateway, msisdn, body, kind) "
	              "SELECT 'slow', '+849000012' || lpad(i::text, 2, '0'), "
	              "'Tin ' || i, 'drain' FROM generate_series(1, 4) i",
	              NULL));
	while (sql_long("SELECT count(*) FROM pakn.outbox WHERE kind = 'drain' "
	                "AND state = 'queued'",
	                NULL) != 0 &&
	       now_secs() < end)
		sleep_ms(20);
	ck_assert_int_eq(kill(D.pid, SIGTERM), 0);
	ck_assert_int_eq(log_wait(D.log, from, "drained, exiting", WAIT), 0);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.outbox WHERE kind "
	                          "= 'drain' AND state = 'sent'",
	                          NULL),
	                 4);
	/* At 2 a second, the last of them left after the signal. */
	text = file_read(D.log, NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(stop = strstr(text + from, "shutting down"));
	ck_assert_ptr_nonnull(strstr(stop, ": sent via slow"));
	free(text);
}
END_TEST

/* A claim finds its rows by the outbox's indexes, however many rows the
 * month holds: the planner took LIMIT p_limit for a tenth of the rows
 * waiting and read a whole month's partition for each claim (0.5-1.1 s
 * with 1.5 million rows). Here 100 000 waiting for next year (the
 * running paknd leaves them), then a claim that finds none due among
 * them: no sequential scan of any partition. */
START_TEST(test_claim_by_index)
{
	char *v;

	ck_assert_int_eq(
	    sql_exec_db(
	        "pakn",
	        "BEGIN; SET LOCAL pakn.outbox_checked = 'on'; INSERT INTO "
	        "pakn.outbox (gateway, msisdn, body, kind, state, "
	        "next_attempt_at) SELECT 'kannel', '+849000016' || (n % 100), "
	        "'Da gui', 'test', 'queued', now() + interval '1 year' FROM "
	        "generate_series(1, 100000) n; COMMIT; ANALYZE pakn.outbox"),
	    0);
	v = sql_value(
	    "WITH c AS MATERIALIZED (SELECT count(*) AS n FROM "
	    "pakn.outbox_claim(500, 60) WHERE msisdn LIKE '+849000016%') "
	    "SELECT c.n || ' ' || (SELECT sum(pg_stat_get_xact_numscans("
	    "i.inhrelid)) FROM pg_inherits i WHERE i.inhparent = "
	    "'pakn.outbox'::regclass) FROM c",
	    NULL);
	ck_assert_str_eq(v, "0 0");
	free(v);
	ck_assert_int_eq(sql_exec_db("pakn", "DELETE FROM pakn.outbox WHERE "
	                                     "msisdn LIKE '+849000016%'"),
	                 0);
}
END_TEST

/* A claim reads the messages waiting, not those being sent (035): with
 * 2 000 messages in flight elsewhere (leased for an hour, due long
 * before), a claim takes the 5 queued and the 3 whose lease ran out, and
 * reads a few entries of the due index, not one a message in flight.
 * (In one transaction, rolled back: the running paknd never sees them.) */
START_TEST(test_claim_skips_in_flight)
{
	char *v = sql_rolled_back(
	    "SET LOCAL pakn.outbox_checked = 'on'; INSERT INTO "
	    "pakn.outbox (gateway, msisdn, body, kind, state, "
	    "next_attempt_at, lease_until, attempts) SELECT 'kannel', "
	    "'+849000017' || (n % 100), 'Dang gui', 'test', CASE WHEN n <= "
	    "2000 THEN 'sending' ELSE 'queued' END, now() - interval '1 "
	    "hour', CASE WHEN n <= 2000 THEN now() + interval '1 hour' END, "
	    "1 FROM generate_series(1, 2005) n; INSERT INTO pakn.outbox "
	    "(gateway, msisdn, body, kind, state, next_attempt_at, "
	    "lease_until, attempts) SELECT 'kannel', '+8490000179' || n, "
	    "'Lease het', 'test', 'sending', now() - interval '2 hours', "
	    "now() - interval '1 minute', 1 FROM generate_series(1, 3) n",
	    "WITH c AS MATERIALIZED (SELECT count(*) FILTER (WHERE body = "
	    "'Dang gui') AS q, count(*) FILTER (WHERE body = 'Lease het' "
	    "AND attempts = 2) AS l FROM pakn.outbox_claim(500, 60) WHERE "
	    "msisdn LIKE '+849000017%') SELECT c.q || ' ' || c.l || ' ' || "
	    "(SELECT sum(pg_stat_get_xact_tuples_returned(i.inhrelid)) < "
	    "100 FROM pg_inherits i WHERE i.inhparent = "
	    "'pakn.outbox_due_idx'::regclass) FROM c");

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "5 3 true");
	free(v);
}
END_TEST

/* A delivery report by the gateway's reference finds its message through
 * the reference index (037: messages sent only), not by reading the
 * month's outbox: 3 000 sent through Africa's Talking, the report for
 * one; no partition of the outbox read whole. */
START_TEST(test_dlr_by_ref_indexed)
{
	char *v = sql_rolled_back(
	    "SET LOCAL pakn.outbox_checked = 'on'; INSERT INTO "
	    "pakn.outbox (gateway, msisdn, body, kind, state, attempts, "
	    "gateway_ref, sent_at) SELECT 'at', '+849000018' || (n % 100), "
	    "'Da gui', 'test', 'sent', 1, 'ATXid_ref' || n, now() FROM "
	    "generate_series(1, 3000) n; CREATE TEMPORARY TABLE dlr ON "
	    "COMMIT DROP AS SELECT pakn.outbox_dlr('at', NULL, "
	    "'ATXid_ref1500', 'delivered', NULL) AS n; CREATE TEMPORARY "
	    "TABLE scans ON COMMIT DROP AS SELECT i.inhrelid AS part, "
	    "pg_stat_get_xact_numscans(i.inhrelid) AS seq, (SELECT "
	    "sum(pg_stat_get_xact_numscans(x.inhrelid)) FROM pg_inherits x "
	    "WHERE x.inhparent = 'pakn.outbox_ref_sent_idx'::regclass) AS "
	    "ref FROM pg_inherits i WHERE i.inhparent = "
	    "'pakn.outbox'::regclass",
	    "SELECT d.n || ' ' || o.state || ' ' || s.seq || ' ' || "
	    "(s.ref > 0) FROM dlr d, pakn.outbox o JOIN scans s ON s.part = "
	    "o.tableoid WHERE o.gateway = 'at' AND o.gateway_ref = "
	    "'ATXid_ref1500'");

	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v, "1 delivered 0 true");
	free(v);
}
END_TEST

/* Outcomes recorded in one statement (pakn.outbox_results, as paknd
 * records the sends that finish together): each row is judged on its
 * own state, and the answer names each one's state, in order. */
START_TEST(test_results_batch)
{
	long id[5];
	char *v, *q;
	int i;

	/* Leased for an hour: the running paknd leaves them alone. The
	 * first queued 40 days ago: the batch is of two months' partitions. */
	for (i = 0; i < 5; i++) {
		char ph[16];

		snprintf(ph, sizeof ph, "+8490000130%d", i);
		id[i] = sql_long(
		    "INSERT INTO pakn.outbox (gateway, msisdn, body, kind, "
		    "state, attempts, lease_until, last_error, created_at) "
		    "VALUES ('kannel', $1, 'Ket qua', 'test', 'sending', "
		    "$2::integer, now() + interval '1 hour', 'old', now() - "
		    "$3::interval) RETURNING id",
		    ph, i == 2 ? "3" : "1", i == 0 ? "40 days" : "0", NULL);
	}
	/* A report came before our own 'sent'; another ended elsewhere. */
	q = strf("UPDATE pakn.outbox SET state = 'delivered', delivered_at = "
	         "now() WHERE id = %ld",
	         id[3]);
	PQclear(sql_query(q, NULL));
	free(q);
	q = strf("UPDATE pakn.outbox SET state = 'failed', lease_until = NULL "
	         "WHERE id = %ld",
	         id[4]);
	PQclear(sql_query(q, NULL));
	free(q);
	q = strf(
	    "WITH o AS (SELECT id, created_at FROM pakn.outbox WHERE id = ANY "
	    "('{%ld,%ld,%ld,%ld,%ld}')), j AS (SELECT jsonb_agg(x ORDER BY k) "
	    "AS a FROM (SELECT k, jsonb_build_object('id', coalesce(o.id, "
	    "w.id), 'created_at', coalesce(o.created_at, now()), 'outcome', "
	    "w.outcome, 'ref', w.ref, 'error', w.error, 'segments', w.seg, "
	    "'encoding', w.enc) AS x FROM (VALUES (1, %ld, 'sent', 'ref-a', "
	    "NULL, 2, 'ucs2'), (2, %ld, 'retry', NULL, 'HTTP 503', NULL, "
	    "'gsm7'), (3, %ld, 'retry', NULL, 'HTTP 503', NULL, 'gsm7'), (4, "
	    "%ld, 'sent', 'ref-d', NULL, 1, 'gsm7'), (5, %ld, 'sent', 'ref-e', "
	    "NULL, 1, 'gsm7'), (6, 0, 'sent', 'ref-f', NULL, 1, 'gsm7'), (7, "
	    "%ld, 'failed', NULL, 'again', NULL, NULL)) w(k, id, outcome, "
	    "ref, error, seg, enc) LEFT JOIN o ON o.id = w.id) y) "
	    "SELECT string_agg(r.n || ':' || r.state, ',' ORDER BY r.n) FROM "
	    "j, pakn.outbox_results(j.a, 3, 60) r",
	    id[0], id[1], id[2], id[3], id[4], id[0], id[1], id[2], id[3],
	    id[4], id[0]);
	v = sql_value(q, NULL);
	free(q);
	/* The same message twice: its first outcome counts. */
	ck_assert_str_eq(v, "1:sent,2:queued,3:failed,4:delivered,5:failed,"
	                    "6:missing,7:sent");
	free(v);
	assert_col(id[0], "state", "sent");
	assert_col(id[0], "gateway_ref", "ref-a");
	assert_col(id[0], "segments", "2");
	assert_col(id[0], "encoding", "ucs2");
	ck_assert_ptr_null(outbox_col(id[0], "last_error"));
	ck_assert_ptr_null(outbox_col(id[0], "lease_until"));
	ck_assert_ptr_nonnull(v = outbox_col(id[0], "sent_at"));
	free(v);
	/* Retried after retry_base (60 s) times 0.5 to 1.5 at attempt 1. */
	assert_col(id[1], "last_error", "HTTP 503");
	ck_assert_ptr_null(outbox_col(id[1], "lease_until"));
	ck_assert_ptr_null(outbox_col(id[1], "sent_at"));
	q = strf("SELECT next_attempt_at - now() BETWEEN interval '29 s' AND "
	         "interval '91 s' FROM pakn.outbox WHERE id = %ld",
	         id[1]);
	v = sql_value(q, NULL);
	free(q);
	ck_assert_str_eq(v, "t");
	free(v);
	/* Its third attempt failed: no more. */
	assert_col(id[2], "last_error", "HTTP 503");
	ck_assert_ptr_null(outbox_col(id[2], "lease_until"));
	/* Delivered stays delivered, with what the send said. */
	assert_col(id[3], "gateway_ref", "ref-d");
	assert_col(id[3], "segments", "1");
	assert_col(id[3], "last_error", "old");
	ck_assert_ptr_nonnull(v = outbox_col(id[3], "sent_at"));
	free(v);
	/* Not sending any more: untouched. */
	ck_assert_ptr_null(outbox_col(id[4], "gateway_ref"));
	assert_col(id[4], "last_error", "old");
	/* Not sent later to the fake gateway the other tests count. */
	q = strf("UPDATE pakn.outbox SET state = 'failed' WHERE id = %ld",
	         id[1]);
	PQclear(sql_query(q, NULL));
	free(q);
}
END_TEST

/* The database refuses some outcomes of a batch (a trigger stands in for
 * whatever could): the others are recorded all the same, each once, and
 * not sent again; the refused ones stay 'sending' for their lease. */
START_TEST(test_results_refused)
{
	const char *bad = "+849000014__";
	double end = now_secs() + WAIT;
	long sent = 0;
	struct fg_line l[2];
	char ph[16];
	int i;

	PQclear(sql_query(
	    "CREATE FUNCTION pakn.test_refuse() RETURNS trigger LANGUAGE "
	    "plpgsql AS $$ BEGIN IF NEW.state = 'sent' THEN RAISE EXCEPTION "
	    "'test: outcome refused'; END IF; RETURN NEW; END $$",
	    NULL));
	PQclear(sql_query("CREATE TRIGGER test_refuse BEFORE UPDATE ON "
	                  "pakn.outbox FOR EACH ROW WHEN (NEW.msisdn LIKE "
	                  "'+849000014__') EXECUTE FUNCTION pakn.test_refuse()",
	                  NULL));
	/* 30 at once: they finish together, in batches that mix both. */
	PQclear(sql_query(
	    "INSERT INTO pakn.outbox (gateway, msisdn, body, kind) SELECT "
	    "'kannel', CASE WHEN i % 3 = 0 THEN '+849000014' ELSE "
	    "'+849000015' END || lpad(i::text, 2, '0'), 'Lo ' || i, 'refused' "
	    "FROM generate_series(1, 30) i",
	    NULL));
	while (now_secs() < end &&
	       (sent = sql_long("SELECT count(*) FROM pakn.outbox WHERE kind = "
	                        "'refused' AND state = 'sent'",
	                        NULL)) < 20)
		sleep_ms(100);
	ck_assert_int_eq(sent, 20);
	/* Each sent once (the refused ones may still be on their way). */
	for (i = 1; i <= 30; i++) {
		snprintf(ph, sizeof ph, "+84900001%d%02d", i % 3 ? 5 : 4, i);
		ck_assert_int_eq(fg_wait(FG_KANNEL, "to", ph, 1, l, 2), 1);
		fg_free(l, 1);
	}
	sleep_ms(500);
	ck_assert_int_eq(
	    sql_long("SELECT count(*) FROM pakn.outbox WHERE kind "
	             "= 'refused' AND state = 'sending' AND msisdn "
	             "LIKE $1",
	             bad, NULL),
	    10);
	ck_assert_int_eq(sql_long("SELECT count(*) FROM pakn.outbox WHERE kind "
	                          "= 'refused' AND state = 'sent'",
	                          NULL),
	                 20);
	PQclear(sql_query("DROP TRIGGER test_refuse ON pakn.outbox", NULL));
	PQclear(sql_query("DROP FUNCTION pakn.test_refuse()", NULL));
	PQclear(sql_query("UPDATE pakn.outbox SET state = 'failed' WHERE kind "
	                  "= 'refused' AND state = 'sending'",
	                  NULL));
}
END_TEST

/* Build the suite; the log test runs last. */
static Suite *
outbox_suite(void)
{
	Suite *s = suite_create("outbox");
	TCase *tc = tcase_create("send");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_complaint_ack);
	tcase_add_test(tc, test_complaint_diacritics);
	tcase_add_test(tc, test_twilio_send);
	tcase_add_test(tc, test_at_send);
	tcase_add_test(tc, test_kannel_dlr);
	tcase_add_test(tc, test_claim_by_index);
	tcase_add_test(tc, test_claim_skips_in_flight);
	tcase_add_test(tc, test_dlr_by_ref_indexed);
	tcase_add_test(tc, test_results_batch);
	tcase_add_test(tc, test_results_refused);
	tcase_add_test(tc, test_retry_then_sent);
	tcase_add_test(tc, test_permanent_failure);
	tcase_add_test(tc, test_attempts_exhausted);
	tcase_add_test(tc, test_send_timeout);
	tcase_add_test(tc, test_no_gateway);
	tcase_add_test(tc, test_rate_limit);
	tcase_add_test(tc, test_replies_first);
	tcase_add_test(tc, test_burst);
	tcase_add_test(tc, test_connections_kept);
	tcase_add_test(tc, test_backlog_rate);
	tcase_add_test(tc, test_burst_rate);
	tcase_add_test(tc, test_log_rate);
	tcase_add_test(tc, test_log);
	tcase_add_test(tc, test_drain);
	suite_add_tcase(s, tc);
	return s;
}

/* Start the fake gateways and the daemon, with the sample units. */
static int
setup(void)
{
	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "outbox: cannot start PostgreSQL\n");
		return 99;
	}
	for (int i = 0; i < NFG; i++)
		if (fakegw_start(&fgs[i]) == -1)
			return 99;
	if ((down_port = free_port()) == -1 || hole_open() == -1)
		return 99;
	if (paknd_config(&D, "outbox", "pakn", 1, NULL) == -1 ||
	    write_conf() == -1 || paknd_spawn(&D) == -1 ||
	    paknd_wait_ready(&D, 10) == -1) {
		fprintf(stderr, "outbox: paknd does not start\n");
		return 1;
	}
	if (harness_import_samples(D.conf, 0) == -1) {
		fprintf(stderr, "outbox: cannot import the sample units\n");
		return 1;
	}
	return 0;
}

/* Stop the daemon (it must drain and exit 0, logging no error) and the
 * fake gateways. */
static int
finish(void)
{
	int status = paknd_stop(&D, 10), rc = 0;
	char *errors;

	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		fprintf(stderr, "paknd outbox: wait status 0x%x\n", status);
		paknd_dump(&D);
		rc = -1;
	}
	if ((errors = log_grep(D.log, 0, "[error]")) != NULL) {
		fprintf(stderr, "paknd outbox logged errors:\n%s", errors);
		free(errors);
		rc = -1;
	}
	for (int i = 0; i < NFG; i++)
		if (fakegw_stop(&fgs[i]) != 0)
			rc = -1;
	if (hole_fd != -1)
		close(hole_fd);
	return rc;
}

/* Run the suite against the servers. */
int
main(void)
{
	SRunner *sr;
	int failed, rc;

	if ((rc = setup()) != 0)
		return rc;
	sr = srunner_create(outbox_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (finish() == -1)
		failed++;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
