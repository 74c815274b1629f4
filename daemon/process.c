/* process.c: the processing worker.
 *
 * Intake (ingest.c) stores each callback as one row of
 * pakn.inbound_message, state 'new', and answers the gateway after that
 * commit. This worker turns stored messages into commands: it claims a
 * batch under a lease (pakn.intake_claim: the oldest first, of each phone
 * only its oldest unprocessed message, so a phone's messages keep their
 * order across instances), reads each with the grammar, the numbering
 * plan, the limits and the keyword classifier here in C, and submits one
 * pakn.intake_process per message; the pool commits them in groups. The
 * message is marked done in the transaction that queues its replies, so
 * it is processed once; one whose command fails is marked failed with
 * the reason (the pool runs a failing statement alone; if it fails again
 * pakn.intake_fail records why) and the rest of the batch goes on. A worker
 * that dies leaves its claims to run out (lease); they are claimed again.
 *
 * Callbacks that came while the database was down wait in the intake
 * journal (journal.c); once the database answers, a child process
 * replays them into pakn.inbound_message and this worker processes them
 * like the others.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "classify.h"
#include "grammar.h"
#include "journal_cmd.h"
#include "metrics.h"
#include "outbox.h"
#include "paknd.h"
#include "phone.h"
#include "process.h"
#include "sms.h"
#include "stmt.h"
#include "util.h"

struct process {
	struct paknd *d;
	struct event *timer;
	char owner[64]; /* this instance, as leases name it */
	int claiming;   /* a claim is in flight */
	long inflight;  /* messages submitted, not answered */
	int more;       /* the last claim was full: claim again at once */
	int stopped;
	struct mcounter done; /* messages by outcome */
	long long claims;
	pid_t replayer; /* the child replaying the journal, or 0 */
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
	struct process_msg *next;
};

static void process_claim(struct process *p);
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
 * against [sms] max_answer_parts. */
static char *
process_limits(const struct config *c, const struct gw_conf *gw,
               const struct sms_cmd *cmd)
{
	int parts = cmd->kind == CMD_ANSWER && gw != NULL
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

/* Log what processing did with a message, as intake used to. */
static void
process_log(const struct process_msg *m, PGresult *res)
{
	const char *id = PQgetvalue(res, 0, 0), *n = PQgetvalue(res, 0, 1);
	const char *ies = !strcmp(n, "1") ? "y" : "ies";

	if (!strcmp(PQgetvalue(res, 0, 4), "skipped"))
		log_debug("gw %s: message %s (%s) processed elsewhere",
		          m->gateway, m->msg_id, id);
	else if (!PQgetisnull(res, 0, 3))
		log_info("gw %s: message %s stored as %s, not acted on (%s), "
		         "%s repl%s queued",
		         m->gateway, m->msg_id, id, PQgetvalue(res, 0, 3), n,
		         ies);
	else if (!PQgetisnull(res, 0, 2))
		log_info("gw %s: message %s from a flagged sender (%s: %s) "
		         "stored as %s, no reply",
		         m->gateway, m->msg_id, PQgetvalue(res, 0, 2),
		         phone_flag_text(PQgetvalue(res, 0, 2)), id);
	else
		log_info("gw %s: message %s stored as %s, %s repl%s queued",
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

/* Claim again when the batch is through and there may be more. */
static void
process_next(struct process *p)
{
	if (p->inflight == 0 && !p->claiming && p->more && !p->stopped) {
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
		process_log(m, res);
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

/* Submit claimed message m (and, once it is done, the phone's next). */
static void
process_submit(struct process *p, struct process_msg *m)
{
	const struct config *c = p->d->conf;
	const char *values[13];
	char rating[8], version[24], *limits, *cause = NULL;
	struct sms_cmd cmd;

	grammar_parse(m->body, &cmd);
	snprintf(rating, sizeof rating, "%d",
	         cmd.kind == CMD_RATE || cmd.kind == CMD_DIGIT ||
	                 cmd.kind == CMD_SURVEY
	             ? cmd.rating
	             : cmd.number);
	limits = process_limits(c, config_gateway(c, m->gateway), &cmd);
	values[0] = m->id;
	values[1] = p->owner;
	values[2] = cmd_names[cmd.kind];
	values[3] = cmd.keyword ? "t" : "f";
	/* For survey answers, p_ticket carries the C/K letters (020). */
	values[4] = cmd.kind == CMD_SURVEY ? cmd.answers : cmd.ticket;
	values[5] = cmd.ticket_ok ? "t" : "f";
	values[6] = cmd.unit;
	values[7] = rating;
	values[8] = cmd.text;
	values[9] = process_sender_flag(c, m->msisdn, m->shortcode);
	values[10] = limits;
	values[11] = process_category(p, &cmd);
	/* The keywords it used: the database ignores it if they changed. */
	snprintf(version, sizeof version, "%lld",
	         p->d->classifier != NULL ? classifier_version(p->d->classifier)
	                                  : 0LL);
	values[12] = values[11] != NULL ? version : NULL;
	/* Keyed by sender: batches lock citizens in one order. */
	if (db_submit_key(p->d->proc_db, m->msisdn, STMT_INTAKE_PROCESS, 13,
	                  values, NULL, NULL, process_done, m, &cause) == 0)
		p->inflight++;
	else {
		log_warnx("gw %s: message %s not processed yet: %s", m->gateway,
		          m->msg_id, cause);
		free(cause);
		process_chain_free(m);
	}
	sms_cmd_clear(&cmd);
	free(limits);
}

/* Row i of a claim (id, gateway, msg id, msisdn, shortcode, body). */
static struct process_msg *
process_msg_new(struct process *p, PGresult *res, int i)
{
	struct process_msg *m = xcalloc(1, sizeof *m);

	m->p = p;
	m->id = xstrdup(PQgetvalue(res, i, 0));
	m->gateway = xstrdup(PQgetvalue(res, i, 1));
	m->msg_id = xstrdup(PQgetvalue(res, i, 2));
	m->msisdn = xstrdup(PQgetvalue(res, i, 3));
	m->shortcode = xstrdup(PQgetvalue(res, i, 4));
	m->body = xstrdup(PQgetvalue(res, i, 5));
	return m;
}

/* Submit the claim's first message of each phone; each phone's others
 * follow it one by one, in the claim's order (the order they came). */
static void
process_chains(struct process *p, PGresult *res, int n)
{
	struct process_msg **m = xcalloc((size_t)n + 1, sizeof *m);
	int j;

	for (int i = 0; i < n; i++)
		m[i] = process_msg_new(p, res, i);
	for (int i = n - 1; i >= 0; i--)
		for (j = i - 1; j >= 0; j--)
			if (!strcmp(m[j]->msisdn, m[i]->msisdn)) {
				m[j]->next = m[i];
				m[i] = NULL; /* not a head */
				break;
			}
	for (int i = 0; i < n; i++)
		if (m[i] != NULL)
			process_submit(p, m[i]);
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
		return;
	}
	n = PQntuples(res);
	if (n > 0)
		log_debug("processing: %d message%s claimed", n,
		          n == 1 ? "" : "s");
	p->more = n >= p->d->conf->intake_batch;
	process_chains(p, res, n);
	process_next(p);
}

/* Claim a batch of stored messages (unless one is being claimed or
 * processed: then once it is through). */
static void
process_claim(struct process *p)
{
	char batch[16], lease[16], *cause = NULL;
	const char *values[3] = {p->owner, batch, lease};

	if (p->stopped || !db_pool_up(p->d->proc_db))
		return;
	if (p->claiming || p->inflight > 0) {
		p->more = 1;
		return;
	}
	snprintf(batch, sizeof batch, "%ld", p->d->conf->intake_batch);
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
		if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			d->journal_dirty = 1; /* again at the next tick */
		else
			process_claim(p);
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
	gethostname(host, sizeof host - 1);
	clock_gettime(CLOCK_REALTIME, &now);
	/* Host, process and start time: no two instances share it. */
	snprintf(p->owner, sizeof p->owner, "%s:%ld:%lld.%06ld", host,
	         (long)getpid(), (long long)now.tv_sec, now.tv_nsec / 1000);
	p->done.name = "pakn_processed_total";
	p->done.help = "Stored messages processed, by outcome (done, failed, "
	               "skipped: another instance had it; retry: the "
	               "database did not answer).";
	p->done.nlabels = 1;
	p->done.labels[0] = "outcome";
	p->timer = event_new(d->base, -1, EV_PERSIST, process_tick, p);
	event_add(p->timer, &tv);
	return p;
}

/* A message was stored: look now. */
void
process_kick(struct process *p)
{
	process_claim(p);
}

/* Draining: claim nothing more. */
void
process_stop(struct process *p)
{
	p->stopped = 1;
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
	metrics_counter(b, &p->done);
	metrics_head(b, "pakn_processing_inflight", "gauge",
	             "Messages this process claimed and is processing.");
	metrics_sample(b, "pakn_processing_inflight", NULL,
	               (double)p->inflight);
}

/* Free the worker (a journal replay still running finishes alone). */
void
process_free(struct process *p)
{
	if (p == NULL)
		return;
	event_free(p->timer);
	mcounter_clear(&p->done);
	free(p);
}
