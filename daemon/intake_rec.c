/* intake_rec.c: one inbound SMS callback as a journal record.
 *
 * Layout (little-endian): u8 version (2), then gateway, msg_id, from, to,
 * text as strings, i64 sent_at, i32 segments, smsc as a string, raw_request
 * as a string, raw_body as bytes, i64 received_at_us, u8 flags (not in
 * version 1, which is still read: flags 0); nothing after. A
 * string or bytes field is u32 length and the bytes; a string's length
 * 0xFFFFFFFF means NULL (only smsc may be). Strings hold no NUL. A new
 * field means a new version; the decoder refuses versions it does not
 * know rather than guess.
 */

#include <stdlib.h>
#include <string.h>

#include "intake_rec.h"
#include "util.h"

#define REC_NULL      0xFFFFFFFFu
#define REC_FIELD_MAX (256u << 20) /* as JOURNAL_RECORD_MAX */

/* Append a little-endian integer of size bytes. */
static void
put_int(struct buf *b, uint64_t v, int size)
{
	for (int i = 0; i < size; i++)
		buf_addc(b, (char)(v >> (8 * i)));
}

/* Append a length-prefixed field; NULL is written as REC_NULL. */
static void
put_field(struct buf *b, const void *p, size_t n)
{
	put_int(b, p == NULL ? REC_NULL : (uint32_t)n, 4);
	if (p != NULL)
		buf_add(b, p, n);
}

/* Check a string field: present unless it may be NULL, short enough. */
static int
check_str(const char *name, const char *s, int may_null, char **cause)
{
	if (s == NULL && !may_null) {
		set_cause(cause, "intake record: %s missing", name);
		return -1;
	}
	if (s != NULL && strlen(s) >= REC_FIELD_MAX) {
		set_cause(cause, "intake record: %s too long", name);
		return -1;
	}
	return 0;
}

/* Encode a record. */
unsigned char *
intake_rec_encode(const struct intake_rec *r, size_t *len, char **cause)
{
	const char *strs[5] = {r->gateway, r->msg_id, r->from, r->to, r->text};
	static const char *names[5] = {"gateway", "msg_id", "from", "to",
	                               "text"};
	struct buf b;

	for (int i = 0; i < 5; i++)
		if (check_str(names[i], strs[i], 0, cause) == -1)
			return NULL;
	if (check_str("smsc", r->smsc, 1, cause) == -1 ||
	    check_str("raw_request", r->raw_request, 0, cause) == -1)
		return NULL;
	if (r->raw_body_len >= REC_FIELD_MAX) {
		set_cause(cause, "intake record: raw_body too long");
		return NULL;
	}
	buf_init(&b);
	buf_addc(&b, INTAKE_REC_VERSION);
	for (int i = 0; i < 5; i++)
		put_field(&b, strs[i], strlen(strs[i]));
	put_int(&b, (uint64_t)r->sent_at, 8);
	put_int(&b, (uint32_t)r->segments, 4);
	put_field(&b, r->smsc, r->smsc ? strlen(r->smsc) : 0);
	put_field(&b, r->raw_request, strlen(r->raw_request));
	put_field(&b, r->raw_body ? (const void *)r->raw_body : "",
	          r->raw_body_len);
	put_int(&b, (uint64_t)r->received_at_us, 8);
	put_int(&b, r->flags & 0xff, 1);
	*len = b.len;
	return (unsigned char *)buf_detach(&b);
}

/* A reader over the bytes being decoded. */
struct rd {
	const unsigned char *p;
	size_t n;
	const char *err;
};

/* Read a little-endian integer of size bytes. */
static uint64_t
get_int(struct rd *d, int size)
{
	uint64_t v = 0;

	if (d->err != NULL)
		return 0;
	if (d->n < (size_t)size) {
		d->err = "truncated";
		return 0;
	}
	for (int i = 0; i < size; i++)
		v |= (uint64_t)d->p[i] << (8 * i);
	d->p += size;
	d->n -= (size_t)size;
	return v;
}

/* Read a field into a new NUL-terminated buffer; NULL for REC_NULL (if
 * may_null) or on error. A string must hold no NUL. */
static char *
get_field(struct rd *d, int may_null, int bytes, size_t *len)
{
	uint32_t n = (uint32_t)get_int(d, 4);
	char *s;

	if (d->err != NULL)
		return NULL;
	if (n == REC_NULL && may_null)
		return NULL;
	if (n > d->n) {
		d->err = n == REC_NULL ? "a field is missing" : "truncated";
		return NULL;
	}
	if (!bytes && memchr(d->p, '\0', n) != NULL) {
		d->err = "a string holds a NUL byte";
		return NULL;
	}
	s = xmalloc((size_t)n + 1);
	memcpy(s, d->p, n);
	s[n] = '\0';
	d->p += n;
	d->n -= n;
	if (len != NULL)
		*len = n;
	return s;
}

/* Decode a record. */
int
intake_rec_decode(const void *p, size_t n, struct intake_rec *r, char **cause)
{
	struct rd d = {p, n, NULL};
	unsigned version;

	memset(r, 0, sizeof *r);
	if (n < 1) {
		set_cause(cause, "intake record: empty");
		return -1;
	}
	if ((version = d.p[0]) != INTAKE_REC_VERSION && version != 1) {
		set_cause(cause, "intake record: version %u unknown", version);
		return -1;
	}
	d.p++;
	d.n--;
	r->gateway = get_field(&d, 0, 0, NULL);
	r->msg_id = get_field(&d, 0, 0, NULL);
	r->from = get_field(&d, 0, 0, NULL);
	r->to = get_field(&d, 0, 0, NULL);
	r->text = get_field(&d, 0, 0, NULL);
	r->sent_at = (int64_t)get_int(&d, 8);
	r->segments = (int)(int32_t)(uint32_t)get_int(&d, 4);
	r->smsc = get_field(&d, 1, 0, NULL);
	r->raw_request = get_field(&d, 0, 0, NULL);
	r->raw_body = (unsigned char *)get_field(&d, 0, 1, &r->raw_body_len);
	r->received_at_us = (int64_t)get_int(&d, 8);
	if (version >= 2)
		r->flags = (unsigned)get_int(&d, 1);
	if (d.err == NULL && d.n != 0)
		d.err = "bytes after the last field";
	if (d.err != NULL) {
		set_cause(cause, "intake record: %s", d.err);
		intake_rec_clear(r);
		return -1;
	}
	return 0;
}

/* Free the contents of a record. */
void
intake_rec_clear(struct intake_rec *r)
{
	free(r->gateway);
	free(r->msg_id);
	free(r->from);
	free(r->to);
	free(r->text);
	free(r->smsc);
	free(r->raw_request);
	free(r->raw_body);
	memset(r, 0, sizeof *r);
}
