/* process.c: the processing worker.
 *
 * Intake (ingest.c) stores each callback as one row of
 * pakn.inbound_message, state 'new', and answers the gateway after that
 * commit. This worker turns stored messages into commands: it claims a
 * batch under a lease (pakn.intake_claim: the oldest first, of each phone
 * only its oldest unprocessed message, so a phone's messages keep their
 * order across instances), reads each with the grammar, the numbering
 * plan, the limits and the keyword classifier here in C, and submits
 * them in groups of [intake] process_batch, a phone's messages always in
 * the same group, each group one call of pakn.intake_process_batch and
 * one transaction. A message is marked done in the transaction that
 * queues its replies, so it is processed once. When a group's call
 * fails, its messages are submitted again one by one
 * (pakn.intake_process, a phone's next once its last is done); one whose
 * command fails alone too is marked failed with the reason
 * (pakn.intake_fail) and the others go on. A worker that dies leaves its
 * claims to run out (lease); they are claimed again.
 *
 * It claims on its timer ([intake] interval) and when intake stores a
 * message (process_kick), but not more than once in KICK_QUIET after a
 * claim that found nothing: what is stored then is another instance's
 * (or waits for its phone's earlier message), and a claim for each of
 * intake's commits cost the database more than the commits.
 *
 * Callbacks that came while the database was down wait in the intake
 * journal (journal.c); once the database answers, a child process
 * replays them into pakn.inbound_message and this worker processes them
 * like the others.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "classify.h"
#include "grammar.h"
#include "journal_cmd.h"
#include "load.h"
#include "metrics.h"
#include "outbox.h"
#include "paknd.h"
#include "phone.h"
#include "placespan.h"
#include "process.h"
#include "sms.h"
#include "stmt.h"
#include "ticket.h"
#include "util.h"

/* Seconds after a claim that found nothing during which stores do not
 * claim at once (process_kick). */
#define KICK_QUIET 0.02

/* Seconds after which a claim waiting for [intake] burst_rate looks
 * whether the surge is over (process_paced). */
#define PACE_LOOK 0.05
/* Claims in a row that came back full from which a backlog drains (on
 * every connection of the worker's pool). */
#define BACKLOG_CLAIMS 3

struct process {
	struct paknd *d;
	struct event *timer;
	char owner[64]; /* this instance, as leases name it */
	int claiming;   /* a claim is in flight */
	long inflight;  /* calls submitted (groups, lone messages), not
	                 * answered */
	int more;       /* the last claim was full: claim again at once */
	int full;       /* claims in a row that came back full */
	long calls;     /* connections given work at once, as last set */
	/* When a claim last came back empty (mono_now), and the claim that
	 * kicks after it wait for. */
	double empty_at;
	struct event *soon;
	int stopped;
	struct mcounter done; /* messages by outcome */
	long long batched;    /* of them, done set-based with others */
	long long claims;
	pid_t replayer;          /* the child replaying the journal, or 0 */
	struct mcounter replays; /* its ends, by result */
	/* The ticket key (pakn.setting 'ticket_key', as the last claim gave
	 * it), if it had one. */
	unsigned char ticket_key[TICKET_KEY_LEN];
	int have_key;
	char key_hex[2 * TICKET_KEY_LEN + 1]; /* as read: parsed once */
	/* It makes one call at a time: intake is busy ([intake]
	 * yield_requests); the times it began to. */
	int yielding;
	long long yields;
	long claim_limit; /* of the claim in flight */
	int claim_surge;  /* it was made under a surge (process_paced) */
	/* Under a surge with [intake] burst_rate set: no claim before this
	 * time (mono_now), the last claim's messages at that rate; the
	 * times a claim waited for it. */
	double paced_until;
	int pacing; /* a claim waits for it now */
	long long paced;
};

/* One claimed message; next: the phone's next message of the claim,
 * submitted when this one is done (a phone's messages in order). */
struct process_msg {
	struct process *p;
	char *id;
	char *gateway;
	char *msg_id;
	char *msisdn;
	char *shortcode;
	char *body;
	/* Its received_at as the claim gave it (the month's partition
	 * pakn.intake_process_batch reads it in), or NULL. */
	char *received_at;
	/* Its value of pakn.ticket_seq (the ticket a complaint of it gets
	 * when processed set-based), or -1 (the database's then). */
	long long ticket_seq;
	int at;    /* its place in the claim */
	int head;  /* the first of its phone's in the claim */
	int group; /* the group it is submitted in */
	struct process_msg *next;
};

/* A group of claimed messages processed by one call of
 * pakn.intake_process_batch: whole phones, in the order they came. */
struct process_group {
	struct process *p;
	struct process_msg **m;
	int n;
};

static void process_claim(struct process *p);
static void process_soon(evutil_socket_t fd, short what, void *arg);
static void process_submit(struct process *p, struct process_msg *m);
static void process_next(struct process *p);

/* Free a claimed message. */
static void
process_msg_free(struct process_msg *m)
{
	if (m == NULL)
		return;
	free(m->id);
	free(m->gateway);
	free(m->msg_id);
	free(m->msisdn);
	free(m->shortcode);
	free(m->body);
	free(m->received_at);
	free(m);
}

/* Free a chain of claimed messages not submitted (their lease runs out
 * and they are claimed again). */
static void
process_chain_free(struct process_msg *m)
{
	struct process_msg *next;

	for (; m != NULL; m = next) {
		next = m->next;
		process_msg_free(m);
	}
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
process_sender_flag(const struct config *c, const char *from, const char *to)
{
	if (strcmp(from, to) == 0 || config_own_number(c, from))
		return "own_number";
	if (config_loop_sender(c, from))
		return "gateway_sender";
	return phone_plan(from);
}

/* The limits pakn.handle_inbound_checked applies, as JSON: the [abuse]
 * keys, and for an answer (TL) the parts it takes through gateway gw
 * against [sms] max_answer_parts. Built as an object, not parsed from
 * text for each message of a batch (4 % of paknd's time in a drain). */
static json_t *
process_limits(const struct config *c, const struct gw_conf *gw,
               const struct sms_cmd *cmd)
{
	int parts = cmd->kind == CMD_ANSWER && gw != NULL
	                ? sms_segments_sent(cmd->text, gw->diacritics)
	                : 0;
	json_t *o = json_pack(
	    "{s:I, s:I, s:I, s:I, s:I, s:i}", "complaints_per_hour",
	    (json_int_t)c->abuse_complaints_hour, "complaints_per_day",
	    (json_int_t)c->abuse_complaints_day, "replies_per_day",
	    (json_int_t)c->abuse_replies_day, "repeat_window",
	    (json_int_t)c->abuse_repeat_window, "answer_max",
	    (json_int_t)c->max_answer_parts, "answer_parts", parts);

	if (o == NULL)
		fatalx("processing: out of memory");
	return o;
}

/* Log what processing did with a message, as intake used to. */
static void
process_log(const struct process_msg *m, PGresult *res, int row)
{
	const char *id = PQgetvalue(res, row, 0), *n = PQgetvalue(res, row, 1);
	const char *ies = !strcmp(n, "1") ? "y" : "ies";
	struct log_limit *l = &m->p->d->log_processed;

	if (!strcmp(PQgetvalue(res, row, 4), "skipped"))
		log_debug("gw %s: message %s (%s) processed elsewhere",
		          m->gateway, m->msg_id, id);
	else if (!PQgetisnull(res, row, 3))
		log_limited(
		    l, 0,
		    "gw %s: message %s stored as %s, not acted on (%s), "
		    "%s repl%s queued",
		    m->gateway, m->msg_id, id, PQgetvalue(res, row, 3), n, ies);
	else if (!PQgetisnull(res, row, 2))
		log_limited(l, 0,
		            "gw %s: message %s from a flagged sender (%s: %s) "
		            "stored as %s, no reply",
		            m->gateway, m->msg_id, PQgetvalue(res, row, 2),
		            phone_flag_text(PQgetvalue(res, row, 2)), id);
	else
		log_limited(l, 0,
		            "gw %s: message %s stored as %s, %s repl%s queued",
		            m->gateway, m->msg_id, id, n, ies);
}

/* The failure of a message was recorded (or not: then its lease runs
 * out and it is tried again). */
static void
process_failed(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct process *p = arg;

	p->inflight--;
	if (st != DB_OK)
		log_warnx("processing: a failure not recorded: %s", error);
	process_next(p);
}

/* Mark message m failed with the database's error. */
static void
process_fail(struct process *p, struct process_msg *m, const char *error)
{
	const char *values[3] = {m->id, p->owner, error};
	char *cause = NULL;

	log_warnx("gw %s: message %s (%s) failed: %s", m->gateway, m->msg_id,
	          m->id, error);
	mcounter_add(&p->done, 1, "failed");
	if (db_submit(p->d->proc_db, STMT_INTAKE_FAIL, 3, values, NULL, NULL,
	              process_failed, p, &cause) == 0)
		p->inflight++;
	else {
		log_warnx("processing: a failure not recorded: %s", cause);
		free(cause);
	}
}

/* Is intake busy (load_busy), so that the worker should make one call
 * at a time? Processing at full speed takes both cores of a small
 * machine; intake comes first, as a gateway waits for our 2xx and a
 * citizen for an SMS within seconds. The worker never stops: a claim of
 * one group and one call at a time still process some 2 500 complaints
 * a second on two cores (a backlog grows during the burst and drains
 * after it). */
static int
process_yielding(struct process *p)
{
	int now = load_busy(p->d);

	if (now && !p->yielding)
		p->yields++;
	p->yielding = now;
	return now;
}

/* [intake] steady_connections, at most [intake] connections. */
static long
process_steady(const struct config *c)
{
	return c->intake_steady < c->intake_connections ? c->intake_steady
	                                                : c->intake_connections;
}

/* Calls the worker may have in flight: one while intake is busy;
 * every connection of its pool ([intake] connections) while a backlog
 * drains (BACKLOG_CLAIMS claims in a row came back full); [intake]
 * steady_connections otherwise. A call waits for PostgreSQL and paknd
 * in turn: on two cores, two calls leave the cores about a fifth idle
 * while a backlog drains, and four drain it a fifth faster; but under a
 * steady load four held the acknowledgements longer than two (measured
 * 2026-12-05), and between the moments intake is busy they would take
 * the cores from the callbacks. The pool keeps every connection open
 * and gives work to that many. */
static long
process_calls(struct process *p)
{
	if (process_yielding(p)) {
		/* A backlog that grows under a burst drains once intake is
		 * quiet, three full claims after. */
		p->full = 0;
		return 1;
	}
	if (p->full >= BACKLOG_CLAIMS)
		return p->d->conf->intake_connections;
	return process_steady(p->d->conf);
}

/* Give work to as many connections of the worker's pool as
 * process_calls says (a claim's groups queue in paknd for them). */
static void
process_set_calls(struct process *p)
{
	p->calls = process_calls(p);
	db_pool_set_busy(p->d->proc_db, (int)p->calls);
}

/* Claim in s seconds (p->soon: a kick waited for, or a paced claim),
 * whatever the timer held. */
static void
process_soon_in(struct process *p, double s)
{
	struct timeval tv;

	tv.tv_sec = (time_t)s;
	tv.tv_usec = (suseconds_t)((s - (double)tv.tv_sec) * 1e6) + 1;
	evtimer_add(p->soon, &tv);
}

/* Must the next claim wait for [intake] burst_rate? Under a surge of
 * callbacks (load_surge: they come at [intake] surge_rate and the
 * requests in flight average [intake] yield_requests over two quarters
 * of a second in a row, as for the outbox's [outbox] burst_rate; not a
 * moment's wait for a commit, nor a steady rate answered a little
 * slower), the worker claims at most that many messages a second,
 * a group at a time: one call at a time still took most of a core from
 * the callbacks (intake at 0.81-0.85x the pgbench line with processing,
 * 1.15-1.46x without it; 1.10-1.22x at 500, 2026-12-06). The backlog drains
 * once intake is quiet: the timer looks every PACE_LOOK seconds, and claims
 * when the wait or the surge is over. */
static int
process_paced(struct process *p)
{
	double wait = p->paced_until - mono_now();

	if (p->d->conf->intake_burst_rate <= 0 || wait <= 0 ||
	    !load_surge(p->d))
		return p->pacing = 0;
	/* Looked at again soon: the surge may end before the wait. */
	if (!p->pacing)
		p->paced++;
	p->pacing = 1;
	process_soon_in(p, wait < PACE_LOOK ? wait : PACE_LOOK);
	return 1;
}

/* May the next claim go now? While a claim's calls are answered, the
 * next is made once a connection of the worker's pool is left with
 * nothing queued, so that none waits idle for the last calls of a claim.
 * A phone's later messages are not claimed while an earlier one is
 * leased and not done (pakn.intake_claim): per-phone order holds across
 * claims in flight. */
static int
process_room(struct process *p)
{
	process_set_calls(p);
	return p->inflight < p->calls;
}

/* Claim again when a connection is free and there may be more. */
static void
process_next(struct process *p)
{
	if (process_room(p) && !p->claiming && p->more && !p->stopped) {
		p->more = 0;
		process_claim(p);
	}
}

/* One message processed (or not: its claim runs out and it is claimed
 * again). */
static void
process_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct process_msg *m = arg, *next = m->next;
	struct process *p = m->p;

	m->next = NULL;
	p->inflight--;
	if (st == DB_OK) {
		process_log(m, res, 0);
		mcounter_add(&p->done, 1, PQgetvalue(res, 0, 4));
		if (atoi(PQgetvalue(res, 0, 1)) > 0)
			outbox_kick(p->d->outbox);
		if (next != NULL)
			process_submit(p, next);
	} else if (st == DB_ERROR) {
		/* Its command fails (run alone too): failed, not retried; the
		 * phone's next message goes on. */
		process_fail(p, m, error);
		if (next != NULL)
			process_submit(p, next);
	} else {
		/* The phone's later messages wait for this one's new claim. */
		log_warnx("gw %s: message %s not processed yet: %s", m->gateway,
		          m->msg_id, error);
		mcounter_add(&p->done, 1, "retry");
		process_chain_free(next);
	}
	process_msg_free(m);
	process_next(p);
}

/* The category p's classifier finds for a complaint's text, or NULL. */
static const char *
process_category(const struct process *p, const struct sms_cmd *cmd)
{
	if (cmd->kind != CMD_COMPLAINT || p->d->classifier == NULL)
		return NULL;
	return classifier_category(p->d->classifier, cmd->text,
	                           strlen(cmd->text));
}

/* What processing takes of a claimed message besides its row: the
 * command the grammar reads, the sender's flag, the limits, the category
 * of a complaint (pakn.intake_process's arguments). */
struct process_args {
	struct sms_cmd cmd;
	char rating[8];
	json_t *limits;
	const char *flag;
	const char *category;
};

/* Read message m into a (released with process_args_clear). */
static void
process_read(const struct process *p, const struct process_msg *m,
             struct process_args *a)
{
	const struct config *c = p->d->conf;

	grammar_parse(m->body, &a->cmd);
	snprintf(a->rating, sizeof a->rating, "%d",
	         a->cmd.kind == CMD_RATE || a->cmd.kind == CMD_DIGIT ||
	                 a->cmd.kind == CMD_SURVEY
	             ? a->cmd.rating
	             : a->cmd.number);
	a->limits = process_limits(c, config_gateway(c, m->gateway), &a->cmd);
	a->flag = process_sender_flag(c, m->msisdn, m->shortcode);
	a->category = process_category(p, &a->cmd);
}

static void
process_args_clear(struct process_args *a)
{
	sms_cmd_clear(&a->cmd);
	json_decref(a->limits);
}

/* The ticket argument: for survey answers, the C/K letters (020). */
static const char *
process_ticket(const struct sms_cmd *cmd)
{
	return cmd->kind == CMD_SURVEY ? cmd->answers : cmd->ticket;
}

/* The version of the keywords the classifier used (the database ignores
 * its categories if they changed since), or 0 without a classifier. */
static long long
process_version(const struct process *p)
{
	return p->d->classifier != NULL ? classifier_version(p->d->classifier)
	                                : 0LL;
}

/* Submit claimed message m alone (and, once it is done, the phone's
 * next). */
static void
process_submit(struct process *p, struct process_msg *m)
{
	const char *values[14];
	char version[24], gather[24], *cause = NULL, *limits;
	struct process_args a;

	process_read(p, m, &a);
	if ((limits = json_dumps(a.limits, JSON_COMPACT)) == NULL)
		fatalx("processing: out of memory");
	values[0] = m->id;
	values[1] = p->owner;
	values[2] = cmd_names[a.cmd.kind];
	values[3] = a.cmd.keyword ? "t" : "f";
	values[4] = process_ticket(&a.cmd);
	values[5] = a.cmd.ticket_ok ? "t" : "f";
	values[6] = a.cmd.unit;
	values[7] = a.rating;
	values[8] = a.cmd.text;
	values[9] = a.flag;
	values[10] = limits;
	values[11] = a.category;
	snprintf(version, sizeof version, "%lld", process_version(p));
	values[12] = values[11] != NULL ? version : NULL;
	snprintf(gather, sizeof gather, "%ld", p->d->conf->notice_gather);
	values[13] = gather;
	/* Keyed by sender: batches lock citizens in one order. */
	if (db_submit_key(p->d->proc_db, m->msisdn, STMT_INTAKE_PROCESS, 14,
	                  values, NULL, NULL, process_done, m, &cause) == 0)
		p->inflight++;
	else {
		log_warnx("gw %s: message %s not processed yet: %s", m->gateway,
		          m->msg_id, cause);
		free(cause);
		process_chain_free(m);
	}
	free(limits);
	process_args_clear(&a);
}

/* A JSON string, or JSON null for NULL (NULL if s is not UTF-8). */
static json_t *
process_json_str(const char *s)
{
	return s != NULL ? json_string(s) : json_null();
}

/* For a complaint that names no unit's code, the runs of words its text
 * may name its place by (placespan.h), as place_keys and place_kinds of
 * o: pakn.intake_process_batch then looks them up without cutting the
 * text into words itself. */
static void
process_json_place(const struct process *p, const struct sms_cmd *cmd,
                   json_t *o)
{
	struct place_span *s;
	json_t *keys, *kinds;
	char *words;
	size_t n;

	if (cmd->kind != CMD_COMPLAINT || cmd->unit[0] != '\0' ||
	    p->d->classifier == NULL)
		return;
	words = classifier_words(
	    p->d->classifier, cmd->text,
	    place_head_bytes(cmd->text, strlen(cmd->text), PLACE_HEAD_CHARS),
	    0);
	n = place_spans(words, &s);
	keys = json_array();
	kinds = json_array();
	for (size_t i = 0; i < n; i++) {
		json_array_append_new(keys, json_string(s[i].key));
		json_array_append_new(kinds, json_string(s[i].kind));
	}
	json_object_set_new(o, "place_keys", keys);
	json_object_set_new(o, "place_kinds", kinds);
	place_spans_free(s, n);
	free(words);
}

/* Message m as one element of pakn.intake_process_batch's array, or
 * NULL if it cannot be (then the group goes one by one). */
static json_t *
process_json(const struct process *p, const struct process_msg *m)
{
	struct process_args a;
	json_t *o;
	char ticket[TICKET_LEN + 1];
	int with_ticket;

	process_read(p, m, &a);
	/* Only a complaint's, computed here (10 rounds of SHA-256). */
	with_ticket =
	    a.cmd.kind == CMD_COMPLAINT && p->have_key && m->ticket_seq >= 0;
	if (with_ticket)
		ticket_encode(
		    ticket_permute(p->ticket_key, (uint64_t)m->ticket_seq),
		    ticket);
	/* limits by a reference of its own (O): process_args_clear drops
	 * the message's. */
	o = json_pack("{s:I, s:s, s:b, s:s, s:b, s:s, s:i, s:s, s:o, "
	              "s:O, s:o, s:o}",
	              "id", (json_int_t)strtoll(m->id, NULL, 10), "kind",
	              cmd_names[a.cmd.kind], "keyword", a.cmd.keyword, "ticket",
	              process_ticket(&a.cmd), "ticket_ok", a.cmd.ticket_ok,
	              "unit", a.cmd.unit, "rating", atoi(a.rating), "text",
	              a.cmd.text, "sender_flag", process_json_str(a.flag),
	              "limits", a.limits, "category",
	              process_json_str(a.category), "new_ticket",
	              process_json_str(with_ticket ? ticket : NULL));
	if (o != NULL && m->received_at != NULL)
		json_object_set_new(o, "at", json_string(m->received_at));
	if (o != NULL)
		process_json_place(p, &a.cmd, o);
	process_args_clear(&a);
	return o;
}

/* Free a group and its messages. */
static void
process_group_free(struct process_group *g)
{
	for (int i = 0; i < g->n; i++) {
		g->m[i]->next = NULL;
		process_msg_free(g->m[i]);
	}
	free(g->m);
	free(g);
}

/* Submit a group's messages one by one, each phone's in order. */
static void
process_group_alone(struct process *p, struct process_group *g)
{
	for (int i = 0; i < g->n; i++)
		if (g->m[i]->head)
			process_submit(p, g->m[i]);
	free(g->m);
	free(g);
}

/* A group was processed (or failed: then one by one; or the database did
 * not answer: then its claims run out and it is claimed again). */
static void
process_group_done(void *arg, enum db_status st, PGresult *res,
                   const char *error)
{
	struct process_group *g = arg;
	struct process *p = g->p;
	int replies = 0;

	p->inflight--;
	if (st == DB_ERROR) {
		log_info("processing: a batch of %d failed (%s); its messages "
		         "go one by one",
		         g->n, error);
		process_group_alone(p, g);
		process_next(p);
		return;
	}
	if (st != DB_OK) {
		log_warnx("processing: a batch of %d not processed yet: %s",
		          g->n, error);
		mcounter_add(&p->done, g->n, "retry");
		process_group_free(g);
		process_next(p);
		return;
	}
	for (int r = 0; r < PQntuples(res); r++) {
		const char *id = PQgetvalue(res, r, 0);

		for (int i = 0; i < g->n; i++)
			if (!strcmp(g->m[i]->id, id)) {
				process_log(g->m[i], res, r);
				break;
			}
		mcounter_add(&p->done, 1, PQgetvalue(res, r, 4));
		if (!strcmp(PQgetvalue(res, r, 6), "t"))
			p->batched++;
		replies += atoi(PQgetvalue(res, r, 1));
	}
	if (replies > 0)
		outbox_kick(p->d->outbox);
	process_group_free(g);
	process_next(p);
}

/* Submit group g as one call of pakn.intake_process_batch. */
static void
process_group_submit(struct process *p, struct process_group *g)
{
	json_t *arr = json_array(), *o;
	char version[24], gather[24], *json = NULL, *cause = NULL;
	const char *values[4];

	for (int i = 0; i < g->n && arr != NULL; i++)
		if ((o = process_json(p, g->m[i])) == NULL ||
		    json_array_append_new(arr, o) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	if (arr != NULL)
		json = json_dumps(arr, JSON_COMPACT);
	json_decref(arr);
	if (json == NULL) {
		process_group_alone(p, g);
		return;
	}
	snprintf(version, sizeof version, "%lld", process_version(p));
	values[0] = p->owner;
	values[1] = json;
	values[2] = p->d->classifier != NULL ? version : NULL;
	snprintf(gather, sizeof gather, "%ld", p->d->conf->notice_gather);
	values[3] = gather;
	if (db_submit(p->d->proc_db, STMT_INTAKE_PROCESS_BATCH, 4, values, NULL,
	              NULL, process_group_done, g, &cause) == 0)
		p->inflight++;
	else {
		log_warnx("processing: a batch of %d not processed yet: %s",
		          g->n, cause);
		free(cause);
		process_group_free(g);
	}
	free(json);
}

/* The ticket key of a claim (hex, column 7), kept, and parsed when it
 * changes; a claim without one (no key set) leaves the tickets to the
 * database. */
static void
process_key(struct process *p, PGresult *res)
{
	const char *hex;
	unsigned int b;

	if (PQntuples(res) < 1)
		return;
	hex = PQgetisnull(res, 0, 7) ? "" : PQgetvalue(res, 0, 7);
	if (strcmp(hex, p->key_hex) == 0 && hex[0] != '\0')
		return;
	p->have_key = 0;
	p->key_hex[0] = '\0';
	if (strlen(hex) != 2 * TICKET_KEY_LEN)
		return;
	for (int i = 0; i < TICKET_KEY_LEN; i++) {
		if (!isxdigit((unsigned char)hex[2 * i]) ||
		    !isxdigit((unsigned char)hex[2 * i + 1]) ||
		    sscanf(hex + 2 * i, "%2x", &b) != 1)
			return;
		p->ticket_key[i] = (unsigned char)b;
	}
	memcpy(p->key_hex, hex, sizeof p->key_hex);
	p->have_key = 1;
}

/* Row i of a claim (id, gateway, msg id, msisdn, shortcode, body, ticket
 * sequence value, ticket key, received_at). */
static struct process_msg *
process_msg_new(struct process *p, PGresult *res, int i)
{
	struct process_msg *m = xcalloc(1, sizeof *m);
	char *end;
	long long seq;

	m->p = p;
	m->id = xstrdup(PQgetvalue(res, i, 0));
	m->gateway = xstrdup(PQgetvalue(res, i, 1));
	m->msg_id = xstrdup(PQgetvalue(res, i, 2));
	m->msisdn = xstrdup(PQgetvalue(res, i, 3));
	m->shortcode = xstrdup(PQgetvalue(res, i, 4));
	m->body = xstrdup(PQgetvalue(res, i, 5));
	if (PQnfields(res) > 8 && !PQgetisnull(res, i, 8))
		m->received_at = xstrdup(PQgetvalue(res, i, 8));
	m->ticket_seq = -1;
	if (!PQgetisnull(res, i, 6)) {
		seq = strtoll(PQgetvalue(res, i, 6), &end, 10);
		if (*end == '\0' && seq >= 0)
			m->ticket_seq = seq;
	}
	return m;
}

/* Claimed messages by phone, then by place in the claim (qsort). */
static int
process_msg_cmp(const void *a, const void *b)
{
	const struct process_msg *x = *(struct process_msg *const *)a;
	const struct process_msg *y = *(struct process_msg *const *)b;
	int c = strcmp(x->msisdn, y->msisdn);

	return c != 0 ? c : (x->at > y->at) - (x->at < y->at);
}

/* Submit the claim in groups of [intake] process_batch messages or a
 * little more: a phone's messages all in one group, in the order they
 * came (linked by next, for when they go one by one). */
static void
process_chains(struct process *p, PGresult *res, int n)
{
	struct process_msg **m = xcalloc((size_t)n + 1, sizeof *m);
	struct process_msg **by = xcalloc((size_t)n + 1, sizeof *by);
	long size = p->d->conf->intake_process_batch;
	int k = 0, count = 0;

	for (int i = 0; i < n; i++) {
		m[i] = process_msg_new(p, res, i);
		m[i]->at = i;
		m[i]->head = 1;
	}
	/* Each phone's messages in a chain, in the order they came: by
	 * phone, then by place in the claim (one comparison of every pair
	 * was 1 % of paknd's time in a drain of claims of 256). */
	for (int i = 0; i < n; i++)
		by[i] = m[i];
	qsort(by, (size_t)n, sizeof *by, process_msg_cmp);
	for (int i = 1; i < n; i++)
		if (!strcmp(by[i - 1]->msisdn, by[i]->msisdn)) {
			by[i - 1]->next = by[i];
			by[i]->head = 0;
		}
	/* Whole phones into groups, the oldest first. */
	for (int i = 0; i < n; i++) {
		if (!m[i]->head)
			continue;
		for (struct process_msg *x = m[i]; x != NULL; x = x->next) {
			x->group = k;
			count++;
		}
		if (count >= size) {
			k++;
			count = 0;
		}
	}
	for (int g = 0; g <= k; g++) {
		struct process_group *pg = xcalloc(1, sizeof *pg);

		pg->p = p;
		pg->m = xcalloc((size_t)n, sizeof *pg->m);
		for (int i = 0; i < n; i++)
			if (m[i]->group == g)
				pg->m[pg->n++] = m[i];
		if (pg->n > 0)
			process_group_submit(p, pg);
		else {
			free(pg->m);
			free(pg);
		}
	}
	free(by);
	free(m);
}

/* A claim came back: process each message it holds. */
static void
process_claimed(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct process *p = arg;
	int n;

	p->claiming = 0;
	if (st != DB_OK) {
		log_warnx("processing: claim failed: %s", error);
		p->full = 0;
		outbox_processing_backlog(p->d->outbox, 0);
		return;
	}
	n = PQntuples(res);
	if (n > 0)
		log_debug("processing: %d message%s claimed", n,
		          n == 1 ? "" : "s");
	else
		p->empty_at = mono_now();
	p->more = n >= p->claim_limit;
	p->full = p->more ? p->full + 1 : 0;
	/* Claimed under a surge: the next claim then after these at
	 * [intake] burst_rate (process_paced). */
	if (p->claim_surge && n > 0) {
		double now = mono_now();

		p->paced_until =
		    (p->paced_until > now ? p->paced_until : now) +
		    (double)n / (double)p->d->conf->intake_burst_rate;
	}
	outbox_processing_backlog(p->d->outbox, p->more);
	process_key(p, res);
	process_set_calls(p); /* the connections its groups may take */
	process_chains(p, res, n);
	process_next(p);
}

/* Claim a batch of stored messages (unless one is being claimed, or
 * every connection has a call queued: then once one is through). */
static void
process_claim(struct process *p)
{
	char batch[16], lease[16], *cause = NULL;
	const char *values[3] = {p->owner, batch, lease};

	if (p->stopped || !db_pool_up(p->d->proc_db))
		return;
	if (p->claiming || !process_room(p)) {
		p->more = 1;
		return;
	}
	if (process_paced(p))
		return;
	/* Yielding: a group's worth, processed by one call. */
	p->claim_limit = process_yielding(p) ? p->d->conf->intake_process_batch
	                                     : p->d->conf->intake_batch;
	p->claim_surge = p->d->conf->intake_burst_rate > 0 && load_surge(p->d);
	snprintf(batch, sizeof batch, "%ld", p->claim_limit);
	snprintf(lease, sizeof lease, "%ld", p->d->conf->intake_lease);
	if (db_submit(p->d->proc_db, STMT_INTAKE_CLAIM, 3, values, NULL, NULL,
	              process_claimed, p, &cause) != 0) {
		log_debug("processing: %s", cause);
		free(cause);
		return;
	}
	p->claiming = 1;
	p->claims++;
}

/* The journal replay's child: store every record (pakn.intake_store; the
 * rows wait for processing like any other) and exit. */
static void
process_replay_child(const struct paknd *d)
{
	PGconn *conn = PQconnectdb(d->conf->conninfo);
	struct journal_stats st = {0};
	long stored = 0, dup = 0;
	char *cause = NULL;
	int rc = -1;

	if (PQstatus(conn) != CONNECTION_OK)
		cause = xstrdup(PQerrorMessage(conn));
	else
		rc = journal_cmd_store(conn, d->conf->journal_dir, &stored,
		                       &dup, &st, &cause);
	PQfinish(conn);
	if (stored + dup > 0 || st.torn > 0 || st.bad > 0)
		log_info("journal: %ld callback%s replayed, %ld already "
		         "stored, %llu torn record%s skipped, %llu bad file%s",
		         stored, stored == 1 ? "" : "s", dup,
		         (unsigned long long)st.torn, st.torn == 1 ? "" : "s",
		         (unsigned long long)st.bad, st.bad == 1 ? "" : "s");
	if (rc != 0)
		log_warnx("journal: replay stopped: %s", cause);
	_exit(rc == 0 ? 0 : 1);
}

/* Replay the journal in a child once the database answers (what it
 * stores is processed like any callback); notice the child's end. */
static void
process_journal(struct process *p)
{
	struct paknd *d = p->d;
	pid_t pid;
	int status;

	if (p->replayer > 0) {
		if ((pid = waitpid(p->replayer, &status, WNOHANG)) == 0)
			return;
		p->replayer = 0;
		if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			d->journal_dirty = 1; /* again at the next tick */
			mcounter_add(&p->replays, 1, "failed");
		} else {
			mcounter_add(&p->replays, 1, "ok");
			process_claim(p);
		}
	}
	if (d->journal == NULL || !d->journal_dirty || p->stopped ||
	    !db_pool_up(d->proc_db))
		return;
	if ((pid = fork()) == -1) {
		log_warn("journal: fork");
		return;
	}
	if (pid == 0)
		process_replay_child(d);
	d->journal_dirty = 0;
	p->replayer = pid;
}

/* The timer: look for work stored by others, or left by a dead worker;
 * replay the journal. */
static void
process_tick(evutil_socket_t fd, short what, void *arg)
{
	process_journal(arg);
	process_claim(arg);
}

/* Start the worker. */
struct process *
process_new(struct paknd *d)
{
	struct process *p = xcalloc(1, sizeof *p);
	long ms = d->conf->intake_interval;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	char host[40] = "";
	struct timespec now;

	p->d = d;
	p->calls = process_steady(d->conf);
	gethostname(host, sizeof host - 1);
	clock_gettime(CLOCK_REALTIME, &now);
	/* Host, process and start time: no two instances share it. */
	snprintf(p->owner, sizeof p->owner, "%s:%ld:%lld.%06ld", host,
	         (long)getpid(), (long long)now.tv_sec, now.tv_nsec / 1000);
	p->done = (struct mcounter){
	    .name = "pakn_processed_total",
	    .help = "Stored messages processed, by outcome (done, failed, "
	            "skipped: another instance had it; retry: the database "
	            "did not answer).",
	    .nlabels = 1,
	    .labels = {"outcome"}};
	p->replays = (struct mcounter){
	    .name = "pakn_journal_replays_total",
	    .help = "Replays of the intake journal into the database once it "
	            "answers, by result (failed: tried again at the next "
	            "tick).",
	    .nlabels = 1,
	    .labels = {"result"}};
	p->timer = event_new(d->base, -1, EV_PERSIST, process_tick, p);
	event_add(p->timer, &tv);
	p->soon = evtimer_new(d->base, process_soon, p);
	p->empty_at = -KICK_QUIET;
	return p;
}

/* The claim kicks waited for. */
static void
process_soon(evutil_socket_t fd, short what, void *arg)
{
	process_claim(arg);
}

/* A message was stored: look now; but within KICK_QUIET seconds of a
 * claim that found nothing (the messages stored are another instance's
 * to process, or their phones' earlier ones are in flight), once at the
 * end of that time, so that intake's commits do not each cost a claim. */
void
process_kick(struct process *p)
{
	double quiet = p->empty_at + KICK_QUIET - mono_now();

	if (quiet <= 0) {
		process_claim(p);
		return;
	}
	if (!evtimer_pending(p->soon, NULL))
		process_soon_in(p, quiet);
}

/* Draining: claim nothing more. */
void
process_stop(struct process *p)
{
	p->stopped = 1;
	event_del(p->soon);
	/* The outbox sends what is left at its full rate. */
	outbox_processing_backlog(p->d->outbox, 0);
	event_del(p->timer);
}

/* Messages claimed and not answered yet. */
long
process_pending(const struct process *p)
{
	return p->inflight + p->claiming;
}

/* The worker's counters for /metrics. */
void
process_metrics(const struct process *p, struct buf *b)
{
	const struct {
		const char *name, *type, *help;
		double v;
	} one[] = {
	    {"pakn_processed_batched_total", "counter",
	     "Messages processed set-based, with the others of their batch "
	     "(new complaints, their place by code, by name, registered or "
	     "asked for); the others one by one.",
	     (double)p->batched},
	    {"pakn_processing_claims_total", "counter",
	     "Claims of stored messages made (pakn.intake_claim), those that "
	     "found nothing included.",
	     (double)p->claims},
	    {"pakn_processing_yields_total", "counter",
	     "Times the processing worker went down to one call at a time "
	     "because intake was busy ([intake] yield_requests).",
	     (double)p->yields},
	    {"pakn_processing_paced_total", "counter",
	     "Times the processing worker's next claim waited while intake "
	     "was under a surge, so that it claims at most [intake] "
	     "burst_rate messages a second.",
	     (double)p->paced},
	    {"pakn_processing_inflight", "gauge",
	     "Calls of the processing worker in flight (groups of messages, "
	     "or messages alone).",
	     (double)p->inflight},
	    {"pakn_processing_connections", "gauge",
	     "Connections of the processing worker given work at once: "
	     "[intake] connections while a backlog drains (claims came back "
	     "full three times in a row), [intake] steady_connections "
	     "otherwise, 1 while intake is busy.",
	     (double)p->calls},
	};

	metrics_counter(b, &p->done);
	metrics_counter(b, &p->replays);
	for (size_t i = 0; i < sizeof one / sizeof one[0]; i++)
		metrics_one(b, one[i].name, one[i].type, one[i].help, one[i].v);
}

/* Free the worker (a journal replay still running finishes alone). */
void
process_free(struct process *p)
{
	if (p == NULL)
		return;
	event_free(p->timer);
	event_free(p->soon);
	mcounter_clear(&p->done);
	mcounter_clear(&p->replays);
	free(p);
}
