/* gw.c: the gateway table and what the adapters share (pure). */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "gw.h"
#include "phone.h"
#include "util.h"

#define GW_PRINTABLE_MAX 40

/* Return the functions of a gateway type, or NULL. */
const struct gw_ops *
gw_ops(enum gw_type type)
{
	switch (type) {
	case GW_KANNEL:
		return &gw_kannel_ops;
	case GW_TWILIO:
		return &gw_twilio_ops;
	case GW_AT:
		return &gw_at_ops;
	}
	return NULL;
}

/* Free the strings of an inbound SMS and clear it. */
void
sms_in_free(struct sms_in *sms)
{
	if (sms == NULL)
		return;
	free(sms->msg_id);
	free(sms->from);
	free(sms->to);
	free(sms->text);
	free(sms->smsc);
	memset(sms, 0, sizeof *sms);
}

/* A header of the request, or NULL. */
const char *
gw_header(const struct gw_request *req, const char *name)
{
	if (req->header == NULL)
		return NULL;
	return req->header(req->hctx, name);
}

/* Check the callback secret in constant time. */
int
gw_check_token(const struct gw_conf *gw, const struct gw_request *req,
               const struct form *query, char **cause)
{
	const struct kv *kv = form_get(query, "token");
	const char *tok;
	size_t len;

	if (gw->token == NULL || gw->token[0] == '\0') {
		set_cause(cause, "no token configured");
		return 403;
	}
	if (kv != NULL) {
		tok = kv->val;
		len = kv->vlen;
	} else if ((tok = gw_header(req, "X-Pakn-Token")) != NULL)
		len = strlen(tok);
	else {
		set_cause(cause, "missing token");
		return 401;
	}
	if (!ct_equal(tok, len, gw->token, strlen(gw->token))) {
		set_cause(cause, "wrong token");
		return 403;
	}
	return 0;
}

/* Is the name s[0..klen) "token" once decoded? */
static int
is_token_name(const char *s, size_t klen)
{
	size_t dlen;
	char *key;
	int r;

	key = text_percent_decode(s, klen, 1, &dlen, NULL);
	if (key == NULL)
		return klen == 5 && memcmp(s, "token", 5) == 0;
	r = dlen == 5 && memcmp(key, "token", 5) == 0;
	free(key);
	return r;
}

/* The request URI with the value of any token= parameter replaced. */
char *
gw_redact_uri(const char *uri)
{
	const char *q, *p, *amp, *eq;
	struct buf b;
	size_t len;

	if (uri == NULL)
		return NULL;
	if ((q = strchr(uri, '?')) == NULL)
		return xstrdup(uri);
	buf_init(&b);
	buf_add(&b, uri, (size_t)(q - uri) + 1);
	for (p = q + 1;; p = amp + 1) {
		amp = strchr(p, '&');
		len = amp != NULL ? (size_t)(amp - p) : strlen(p);
		eq = memchr(p, '=', len);
		if (eq != NULL && is_token_name(p, (size_t)(eq - p))) {
			buf_add(&b, p, (size_t)(eq - p));
			buf_adds(&b, "=REDACTED");
		} else
			buf_add(&b, p, len);
		if (amp == NULL)
			break;
		buf_addc(&b, '&');
	}
	return buf_detach(&b);
}

/* Order parameters by key, then value, then position. */
static int
kv_cmp(const void *a, const void *b)
{
	const struct kv *x = *(const struct kv *const *)a;
	const struct kv *y = *(const struct kv *const *)b;
	size_t n = x->vlen < y->vlen ? x->vlen : y->vlen;
	int r;

	if ((r = strcmp(x->key, y->key)) != 0)
		return r;
	if (n > 0 && (r = memcmp(x->val, y->val, n)) != 0)
		return r;
	if (x->vlen != y->vlen)
		return x->vlen < y->vlen ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Twilio-style signature: Base64(HMAC-SHA1(key, url + sorted params)). */
char *
gw_twilio_signature(const char *auth_token, const char *url,
                    const struct form *params)
{
	const struct kv **sorted = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	size_t i, n = params != NULL ? params->n : 0;
	char *out = NULL;
	struct buf b;

	buf_init(&b);
	buf_adds(&b, url != NULL ? url : "");
	if (n > 0) {
		sorted = xreallocarray(NULL, n, sizeof *sorted);
		for (i = 0; i < n; i++)
			sorted[i] = &params->v[i];
		qsort(sorted, n, sizeof *sorted, kv_cmp);
		for (i = 0; i < n; i++) {
			buf_adds(&b, sorted[i]->key);
			buf_add(&b, sorted[i]->val, sorted[i]->vlen);
		}
	}
	if (auth_token == NULL)
		auth_token = "";
	if (HMAC(EVP_sha1(), auth_token, (int)strlen(auth_token),
	         (unsigned char *)b.data, b.len, md, &mdlen) != NULL) {
		out = xmalloc(4 * ((mdlen + 2) / 3) + 1);
		EVP_EncodeBlock((unsigned char *)out, md, (int)mdlen);
	}
	free(sorted);
	buf_free(&b);
	return out;
}

/* Parse the query of req (if any) into f. */
int
gw_parse_query(const struct gw_request *req, struct form *f, char **cause)
{
	char *why = NULL;

	if (req->query == NULL)
		return 0;
	if (form_parse(f, req->query, strlen(req->query), &why) != 0) {
		set_cause(cause, "query: %s", why);
		free(why);
		return -1;
	}
	return 0;
}

/* Return the length of the media type, without trailing blanks. */
static size_t
media_type_len(const char *ct)
{
	size_t n = strcspn(ct, ";");

	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	return n;
}

/* Is the media type of a Content-Type value type? */
int
gw_content_type_is(const char *content_type, const char *type)
{
	size_t n;

	if (content_type == NULL)
		return 0;
	content_type += strspn(content_type, " \t");
	n = media_type_len(content_type);
	return n == strlen(type) && strncasecmp(content_type, type, n) == 0;
}

/* The charset= parameter of a Content-Type value, or NULL. */
char *
gw_content_type_charset(const char *content_type)
{
	const char *p = content_type;
	size_t n;

	while (p != NULL && (p = strchr(p, ';')) != NULL) {
		p++;
		p += strspn(p, " \t");
		if (strncasecmp(p, "charset=", 8) != 0)
			continue;
		p += 8;
		if (*p == '"') {
			p++;
			n = strcspn(p, "\"");
		} else
			n = strcspn(p, "; \t");
		return xstrndup(p, n);
	}
	return NULL;
}

/* Find key in f as UTF-8 text. */
int
gw_form_text(const struct form *f, const char *key, const char **out,
             char **cause)
{
	const struct kv *kv = form_get(f, key);

	*out = NULL;
	if (kv == NULL)
		return 0;
	if (!text_utf8_valid(kv->val, kv->vlen)) {
		set_cause(cause, "invalid %s (not UTF-8 text)", key);
		return -1;
	}
	*out = kv->val;
	return 0;
}

/* A short printable copy of untrusted bytes. */
char *
gw_printable(const char *s, size_t len)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < len && i < GW_PRINTABLE_MAX; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			buf_addc(&b, '?');
		else
			buf_addc(&b, s[i]);
	}
	if (len > GW_PRINTABLE_MAX)
		buf_adds(&b, "...");
	return buf_detach(&b);
}

/* Read exactly n digits at *p into *out and advance. */
static int
read_digits(const char **p, int n, int *out)
{
	int v = 0;

	for (; n > 0; n--, (*p)++) {
		if (**p < '0' || **p > '9')
			return -1;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return 0;
}

/* Days from 1970-01-01 to a civil date (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Return the number of days in a month. */
static int
month_days(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30,
	                           31, 31, 30, 31, 30, 31};

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return days[m - 1];
}

/* Skip optional seconds, fraction and 'Z'; -1 on a bad format. */
static int
parse_time_tail(const char *p, int *sec)
{
	*sec = 0;
	if (*p == ':' && (p++, read_digits(&p, 2, sec) != 0))
		return -1;
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -1;
		p += strspn(p, "0123456789");
	}
	if (*p == 'Z')
		p++;
	return *p == '\0' ? 0 : -1;
}

/* Parse "YYYY-MM-DD HH:MM[:SS[.fff]][Z]" (UTC). */
static int
parse_date(const char *p, int64_t *t)
{
	int y, mo, d, h, mi, s;

	if (read_digits(&p, 4, &y) != 0 || *p++ != '-' ||
	    read_digits(&p, 2, &mo) != 0 || *p++ != '-' ||
	    read_digits(&p, 2, &d) != 0 || (*p != ' ' && *p != 'T'))
		return -1;
	p++;
	if (read_digits(&p, 2, &h) != 0 || *p++ != ':' ||
	    read_digits(&p, 2, &mi) != 0 || parse_time_tail(p, &s) != 0)
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > month_days(y, mo) ||
	    h > 23 || mi > 59 || s > 60)
		return -1;
	*t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

/* Parse Unix seconds or a UTC date. */
int
gw_parse_time(const char *s, int64_t *t)
{
	size_t n;
	int64_t v = 0;

	if (s == NULL)
		return -1;
	n = strspn(s, "0123456789");
	if (n > 0 && s[n] == '\0') {
		if (n > 12)
			return -1;
		for (; *s != '\0'; s++)
			v = v * 10 + (*s - '0');
		*t = v;
		return 0;
	}
	return parse_date(s, t);
}

/* Normalise one number, explaining a failure with what (sender...). */
static char *
normalize_number(const char *num, const char *what, char **cause)
{
	char *why = NULL, *show, *out;

	if (num == NULL) {
		set_cause(cause, "missing %s number", what);
		return NULL;
	}
	if ((out = phone_normalize(num, &why)) != NULL)
		return out;
	show = gw_printable(num, strlen(num));
	set_cause(cause, "invalid %s number: \"%s\" (%s)", what, show, why);
	free(show);
	free(why);
	return NULL;
}

/* Normalise and store the sender and receiver. */
int
gw_set_numbers(struct sms_in *sms, const char *from, const char *to,
               char **cause)
{
	if ((sms->from = normalize_number(from, "sender", cause)) == NULL)
		return 400;
	if ((sms->to = normalize_number(to, "receiver", cause)) == NULL)
		return 400;
	return 0;
}
