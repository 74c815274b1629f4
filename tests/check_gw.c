/* check_gw.c: gateway adapters (Kannel, Twilio-style, Africa's Talking):
 * inbound SMS, sending, delivery reports, USSD callbacks. */

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gw.h"
#include "util.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

#define TOKEN "s3cret"

/* "Đường Nguyễn Trãi ngập nước" as percent-encoded UTF-16BE. */
#define VI_UCS2                                                                \
	"%01%10%01%B0%1E%DD%00%6E%00%67%00%20%00%4E%00%67%00%75%00%79%1E%C5"   \
	"%00%6E%00%20%00%54%00%72%00%E3%00%69%00%20%00%6E%00%67%1E%AD%00%70"   \
	"%00%20%00%6E%01%B0%1E%DB%00%63"
#define VI_UTF8 "Đường Nguyễn Trãi ngập nước"

/* A request header. */
struct hdr {
	const char *name;
	const char *value;
};

/* A request under test; headers end with a NULL name. */
struct treq {
	struct gw_request req;
	struct hdr hdrs[8];
};

static struct gw_conf kannel_gw = {
    .name = "kannel", .type = GW_KANNEL, .token = TOKEN};
static struct gw_conf at_gw = {.name = "at", .type = GW_AT, .token = TOKEN};
static struct gw_conf twilio_gw = {.name = "twilio",
                                   .type = GW_TWILIO,
                                   .auth_token = "12345",
                                   .public_url = "https://mycompany.com/"};

/* Look a header up in a NULL-terminated table. */
static const char *
test_header(const void *ctx, const char *name)
{
	const struct hdr *h;

	for (h = ctx; h->name != NULL; h++) {
		if (strcasecmp(h->name, name) == 0)
			return h->value;
	}
	return NULL;
}

/* Fill a request; query is derived from uri. */
static void
treq_init(struct treq *t, enum gw_method m, const char *uri, const char *ct,
          const char *body, size_t body_len)
{
	const char *q = strchr(uri, '?');

	memset(t, 0, sizeof *t);
	t->req.method = m;
	t->req.uri = uri;
	t->req.query = q != NULL ? q + 1 : NULL;
	t->req.content_type = ct;
	t->req.body = (const unsigned char *)body;
	t->req.body_len = body_len;
	t->req.header = test_header;
	t->req.hctx = t->hdrs;
}

/* Add a header to a request. */
static void
treq_header(struct treq *t, const char *name, const char *value)
{
	size_t i;

	for (i = 0; t->hdrs[i].name != NULL; i++)
		;
	ck_assert_uint_lt(i + 1, LEN(t->hdrs));
	t->hdrs[i].name = name;
	t->hdrs[i].value = value;
}

/* Parse with a gateway; on failure check the status and cause. */
static int
parse(const struct gw_conf *gw, struct treq *t, struct sms_in *sms, int want,
      const char *want_cause)
{
	char *cause = NULL;
	int r = gw_ops(gw->type)->parse_sms(gw, &t->req, sms, &cause);

	ck_assert_msg(r == want, "status %d, want %d (%s)", r, want,
	              cause != NULL ? cause : "no cause");
	if (r != 0) {
		ck_assert_ptr_nonnull(cause);
		ck_assert_ptr_null(sms->from);
		ck_assert_ptr_null(sms->msg_id);
		ck_assert_ptr_null(sms->text);
		if (want_cause != NULL)
			ck_assert_msg(strstr(cause, want_cause) != NULL,
			              "cause \"%s\", want \"%s\"", cause,
			              want_cause);
	} else
		ck_assert_ptr_null(cause);
	free(cause);
	return r;
}

/* The table maps types to adapters. */
START_TEST(test_ops)
{
	ck_assert_ptr_eq(gw_ops(GW_KANNEL), &gw_kannel_ops);
	ck_assert_ptr_eq(gw_ops(GW_TWILIO), &gw_twilio_ops);
	ck_assert_ptr_eq(gw_ops(GW_AT), &gw_at_ops);
	ck_assert_int_eq(gw_kannel_ops.type, GW_KANNEL);
	ck_assert_str_eq(gw_kannel_ops.reply_type, "text/plain");
	ck_assert_str_eq(gw_kannel_ops.reply_body, "OK\n");
	ck_assert_str_eq(gw_twilio_ops.reply_type, "text/xml");
	ck_assert_str_eq(
	    gw_twilio_ops.reply_body,
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>");
	ck_assert_str_eq(gw_at_ops.reply_type, "text/plain");
	ck_assert_str_eq(gw_at_ops.reply_body, "");
	sms_in_clear(NULL);
}
END_TEST

static const struct {
	const char *conf_token;
	const char *uri;
	const char *header;
	int want;
	const char *cause;
} token_cases[] = {
    {TOKEN, "/k?token=" TOKEN, NULL, 0, NULL},
    {TOKEN, "/k?a=1", TOKEN, 0, NULL},
    {TOKEN, "/k?a=1", NULL, 401, "missing token"},
    {TOKEN, "/k", NULL, 401, "missing token"},
    {TOKEN, "/k?token=wrong", NULL, 403, "wrong token"},
    {TOKEN, "/k?token=", NULL, 403, "wrong token"},
    {TOKEN, "/k?token=s3cre", NULL, 403, "wrong token"},
    {TOKEN, "/k?token=s3cret%00", NULL, 403, "wrong token"},
    {TOKEN, "/k", "nope", 403, "wrong token"},
    {TOKEN, "/k?token=wrong", TOKEN, 403, "wrong token"},
    {NULL, "/k?token=" TOKEN, NULL, 403, "no token configured"},
    {"", "/k?token=", NULL, 403, "no token configured"},
    {"", "/k", NULL, 403, "no token configured"},
};

/* Check the callback secret from the query or the header. */
START_TEST(test_check_token)
{
	struct gw_conf gw = {.name = "k",
	                     .token = (char *)token_cases[_i].conf_token};
	struct form q = {NULL, 0};
	struct treq t;
	char *cause = NULL;
	int r;

	treq_init(&t, GW_GET, token_cases[_i].uri, NULL, NULL, 0);
	if (token_cases[_i].header != NULL)
		treq_header(&t, "x-pakn-token", token_cases[_i].header);
	ck_assert_int_eq(gw_parse_query(&t.req, &q, NULL), 0);
	r = gw_check_token(&gw, &t.req, &q, &cause);
	ck_assert_int_eq(r, token_cases[_i].want);
	if (r != 0)
		ck_assert_str_eq(cause, token_cases[_i].cause);
	free(cause);
	form_clear(&q);
}
END_TEST

static const struct {
	const char *in;
	const char *out;
} redact_cases[] = {
    {"/kannel/sms?token=s3cret&from=1", "/kannel/sms?token=REDACTED&from=1"},
    {"/x?a=1&token=abc&b=2", "/x?a=1&token=REDACTED&b=2"},
    {"/x?token=a&token=b", "/x?token=REDACTED&token=REDACTED"},
    {"/x?tok%65n=abc&b=%20", "/x?tok%65n=REDACTED&b=%20"},
    {"/x?a=1&&token=", "/x?a=1&&token=REDACTED"},
    {"/x?a=%zz&token=1&", "/x?a=%zz&token=REDACTED&"},
    {"/x?tokens=1&mytoken=2&token", "/x?tokens=1&mytoken=2&token"},
    {"/x?text=token%3Dabc", "/x?text=token%3Dabc"},
    {"/x", "/x"},
    {"/x?", "/x?"},
    {"", ""},
};

/* Redact token values and keep the rest byte-exact. */
START_TEST(test_redact)
{
	char *out = gw_redact_uri(redact_cases[_i].in);

	ck_assert_str_eq(out, redact_cases[_i].out);
	free(out);
}
END_TEST

/* Compute Base64(HMAC-SHA1(key, data)) independently of gw.c. */
static void
hmac_b64(const char *key, const char *data, size_t len, char out[64])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	HMAC(EVP_sha1(), key, (int)strlen(key), (const unsigned char *)data,
	     len, md, &mdlen);
	EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
}

/* The published Twilio vector, in any parameter order. */
START_TEST(test_twilio_vector)
{
	static const char *bodies[] = {
	    "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234"
	    "&From=%2B12349013030&To=%2B18005551212",
	    "To=%2B18005551212&From=%2B12349013030&Digits=1234"
	    "&Caller=%2B12349013030&CallSid=CA1234567890ABCDE",
	};
	struct form f = {NULL, 0};
	size_t i;
	char *sig;

	for (i = 0; i < LEN(bodies); i++) {
		ck_assert_int_eq(
		    form_parse(&f, bodies[i], strlen(bodies[i]), NULL), 0);
		sig = gw_twilio_signature(
		    "12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &f);
		ck_assert_str_eq(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
		free(sig);
		form_clear(&f);
	}
}
END_TEST

static const struct {
	const char *key;
	const char *url;
	const char *form;
	const char *data; /* what is signed after the URL */
	size_t len;
} sign_cases[] = {
    /* Equal keys are ordered by value, shorter first. */
    {"k", "https://h/p", "b=2&a=z&a=y&a=", "aayazb2", 7},
    {"k", "https://h/p", "a=&a=y&b=2&a=z", "aayazb2", 7},
    /* Values are binary-safe. */
    {"k", "u", "a=x%00y", "ax\0y", 4},
    {"k", "u", "a=x%00z", "ax\0z", 4},
    {"k", "u", "", "", 0},
    {"", "u", "z=1&y=2", "y2z1", 4},
};

/* Sign each table entry and compare with HMAC computed here. */
START_TEST(test_twilio_sort)
{
	struct form f = {NULL, 0};
	char want[64], *data, *sig;
	size_t ulen = strlen(sign_cases[_i].url);

	data = xmalloc(ulen + sign_cases[_i].len + 1);
	memcpy(data, sign_cases[_i].url, ulen);
	memcpy(data + ulen, sign_cases[_i].data, sign_cases[_i].len);
	hmac_b64(sign_cases[_i].key, data, ulen + sign_cases[_i].len, want);
	ck_assert_int_eq(form_parse(&f, sign_cases[_i].form,
	                            strlen(sign_cases[_i].form), NULL),
	                 0);
	sig = gw_twilio_signature(sign_cases[_i].key, sign_cases[_i].url, &f);
	ck_assert_str_eq(sig, want);
	free(sig);
	form_clear(&f);
	free(data);
}
END_TEST

/* A Kannel get-url callback with plain UTF-8 text. */
START_TEST(test_kannel_get_utf8)
{
	struct sms_in sms;
	struct treq t;

	treq_init(
	    &t, GW_GET,
	    "/kannel/sms?from=%2B84912345678&to=8079&text=Hello+world%21"
	    "&coding=0&charset=UTF-8&id=5f1c7a4e-0c2b&smsc=fake&ts=1795401086"
	    "&token=" TOKEN,
	    NULL, NULL, 0);
	parse(&kannel_gw, &t, &sms, 0, NULL);
	ck_assert_str_eq(sms.from, "+84912345678");
	ck_assert_str_eq(sms.to, "8079");
	ck_assert_str_eq(sms.text, "Hello world!");
	ck_assert_str_eq(sms.msg_id, "5f1c7a4e-0c2b");
	ck_assert_str_eq(sms.smsc, "fake");
	ck_assert_int_eq(sms.sent_at, 1795401086);
	ck_assert_int_eq(sms.segments, 0);
	sms_in_clear(&sms);
	ck_assert_ptr_null(sms.from);
}
END_TEST

static const struct {
	const char *uri;
	const char *text;
} kannel_text_cases[] = {
    /* UCS-2, as Kannel sends Vietnamese. */
    {"/k?token=" TOKEN "&from=0912345678&to=8079&id=1&coding=2"
     "&charset=UTF-16BE&text=" VI_UCS2,
     VI_UTF8},
    /* coding=2 wins over a wrong charset. */
    {"/k?token=" TOKEN "&from=0912345678&to=8079&id=1&coding=2"
     "&charset=UTF-8&text=" VI_UCS2,
     VI_UTF8},
    /* Surrogate pairs: "Ngập 🌊😀!". */
    {"/k?token=" TOKEN "&from=0912345678&to=8079&id=1&coding=2&text="
     "%00%4E%00%67%1E%AD%00%70%00%20%D8%3C%DF%0A%D8%3D%DE%00%00%21",
     "Ngập 🌊😀!"},
    /* mo-recode = yes: the same text as UTF-8 with coding=0. */
    {"/k?token=" TOKEN "&from=0912345678&to=8079&id=1&coding=0"
     "&charset=UTF-8&text=%C4%90%C6%B0%E1%BB%9Dng+Nguy%E1%BB%85n",
     "Đường Nguyễn"},
    /* No coding, no charset: UTF-8. */
    {"/k?token=" TOKEN "&from=0912345678&to=8079&id=1&text=caf%C3%A9", "café"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&id=1&charset=ISO-8859-1"
     "&text=caf%E9",
     "café"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&id=1&charset=windows-1252"
     "&text=na%EFve",
     "naïve"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&id=1&coding=0"
     "&charset=UTF-16BE&text=%00h%00i",
     "hi"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&id=1&text=", ""},
    /* A byte order mark is not text: UCS-2 (either order), UTF-8. */
    {"/k?token=" TOKEN "&from=0912345678&to=8079&id=1&coding=2"
     "&text=%FE%FF" VI_UCS2,
     VI_UTF8},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&id=1&coding=2"
     "&text=%FF%FE%10%01%B0%01%DD%1E",
     "Đườ"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&id=1&coding=0"
     "&charset=UTF-8&text=%EF%BB%BFcaf%C3%A9",
     "café"},
};

/* Kannel text in every coding and charset comes out as UTF-8. */
START_TEST(test_kannel_text)
{
	struct sms_in sms;
	struct treq t;

	treq_init(&t, GW_GET, kannel_text_cases[_i].uri, NULL, NULL, 0);
	parse(&kannel_gw, &t, &sms, 0, NULL);
	ck_assert_str_eq(sms.text, kannel_text_cases[_i].text);
	ck_assert_str_eq(sms.from, "+84912345678");
	sms_in_clear(&sms);
}
END_TEST

static const struct {
	const char *uri;
	int want;
	const char *cause;
} kannel_err_cases[] = {
    {"/k?token=" TOKEN "&from=%zz", 400, "bad percent-encoding"},
    {"/k?from=%zz", 400, "bad percent-encoding"},
    {"/k?from=1", 401, "missing token"},
    {"/k?token=nope&from=1", 403, "wrong token"},
    {"/k?token=" TOKEN "&to=8079&text=a&id=1", 400, "missing from"},
    {"/k?token=" TOKEN "&from=0912345678&text=a&id=1", 400, "missing to"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&id=1", 400, "missing text"},
    {"/k?token=" TOKEN "&from=abc&to=8079&text=a&id=1", 400,
     "invalid sender number: \"abc\""},
    {"/k?token=" TOKEN "&from=0912345678&to=1&text=a&id=1", 400,
     "invalid receiver number"},
    {"/k?token=" TOKEN "&from=%00&to=8079&text=a&id=1", 400, "invalid from"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&text=a", 400,
     "missing id (add id=%I to the get-url)"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&text=a&ts=", 400,
     "missing id"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&text=a&id=1&ts=yesterday", 400,
     "invalid timestamp yesterday"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&text=a&id=1&coding=1", 400,
     "binary (8-bit) messages are not supported"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&text=a&id=1&coding=7", 400,
     "unsupported coding 7"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&text=a&id=1"
     "&charset=KOI8-R",
     400, "unsupported charset KOI8-R"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&text=%C3%28&id=1", 400,
     "bad text encoding: not valid UTF-8"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&text=a%00b&id=1", 400,
     "bad text encoding"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&text=%00A%00&id=1"
     "&coding=2",
     400, "odd number of bytes"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&text=%D8%3D%00A&id=1"
     "&coding=2",
     400, "unpaired high surrogate"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&text=%00%00&id=1"
     "&coding=2",
     400, "NUL character"},
    {"/k?token=" TOKEN "&from=0912345678&to=8079&text=a&id="
     "0123456789012345678901234567890123456789012345678901234567890123"
     "0123456789012345678901234567890123456789012345678901234567890123"
     "0123456789012345678901234567890123456789012345678901234567890123"
     "0123456789012345678901234567890123456789012345678901234567890123",
     400, "id longer than"},
};

/* Kannel callbacks that must be refused. */
START_TEST(test_kannel_errors)
{
	struct sms_in sms;
	struct treq t;

	treq_init(&t, GW_GET, kannel_err_cases[_i].uri, NULL, NULL, 0);
	parse(&kannel_gw, &t, &sms, kannel_err_cases[_i].want,
	      kannel_err_cases[_i].cause);
}
END_TEST

/* Without id, a timestamp gives a stable id hashed from the content. */
START_TEST(test_kannel_derived_id)
{
	struct sms_in a, b, c;
	struct treq t;

	treq_init(&t, GW_GET,
	          "/k?token=" TOKEN "&from=0912345678&to=8079&text=Hello"
	          "&ts=1795487486",
	          NULL, NULL, 0);
	parse(&kannel_gw, &t, &a, 0, NULL);
	ck_assert_str_eq(a.msg_id,
	                 "h:a3c9b23a7a3f1df281213c7fbe3e7eb5404015b6");
	treq_init(&t, GW_GET,
	          "/k?ts=1795487486&text=Hello&to=8079&from=%2B84912345678"
	          "&token=" TOKEN,
	          NULL, NULL, 0);
	parse(&kannel_gw, &t, &b, 0, NULL);
	ck_assert_str_eq(a.msg_id, b.msg_id);
	treq_init(&t, GW_GET,
	          "/k?token=" TOKEN "&from=0912345678&to=8079&text=Hello%21"
	          "&ts=1795487486",
	          NULL, NULL, 0);
	parse(&kannel_gw, &t, &c, 0, NULL);
	ck_assert_str_ne(a.msg_id, c.msg_id);
	sms_in_clear(&a);
	sms_in_clear(&b);
	sms_in_clear(&c);
}
END_TEST

/* get-url fields may come in a form POST body. */
START_TEST(test_kannel_form_post)
{
	static const char body[] = "from=0912345678&to=8079&coding=2&id=7"
	                           "&text=" VI_UCS2;
	struct sms_in sms;
	struct treq t;

	treq_init(&t, GW_POST, "/k?token=" TOKEN,
	          "application/x-www-form-urlencoded; charset=utf-8", body,
	          sizeof body - 1);
	parse(&kannel_gw, &t, &sms, 0, NULL);
	ck_assert_str_eq(sms.text, VI_UTF8);
	ck_assert_str_eq(sms.msg_id, "7");
	sms_in_clear(&sms);
	treq_init(&t, GW_POST, "/k?token=" TOKEN,
	          "application/x-www-form-urlencoded", "text=%", 6);
	parse(&kannel_gw, &t, &sms, 400, "body: bad percent-encoding");
}
END_TEST

/* A post-url callback: raw UTF-16BE body, details in headers. */
START_TEST(test_kannel_post_url)
{
	static const char body[] =
	    "\x01\x10\x01\xb0\x1e\xdd\x00\x6e\x00\x67\x00\x20\x00\x4e\x00"
	    "\x67\x00\x75\x00\x79\x1e\xc5\x00\x6e\x00\x20\x00\x54\x00\x72"
	    "\x00\xe3\x00\x69\x00\x20\x00\x6e\x00\x67\x1e\xad\x00\x70\x00"
	    "\x20\x00\x6e\x01\xb0\x1e\xdb\x00\x63";
	struct sms_in sms;
	struct treq t;

	treq_init(&t, GW_POST, "/k?token=" TOKEN "&id=abc&from=0999999999",
	          "text/plain; charset=UTF-16BE", body, sizeof body - 1);
	treq_header(&t, "X-Kannel-From", "+84912345678");
	treq_header(&t, "X-Kannel-To", "8079");
	treq_header(&t, "X-Kannel-Time", "2026-11-23 02:31:26");
	treq_header(&t, "X-Kannel-Coding", "2");
	treq_header(&t, "X-Kannel-SMSC", "fake");
	parse(&kannel_gw, &t, &sms, 0, NULL);
	ck_assert_str_eq(sms.text, VI_UTF8);
	ck_assert_str_eq(sms.from, "+84912345678");
	ck_assert_str_eq(sms.to, "8079");
	ck_assert_str_eq(sms.msg_id, "abc");
	ck_assert_str_eq(sms.smsc, "fake");
	ck_assert_int_eq(sms.sent_at, 1795401086);
	sms_in_clear(&sms);
}
END_TEST

/* post-url: the query fills what headers lack; empty body, empty text. */
START_TEST(test_kannel_post_url_query)
{
	struct sms_in sms;
	struct treq t;

	treq_init(&t, GW_POST, "/k?from=0912345678&to=8079&token=" TOKEN,
	          "text/plain; charset=\"utf-8\"", "Xin ch\xc3\xa0o", 9);
	treq_header(&t, "X-Kannel-Time", "1795401086");
	parse(&kannel_gw, &t, &sms, 0, NULL);
	ck_assert_str_eq(sms.text, "Xin chào");
	ck_assert_str_eq(sms.from, "+84912345678");
	ck_assert_int_eq(strncmp(sms.msg_id, "h:", 2), 0);
	ck_assert_uint_eq(strlen(sms.msg_id), 42);
	ck_assert_ptr_null(sms.smsc);
	sms_in_clear(&sms);

	treq_init(&t, GW_POST, "/k?id=9&token=" TOKEN, "text/plain", "", 0);
	treq_header(&t, "X-Kannel-From", "0912345678");
	treq_header(&t, "X-Kannel-To", "8079");
	parse(&kannel_gw, &t, &sms, 0, NULL);
	ck_assert_str_eq(sms.text, "");
	sms_in_clear(&sms);

	treq_init(&t, GW_POST, "/k?id=9&token=" TOKEN, "text/plain", "hi", 2);
	treq_header(&t, "X-Kannel-To", "8079");
	parse(&kannel_gw, &t, &sms, 400, "missing from");

	treq_init(&t, GW_POST, "/k?id=9&token=" TOKEN,
	          "text/plain; charset=ISO-8859-1", "caf\xe9", 4);
	treq_header(&t, "X-Kannel-From", "0912345678");
	treq_header(&t, "X-Kannel-To", "8079");
	treq_header(&t, "X-Kannel-Time", "23/11/2026");
	parse(&kannel_gw, &t, &sms, 400, "invalid timestamp");

	treq_init(&t, GW_POST, "/k?id=9", "text/plain", "hi", 2);
	treq_header(&t, "X-Pakn-Token", TOKEN);
	treq_header(&t, "X-Kannel-From", "0912345678");
	treq_header(&t, "X-Kannel-To", "8079");
	treq_header(&t, "X-Kannel-Coding", "1");
	parse(&kannel_gw, &t, &sms, 400, "binary");
}
END_TEST

/* Sign a Twilio request as the provider would. */
static char *
twilio_sign(const char *uri, const char *body)
{
	struct form f = {NULL, 0};
	char *url = xasprintf("https://mycompany.com%s", uri), *sig;

	/* A body that does not parse is signed without parameters. */
	if (body != NULL)
		form_parse(&f, body, strlen(body), NULL);
	sig = gw_twilio_signature("12345", url, body != NULL ? &f : NULL);
	form_clear(&f);
	free(url);
	return sig;
}

/* A signed Twilio form POST. */
START_TEST(test_twilio_ok)
{
	static const char body[] =
	    "ToCountry=VN&MessageSid=SM0123456789abcdef&From=%2B84912345678"
	    "&To=%2B18005551212&Body=Ng%E1%BA%ADp+n%C6%B0%E1%BB%9Bc&"
	    "NumSegments=2"
	    "&AccountSid=AC1&NumMedia=0";
	struct sms_in sms;
	struct treq t;
	char *sig = twilio_sign("/twilio/sms?x=1", body);

	treq_init(&t, GW_POST, "/twilio/sms?x=1",
	          "application/x-www-form-urlencoded", body, sizeof body - 1);
	treq_header(&t, "X-Twilio-Signature", sig);
	parse(&twilio_gw, &t, &sms, 0, NULL);
	ck_assert_str_eq(sms.msg_id, "SM0123456789abcdef");
	ck_assert_str_eq(sms.from, "+84912345678");
	ck_assert_str_eq(sms.to, "+18005551212");
	ck_assert_str_eq(sms.text, "Ngập nước");
	ck_assert_int_eq(sms.segments, 2);
	ck_assert_int_eq(sms.sent_at, 0);
	ck_assert_ptr_null(sms.smsc);
	sms_in_clear(&sms);
	free(sig);
}
END_TEST

/* The published vector passes the signature check (then lacks fields). */
START_TEST(test_twilio_vector_request)
{
	static const char body[] =
	    "CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234"
	    "&From=%2B12349013030&To=%2B18005551212";
	struct sms_in sms;
	struct treq t;

	treq_init(&t, GW_POST, "/myapp.php?foo=1&bar=2",
	          "application/x-www-form-urlencoded", body, sizeof body - 1);
	treq_header(&t, "X-Twilio-Signature", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
	parse(&twilio_gw, &t, &sms, 400, "missing MessageSid");
	t.hdrs[0].value = "0/KCTR6DLpKmkAf8muzZqo1nDgQ";
	parse(&twilio_gw, &t, &sms, 403, "bad signature");
	t.req.uri = "/myapp.php?foo=1&bar=3";
	t.hdrs[0].value = "0/KCTR6DLpKmkAf8muzZqo1nDgQ=";
	parse(&twilio_gw, &t, &sms, 403, "bad signature");
}
END_TEST

static const struct {
	const char *body;
	int sign;
	const char *ct;
	int want;
	const char *cause;
} twilio_err_cases[] = {
    {"MessageSid=SM1&From=0912345678&To=8079&Body=hi", 0,
     "application/x-www-form-urlencoded", 401, "missing X-Twilio-Signature"},
    {"MessageSid=SM1&From=0912345678&To=8079&Body=hi", 2,
     "application/x-www-form-urlencoded", 403, "bad signature"},
    {"MessageSid=SM1&From=0912345678&To=8079&Body=hi", 1, "text/plain", 415,
     "Content-Type"},
    {"MessageSid=SM1&From=0912345678&To=8079&Body=%", 1,
     "application/x-www-form-urlencoded", 400, "bad percent-encoding"},
    {"From=0912345678&To=8079&Body=hi", 1, "application/x-www-form-urlencoded",
     400, "missing MessageSid"},
    {"MessageSid=SM1&To=8079&Body=hi", 1, "application/x-www-form-urlencoded",
     400, "missing From"},
    {"MessageSid=SM1&From=0912345678&Body=hi", 1,
     "application/x-www-form-urlencoded", 400, "missing To"},
    {"MessageSid=SM1&From=0912345678&To=8079", 1,
     "application/x-www-form-urlencoded", 400, "missing Body"},
    {"MessageSid=SM1&From=0912345678&To=8079&Body=%FF", 1,
     "application/x-www-form-urlencoded", 400, "invalid Body"},
    {"MessageSid=SM1&From=0912345678&To=8079&Body=a%00", 1,
     "application/x-www-form-urlencoded", 400, "invalid Body"},
    {"MessageSid=SM1&From=whatsapp:1&To=8079&Body=hi", 1,
     "application/x-www-form-urlencoded", 400, "invalid sender number"},
};

/* Twilio callbacks that must be refused. */
START_TEST(test_twilio_errors)
{
	const char *body = twilio_err_cases[_i].body;
	struct sms_in sms;
	struct treq t;
	char *sig = twilio_sign("/t", body);

	if (twilio_err_cases[_i].sign == 2)
		sig[0] = sig[0] == 'A' ? 'B' : 'A';
	treq_init(&t, GW_POST, "/t", twilio_err_cases[_i].ct, body,
	          strlen(body));
	if (twilio_err_cases[_i].sign)
		treq_header(&t, "X-Twilio-Signature", sig);
	parse(&twilio_gw, &t, &sms, twilio_err_cases[_i].want,
	      twilio_err_cases[_i].cause);
	free(sig);
}
END_TEST

/* GET is signed over the URL only; no key configured refuses all. */
START_TEST(test_twilio_get)
{
	static const char uri[] = "/t?MessageSid=SM2&From=%2B12349013030"
	                          "&To=8079&Body=ok&NumSegments=x";
	struct gw_conf nokey = twilio_gw;
	struct sms_in sms;
	struct treq t;
	char *sig = twilio_sign(uri, NULL);

	treq_init(&t, GW_GET, uri, NULL, NULL, 0);
	treq_header(&t, "X-Twilio-Signature", sig);
	parse(&twilio_gw, &t, &sms, 0, NULL);
	ck_assert_str_eq(sms.from, "+12349013030");
	ck_assert_str_eq(sms.text, "ok");
	ck_assert_int_eq(sms.segments, 0);
	sms_in_clear(&sms);
	nokey.auth_token = NULL;
	parse(&nokey, &t, &sms, 403, "no auth_token");
	nokey.auth_token = "";
	parse(&nokey, &t, &sms, 403, "no auth_token");
	free(sig);
}
END_TEST

static const struct {
	const char *date;
	int64_t sent_at;
} at_date_cases[] = {
    {"&date=2026-11-23+02%3A31%3A26", 1795401086},
    {"&date=2026-11-23T02%3A31%3A26Z", 1795401086},
    {"&date=2026-11-23T02%3A31%3A26.123Z", 1795401086},
    {"&date=2024-02-29T23%3A59%3A59Z", 1709251199},
    {"", 0},
    {"&date=", 0},
    {"&date=last+tuesday", 0},
    {"&date=2026-02-30+02%3A31%3A26", 0},
    {"&date=2026-11-23T02%3A31%3A26.Z", 0},
};

/* Africa's Talking dates, and a bad one ignored. */
START_TEST(test_at_dates)
{
	char *body =
	    xasprintf("from=%%2B84912345678&to=8079&text=Xin+ch%%C3%%A0o"
	              "&id=ATXid_1&linkId=L1%s",
	              at_date_cases[_i].date);
	struct sms_in sms;
	struct treq t;

	treq_init(&t, GW_POST, "/at/sms?token=" TOKEN,
	          "application/x-www-form-urlencoded", body, strlen(body));
	parse(&at_gw, &t, &sms, 0, NULL);
	ck_assert_str_eq(sms.from, "+84912345678");
	ck_assert_str_eq(sms.to, "8079");
	ck_assert_str_eq(sms.text, "Xin chào");
	ck_assert_str_eq(sms.msg_id, "ATXid_1");
	ck_assert_int_eq(sms.sent_at, at_date_cases[_i].sent_at);
	sms_in_clear(&sms);
	free(body);
}
END_TEST

static const struct {
	const char *uri;
	const char *ct;
	const char *body;
	int want;
	const char *cause;
} at_err_cases[] = {
    {"/at", NULL, "from=0912345678&to=8079&text=a&id=1", 401, "missing token"},
    {"/at?token=x", NULL, "from=0912345678&to=8079&text=a&id=1", 403,
     "wrong token"},
    {"/at?token=%", NULL, "from=0912345678&to=8079&text=a&id=1", 400,
     "bad percent-encoding"},
    {"/at?token=" TOKEN, "application/json", "{}", 415, "Content-Type"},
    {"/at?token=" TOKEN, NULL, "to=8079&text=a&id=1", 400, "missing from"},
    {"/at?token=" TOKEN, NULL, "from=0912345678&text=a&id=1", 400,
     "missing to"},
    {"/at?token=" TOKEN, NULL, "from=0912345678&to=8079&id=1", 400,
     "missing text"},
    {"/at?token=" TOKEN, NULL, "from=0912345678&to=8079&text=a", 400,
     "missing id"},
    {"/at?token=" TOKEN, NULL, "from=0912345678&to=8079&text=a&id=", 400,
     "missing id"},
    {"/at?token=" TOKEN, NULL, "from=0912345678&to=8079&text=%C0%80&id=1", 400,
     "invalid text"},
    {"/at?token=" TOKEN, NULL, "from=0912345678&to=8079&text=a&id=1&x=%", 400,
     "body: bad percent-encoding"},
    {"/at?token=" TOKEN, NULL, "from=%2B1x&to=8079&text=a&id=1", 400,
     "invalid sender number"},
};

/* Africa's Talking callbacks that must be refused. */
START_TEST(test_at_errors)
{
	struct sms_in sms;
	struct treq t;

	treq_init(&t, GW_POST, at_err_cases[_i].uri, at_err_cases[_i].ct,
	          at_err_cases[_i].body, strlen(at_err_cases[_i].body));
	parse(&at_gw, &t, &sms, at_err_cases[_i].want, at_err_cases[_i].cause);
}
END_TEST

/* Africa's Talking by GET, token in a header. */
START_TEST(test_at_get)
{
	struct sms_in sms;
	struct treq t;

	treq_init(&t, GW_GET,
	          "/at?from=0912345678&to=%2B84281234567&text=hi"
	          "&id=9&date=2026-11-23+02%3A31%3A26",
	          NULL, NULL, 0);
	treq_header(&t, "X-Pakn-Token", TOKEN);
	parse(&at_gw, &t, &sms, 0, NULL);
	ck_assert_str_eq(sms.to, "+84281234567");
	ck_assert_int_eq(sms.sent_at, 1795401086);
	sms_in_clear(&sms);
}
END_TEST

static const struct {
	const char *text;
	long max;
	int segments;
	const char *out;
	size_t had; /* 0: not cut */
} cut_cases[] = {
    {"abc", 3, 0, "abc", 0},  {"abcd", 3, 0, "abc", 4},
    {"Đường", 2, 0, "Đư", 5}, {"Đường", 5, 0, "Đường", 0},
    {"", 1, 0, "", 0},        {"🌊😀x", 1, 0, "🌊", 3},
};

/* Texts are cut to max characters, on a character boundary. */
START_TEST(test_cut_text)
{
	struct sms_in sms = {0};

	sms.text = strdup(cut_cases[_i].text);
	sms.segments = cut_cases[_i].segments;
	ck_assert_uint_eq(gw_cut_text(&sms, cut_cases[_i].max),
	                  cut_cases[_i].had);
	ck_assert_str_eq(sms.text, cut_cases[_i].out);
	sms_in_clear(&sms);
}
END_TEST

/* Reported parts bound the text: 160 characters in one, 153 in each of
 * several. */
START_TEST(test_cut_text_parts)
{
	struct sms_in sms = {0};
	char text[1001];

	memset(text, 'x', 1000);
	text[1000] = '\0';
	for (int n = 0; n <= 7; n++) {
		size_t cap = n == 1 ? 160 : 153u * (size_t)n;
		size_t want = n == 0 || cap > 1000 ? 1000 : cap;
		size_t had = want == 1000 ? 0 : 1000;

		sms.text = strdup(text);
		sms.segments = n;
		ck_assert_uint_eq(gw_cut_text(&sms, 39015), had);
		ck_assert_uint_eq(strlen(sms.text), want);
		free(sms.text);
	}
	sms.text = strdup(text);
	sms.segments = 1;
	ck_assert_uint_eq(gw_cut_text(&sms, 100), 1000);
	ck_assert_uint_eq(strlen(sms.text), 100);
	free(sms.text);
}
END_TEST

/* A UTF-8 byte order mark before the text of Africa's Talking and
 * Twilio-style messages is not kept. */
START_TEST(test_bom_at_twilio)
{
	static const char body[] =
	    "MessageSid=SM1&From=%2B84912345678&To=%2B18005551212"
	    "&Body=%EF%BB%BFNg%E1%BA%ADp";
	struct sms_in sms;
	struct treq t;
	char *sig = twilio_sign("/twilio/sms", body);

	treq_init(&t, GW_GET,
	          "/at?from=0912345678&to=8079&text=%EF%BB%BFPA+x&id=9", NULL,
	          NULL, 0);
	treq_header(&t, "X-Pakn-Token", TOKEN);
	parse(&at_gw, &t, &sms, 0, NULL);
	ck_assert_str_eq(sms.text, "PA x");
	sms_in_clear(&sms);
	treq_init(&t, GW_POST, "/twilio/sms",
	          "application/x-www-form-urlencoded", body, sizeof body - 1);
	treq_header(&t, "X-Twilio-Signature", sig);
	parse(&twilio_gw, &t, &sms, 0, NULL);
	ck_assert_str_eq(sms.text, "Ngập");
	sms_in_clear(&sms);
	free(sig);
}
END_TEST

static const struct {
	const char *in;
	int ok;
	int64_t t;
} time_cases[] = {
    {"0", 1, 0},
    {"1795401086", 1, 1795401086},
    {"2026-11-23 02:31:26", 1, 1795401086},
    {"2026-11-23T02:31:26Z", 1, 1795401086},
    {"2026-11-23T02:31:26.5", 1, 1795401086},
    {"2026-11-23 02:31", 1, 1795401060},
    {"1970-01-01 00:00:00", 1, 0},
    {"2000-03-01 00:00:00", 1, 951868800},
    {"2024-02-29 23:59:59", 1, 1709251199},
    {"", 0, 0},
    {"-1", 0, 0},
    {"1234567890123", 0, 0},
    {"2023-02-29 00:00:00", 0, 0},
    {"2026-13-01 00:00:00", 0, 0},
    {"2026-11-23 24:00:00", 0, 0},
    {"2026-11-23 02:31:26 ", 0, 0},
    {"2026-11-23", 0, 0},
    {"1969-12-31 23:59:59", 0, 0},
    {"2026-1-23 02:31:26", 0, 0},
};

/* Parse timestamps. */
START_TEST(test_parse_time)
{
	int64_t t = -7;
	int r = gw_parse_time(time_cases[_i].in, &t);

	ck_assert_msg((r == 0) == time_cases[_i].ok, "%s", time_cases[_i].in);
	if (r == 0)
		ck_assert_int_eq(t, time_cases[_i].t);
}
END_TEST

/* Content-Type helpers. */
START_TEST(test_content_type)
{
	char *cs;

	ck_assert(gw_content_type_is(" Application/X-WWW-Form-Urlencoded ; "
	                             "charset=utf-8",
	                             "application/x-www-form-urlencoded"));
	ck_assert(!gw_content_type_is("text/plain", "text/plain2"));
	ck_assert(!gw_content_type_is(NULL, "text/plain"));
	cs = gw_content_type_charset("text/plain; format=x; Charset=UTF-16BE");
	ck_assert_str_eq(cs, "UTF-16BE");
	free(cs);
	cs = gw_content_type_charset("text/plain;charset=\"utf-8\"");
	ck_assert_str_eq(cs, "utf-8");
	free(cs);
	ck_assert_ptr_null(gw_content_type_charset("text/plain"));
	ck_assert_ptr_null(gw_content_type_charset(NULL));
}
END_TEST

/* Sending and delivery reports. */

#define SEND_MSISDN "+84912345678"
#define KANNEL_SEND "http://127.0.0.1:13013/cgi-bin/sendsms"

static struct gw_conf kannel_send_gw = {.name = "kannel",
                                        .type = GW_KANNEL,
                                        .token = "t k&",
                                        .send_url = KANNEL_SEND,
                                        .username = "pakn",
                                        .password = "p&ss w",
                                        .sender = "1022",
                                        .public_url = "https://pakn.vn/"};
static struct gw_conf twilio_send_gw = {
    .name = "tw",
    .type = GW_TWILIO,
    .send_url = "https://api.example/2010-04-01/Accounts/AC1/Messages.json",
    .username = "AC1",
    .password = "secret",
    .sender = "+15005550006",
    .auth_token = "12345",
    .public_url = "https://mycompany.com"};
static struct gw_conf at_send_gw = {
    .name = "at",
    .type = GW_AT,
    .token = TOKEN,
    .send_url = "https://api.example/version1/messaging",
    .username = "sandbox",
    .api_key = "atkey",
    .sender = "8079"};

/* Decode a query or form into f; fail the test if it does not parse. */
static void
form_of(struct form *f, const char *s)
{
	char *why = NULL;

	memset(f, 0, sizeof *f);
	ck_assert_msg(form_parse(f, s, strlen(s), &why) == 0, "%s: %s", s,
	              why ? why : "");
}

/* The value of key in f, or NULL. */
static const char *
form_val(const struct form *f, const char *key)
{
	const struct kv *kv = form_get(f, key);

	return kv != NULL ? kv->val : NULL;
}

/* Build a send request, failing the test if it cannot be built. */
static void
build(const struct gw_conf *gw, const struct sms_out *m, struct gw_call *c)
{
	char *cause = NULL;

	ck_assert_msg(gw_ops(gw->type)->build_send(gw, m, c, &cause) == 0,
	              "build_send: %s", cause ? cause : "");
	ck_assert_ptr_null(cause);
}

static const struct {
	const char *in;
	const char *out;
} enc_cases[] = {
    {"", ""},
    {"aZ09-_.~", "aZ09-_.~"},
    {"a b+c", "a%20b%2Bc"},
    {"&=?%d/", "%26%3D%3F%25d%2F"},
    {"Đà", "%C4%90%C3%A0"},
    {"\t\n", "%09%0A"},
};

/* Percent-encoding keeps only unreserved characters. */
START_TEST(test_url_encode)
{
	struct buf b;

	buf_init(&b);
	gw_url_encode(&b, enc_cases[_i].in);
	ck_assert_str_eq(b.data, enc_cases[_i].out);
	buf_clear(&b);
}
END_TEST

/* Kannel sendsms: GET, GSM-7 text as UTF-8, no DLR without public_url. */
START_TEST(test_kannel_build_plain)
{
	struct gw_conf gw = kannel_send_gw;
	struct sms_out m = {7, SEND_MSISDN, "Da nhan phan anh, ma K7M4Q9X", 0};
	struct gw_call c;

	gw.public_url = "";
	build(&gw, &m, &c);
	ck_assert_int_eq(c.method, GW_GET);
	ck_assert_str_eq(c.url, KANNEL_SEND
	                 "?username=pakn&password=p%26ss%20w&from=1022"
	                 "&to=%2B84912345678"
	                 "&text=Da%20nhan%20phan%20anh%2C%20ma%20K7M4Q9X"
	                 "&charset=UTF-8");
	ck_assert_ptr_null(c.body);
	ck_assert_ptr_null(c.content_type);
	ck_assert_ptr_null(c.user);
	ck_assert_uint_eq(c.nheaders, 0);
	gw_call_clear(&c);
	ck_assert_ptr_null(c.url);
}
END_TEST

/* Kannel sendsms: UCS-2 adds coding=2; public_url adds the dlr-url. */
START_TEST(test_kannel_build_ucs2_dlr)
{
	struct sms_out m = {42, SEND_MSISDN, VI_UTF8, 1};
	struct gw_call c;
	struct form f;
	const char *q;

	build(&kannel_send_gw, &m, &c);
	ck_assert_ptr_nonnull(q = strchr(c.url, '?'));
	ck_assert_int_eq(
	    strncmp(c.url, KANNEL_SEND "?", strlen(KANNEL_SEND) + 1), 0);
	form_of(&f, q + 1);
	ck_assert_str_eq(form_val(&f, "username"), "pakn");
	ck_assert_str_eq(form_val(&f, "password"), "p&ss w");
	ck_assert_str_eq(form_val(&f, "from"), "1022");
	ck_assert_str_eq(form_val(&f, "to"), SEND_MSISDN);
	ck_assert_str_eq(form_val(&f, "text"), VI_UTF8);
	ck_assert_str_eq(form_val(&f, "charset"), "UTF-8");
	ck_assert_str_eq(form_val(&f, "coding"), "2");
	ck_assert_str_eq(form_val(&f, "dlr-mask"), "3");
	ck_assert_str_eq(form_val(&f, "dlr-url"),
	                 "https://pakn.vn/v1/gw/kannel/dlr?token=t%20k%26"
	                 "&id=42&status=%d");
	ck_assert_ptr_nonnull(strstr(c.url, "%26status%3D%25d"));
	form_clear(&f);
	gw_call_clear(&c);
}
END_TEST

/* A send_url with a query of its own; no send_url at all. */
START_TEST(test_kannel_build_url)
{
	struct gw_conf gw = kannel_send_gw;
	struct sms_out m = {1, SEND_MSISDN, "x", 0};
	struct gw_call c;
	char *cause = NULL;

	gw.send_url = "http://k/cgi-bin/sendsms?smsc=viettel";
	gw.public_url = NULL;
	gw.sender = NULL;
	build(&gw, &m, &c);
	ck_assert_int_eq(
	    strncmp(c.url,
	            "http://k/cgi-bin/sendsms?smsc=viettel&username=", 46),
	    0);
	ck_assert_ptr_null(strstr(c.url, "from="));
	gw_call_clear(&c);
	gw.send_url = "";
	ck_assert_int_eq(gw_kannel_ops.build_send(&gw, &m, &c, &cause), -1);
	ck_assert_str_eq(cause, "gateway kannel has no send_url");
	free(cause);
}
END_TEST

/* One answer to a send and what it must mean. */
struct result_case {
	long status;
	const char *body;
	int want;
	const char *ref;   /* NULL: no ref */
	const char *cause; /* substring, NULL: no cause */
};

/* Judge an answer with a gateway and check the outcome. */
static void
check_result(const struct gw_conf *gw, const struct result_case *rc)
{
	struct sms_out m = {42, SEND_MSISDN, "x", 0};
	char *ref = (char *)"junk", *cause = NULL;
	int r = gw_ops(gw->type)->send_result(gw, &m, rc->status, rc->body,
	                                      strlen(rc->body), &ref, &cause);

	ck_assert_msg(r == rc->want, "%ld %s: outcome %d, want %d (%s)",
	              rc->status, rc->body, r, rc->want, cause ? cause : "");
	if (rc->ref != NULL)
		ck_assert_str_eq(ref, rc->ref);
	else
		ck_assert_ptr_null(ref);
	if (rc->cause != NULL) {
		ck_assert_ptr_nonnull(cause);
		ck_assert_msg(strstr(cause, rc->cause) != NULL,
		              "cause \"%s\", want \"%s\"", cause, rc->cause);
		ck_assert_ptr_null(strchr(cause, '\n'));
	} else
		ck_assert_ptr_null(cause);
	if (r != GW_SENT)
		ck_assert_ptr_nonnull(cause);
	free(ref);
	free(cause);
}

static const struct result_case kannel_result_cases[] = {
    {202, "0: Accepted for delivery", GW_SENT, "42", NULL},
    {202, "3: Queued for later delivery", GW_SENT, "42", NULL},
    {200, "", GW_SENT, "42", NULL},
    {503, "Service Unavailable", GW_RETRY, NULL, "HTTP 503: Service"},
    {500, "", GW_RETRY, NULL, "HTTP 500"},
    {429, "slow down", GW_RETRY, NULL, "HTTP 429: slow down"},
    {408, "", GW_RETRY, NULL, "HTTP 408"},
    {0, "", GW_RETRY, NULL, "no answer"},
    {302, "", GW_RETRY, NULL, "HTTP 302"},
    {403, "Authorization failed for sendsms\r\nmore", GW_FAILED, NULL,
     "HTTP 403: Authorization failed for sendsms"},
    {400, "Missing receiver number", GW_FAILED, NULL,
     "HTTP 400: Missing receiver number"},
    {404, "\x01\xff", GW_FAILED, NULL, "HTTP 404: ??"},
};

/* Kannel's sendsms answers. */
START_TEST(test_kannel_result)
{
	check_result(&kannel_send_gw, &kannel_result_cases[_i]);
}
END_TEST

/* Twilio Messages: form POST, basic authentication, StatusCallback. */
START_TEST(test_twilio_build)
{
	struct sms_out m = {5, SEND_MSISDN, "Ngập nước & hơn", 1};
	struct gw_call c;
	struct form f;

	build(&twilio_send_gw, &m, &c);
	ck_assert_int_eq(c.method, GW_POST);
	ck_assert_str_eq(c.url, twilio_send_gw.send_url);
	ck_assert_str_eq(c.content_type, "application/x-www-form-urlencoded");
	ck_assert_str_eq(c.user, "AC1");
	ck_assert_str_eq(c.password, "secret");
	ck_assert_uint_eq(c.body_len, strlen(c.body));
	form_of(&f, c.body);
	ck_assert_uint_eq(f.n, 4);
	ck_assert_str_eq(form_val(&f, "To"), SEND_MSISDN);
	ck_assert_str_eq(form_val(&f, "From"), "+15005550006");
	ck_assert_str_eq(form_val(&f, "Body"), "Ngập nước & hơn");
	ck_assert_str_eq(form_val(&f, "StatusCallback"),
	                 "https://mycompany.com/v1/gw/tw/dlr");
	ck_assert_uint_eq(c.nheaders, 1);
	ck_assert_str_eq(c.headers[0], "Accept: application/json");
	form_clear(&f);
	gw_call_clear(&c);
}
END_TEST

static const struct result_case twilio_result_cases[] = {
    {201, "{\"sid\":\"SM1a2b\",\"status\":\"queued\"}", GW_SENT, "SM1a2b",
     NULL},
    {200, "{\"sid\":\"SM9\"}", GW_SENT, "SM9", NULL},
    {201, "{\"status\":\"queued\"}", GW_SENT, NULL, "without a usable sid"},
    {201, "{\"sid\":\"a b\"}", GW_SENT, NULL, "without a usable sid"},
    {201, "<html>", GW_RETRY, NULL, "HTTP 201: <html>"},
    {400,
     "{\"code\":21610,\"message\":\"Attempt to send to unsubscribed "
     "recipient\",\"more_info\":\"https://www.twilio.com/docs/errors/"
     "21610\",\"status\":400}",
     GW_FAILED, NULL,
     "HTTP 400: error 21610: Attempt to send to unsubscribed recipient"},
    {401, "{\"code\":20003,\"message\":\"Authenticate\"}", GW_FAILED, NULL,
     "error 20003: Authenticate"},
    {429, "{\"code\":20429,\"message\":\"Too Many Requests\"}", GW_RETRY, NULL,
     "error 20429"},
    {400, "{\"message\":\"bad\"}", GW_FAILED, NULL, "HTTP 400: bad"},
    {503, "Service Unavailable", GW_RETRY, NULL, "HTTP 503"},
    {0, "", GW_RETRY, NULL, "no answer"},
};

/* Twilio's Messages answers. */
START_TEST(test_twilio_result)
{
	check_result(&twilio_send_gw, &twilio_result_cases[_i]);
}
END_TEST

/* Africa's Talking: form POST, apiKey and Accept headers. */
START_TEST(test_at_build)
{
	struct sms_out m = {5, SEND_MSISDN, "Da nhan", 0};
	struct gw_call c;
	struct form f;

	build(&at_send_gw, &m, &c);
	ck_assert_int_eq(c.method, GW_POST);
	ck_assert_str_eq(c.url, at_send_gw.send_url);
	ck_assert_str_eq(c.content_type, "application/x-www-form-urlencoded");
	ck_assert_ptr_null(c.user);
	ck_assert_str_eq(c.body,
	                 "username=sandbox&to=%2B84912345678&message=Da%20nhan"
	                 "&from=8079");
	form_of(&f, c.body);
	ck_assert_str_eq(form_val(&f, "message"), "Da nhan");
	ck_assert_uint_eq(c.nheaders, 2);
	ck_assert_str_eq(c.headers[0], "apiKey: atkey");
	ck_assert_str_eq(c.headers[1], "Accept: application/json");
	form_clear(&f);
	gw_call_clear(&c);
}
END_TEST

#define AT_ANSWER(rcpt)                                                        \
	"{\"SMSMessageData\":{\"Message\":\"Sent to 1/1 Total Cost: VND "      \
	"250\",\"Recipients\":[" rcpt "]}}"

static const struct result_case at_result_cases[] = {
    {201,
     AT_ANSWER("{\"statusCode\":101,\"number\":\"+84912345678\",\"status\":"
               "\"Success\",\"cost\":\"VND 250\",\"messageId\":\"ATXid_7\"}"),
     GW_SENT, "ATXid_7", NULL},
    {201, AT_ANSWER("{\"statusCode\":102,\"messageId\":\"ATXid_8\"}"), GW_SENT,
     "ATXid_8", NULL},
    {201, AT_ANSWER("{\"status\":\"Success\",\"messageId\":\"None\"}"), GW_SENT,
     "None", NULL},
    {201, AT_ANSWER("{\"status\":\"Success\"}"), GW_SENT, NULL,
     "without a usable messageId"},
    {201,
     AT_ANSWER("{\"statusCode\":403,\"status\":\"InvalidPhoneNumber\","
               "\"messageId\":\"None\"}"),
     GW_FAILED, NULL, "recipient status InvalidPhoneNumber (403)"},
    {201, AT_ANSWER("{\"statusCode\":406,\"status\":\"UserInBlacklist\"}"),
     GW_FAILED, NULL, "UserInBlacklist"},
    {201, AT_ANSWER("{\"statusCode\":500,\"status\":\"InternalServerError\"}"),
     GW_RETRY, NULL, "InternalServerError"},
    {201, AT_ANSWER("{}"), GW_FAILED, NULL, "recipient status missing (0)"},
    {201,
     "{\"SMSMessageData\":{\"Message\":\"InvalidSenderId\","
     "\"Recipients\":[]}}",
     GW_FAILED, NULL, "not sent: InvalidSenderId"},
    {201, "not json", GW_RETRY, NULL, "HTTP 201: not json"},
    {401, "The supplied authentication is invalid", GW_FAILED, NULL,
     "HTTP 401: The supplied authentication is invalid"},
    {500, "", GW_RETRY, NULL, "HTTP 500"},
};

/* Africa's Talking's answers. */
START_TEST(test_at_result)
{
	check_result(&at_send_gw, &at_result_cases[_i]);
}
END_TEST

/* One delivery report and what it must give. */
struct dlr_case {
	enum gw_method method;
	const char *uri;
	const char *body; /* form body, or NULL */
	int want;
	long long id;
	const char *ref;
	enum gw_dlr_status status;
	const char *detail; /* substring of the detail, or the cause */
};

/* Parse a report with a gateway (signing it for Twilio) and check it. */
static void
check_dlr(const struct gw_conf *gw, const struct dlr_case *dc, int sign)
{
	struct gw_dlr dlr;
	struct treq t;
	char *cause = NULL, *sig = NULL;
	int r;

	treq_init(&t, dc->method, dc->uri,
	          dc->body != NULL ? "application/x-www-form-urlencoded" : NULL,
	          dc->body, dc->body != NULL ? strlen(dc->body) : 0);
	if (sign) {
		sig = twilio_sign(dc->uri,
		                  dc->method == GW_POST ? dc->body : NULL);
		treq_header(&t, "X-Twilio-Signature", sig);
	}
	r = gw_ops(gw->type)->parse_dlr(gw, &t.req, &dlr, &cause);
	ck_assert_msg(r == dc->want, "%s: %d, want %d (%s)", dc->uri, r,
	              dc->want, cause ? cause : "");
	if (r != 0) {
		ck_assert_ptr_nonnull(cause);
		ck_assert_msg(strstr(cause, dc->detail) != NULL,
		              "cause \"%s\", want \"%s\"", cause, dc->detail);
		ck_assert_ptr_null(dlr.ref);
	} else {
		ck_assert_ptr_null(cause);
		ck_assert_int_eq(dlr.id, dc->id);
		if (dc->ref != NULL)
			ck_assert_str_eq(dlr.ref, dc->ref);
		else
			ck_assert_ptr_null(dlr.ref);
		ck_assert_int_eq(dlr.status, dc->status);
		if (dc->detail != NULL) {
			ck_assert_ptr_nonnull(dlr.detail);
			ck_assert_msg(strstr(dlr.detail, dc->detail) != NULL,
			              "detail \"%s\", want \"%s\"", dlr.detail,
			              dc->detail);
		} else
			ck_assert_ptr_null(dlr.detail);
	}
	gw_dlr_clear(&dlr);
	free(cause);
	free(sig);
}

#define KQ "/v1/gw/kannel/dlr?token=" TOKEN

static const struct dlr_case kannel_dlr_cases[] = {
    {GW_GET, KQ "&id=42&status=1", NULL, 0, 42, NULL, GW_DLR_DELIVERED, NULL},
    {GW_GET, KQ "&id=42&status=9", NULL, 0, 42, NULL, GW_DLR_DELIVERED, NULL},
    {GW_GET, KQ "&id=42&status=2", NULL, 0, 42, NULL, GW_DLR_UNDELIVERED,
     "kannel status 2 (undelivered)"},
    {GW_GET, KQ "&id=42&status=16", NULL, 0, 42, NULL, GW_DLR_UNDELIVERED,
     "rejected by the SMSC"},
    {GW_GET, KQ "&id=42&status=8", NULL, 0, 42, NULL, GW_DLR_OTHER, NULL},
    {GW_GET, KQ "&id=42&status=4", NULL, 0, 42, NULL, GW_DLR_OTHER, NULL},
    {GW_GET, KQ "&id=9223372036854775807&status=1", NULL, 0,
     9223372036854775807LL, NULL, GW_DLR_DELIVERED, NULL},
    {GW_POST, KQ, "id=7&status=1", 0, 7, NULL, GW_DLR_DELIVERED, NULL},
    {GW_GET, "/v1/gw/kannel/dlr?id=42&status=1", NULL, 401, 0, NULL, 0,
     "missing token"},
    {GW_GET, "/v1/gw/kannel/dlr?token=no&id=42&status=1", NULL, 403, 0, NULL, 0,
     "wrong token"},
    {GW_GET, KQ "&status=1", NULL, 400, 0, NULL, 0, "missing id"},
    {GW_GET, KQ "&id=42", NULL, 400, 0, NULL, 0, "missing status"},
    {GW_GET, KQ "&id=0&status=1", NULL, 400, 0, NULL, 0, "invalid id 0"},
    {GW_GET, KQ "&id=-1&status=1", NULL, 400, 0, NULL, 0, "invalid id"},
    {GW_GET, KQ "&id=9223372036854775808&status=1", NULL, 400, 0, NULL, 0,
     "invalid id"},
    {GW_GET, KQ "&id=42&status=%25d", NULL, 400, 0, NULL, 0,
     "invalid status %d"},
    {GW_GET, KQ "&id=42&status=-1", NULL, 400, 0, NULL, 0, "invalid status"},
    {GW_GET, KQ "&id=42&status=256", NULL, 400, 0, NULL, 0, "invalid status"},
    {GW_GET, KQ "&id=42&status=%", NULL, 400, 0, NULL, 0,
     "bad percent-encoding"},
    {GW_POST, KQ, "id=7&status=%", 400, 0, NULL, 0, "body:"},
};

/* Kannel delivery reports (the dlr-url pakn sets). */
START_TEST(test_kannel_dlr)
{
	check_dlr(&kannel_gw, &kannel_dlr_cases[_i], 0);
}
END_TEST

#define TWP "/v1/gw/twilio/dlr"

static const struct dlr_case twilio_dlr_cases[] = {
    {GW_POST, TWP, "MessageSid=SM1&MessageStatus=delivered&AccountSid=AC1", 0,
     0, "SM1", GW_DLR_DELIVERED, NULL},
    {GW_POST, TWP, "MessageSid=SM2&MessageStatus=undelivered&ErrorCode=30003",
     0, 0, "SM2", GW_DLR_UNDELIVERED, "undelivered, ErrorCode 30003"},
    {GW_POST, TWP, "SmsSid=SM3&SmsStatus=failed", 0, 0, "SM3",
     GW_DLR_UNDELIVERED, "failed"},
    {GW_POST, TWP, "MessageSid=SM4&MessageStatus=sent", 0, 0, "SM4",
     GW_DLR_OTHER, NULL},
    {GW_POST, TWP, "MessageSid=SM5&MessageStatus=queued", 0, 0, "SM5",
     GW_DLR_OTHER, NULL},
    {GW_GET, TWP "?MessageSid=SM6&MessageStatus=delivered", NULL, 0, 0, "SM6",
     GW_DLR_DELIVERED, NULL},
    {GW_POST, TWP, "MessageStatus=delivered", 400, 0, NULL, 0,
     "missing MessageSid"},
    {GW_POST, TWP, "MessageSid=SM1", 400, 0, NULL, 0, "missing MessageStatus"},
    {GW_POST, TWP, "MessageSid=S%20M&MessageStatus=sent", 400, 0, NULL, 0,
     "invalid MessageSid"},
};

/* Twilio-style status callbacks, signed. */
START_TEST(test_twilio_dlr)
{
	check_dlr(&twilio_gw, &twilio_dlr_cases[_i], 1);
}
END_TEST

/* Twilio-style status callbacks without or with a wrong signature. */
START_TEST(test_twilio_dlr_unsigned)
{
	static const char body[] = "MessageSid=SM1&MessageStatus=delivered";
	struct gw_dlr dlr;
	struct treq t;
	char *cause = NULL;

	treq_init(&t, GW_POST, TWP, NULL, body, sizeof body - 1);
	ck_assert_int_eq(
	    gw_twilio_ops.parse_dlr(&twilio_gw, &t.req, &dlr, &cause), 401);
	ck_assert_str_eq(cause, "missing X-Twilio-Signature");
	free(cause);
	cause = NULL;
	treq_header(&t, "X-Twilio-Signature", "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
	ck_assert_int_eq(
	    gw_twilio_ops.parse_dlr(&twilio_gw, &t.req, &dlr, &cause), 403);
	ck_assert_str_eq(cause, "bad signature");
	ck_assert_ptr_null(dlr.ref);
	free(cause);
}
END_TEST

#define ATQ "/v1/gw/at/dlr?token=" TOKEN

static const struct dlr_case at_dlr_cases[] = {
    {GW_POST, ATQ, "id=ATXid_1&status=Success&phoneNumber=%2B84912345678", 0, 0,
     "ATXid_1", GW_DLR_DELIVERED, NULL},
    {GW_POST, ATQ, "id=ATXid_2&status=Failed&failureReason=UserInBlacklist", 0,
     0, "ATXid_2", GW_DLR_UNDELIVERED, "UserInBlacklist"},
    {GW_POST, ATQ, "id=ATXid_3&status=Rejected", 0, 0, "ATXid_3",
     GW_DLR_UNDELIVERED, "Rejected"},
    {GW_POST, ATQ, "id=ATXid_4&status=Expired&failureReason=", 0, 0, "ATXid_4",
     GW_DLR_UNDELIVERED, "Expired"},
    {GW_POST, ATQ, "id=ATXid_5&status=Buffered", 0, 0, "ATXid_5", GW_DLR_OTHER,
     NULL},
    {GW_POST, ATQ, "id=ATXid_6&status=Sent", 0, 0, "ATXid_6", GW_DLR_OTHER,
     NULL},
    {GW_GET, ATQ "&id=ATXid_7&status=Success", NULL, 0, 0, "ATXid_7",
     GW_DLR_DELIVERED, NULL},
    {GW_POST, "/v1/gw/at/dlr?token=x", "id=ATXid_1&status=Success", 403, 0,
     NULL, 0, "wrong token"},
    {GW_POST, "/v1/gw/at/dlr", "id=ATXid_1&status=Success", 401, 0, NULL, 0,
     "missing token"},
    {GW_POST, ATQ, "status=Success", 400, 0, NULL, 0, "missing id"},
    {GW_POST, ATQ, "id=ATXid_1", 400, 0, NULL, 0, "missing status"},
    {GW_POST, ATQ, "id=&status=Success", 400, 0, NULL, 0, "invalid id"},
    {GW_POST, ATQ, "id=1&status=%C0%80", 400, 0, NULL, 0, "invalid status"},
};

/* Africa's Talking delivery reports. */
START_TEST(test_at_dlr)
{
	check_dlr(&at_gw, &at_dlr_cases[_i], 0);
}
END_TEST

static const struct {
	const char *s;
	int rc;
	long long id;
} id_cases[] = {
    {"1", 0, 1},
    {"0042", 0, 42},
    {"9223372036854775807", 0, 9223372036854775807LL},
    {"9223372036854775808", -1, 0},
    {"99999999999999999999", -1, 0},
    {"0", -1, 0},
    {"", -1, 0},
    {"12a", -1, 0},
    {"-1", -1, 0},
    {"+1", -1, 0},
    {" 1", -1, 0},
};

/* Outbox ids in delivery reports. */
START_TEST(test_parse_id)
{
	long long id = 0;

	ck_assert_int_eq(gw_parse_id(id_cases[_i].s, &id), id_cases[_i].rc);
	if (id_cases[_i].rc == 0)
		ck_assert_int_eq(id, id_cases[_i].id);
	ck_assert_int_eq(gw_parse_id(NULL, &id), -1);
}
END_TEST

/* Status classes, names, refs and the DLR URL. */
START_TEST(test_send_helpers)
{
	struct gw_conf gw = {.name = "g", .public_url = "http://x:8080//"};
	char *url = gw_dlr_url(&gw), *long_ref = xmalloc(300);

	ck_assert_str_eq(url, "http://x:8080/v1/gw/g/dlr");
	ck_assert(gw_status_retry(0));
	ck_assert(gw_status_retry(429));
	ck_assert(gw_status_retry(502));
	ck_assert(!gw_status_retry(400));
	ck_assert(!gw_status_retry(403));
	ck_assert_str_eq(gw_dlr_status_name(GW_DLR_DELIVERED), "delivered");
	ck_assert_str_eq(gw_dlr_status_name(GW_DLR_UNDELIVERED), "undelivered");
	ck_assert_str_eq(gw_dlr_status_name(GW_DLR_OTHER), "other");
	memset(long_ref, 'a', 299);
	long_ref[299] = '\0';
	ck_assert_ptr_null(gw_ref_copy(long_ref));
	ck_assert_ptr_null(gw_ref_copy(NULL));
	ck_assert_ptr_null(gw_ref_copy("a\tb"));
	long_ref[255] = '\0';
	free(url);
	ck_assert_ptr_nonnull(url = gw_ref_copy(long_ref));
	ck_assert(gw_has("x") && !gw_has("") && !gw_has(NULL));
	gw_call_clear(NULL);
	gw_dlr_clear(NULL);
	free(url);
	free(long_ref);
}
END_TEST

static const struct ussd_case {
	enum gw_type type;
	enum gw_method method;
	const char *uri, *ct, *body, *header_token;
	int code;
	const char *session, *msisdn, *text, *service, *cause;
} ussds[] = {
    {GW_AT, GW_POST, "/v1/gw/at/ussd?token=" TOKEN,
     "application/x-www-form-urlencoded",
     "sessionId=ATUid_1&serviceCode=%2A384%2A123%23&phoneNumber=%2B84912345678"
     "&networkCode=45204&text=1%2A6%2A00004",
     NULL, 0, "ATUid_1", "+84912345678", "1*6*00004", "*384*123#", NULL},
    {GW_AT, GW_POST, "/v1/gw/at/ussd", NULL,
     "sessionId=s2&phoneNumber=0912345678", TOKEN, 0, "s2", "+84912345678", "",
     NULL, NULL},
    {GW_AT, GW_GET,
     "/v1/gw/at/ussd?token=" TOKEN "&sessionId=s3&phoneNumber=84912345678"
     "&text=2",
     NULL, NULL, NULL, 0, "s3", "+84912345678", "2", NULL, NULL},
    {GW_AT, GW_POST, "/v1/gw/at/ussd?token=" TOKEN, NULL,
     "sessionId=s4&phoneNumber=0912345678&text=Tr%E1%BA%A1m+y+t%E1%BA%BF", NULL,
     0, "s4", "+84912345678", "Trạm y tế", NULL, NULL},
    {GW_AT, GW_POST, "/v1/gw/at/ussd", NULL,
     "sessionId=s&phoneNumber=0912345678", NULL, 401, NULL, NULL, NULL, NULL,
     "token"},
    {GW_AT, GW_POST, "/v1/gw/at/ussd?token=wrong", NULL,
     "sessionId=s&phoneNumber=0912345678", NULL, 403, NULL, NULL, NULL, NULL,
     "token"},
    {GW_AT, GW_POST, "/v1/gw/at/ussd?token=" TOKEN, NULL,
     "phoneNumber=0912345678&text=1", NULL, 400, NULL, NULL, NULL, NULL,
     "missing sessionId"},
    {GW_AT, GW_POST, "/v1/gw/at/ussd?token=" TOKEN, NULL, "sessionId=s&text=1",
     NULL, 400, NULL, NULL, NULL, NULL, "missing phoneNumber"},
    {GW_AT, GW_POST, "/v1/gw/at/ussd?token=" TOKEN, NULL,
     "sessionId=s&phoneNumber=hello", NULL, 400, NULL, NULL, NULL, NULL, NULL},
    {GW_AT, GW_POST, "/v1/gw/at/ussd?token=" TOKEN, NULL,
     "sessionId=a+b&phoneNumber=0912345678", NULL, 400, NULL, NULL, NULL, NULL,
     "sessionId"},
    {GW_AT, GW_POST, "/v1/gw/at/ussd?token=" TOKEN, NULL,
     "sessionId=&phoneNumber=0912345678", NULL, 400, NULL, NULL, NULL, NULL,
     "sessionId"},
    {GW_AT, GW_POST, "/v1/gw/at/ussd?token=" TOKEN, NULL,
     "sessionId=s&phoneNumber=0912345678&text=%FF", NULL, 400, NULL, NULL, NULL,
     NULL, NULL},
    {GW_AT, GW_POST, "/v1/gw/at/ussd?token=" TOKEN, NULL,
     "sessionId=s&phoneNumber=0912345678&text=%ZZ", NULL, 400, NULL, NULL, NULL,
     NULL, NULL},
    {GW_AT, GW_POST, "/v1/gw/at/ussd?token=" TOKEN, "application/json", "{}",
     NULL, 415, NULL, NULL, NULL, NULL, "Content-Type"},
    {GW_KANNEL, GW_POST, "/v1/gw/kannel/ussd?token=" TOKEN, NULL,
     "sessionId=s&phoneNumber=0912345678", NULL, 404, NULL, NULL, NULL, NULL,
     "has no USSD"},
    {GW_TWILIO, GW_POST, "/v1/gw/twilio/ussd", NULL, "", NULL, 404, NULL, NULL,
     NULL, NULL, "has no USSD"},
};

/* USSD callbacks: accepted and normalised, or refused with a reason
 * (404 for a gateway type without USSD). */
START_TEST(test_ussd_parse)
{
	const struct ussd_case *c = &ussds[_i];
	struct gw_conf gw = {.name = "gw", .type = c->type, .token = TOKEN};
	struct treq t;
	struct ussd_in u;
	char *cause = NULL;
	int code;

	treq_init(&t, c->method, c->uri, c->ct, c->body,
	          c->body != NULL ? strlen(c->body) : 0);
	if (c->header_token != NULL)
		treq_header(&t, "X-Pakn-Token", c->header_token);
	code = gw_parse_ussd(&gw, &t.req, &u, &cause);
	ck_assert_msg(code == c->code, "%s: %d, want %d (%s)", c->uri, code,
	              c->code, cause ? cause : "");
	if (code == 0) {
		ck_assert_ptr_null(cause);
		ck_assert_str_eq(u.session, c->session);
		ck_assert_str_eq(u.msisdn, c->msisdn);
		ck_assert_str_eq(u.text, c->text);
		ck_assert_int_eq(u.cumulative, 1);
		if (c->service != NULL)
			ck_assert_str_eq(u.service, c->service);
	} else {
		ck_assert_ptr_nonnull(cause);
		ck_assert_ptr_null(strchr(cause, '\n'));
		ck_assert_ptr_null(strstr(cause, TOKEN));
		ck_assert_ptr_null(u.session);
		if (c->cause != NULL)
			ck_assert_msg(strstr(cause, c->cause) != NULL,
			              "\"%s\" lacks \"%s\"", cause, c->cause);
	}
	free(cause);
	ussd_in_clear(&u);
}
END_TEST

/* Build the suite. */
static Suite *
gw_suite(void)
{
	Suite *s = suite_create("gw");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_ops);
	tcase_add_loop_test(tc, test_check_token, 0, LEN(token_cases));
	tcase_add_loop_test(tc, test_redact, 0, LEN(redact_cases));
	tcase_add_test(tc, test_twilio_vector);
	tcase_add_loop_test(tc, test_twilio_sort, 0, LEN(sign_cases));
	tcase_add_test(tc, test_kannel_get_utf8);
	tcase_add_loop_test(tc, test_kannel_text, 0, LEN(kannel_text_cases));
	tcase_add_loop_test(tc, test_kannel_errors, 0, LEN(kannel_err_cases));
	tcase_add_test(tc, test_kannel_derived_id);
	tcase_add_test(tc, test_kannel_form_post);
	tcase_add_test(tc, test_kannel_post_url);
	tcase_add_test(tc, test_kannel_post_url_query);
	tcase_add_test(tc, test_twilio_ok);
	tcase_add_test(tc, test_twilio_vector_request);
	tcase_add_loop_test(tc, test_twilio_errors, 0, LEN(twilio_err_cases));
	tcase_add_test(tc, test_twilio_get);
	tcase_add_loop_test(tc, test_at_dates, 0, LEN(at_date_cases));
	tcase_add_loop_test(tc, test_at_errors, 0, LEN(at_err_cases));
	tcase_add_test(tc, test_at_get);
	tcase_add_test(tc, test_bom_at_twilio);
	tcase_add_loop_test(tc, test_cut_text, 0, LEN(cut_cases));
	tcase_add_test(tc, test_cut_text_parts);
	tcase_add_loop_test(tc, test_parse_time, 0, LEN(time_cases));
	tcase_add_test(tc, test_content_type);
	suite_add_tcase(s, tc);

	tc = tcase_create("send");
	tcase_add_loop_test(tc, test_url_encode, 0, LEN(enc_cases));
	tcase_add_test(tc, test_kannel_build_plain);
	tcase_add_test(tc, test_kannel_build_ucs2_dlr);
	tcase_add_test(tc, test_kannel_build_url);
	tcase_add_loop_test(tc, test_kannel_result, 0,
	                    LEN(kannel_result_cases));
	tcase_add_test(tc, test_twilio_build);
	tcase_add_loop_test(tc, test_twilio_result, 0,
	                    LEN(twilio_result_cases));
	tcase_add_test(tc, test_at_build);
	tcase_add_loop_test(tc, test_at_result, 0, LEN(at_result_cases));
	tcase_add_test(tc, test_send_helpers);
	suite_add_tcase(s, tc);

	tc = tcase_create("dlr");
	tcase_add_loop_test(tc, test_kannel_dlr, 0, LEN(kannel_dlr_cases));
	tcase_add_loop_test(tc, test_twilio_dlr, 0, LEN(twilio_dlr_cases));
	tcase_add_test(tc, test_twilio_dlr_unsigned);
	tcase_add_loop_test(tc, test_at_dlr, 0, LEN(at_dlr_cases));
	tcase_add_loop_test(tc, test_parse_id, 0, LEN(id_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("ussd");
	tcase_add_loop_test(tc, test_ussd_parse, 0, LEN(ussds));
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit non-zero on failure. */
int
main(void)
{
	SRunner *sr = srunner_create(gw_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
