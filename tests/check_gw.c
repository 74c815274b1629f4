/* check_gw.c: gateway adapters (Kannel, Twilio-style, Africa's Talking). */

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
	sms_in_free(NULL);
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
	form_free(&q);
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
		form_free(&f);
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
	form_free(&f);
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
	sms_in_free(&sms);
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
	sms_in_free(&sms);
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
	sms_in_free(&a);
	sms_in_free(&b);
	sms_in_free(&c);
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
	sms_in_free(&sms);
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
	sms_in_free(&sms);
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
	sms_in_free(&sms);

	treq_init(&t, GW_POST, "/k?id=9&token=" TOKEN, "text/plain", "", 0);
	treq_header(&t, "X-Kannel-From", "0912345678");
	treq_header(&t, "X-Kannel-To", "8079");
	parse(&kannel_gw, &t, &sms, 0, NULL);
	ck_assert_str_eq(sms.text, "");
	sms_in_free(&sms);

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
	form_free(&f);
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
	sms_in_free(&sms);
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
	sms_in_free(&sms);
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
	sms_in_free(&sms);
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
    {"/at?token=" TOKEN, NULL, "from=%2B1&to=8079&text=a&id=1", 400,
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
	sms_in_free(&sms);
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
	tcase_add_loop_test(tc, test_parse_time, 0, LEN(time_cases));
	tcase_add_test(tc, test_content_type);
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
