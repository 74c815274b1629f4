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
#include "outbox.h"
#include "grammar.h"
#include "gw.h"
#include "gw_http.h"
#include "ingest.h"
#include "phone.h"
#include "sms.h"
#include "stmt.h"
#include "util.h"

/* A callback waiting for its commit. */
struct ingest {
	struct paknd *d;
	struct evhttp_request *req;
	const struct gw_ops *ops;
	char *gwname;
	char *msg_id;
};

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
	buf_free(&b);
	return text;
}

/* The commit (or failure) of one callback: answer the gateway. */
static void
ingest_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct ingest *in = arg;
	const struct gw_ops *ops = in->ops;

	switch (st) {
	case DB_OK:
		if (!PQgetisnull(res, 0, 4))
			log_info("gw %s: message %s stored as %s, not acted on "
			         "(%s), %s repl%s queued",
			         in->gwname, in->msg_id, PQgetvalue(res, 0, 0),
			         PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 2),
			         !strcmp(PQgetvalue(res, 0, 2), "1") ? "y"
			                                             : "ies");
		else if (!PQgetisnull(res, 0, 3))
			log_info("gw %s: message %s from a flagged sender "
			         "(%s: %s) stored as %s, no reply",
			         in->gwname, in->msg_id, PQgetvalue(res, 0, 3),
			         phone_flag_text(PQgetvalue(res, 0, 3)),
			         PQgetvalue(res, 0, 0));
		else
			log_info(
			    "gw %s: message %s stored as %s%s, %s repl%s "
			    "queued",
			    in->gwname, in->msg_id, PQgetvalue(res, 0, 0),
			    !strcmp(PQgetvalue(res, 0, 1), "t") ? " (duplicate)"
			                                        : "",
			    PQgetvalue(res, 0, 2),
			    !strcmp(PQgetvalue(res, 0, 2), "1") ? "y" : "ies");
		if (atoi(PQgetvalue(res, 0, 2)) > 0)
			outbox_kick(in->d->outbox);
		http_reply(in->d, in->req, 200, ops->reply_type,
		           ops->reply_body, strlen(ops->reply_body));
		break;
	case DB_UNAVAILABLE:
	case DB_ERROR:
		log_warnx("gw %s: message %s not stored: %s", in->gwname,
		          in->msg_id, error);
		gw_http_db_error(in->d, in->req, st, "stored");
		break;
	}
	free(in->gwname);
	free(in->msg_id);
	free(in);
}

/* The names pakn.handle_sms knows the commands by. */
static const char *cmd_names[] = {
    [CMD_COMPLAINT] = "complaint", [CMD_STATUS] = "status",
    [CMD_REGISTER] = "register",   [CMD_WITHDRAW] = "withdraw",
    [CMD_HELP] = "help",           [CMD_STOP] = "stop",
    [CMD_RATE] = "rate",           [CMD_ANSWER] = "answer",
    [CMD_TRANSFER] = "transfer",   [CMD_CODE] = "code",
    [CMD_DIGIT] = "digit",         [CMD_EMPTY] = "empty",
    [CMD_REPORT] = "report",       [CMD_ACCEPT] = "accept",
    [CMD_APOLOGIZE] = "apologize", [CMD_START] = "start",
    [CMD_LIST] = "list",           [CMD_SHOW] = "show",
    [CMD_EXTEND] = "extend",       [CMD_RETURN] = "return",
    [CMD_SUMMARY] = "summary",     [CMD_SURVEY] = "survey",
};

/* Why the sender must get no reply, or NULL: one of our own numbers (a
 * loop), a gateway's own service (loop_senders), or a number no
 * subscriber can have (phone_plan). The database adds the short codes
 * messages came to (pakn.handle_inbound). */
static const char *
ingest_sender_flag(const struct config *c, const struct sms_in *sms)
{
	if (strcmp(sms->from, sms->to) == 0 || config_own_number(c, sms->from))
		return "own_number";
	if (config_loop_sender(c, sms->from))
		return "gateway_sender";
	return phone_plan(sms->from);
}

/* The limits pakn.handle_inbound_checked applies, as JSON: the [abuse]
 * keys, and for an answer (TL) the parts it takes through gateway gw
 * against [sms] max_answer_parts. */
static char *
ingest_limits(const struct config *c, const struct gw_conf *gw,
              const struct sms_cmd *cmd)
{
	int parts = cmd->kind == CMD_ANSWER
	                ? sms_segments_sent(cmd->text, gw->diacritics)
	                : 0;

	return xasprintf("{\"complaints_per_hour\": %ld, "
	                 "\"complaints_per_day\": %ld, "
	                 "\"replies_per_day\": %ld, \"repeat_window\": %ld, "
	                 "\"answer_max\": %ld, \"answer_parts\": %d}",
	                 c->abuse_complaints_hour, c->abuse_complaints_day,
	                 c->abuse_replies_day, c->abuse_repeat_window,
	                 c->max_answer_parts, parts);
}

/* Queue the parsed message for storage; 0, or -1 and *cause. */
static int
ingest_submit(struct ingest *in, const struct sms_in *sms, int cut,
              const char *raw, const unsigned char *body, size_t body_len,
              char **cause)
{
	char sent_at[32], segments[16], rating[8], *limits;
	const char *values[20];
	int lengths[20] = {0}, formats[20] = {0}, rc;
	struct tm tm;
	time_t t = (time_t)sms->sent_at;
	struct sms_cmd cmd;

	if (sms->sent_at != 0 && gmtime_r(&t, &tm) != NULL)
		strftime(sent_at, sizeof sent_at, "%Y-%m-%d %H:%M:%S+00", &tm);
	else
		sent_at[0] = '\0';
	snprintf(segments, sizeof segments, "%d", sms->segments);
	values[0] = in->gwname;
	values[1] = sms->msg_id;
	values[2] = sms->from;
	values[3] = sms->to;
	values[4] = sms->text;
	values[5] = sent_at[0] ? sent_at : NULL;
	values[6] = sms->segments > 0 ? segments : NULL;
	values[7] = sms->smsc;
	values[8] = raw;
	values[9] = body ? (const char *)body : "";
	lengths[9] = (int)body_len;
	formats[9] = 1;
	grammar_parse(sms->text, &cmd);
	snprintf(rating, sizeof rating, "%d",
	         cmd.kind == CMD_RATE || cmd.kind == CMD_DIGIT ||
	                 cmd.kind == CMD_SURVEY
	             ? cmd.rating
	             : cmd.number);
	values[10] = cmd_names[cmd.kind];
	values[11] = cmd.keyword ? "t" : "f";
	/* For survey answers, p_ticket carries the C/K letters (020). */
	values[12] = cmd.kind == CMD_SURVEY ? cmd.answers : cmd.ticket;
	values[13] = cmd.ticket_ok ? "t" : "f";
	values[14] = cmd.unit;
	values[15] = rating;
	values[16] = cmd.text;
	values[17] = ingest_sender_flag(in->d->conf, sms);
	values[18] = cut ? "t" : "f";
	limits = ingest_limits(in->d->conf,
	                       config_gateway(in->d->conf, in->gwname), &cmd);
	values[19] = limits;
	/* Keyed by sender: batches lock citizens in one order. */
	rc = db_submit_key(in->d->db, sms->from, STMT_HANDLE_SMS, 20, values,
	                   lengths, formats, ingest_done, in, cause);
	sms_cmd_free(&cmd);
	free(limits);
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
		log_info("gw %s: refused callback from %s: %d %s", gwname,
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
		log_warnx("gw %s: message %s not stored: %s", gwname,
		          sms.msg_id, cause);
		http_error(d, req, 503, "database unavailable, retry");
		free(in->gwname);
		free(in->msg_id);
		free(in);
		free(cause);
	}
	free(raw);
	sms_in_free(&sms);
}

/* Register the SMS callbacks of every gateway. */
void
ingest_routes(struct paknd *d)
{
	http_route_add(d, "/v1/gw/*/sms", HTTP_RAW_QUERY, ingest_sms);
}
