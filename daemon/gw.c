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
#define GW_ERROR_MAX     200
#define GW_REF_MAX       255

/* The adapters by gateway type: a gateway is a gw_NAME.c and its row. */
static const struct gw_ops *const adapters[] = {
    [GW_KANNEL] = &gw_kannel_ops,
    [GW_TWILIO] = &gw_twilio_ops,
    [GW_AT] = &gw_at_ops,
};

/* Return the functions of a gateway type, or NULL. */
const struct gw_ops *
gw_ops(enum gw_type type)
{
	if ((size_t)type >= sizeof adapters / sizeof adapters[0])
		return NULL;
	return adapters[type];
}

/* Parse a USSD callback with the gateway type's parser, if it has one. */
int
gw_parse_ussd(const struct gw_conf *gw, const struct gw_request *req,
              struct ussd_in *u, char **cause)
{
	const struct gw_ops *ops = gw_ops(gw->type);

	memset(u, 0, sizeof *u);
	if (ops == NULL || ops->parse_ussd == NULL) {
		set_cause(cause, "gateway %s (%s) has no USSD", gw->name,
		          gw_type_name(gw->type));
		return 404;
	}
	return ops->parse_ussd(gw, req, u, cause);
}

/* Free the strings of a USSD callback and clear it. */
void
ussd_in_clear(struct ussd_in *u)
{
	if (u == NULL)
		return;
	free(u->session);
	free(u->service);
	free(u->msisdn);
	free(u->network);
	free(u->text);
	memset(u, 0, sizeof *u);
}

/* Is s 1 to GW_SESSION_MAX printable ASCII characters? */
int
gw_session_ok(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		if (s[n] <= ' ' || s[n] > '~')
			return 0;
	}
	return n > 0 && n <= GW_SESSION_MAX;
}

/* Free the strings of an inbound SMS and clear it. */
void
sms_in_clear(struct sms_in *sms)
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

/* The most characters n parts can carry: 160 in one, 153 in each of
 * several (GSM-7; UCS-2 carries fewer). */
static long
gw_parts_chars(int n)
{
	return n == 1 ? 160 : 153L * n;
}

/* Cut the text to what it could be: max characters, and no more than
 * its reported parts carry. */
size_t
gw_cut_text(struct sms_in *sms, long max)
{
	size_t chars = 0, i;
	long cap = max;

	if (sms->segments > 0 && gw_parts_chars(sms->segments) < cap)
		cap = gw_parts_chars(sms->segments);
	for (i = 0; sms->text[i] != '\0'; i++) {
		if (((unsigned char)sms->text[i] & 0xc0) == 0x80)
			continue;
		if ((long)chars == cap) {
			size_t total = chars;

			for (size_t j = i; sms->text[j] != '\0'; j++)
				total += ((unsigned char)sms->text[j] & 0xc0) !=
				         0x80;
			sms->text[i] = '\0';
			return total;
		}
		chars++;
	}
	return 0;
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
	buf_clear(&b);
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
	return gw_printable_n(s, len, GW_PRINTABLE_MAX);
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

/* Normalise one number, explaining a failure with what (sender...). A
 * sender is kept when it is digits of the wrong length (phone_plan flags
 * it later): its message is stored, never answered. */
static char *
normalize_number(const char *num, const char *what, char **cause)
{
	char *why = NULL, *show, *out;
	int sender = strcmp(what, "sender") == 0;

	if (num == NULL) {
		set_cause(cause, "missing %s number", what);
		return NULL;
	}
	out = sender ? phone_normalize_sender(num, &why)
	             : phone_normalize(num, &why);
	if (out != NULL)
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

/* Free what an adapter built for a send and clear it. */
void
gw_call_clear(struct gw_call *call)
{
	size_t i;

	if (call == NULL)
		return;
	free(call->url);
	free(call->content_type);
	free(call->body);
	for (i = 0; i < call->nheaders; i++)
		free(call->headers[i]);
	free(call->user);
	free(call->password);
	memset(call, 0, sizeof *call);
}

/* Free the strings of a delivery report and clear it. */
void
gw_dlr_clear(struct gw_dlr *dlr)
{
	if (dlr == NULL)
		return;
	free(dlr->ref);
	free(dlr->state);
	free(dlr->detail);
	memset(dlr, 0, sizeof *dlr);
}

/* Name a delivery status as pakn.outbox_dlr takes it. */
const char *
gw_dlr_status_name(enum gw_dlr_status status)
{
	switch (status) {
	case GW_DLR_DELIVERED:
		return "delivered";
	case GW_DLR_UNDELIVERED:
		return "undelivered";
	case GW_DLR_OTHER:
		break;
	}
	return "other";
}

/* Append s percent-encoded to b. */
void
gw_url_encode(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *run;
	char e[3] = {'%'};

	/* Unreserved runs appended whole (a character at a time was 3 % of
	 * paknd's time in a drain). */
	while (*p != '\0') {
		for (run = p;
		     (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		     (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		     *p == '.' || *p == '~';
		     p++)
			;
		if (p > run)
			buf_add(b, run, (size_t)(p - run));
		if (*p == '\0')
			break;
		e[1] = hex[*p >> 4];
		e[2] = hex[*p & 15];
		buf_add(b, e, sizeof e);
		p++;
	}
}

/* Append "&name=value" to a form or query, the value encoded. */
void
gw_form_add(struct buf *b, const char *name, const char *value)
{
	if (b->len > 0)
		buf_addc(b, '&');
	buf_adds(b, name);
	buf_addc(b, '=');
	gw_url_encode(b, value);
}

/* Add a "Name: value" header line to a call. */
void
gw_call_header(struct gw_call *call, const char *name, const char *value)
{
	if (call->nheaders == GW_CALL_HEADERS)
		fatalx("gw_call_header: too many headers");
	call->headers[call->nheaders++] = xasprintf("%s: %s", name, value);
}

/* The URL where this gateway should send delivery reports. */
char *
gw_dlr_url(const struct gw_conf *gw)
{
	size_t n = strlen(gw->public_url);

	while (n > 0 && gw->public_url[n - 1] == '/')
		n--;
	return xasprintf("%.*s/v1/gw/%s/dlr", (int)n, gw->public_url, gw->name);
}

/* Is a send answer's status worth a retry? */
int
gw_status_retry(long status)
{
	if (status >= 400 && status < 500)
		return status == 408 || status == 425 || status == 429;
	return status < 200 || status >= 300;
}

/* The outcome and cause of a status that is not a success. */
int
gw_send_error(long status, const char *body, size_t len, char **cause)
{
	const char *nl = len > 0 ? memchr(body, '\n', len) : NULL;
	size_t n = nl != NULL ? (size_t)(nl - body) : len;
	char *line;

	while (n > 0 && (body[n - 1] == '\r' || body[n - 1] == ' '))
		n--;
	line = gw_printable_n(body, n, GW_ERROR_MAX);
	if (status == 0)
		set_cause(cause, "no answer");
	else if (*line == '\0')
		set_cause(cause, "HTTP %ld", status);
	else
		set_cause(cause, "HTTP %ld: %s", status, line);
	free(line);
	return gw_status_retry(status) ? GW_RETRY : GW_FAILED;
}

/* A printable copy of at most max bytes of untrusted text. */
char *
gw_printable_n(const char *s, size_t len, size_t max)
{
	struct buf b;
	size_t i;

	buf_init(&b);
	for (i = 0; i < len && i < max; i++) {
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			buf_addc(&b, '?');
		else
			buf_addc(&b, s[i]);
	}
	if (len > max)
		buf_adds(&b, "...");
	return buf_detach(&b);
}

/* Parse a decimal id in 1..INT64_MAX. */
int
gw_parse_id(const char *s, long long *id)
{
	long long v = 0;
	size_t n;

	if (s == NULL || (n = strspn(s, "0123456789")) == 0 || s[n] != '\0' ||
	    n > 19)
		return -1;
	for (; *s != '\0'; s++) {
		if (v > (INT64_MAX - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v == 0)
		return -1;
	*id = v;
	return 0;
}

/* Set a dlr's status, state and detail. */
void
gw_dlr_set(struct gw_dlr *dlr, enum gw_dlr_status status, const char *state,
           const char *detail)
{
	dlr->status = status;
	free(dlr->state);
	free(dlr->detail);
	dlr->state = state != NULL
	                 ? gw_printable_n(state, strlen(state), GW_ERROR_MAX)
	                 : NULL;
	dlr->detail = detail != NULL && detail[0] != '\0'
	                  ? gw_printable_n(detail, strlen(detail), GW_ERROR_MAX)
	                  : NULL;
}

/* Is a configuration string set? */
int
gw_has(const char *s)
{
	return s != NULL && s[0] != '\0';
}

/* A copy of a gateway's message id, if it is a sensible one. */
char *
gw_ref_copy(const char *s)
{
	size_t i, n = s != NULL ? strlen(s) : 0;

	if (n == 0 || n > GW_REF_MAX)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return NULL;
	}
	return xstrdup(s);
}
