/* ingest.c: inbound SMS callbacks, stored before they are answered.
 *
 * The gateway adapter authenticates and parses the callback (pure code in
 * gw_*.c) and the grammar reads the citizen's command (grammar.c); then
 * one call of pakn.handle_sms stores the message, acts on it and queues
 * the replies in the outbox, in a transaction it may share with other
 * callbacks (db.c). The gateway gets its 2xx only after that commit. A
 * repeated callback (same gateway message id) is stored once, acted on
 * once, and answered 2xx.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>

#include "edge.h"
#include "gw.h"
#include "gw_http.h"
#include "ingest.h"
#include "intake_rec.h"
#include "journal.h"
#include "process.h"
#include "stmt.h"
#include "util.h"

/* A callback waiting for its commit. */
struct ingest {
	struct paknd *d;
	struct evhttp_request *req;
	const struct gw_ops *ops;
	char *gwname;
	char *msg_id;
	unsigned char *rec; /* as a journal record, if there is a journal */
	size_t rec_len;
};

/* Done with a callback. */
static void
ingest_free(struct ingest *in)
{
	free(in->gwname);
	free(in->msg_id);
	free(in->rec);
	free(in);
}

/* Answer the gateway: the callback is kept. */
static void
ingest_ok(struct ingest *in)
{
	http_reply(in->d, in->req, 200, in->ops->reply_type,
	           in->ops->reply_body, strlen(in->ops->reply_body));
}

/* The journal's fsync (or failure) of a callback the database could not
 * take: answer the gateway. */
static void
ingest_journaled(int ok, void *arg)
{
	struct ingest *in = arg;

	if (ok) {
		log_info("gw %s: message %s kept in the journal (database "
		         "unavailable)",
		         in->gwname, in->msg_id);
		in->d->journal_dirty = 1;
		in->d->journal_kept++;
		ingest_ok(in);
	} else {
		log_warnx("gw %s: message %s not kept: the journal could not "
		          "write it",
		          in->gwname, in->msg_id);
		in->d->unstored++;
		http_error(in->d, in->req, 503,
		           "database unavailable and journal failed, retry");
	}
	ingest_free(in);
}

/* The database cannot take the callback now (why: its error): append it
 * to the journal, answered once fsync-ed; else 503. Consumes in. */
static void
ingest_journal(struct ingest *in, enum db_status st, const char *why)
{
	char *cause = NULL;

	if (in->rec != NULL &&
	    journal_append(in->d->journal, in->rec, in->rec_len,
	                   ingest_journaled, in, &cause) == 0)
		return;
	log_warnx("gw %s: message %s not stored: %s%s%s", in->gwname,
	          in->msg_id, why, cause ? "; journal: " : "",
	          cause ? cause : "");
	free(cause);
	in->d->unstored++;
	if (in->d->journal != NULL && st == DB_UNAVAILABLE)
		http_error(
		    in->d, in->req, 503,
		    "database unavailable and the journal cannot keep it "
		    "(full, or its disk failed), retry");
	else
		gw_http_db_error(in->d, in->req, st, "stored");
	ingest_free(in);
}

/* Describe the request for audit: method, redacted URI, headers. Bytes
 * that are not text (a client may send any) are written \xNN, so the
 * audit copy can always be stored. */
static char *
raw_request(struct evhttp_request *req, const char *method)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	struct evkeyval *kv;
	struct buf b;
	char *uri = gw_redact_uri(evhttp_request_get_uri(req)), *text;

	buf_init(&b);
	buf_printf(&b, "%s %s\n", method, uri);
	free(uri);
	TAILQ_FOREACH(kv, h, next)
	{
		int secret = !strcasecmp(kv->key, "X-Pakn-Token") ||
		             !strcasecmp(kv->key, "Authorization");
		buf_printf(&b, "%s: %s\n", kv->key,
		           secret ? "REDACTED" : kv->value);
	}
	text = edge_escape(b.data, b.len);
	buf_clear(&b);
	return text;
}

/* The commit (or failure) of one callback: answer the gateway. */
static void
ingest_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct ingest *in = arg;

	switch (st) {
	case DB_OK:
		if (PQntuples(res) == 1)
			log_debug("gw %s: message %s stored as %s, to process",
			          in->gwname, in->msg_id,
			          PQgetvalue(res, 0, 0));
		else
			log_limited(&in->d->log_dup, 0,
			            "gw %s: message %s stored already "
			            "(duplicate), answered",
			            in->gwname, in->msg_id);
		process_kick(in->d->process);
		ingest_ok(in);
		break;
	case DB_UNAVAILABLE:
		ingest_journal(in, st, error);
		return;
	case DB_ERROR:
		log_warnx("gw %s: message %s not stored: %s", in->gwname,
		          in->msg_id, error);
		gw_http_db_error(in->d, in->req, st, "stored");
		break;
	}
	ingest_free(in);
}

/* Keep the callback as a journal record in case the database cannot
 * take it (the record is not written unless it must be). */
static void
ingest_record(struct ingest *in, const struct sms_in *sms, int cut,
              const char *raw, const unsigned char *body, size_t body_len)
{
	struct timespec now;
	struct intake_rec r = {
	    .gateway = in->gwname,
	    .msg_id = sms->msg_id,
	    .from = sms->from,
	    .to = sms->to,
	    .text = sms->text,
	    .sent_at = sms->sent_at,
	    .segments = sms->segments,
	    .smsc = sms->smsc,
	    .raw_request = (char *)raw,
	    .raw_body = (unsigned char *)body,
	    .raw_body_len = body_len,
	    .flags = cut ? INTAKE_REC_CUT : 0,
	};
	char *cause = NULL;

	clock_gettime(CLOCK_REALTIME, &now);
	r.received_at_us = (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000;
	if ((in->rec = intake_rec_encode(&r, &in->rec_len, &cause)) == NULL) {
		log_warnx("gw %s: message %s cannot go to the journal: %s",
		          in->gwname, in->msg_id, cause);
		free(cause);
	}
}

/* Queue the message for storage (one row, nothing else: the processing
 * worker acts on it); 0, or -1 and *cause. */
static int
ingest_submit(struct ingest *in, const struct sms_in *sms, int cut,
              const char *raw, const unsigned char *body, size_t body_len,
              char **cause)
{
	char sent_at[32], segments[16], *key;
	const char *values[11];
	int lengths[11] = {0}, formats[11] = {0}, rc;

	snprintf(segments, sizeof segments, "%d", sms->segments);
	values[0] = in->gwname;
	values[1] = sms->msg_id;
	values[2] = sms->from;
	values[3] = sms->to;
	values[4] = sms->text;
	values[5] = sql_time(sms->sent_at, sent_at);
	values[6] = sms->segments > 0 ? segments : NULL;
	values[7] = sms->smsc;
	values[8] = raw;
	values[9] = body ? (const char *)body : "";
	lengths[9] = (int)body_len;
	formats[9] = 1;
	values[10] = cut ? "t" : "f";
	if (in->d->journal != NULL)
		ingest_record(in, sms, cut, raw, body, body_len);
	/* The message's key is the lock it may wait for (a repeated
	 * callback's key, another transaction's until it commits): stores
	 * sharing a transaction go in the order of their keys, so two
	 * transactions holding the same two redelivered messages insert
	 * them in one order and do not deadlock. (Messages stored in one
	 * transaction came at once: their order among themselves is
	 * chance.) */
	key = xasprintf("%s%c%s", in->gwname, 0x1f, sms->msg_id);
	rc = db_submit_key(in->d->db, key, STMT_INTAKE, 11, values, lengths,
	                   formats, ingest_done, in, cause);
	free(key);
	return rc;
}

/* Handle POST|GET /v1/gw/{name}/sms. */
static void
ingest_sms(struct paknd *d, struct evhttp_request *req, const char *path,
           const char *gwname)
{
	const struct gw_conf *gw;
	struct gw_request r;
	struct sms_in sms = {0};
	struct ingest *in;
	char *cause = NULL, *raw;
	size_t had;
	int code;

	if ((gw = gw_http_request(d, req, gwname, &r)) == NULL)
		return;
	if ((code = gw_ops(gw->type)->parse_sms(gw, &r, &sms, &cause)) != 0) {
		log_limited(&d->log_refused, 0,
		            "gw %s: refused callback from %s: %d %s", gwname,
		            gw_http_peer(req), code, cause);
		http_error(d, req, code, cause);
		free(cause);
		return;
	}
	if ((had = gw_cut_text(&sms, d->conf->max_sms_text)) > 0)
		log_info(
		    "gw %s: message %s from %s: text of %zu characters cut "
		    "(max_sms_text %ld, %d parts reported); raw_body keeps "
		    "it whole",
		    gwname, sms.msg_id, gw_http_peer(req), had,
		    d->conf->max_sms_text, sms.segments);
	in = xcalloc(1, sizeof *in);
	in->d = d;
	in->req = req;
	in->ops = gw_ops(gw->type);
	in->gwname = xstrdup(gwname);
	in->msg_id = xstrdup(sms.msg_id);
	raw = raw_request(req, r.method == GW_GET ? "GET" : "POST");
	if (ingest_submit(in, &sms, had > 0, raw, r.body, r.body_len, &cause) !=
	    0) {
		ingest_journal(in, DB_UNAVAILABLE, cause);
		free(cause);
	}
	free(raw);
	sms_in_clear(&sms);
}

/* Register the SMS callbacks of every gateway. */
void
ingest_routes(struct paknd *d)
{
	http_route_add(d, "/v1/gw/*/sms", HTTP_RAW_QUERY, ingest_sms);
}
