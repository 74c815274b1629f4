/* outbox.c: the sender of pakn.outbox.
 *
 * A poll timer and outbox_kick claim due messages with pakn.outbox_claim,
 * the replies to a message just received before the others (notices,
 * reminders: 028), which leases them to this process: never two claims
 * in flight, never more than max_inflight messages held at once. A
 * claimed message waits in its gateway's queue (replies first) until the
 * gateway's rate lets it go, is sent with libcurl's multi interface on
 * the event loop (the way curl's hiperfifo example drives it), and its
 * outcome is recorded with pakn.outbox_results, with those of the other
 * sends that finished in the same turn of the loop, or while the last
 * such statement was in flight (one at a time, up to RECORD_MAX in one
 * statement). If that cannot be recorded (database down), the lease
 * running out brings the message back.
 *
 * The rate ([gateway] rate messages a second) is the gateway's, shared
 * by every paknd on the database: a send needs a token of this process's
 * bucket (which spreads sends over the second) and a grant of the
 * current second from pakn.rate_take (019), which never grants more than
 * the rate in one second across instances. A grant lapses at the end of
 * its second; what was not used is dropped, never carried over.
 *
 * While stored messages wait for processing (the processing worker's
 * claims come back full), [outbox] backlog_rate, when set, lowers every
 * gateway's rate to it: the acknowledgements and notices are queued
 * first, and sent when the machine has time again. While intake is under
 * a surge (load_surge: a burst of callbacks), [outbox] burst_rate does
 * the same for the callbacks: a gateway waits for our 2xx, a citizen for
 * an SMS within seconds.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "gw.h"
#include "load.h"
#include "metrics.h"
#include "paknd.h"
#include "outbox.h"
#include "phone.h"
#include "sms.h"
#include "stmt.h"
#include "util.h"

enum msg_stage {
	MSG_WAITING,   /* in its gateway's queue */
	MSG_SENDING,   /* an HTTP transfer in flight */
	MSG_FINISHED,  /* its outcome waits to be recorded with others */
	MSG_RECORDING, /* its outcome on the way to the database */
};

/* Outcomes recorded in one statement at most. */
#define RECORD_MAX 256

/* One claimed message. */
struct msg {
	TAILQ_ENTRY(msg) entry;
	struct outbox *o; /* NULL once outbox_free left it to its callback */
	enum msg_stage stage;
	long long id;
	char *created_at; /* as claimed: names its month's partition */
	char *gateway;
	char *msisdn;
	char *body; /* as queued */
	int attempts;
	int reply;      /* answers a message just received: goes first */
	double claimed; /* monotonic seconds: the lease started about then */
	enum gw_type type;
	char *text; /* as sent: folded to GSM-7, or body for UCS-2 */
	int ucs2;
	int segments;
	struct sms_out out;
	struct gw_call call;
	CURL *easy;
	struct curl_slist *headers;
	struct buf answer;
	char errbuf[CURL_ERROR_SIZE];
	int outcome;
	int quiet; /* its gateway sends nothing (no send_url): not a fault */
	char *ref;
	char *error;
	int refused; /* never sent: the number is ours or impossible */
};
TAILQ_HEAD(msgs, msg);

/* A request for grants in flight (NULL b: the bucket was freed). */
struct rate_ask {
	struct bucket *b;
};

/* A gateway's queue, token bucket and grants of the shared rate. */
struct bucket {
	TAILQ_ENTRY(bucket) entry;
	struct outbox *o;
	char *name;
	double tokens;
	double last;          /* monotonic seconds of the last refill */
	long granted;         /* sends the database granted this second */
	double lapses;        /* monotonic seconds when they lapse */
	struct rate_ask *ask; /* grants asked for, or NULL */
	struct msgs waiting;
	long nwaiting;
	struct event *timer;
};

/* A socket libcurl asked us to watch. */
struct sock {
	LIST_ENTRY(sock) entry;
	struct event *ev;
};

/* A claim in flight (NULL o: outbox_free ran before its answer). */
struct claim {
	struct outbox *o;
	long limit;
};

/* Most transfer handles kept for the next sends. */
#define OUTBOX_SPARE 128

struct outbox {
	struct paknd *d;
	CURLM *multi;
	struct event *poll;
	struct event *kick;
	struct event *curl_timer;
	TAILQ_HEAD(, bucket) buckets;
	LIST_HEAD(, sock) socks;
	struct msgs sending;
	struct msgs finished; /* outcomes not yet sent to the database */
	long nfinished;
	struct event *flush; /* records them at the end of the loop's turn */
	struct msgs recording;
	int nrecords; /* statements of outcomes in flight */
	long held;    /* messages claimed and not yet recorded */
	struct claim *claim;
	int backlog;  /* the last claim was full: more may be due */
	int again;    /* kicked while a claim was in flight */
	int yielding; /* sending at [outbox] backlog_rate: processing first */
	int stopped;
	struct mcounter sends; /* outcomes by gateway and result */
	/* Transfer handles kept for the next sends (made and freed for each
	 * send, they were 3 % of paknd's time in a drain). */
	CURL *spare[OUTBOX_SPARE];
	int nspare;
};

static void bucket_run(struct bucket *b);
static void msg_log_outcome(const struct msg *m, const char *state,
                            const char *why);
static void bucket_timer_cb(evutil_socket_t fd, short what, void *arg);

/* Turn seconds into a timeval. */
static struct timeval
tv_of(double seconds)
{
	struct timeval tv;

	if (seconds < 0)
		seconds = 0;
	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	return tv;
}

/* A transfer handle: a spare one, or a new one (NULL if none). */
static CURL *
easy_get(struct outbox *o)
{
	return o->nspare > 0 ? o->spare[--o->nspare] : curl_easy_init();
}

/* Keep a finished transfer's handle for the next send, its options reset
 * (its connection stays with the multi handle either way). */
static void
easy_put(struct outbox *o, CURL *e)
{
	if (o->nspare < OUTBOX_SPARE) {
		curl_easy_reset(e);
		o->spare[o->nspare++] = e;
	} else
		curl_easy_cleanup(e);
}

/* Free a message and everything it holds. */
static void
msg_free(struct msg *m)
{
	if (m->o != NULL)
		m->o->held--;
	if (m->easy != NULL)
		curl_easy_cleanup(m->easy);
	curl_slist_free_all(m->headers);
	gw_call_clear(&m->call);
	buf_clear(&m->answer);
	free(m->created_at);
	free(m->gateway);
	free(m->msisdn);
	free(m->body);
	free(m->text);
	free(m->ref);
	free(m->error);
	free(m);
}

/* Find or make the queue of a gateway. */
static struct bucket *
bucket_get(struct outbox *o, const char *name)
{
	const struct gw_conf *gw = config_gateway(o->d->conf, name);
	struct bucket *b;

	TAILQ_FOREACH(b, &o->buckets, entry)
	{
		if (strcmp(b->name, name) == 0)
			return b;
	}
	b = xcalloc(1, sizeof *b);
	b->o = o;
	b->name = xstrdup(name);
	b->tokens = gw != NULL ? (double)gw->rate : 1;
	b->last = mono_now();
	TAILQ_INIT(&b->waiting);
	b->timer = evtimer_new(o->d->base, bucket_timer_cb, b);
	if (b->timer == NULL)
		fatalx("evtimer_new");
	TAILQ_INSERT_TAIL(&o->buckets, b, entry);
	return b;
}

/* Replace every configured secret in s by stars. */
static void
scrub(char *s, const struct gw_conf *gw)
{
	const char *secrets[4];
	size_t i, n;
	char *p;

	if (s == NULL || gw == NULL)
		return;
	secrets[0] = gw->password;
	secrets[1] = gw->api_key;
	secrets[2] = gw->token;
	secrets[3] = gw->auth_token;
	for (i = 0; i < 4; i++) {
		if (secrets[i] == NULL || (n = strlen(secrets[i])) < 3)
			continue;
		while ((p = strstr(s, secrets[i])) != NULL)
			memset(p, '*', n);
	}
}

/* Replace every copy of what (if long enough to mean something) in s
 * by with, which is no longer. */
static void
msg_blank(char *s, const char *what, const char *with)
{
	size_t n = what != NULL ? strlen(what) : 0, w = strlen(with);
	char *p;

	if (n < 6 || w > n)
		return;
	while ((p = strstr(s, what)) != NULL) {
		memcpy(p, with, w);
		memmove(p + w, p + n, strlen(p + n) + 1);
	}
}

/* A gateway's error as the log shows it: the number (E.164 or without
 * its '+') by its pseudonym and the text by "(text)", since gateways
 * may echo them. */
static char *
msg_log_error(const struct msg *m)
{
	char *s = xstrdup(m->error != NULL ? m->error : "unknown error");
	char ps[LOG_PSEUDONYM_MAX];

	log_pseudonym(m->msisdn, ps);
	msg_blank(s, m->body, "(text)");
	msg_blank(s, m->text, "(text)");
	msg_blank(s, m->msisdn, ps);
	if (m->msisdn[0] == '+')
		msg_blank(s, m->msisdn + 1, ps);
	return s;
}

/* The rate of m's outcome lines: its daemon's (sent or not), or every
 * one once outbox_free left m to its callback. */
static struct log_limit *
msg_rate(const struct msg *m, int unsent)
{
	static struct log_limit alone[2] = {{.what = "outbox"},
	                                    {.what = "outbox", .warn = 1}};

	if (m->o == NULL)
		return &alone[unsent];
	return unsent ? &m->o->d->log_unsent : &m->o->d->log_sent;
}

/* Log what became of a message once its outcome is recorded. */
static void
msg_log(const struct msg *m, const char *state)
{
	char *why = msg_log_error(m), ps[LOG_PSEUDONYM_MAX];

	if (m->refused)
		log_limited(msg_rate(m, 0), 0,
		            "outbox %lld: not sent to %s: %s; %s", m->id,
		            log_pseudonym(m->msisdn, ps), why, state);
	else
		msg_log_outcome(m, state, why);
	free(why);
}

/* Log the outcome of a message that went to its gateway. */
static void
msg_log_outcome(const struct msg *m, const char *state, const char *why)
{
	if (m->outcome == GW_SENT) {
		log_limited(
		    msg_rate(m, 0), 0,
		    "outbox %lld: sent via %s, %d segment%s (%s)%s%s%s%s",
		    m->id, m->gateway, m->segments, m->segments == 1 ? "" : "s",
		    m->ucs2 ? "ucs2" : "gsm7", m->ref != NULL ? ", ref " : "",
		    m->ref ? m->ref : "",
		    strcmp(state, "sent") != 0 ? ", now " : "",
		    strcmp(state, "sent") != 0 ? state : "");
		if (m->error != NULL)
			log_limited(msg_rate(m, 1), 0, "outbox %lld: %s: %s",
			            m->id, m->gateway, why);
	} else if (strcmp(state, "queued") == 0 && m->quiet)
		log_limited(msg_rate(m, 0), 0,
		            "outbox %lld: waits for %s (attempt %d): %s", m->id,
		            m->gateway, m->attempts, why);
	else if (strcmp(state, "queued") == 0)
		log_limited(msg_rate(m, 1), 0,
		            "outbox %lld: not sent via %s (attempt %d): %s; "
		            "will retry",
		            m->id, m->gateway, m->attempts, why);
	else
		log_limited(msg_rate(m, 1), 0,
		            "outbox %lld: not sent via %s (attempt %d): %s; %s",
		            m->id, m->gateway, m->attempts, why,
		            strcmp(state, "failed") == 0 ? "failed" : state);
}

/* Say that m's outcome could not be recorded (why). */
static void
msg_unrecorded(const struct msg *m, const char *why)
{
	log_warnx("outbox %lld: outcome not recorded (%s): %s; it is sent "
	          "again when its lease runs out",
	          m->id, m->outcome == GW_SENT ? "sent" : "not sent", why);
}

/* Outcomes on the way to the database. */
struct record {
	int n;
	struct msg *m[RECORD_MAX];
};

static void record_submit(struct outbox *o, struct record *r);
static void record_flush(struct outbox *o);

/* The outcomes were recorded (or not): log each, free the messages. */
static void
record_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct record *r = arg, *one;
	struct outbox *o = NULL, *owner = r->m[0]->o;
	const char **state;
	int i, k;

	if (owner != NULL)
		owner->nrecords--;
	/* One outcome the database refuses must not keep the others from
	 * being recorded (they would be sent again): each alone, then. */
	if (st == DB_ERROR && r->n > 1 && owner != NULL) {
		log_warnx("outbox: %d outcomes not recorded together (%s); "
		          "recording each alone",
		          r->n, error);
		for (i = 0; i < r->n; i++) {
			one = xcalloc(1, sizeof *one);
			one->m[one->n++] = r->m[i];
			record_submit(owner, one);
		}
		free(r);
		return;
	}
	state = xcalloc((size_t)r->n, sizeof *state);
	for (i = 0; st == DB_OK && i < PQntuples(res); i++) {
		k = atoi(PQgetvalue(res, i, 0));
		if (k >= 1 && k <= r->n)
			state[k - 1] = PQgetvalue(res, i, 1);
	}
	for (i = 0; i < r->n; i++) {
		struct msg *m = r->m[i];

		if (m->o != NULL) {
			o = m->o;
			TAILQ_REMOVE(&o->recording, m, entry);
		}
		if (st == DB_OK)
			msg_log(m, state[i] != NULL ? state[i] : "missing");
		else
			msg_unrecorded(m, error);
		msg_free(m);
	}
	free(state);
	free(r);
	/* The outcomes that finished meanwhile, together. */
	if (owner != NULL && owner->nfinished > 0)
		record_flush(owner);
	if (o != NULL && o->backlog)
		event_active(o->kick, EV_TIMEOUT, 0);
}

/* Name an outcome as pakn.outbox_results takes it. */
static const char *
outcome_name(int outcome)
{
	switch (outcome) {
	case GW_SENT:
		return "sent";
	case GW_RETRY:
		return "retry";
	}
	return "failed";
}

/* A JSON string of s, or null; text that is not UTF-8 (never expected:
 * gateways' answers are kept printable) as alt. */
static json_t *
record_str(const char *s, const char *alt)
{
	json_t *v;

	if (s == NULL)
		return json_null();
	if ((v = json_string(s)) == NULL)
		v = alt != NULL ? json_string(alt) : json_null();
	return v;
}

/* A message's outcome as pakn.outbox_results takes it. */
static json_t *
record_json(const struct msg *m)
{
	json_t *j = json_object();

	json_object_set_new(j, "id", json_integer(m->id));
	json_object_set_new(j, "created_at", record_str(m->created_at, NULL));
	json_object_set_new(j, "outcome",
	                    json_string(outcome_name(m->outcome)));
	json_object_set_new(j, "ref", record_str(m->ref, NULL));
	json_object_set_new(j, "error",
	                    record_str(m->error, "(error not UTF-8)"));
	json_object_set_new(j, "segments",
	                    m->segments > 0 ? json_integer(m->segments)
	                                    : json_null());
	json_object_set_new(j, "encoding",
	                    m->text != NULL
	                        ? json_string(m->ucs2 ? "ucs2" : "gsm7")
	                        : json_null());
	return j;
}

/* Submit the outcomes of r (its messages on o's recording list); if
 * that cannot be done, log and free them (their lease brings them back). */
static void
record_submit(struct outbox *o, struct record *r)
{
	const struct config *c = o->d->conf;
	char max[16], base[16], *json, *cause = NULL;
	const char *values[3];
	json_t *arr = json_array();
	struct msg *m;
	int i;

	for (i = 0; i < r->n; i++)
		json_array_append_new(arr, record_json(r->m[i]));
	if ((json = json_dumps(arr, JSON_COMPACT)) == NULL)
		fatalx("json_dumps: out of memory");
	json_decref(arr);
	snprintf(max, sizeof max, "%ld", c->outbox_max_attempts);
	snprintf(base, sizeof base, "%ld", c->outbox_retry_base);
	values[0] = json;
	values[1] = max;
	values[2] = base;
	if (db_submit(o->d->db, STMT_OUTBOX_RESULTS, 3, values, NULL, NULL,
	              record_done, r, &cause) == 0) {
		o->nrecords++;
		free(json);
		return;
	}
	free(json);
	for (i = 0; i < r->n; i++) {
		m = r->m[i];
		TAILQ_REMOVE(&o->recording, m, entry);
		msg_unrecorded(m, cause);
		msg_free(m);
	}
	free(cause);
	free(r);
}

/* Send the finished outcomes to the database, RECORD_MAX a statement,
 * while no other statement of outcomes is in flight (or RECORD_MAX wait):
 * those that finish meanwhile go together when it is done. A statement
 * costs about 0.4 ms and 17 us an outcome: recorded 40 at a time, as
 * each turn of the loop found them in a drain, an outcome cost 23 us. */
static void
record_flush(struct outbox *o)
{
	struct record *r;
	struct msg *m;

	if (o->nrecords > 0 && o->nfinished < RECORD_MAX)
		return;
	while (!TAILQ_EMPTY(&o->finished)) {
		r = xcalloc(1, sizeof *r);
		while (r->n < RECORD_MAX &&
		       (m = TAILQ_FIRST(&o->finished)) != NULL) {
			TAILQ_REMOVE(&o->finished, m, entry);
			o->nfinished--;
			m->stage = MSG_RECORDING;
			TAILQ_INSERT_TAIL(&o->recording, m, entry);
			r->m[r->n++] = m;
		}
		record_submit(o, r);
	}
}

static void
record_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	record_flush(arg);
}

/* Record the outcome of a message (with the others that finish in this
 * turn of the loop); it is freed once that is done. */
static void
msg_finish(struct outbox *o, struct msg *m, int outcome, char *ref, char *error)
{
	m->outcome = outcome;
	m->ref = ref;
	m->error = error;
	mcounter_add(&o->sends, 1, m->gateway,
	             m->refused ? "refused" : outcome_name(outcome));
	gw_call_clear(&m->call);
	m->stage = MSG_FINISHED;
	TAILQ_INSERT_TAIL(&o->finished, m, entry);
	if (++o->nfinished >= RECORD_MAX)
		record_flush(o);
	else if (!event_pending(o->flush, EV_TIMEOUT, NULL))
		event_active(o->flush, EV_TIMEOUT, 0);
}

/* Choose the text and encoding: UCS-2 only if the gateway keeps
 * diacritics and the text needs it, else GSM-7 (folded). */
static void
msg_encode(struct msg *m, const struct gw_conf *gw)
{
	free(m->text);
	if (gw->diacritics && !sms_is_gsm7(m->body)) {
		m->text = xstrdup(m->body);
		m->ucs2 = 1;
	} else {
		m->text = sms_to_gsm7(m->body);
		m->ucs2 = 0;
	}
	m->segments = sms_segments(m->text);
	m->out.id = m->id;
	m->out.msisdn = m->msisdn;
	m->out.text = m->text;
	m->out.ucs2 = m->ucs2;
}

/* Keep (a bounded part of) the answer's body. */
static size_t
transfer_write(char *data, size_t size, size_t n, void *arg)
{
	struct msg *m = arg;
	size_t len = size * n, room = GW_ANSWER_MAX - m->answer.len;

	if (m->answer.len < GW_ANSWER_MAX)
		buf_add(&m->answer, data, len < room ? len : room);
	return len;
}

/* Set the options of a transfer from the call the adapter built. */
static int
transfer_setup(struct outbox *o, struct msg *m)
{
	CURL *e = m->easy;
	struct gw_call *call = &m->call;
	char *ct;
	size_t i;

	m->headers = curl_slist_append(m->headers, "Expect:");
	if (call->content_type != NULL) {
		ct = xasprintf("Content-Type: %s", call->content_type);
		m->headers = curl_slist_append(m->headers, ct);
		free(ct);
	}
	for (i = 0; i < call->nheaders; i++)
		m->headers = curl_slist_append(m->headers, call->headers[i]);
	if (m->headers == NULL)
		return -1;
	curl_easy_setopt(e, CURLOPT_URL, call->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, m);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, m->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, o->d->conf->outbox_send_timeout);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS,
	                 (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(e, CURLOPT_USERAGENT, "paknd/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, transfer_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, m);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, m->headers);
	if (call->method == GW_POST) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE,
		                 (long)call->body_len);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, call->body);
	}
	if (call->user != NULL) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, call->user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, call->password);
	}
	return 0;
}

/* Send a message through its gateway now. */
static void
msg_send(struct outbox *o, struct msg *m, const struct gw_conf *gw)
{
	char *cause = NULL;

	m->type = gw->type;
	m->quiet = !gw_has(gw->send_url);
	msg_encode(m, gw);
	if (gw_ops(gw->type)->build_send(gw, &m->out, &m->call, &cause) != 0) {
		msg_finish(o, m, GW_RETRY, NULL, cause);
		return;
	}
	if ((m->easy = easy_get(o)) == NULL || transfer_setup(o, m) != 0 ||
	    curl_multi_add_handle(o->multi, m->easy) != CURLM_OK) {
		msg_finish(o, m, GW_RETRY, NULL,
		           xstrdup("cannot start an HTTP transfer"));
		return;
	}
	m->stage = MSG_SENDING;
	TAILQ_INSERT_TAIL(&o->sending, m, entry);
	log_debug("outbox %lld: sending via %s (attempt %d, %d segment%s, %s)",
	          m->id, m->gateway, m->attempts, m->segments,
	          m->segments == 1 ? "" : "s", m->ucs2 ? "ucs2" : "gsm7");
}

/* Give back every waiting message of a gateway that is gone. */
static void
bucket_orphan(struct bucket *b)
{
	struct msg *m;

	while ((m = TAILQ_FIRST(&b->waiting)) != NULL) {
		TAILQ_REMOVE(&b->waiting, m, entry);
		b->nwaiting--;
		msg_finish(b->o, m, GW_RETRY, NULL,
		           xasprintf("no gateway %s configured", b->name));
	}
}

/* Has a waiting message held its lease so long that another sender may
 * claim it before this one's send ends? Then it is left to that one. */
static int
msg_expired(struct outbox *o, struct msg *m, double now)
{
	const struct config *c = o->d->conf;
	double limit = (double)(c->outbox_lease - c->outbox_send_timeout) - 1;

	if (limit < (double)c->outbox_lease / 2)
		limit = (double)c->outbox_lease / 2;
	if (now - m->claimed < limit)
		return 0;
	log_warnx("outbox %lld: its lease ran out while it waited for the "
	          "rate of %s; it is sent after the next claim",
	          m->id, m->gateway);
	msg_free(m);
	return 1;
}

/* Come back to the bucket in seconds. */
static void
bucket_later(struct bucket *b, double seconds)
{
	struct timeval tv = tv_of(seconds);

	evtimer_add(b->timer, &tv);
}

/* The database's grants arrived (or not: ask again in a second). */
static void
rate_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct rate_ask *a = arg;
	struct bucket *b = a->b;
	long ms;

	free(a);
	if (b == NULL)
		return;
	b->ask = NULL;
	if (st != DB_OK || PQntuples(res) != 1) {
		log_debug("outbox: %s: no grant of its rate: %s", b->name,
		          st != DB_OK ? error : "no row");
		bucket_later(b, 1);
		return;
	}
	b->granted = atol(PQgetvalue(res, 0, 0));
	ms = atol(PQgetvalue(res, 0, 1));
	b->lapses = mono_now() + (double)ms / 1000;
	if (b->granted == 0) /* the second's rate is used up */
		bucket_later(b, (double)(ms + 1) / 1000);
	else
		bucket_run(b);
}

/* Ask the database for up to want sends in the current second. */
static void
rate_ask(struct bucket *b, long rate, long want)
{
	char r[24], w[24];
	const char *values[3] = {b->name, r, w};
	char *cause = NULL;

	snprintf(r, sizeof r, "%ld", rate);
	snprintf(w, sizeof w, "%ld", want);
	b->ask = xcalloc(1, sizeof *b->ask);
	b->ask->b = b;
	if (db_submit(b->o->d->db, STMT_RATE_TAKE, 3, values, NULL, NULL,
	              rate_done, b->ask, &cause) == 0)
		return;
	log_debug("outbox: %s: cannot ask for its rate: %s", b->name, cause);
	free(cause);
	free(b->ask);
	b->ask = NULL;
	bucket_later(b, 1);
}

/* The processing worker says whether stored messages wait for it (its
 * last claim came back full): with [outbox] backlog_rate set, the
 * gateways yield to it meanwhile (logged when that starts and ends). */
void
outbox_processing_backlog(struct outbox *o, int waiting)
{
	long cap;
	int yield;

	if (o == NULL)
		return;
	cap = o->d->conf->outbox_backlog_rate;
	yield = cap > 0 && waiting;
	if (yield == o->yielding)
		return;
	o->yielding = yield;
	if (yield)
		log_info("outbox: stored messages wait for processing: each "
		         "gateway sends at most %ld a second ([outbox] "
		         "backlog_rate)",
		         cap);
	else
		log_info("outbox: processing has caught up: each gateway sends "
		         "at its own rate again");
}

/* The rate gw sends at now: its own; at most [outbox] burst_rate while
 * intake is under a surge (load_surge) and [outbox] backlog_rate while the
 * outbox yields to processing. */
static long
outbox_rate(const struct outbox *o, const struct gw_conf *gw)
{
	long cap = o->d->conf->outbox_backlog_rate, rate = gw->rate;

	if (o->yielding && cap > 0 && cap < rate)
		rate = cap;
	cap = o->d->conf->outbox_burst_rate;
	if (cap > 0 && cap < rate && load_surge(o->d))
		rate = cap;
	return rate;
}

/* Send what the gateway's rate allows; come back for the rest. */
static void
bucket_run(struct bucket *b)
{
	const struct gw_conf *gw = config_gateway(b->o->d->conf, b->name);
	double now = mono_now(), rate;
	struct msg *m;
	int quiet;

	if (gw == NULL) {
		bucket_orphan(b);
		return;
	}
	rate = (double)outbox_rate(b->o, gw);
	b->tokens += (now - b->last) * rate;
	if (b->tokens > rate)
		b->tokens = rate;
	b->last = now;
	if (now >= b->lapses)
		b->granted = 0;
	/* A gateway that sends nothing (no send_url) needs no grant. */
	quiet = !gw_has(gw->send_url);
	while (b->tokens >= 1 && (b->granted > 0 || quiet) &&
	       (m = TAILQ_FIRST(&b->waiting)) != NULL) {
		TAILQ_REMOVE(&b->waiting, m, entry);
		b->nwaiting--;
		if (msg_expired(b->o, m, now))
			continue;
		b->tokens -= 1;
		b->granted -= !quiet;
		msg_send(b->o, m, gw);
	}
	if (TAILQ_EMPTY(&b->waiting) || b->ask != NULL)
		return;
	if (b->tokens < 1 || quiet)
		bucket_later(b, (1 - b->tokens) / rate);
	else /* as many as the bucket can send now */
		rate_ask(b, (long)rate,
		         b->nwaiting < (long)b->tokens ? b->nwaiting
		                                       : (long)b->tokens);
}

/* The bucket's timer: its next message may go. */
static void
bucket_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	bucket_run(arg);
}

/* Order messages as the claim does: replies first, then by id (the
 * order they were queued in). */
static int
msg_cmp(const void *a, const void *b)
{
	const struct msg *x = *(struct msg *const *)a;
	const struct msg *y = *(struct msg *const *)b;

	if (x->reply != y->reply)
		return y->reply - x->reply;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* The first message waiting in b's queue that is not a reply, or NULL. */
static struct msg *
bucket_first_other(struct bucket *b)
{
	struct msg *w;

	TAILQ_FOREACH(w, &b->waiting, entry)
	{
		if (!w->reply)
			return w;
	}
	return NULL;
}

/* Make a message of one claimed row. */
static struct msg *
msg_take(struct outbox *o, PGresult *res, int row)
{
	struct msg *m = xcalloc(1, sizeof *m);

	m->o = o;
	m->id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
	m->gateway = xstrdup(PQgetvalue(res, row, 1));
	m->msisdn = xstrdup(PQgetvalue(res, row, 2));
	m->body = xstrdup(PQgetvalue(res, row, 3));
	m->attempts = atoi(PQgetvalue(res, row, 4));
	m->created_at = xstrdup(PQgetvalue(res, row, 5));
	m->reply = !strcmp(PQgetvalue(res, row, 6), "t");
	m->claimed = mono_now();
	m->stage = MSG_WAITING;
	o->held++;
	return m;
}

/* Refuse a message to one of our own numbers (a loop) or to a number no
 * subscriber can have: it fails at once, never reaching a gateway.
 * Returns 1 if it was refused. */
static int
msg_refuse(struct outbox *o, struct msg *m)
{
	const char *flag = config_own_number(o->d->conf, m->msisdn)
	                       ? "own_number"
	                       : phone_plan(m->msisdn);

	if (flag == NULL)
		return 0;
	m->refused = 1;
	msg_finish(o, m, GW_FAILED, NULL,
	           xasprintf("refused: %s (%s)", flag, phone_flag_text(flag)));
	return 1;
}

/* Queue the claimed rows in their gateways' queues, oldest first. */
static void
claim_queue(struct outbox *o, PGresult *res, int n)
{
	struct msg **ms = xreallocarray(NULL, (size_t)n, sizeof *ms);
	struct bucket *b;
	int i;

	for (i = 0; i < n; i++)
		ms[i] = msg_take(o, res, i);
	qsort(ms, (size_t)n, sizeof *ms, msg_cmp);
	for (i = 0; i < n; i++) {
		struct msg *w;

		if (msg_refuse(o, ms[i]))
			continue;
		b = bucket_get(o, ms[i]->gateway);
		/* A reply goes before the other messages waiting for the rate,
		 * after the replies already there. */
		w = ms[i]->reply ? bucket_first_other(b) : NULL;
		if (w != NULL)
			TAILQ_INSERT_BEFORE(w, ms[i], entry);
		else
			TAILQ_INSERT_TAIL(&b->waiting, ms[i], entry);
		b->nwaiting++;
	}
	free(ms);
}

/* The claim's answer: queue the rows, send what the rates allow. */
static void
claim_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct claim *c = arg;
	struct outbox *o = c->o;
	struct bucket *b;
	int n;

	if (o == NULL) {
		free(c);
		return;
	}
	o->claim = NULL;
	if (st != DB_OK) {
		log_warnx("outbox: claim failed: %s", error);
		free(c);
		return;
	}
	n = PQntuples(res);
	claim_queue(o, res, n);
	o->backlog = n == c->limit;
	free(c);
	if (n > 0)
		log_debug("outbox: claimed %d message%s", n, n == 1 ? "" : "s");
	TAILQ_FOREACH(b, &o->buckets, entry)
	{
		bucket_run(b);
	}
	if (o->backlog || o->again)
		event_active(o->kick, EV_TIMEOUT, 0);
}

/* Is a gateway's queue longer than its rate sends in half a lease? */
static int
outbox_backlogged(const struct outbox *o)
{
	const struct config *c = o->d->conf;
	const struct gw_conf *gw;
	struct bucket *b;

	TAILQ_FOREACH(b, &o->buckets, entry)
	{
		gw = config_gateway(c, b->name);
		if (gw != NULL &&
		    b->nwaiting > outbox_rate(o, gw) * c->outbox_lease / 2)
			return 1;
	}
	return 0;
}

/* Claim due messages unless a claim is in flight or no room is left. */
static void
outbox_claim(struct outbox *o)
{
	const struct config *conf = o->d->conf;
	long n = conf->outbox_max_inflight - o->held;
	char limit[24], lease[24];
	const char *values[2] = {limit, lease};
	char *cause = NULL;

	if (o->stopped || o->claim != NULL || outbox_backlogged(o))
		return;
	if (n > conf->outbox_batch)
		n = conf->outbox_batch;
	if (n <= 0)
		return;
	snprintf(limit, sizeof limit, "%ld", n);
	snprintf(lease, sizeof lease, "%ld", conf->outbox_lease);
	o->claim = xcalloc(1, sizeof *o->claim);
	o->claim->o = o;
	o->claim->limit = n;
	o->again = 0;
	if (db_submit(o->d->db, STMT_OUTBOX_CLAIM, 2, values, NULL, NULL,
	              claim_done, o->claim, &cause) == 0)
		return;
	/* The pool logs why the database is unavailable. */
	log_debug("outbox: cannot claim: %s", cause);
	free(cause);
	free(o->claim);
	o->claim = NULL;
}

/* Poll timer and kick: look for due messages. */
static void
outbox_claim_cb(evutil_socket_t fd, short what, void *arg)
{
	outbox_claim(arg);
}

/* Judge a finished transfer and record its outcome. */
static void
transfer_done(struct outbox *o, struct msg *m, CURLcode rc)
{
	const struct gw_conf *gw = config_gateway(o->d->conf, m->gateway);
	struct gw_conf gone = {.name = m->gateway, .type = m->type};
	char *ref = NULL, *cause = NULL;
	long status = 0;
	int outcome;

	TAILQ_REMOVE(&o->sending, m, entry);
	curl_easy_getinfo(m->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_multi_remove_handle(o->multi, m->easy);
	easy_put(o, m->easy);
	m->easy = NULL;
	if (rc != CURLE_OK) {
		outcome = GW_RETRY;
		cause = xasprintf("%s", m->errbuf[0] != '\0'
		                            ? m->errbuf
		                            : curl_easy_strerror(rc));
	} else
		outcome = gw_ops(m->type)->send_result(
		    gw != NULL ? gw : &gone, &m->out, status,
		    m->answer.data != NULL ? m->answer.data : "", m->answer.len,
		    &ref, &cause);
	scrub(cause, gw);
	msg_finish(o, m, outcome, ref, cause);
}

/* Handle the transfers libcurl has finished. */
static void
transfers_check(struct outbox *o)
{
	struct msg *m = NULL;
	CURLMsg *cm;
	int left;

	while ((cm = curl_multi_info_read(o->multi, &left)) != NULL) {
		if (cm->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(cm->easy_handle, CURLINFO_PRIVATE, &m);
		transfer_done(o, m, cm->data.result);
	}
}

/* A watched socket is ready: let libcurl work on it. */
static void
curl_event_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outbox *o = arg;
	int flags = 0, running = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(o->multi, fd, flags, &running);
	transfers_check(o);
	if (running == 0)
		evtimer_del(o->curl_timer);
}

/* libcurl's timeout expired. */
static void
curl_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct outbox *o = arg;
	int running = 0;

	curl_multi_socket_action(o->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	transfers_check(o);
}

/* libcurl wants its timeout set (it must not be acted on in here). */
static int
curl_timer_fn(CURLM *multi, long timeout_ms, void *arg)
{
	struct outbox *o = arg;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(o->curl_timer);
		return 0;
	}
	tv = tv_of((double)timeout_ms / 1000);
	evtimer_add(o->curl_timer, &tv);
	return 0;
}

/* libcurl wants a socket watched differently, or no longer. */
static int
curl_socket_fn(CURL *e, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct outbox *o = arg;
	struct sock *s = sockp;
	short kind = EV_PERSIST;

	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			LIST_REMOVE(s, entry);
			event_free(s->ev);
			free(s);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (s == NULL) {
		s = xcalloc(1, sizeof *s);
		if ((s->ev = event_new(o->d->base, fd, kind, curl_event_cb,
		                       o)) == NULL)
			fatalx("event_new");
		LIST_INSERT_HEAD(&o->socks, s, entry);
		curl_multi_assign(o->multi, fd, s);
	} else {
		event_del(s->ev);
		event_assign(s->ev, o->d->base, fd, kind, curl_event_cb, o);
	}
	event_add(s->ev, NULL);
	return 0;
}

/* Arm the poll timer with the configured interval, and keep as many
 * idle connections to the gateways as sends may be in flight: libcurl
 * keeps four a transfer running by default, so each lull closed
 * connections that the next burst opened again (a connect for about
 * one send in ten in a drain). */
static void
outbox_arm(struct outbox *o)
{
	struct timeval tv = tv_of((double)o->d->conf->outbox_interval / 1000);

	curl_multi_setopt(o->multi, CURLMOPT_MAXCONNECTS,
	                  o->d->conf->outbox_max_inflight);
	evtimer_del(o->poll);
	if (!o->stopped)
		event_add(o->poll, &tv);
}

/* Start the sender on d's loop. */
struct outbox *
outbox_new(struct paknd *d)
{
	struct outbox *o = xcalloc(1, sizeof *o);

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	o->d = d;
	TAILQ_INIT(&o->buckets);
	LIST_INIT(&o->socks);
	TAILQ_INIT(&o->sending);
	TAILQ_INIT(&o->finished);
	TAILQ_INIT(&o->recording);
	o->sends = (struct mcounter){
	    .name = "pakn_outbox_sends_total",
	    .help = "Send attempts by gateway and result (sent, retry, failed, "
	            "refused).",
	    .nlabels = 2,
	    .labels = {"gateway", "result"}};
	if ((o->multi = curl_multi_init()) == NULL)
		fatalx("curl_multi_init failed");
	curl_multi_setopt(o->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_fn);
	curl_multi_setopt(o->multi, CURLMOPT_SOCKETDATA, o);
	curl_multi_setopt(o->multi, CURLMOPT_TIMERFUNCTION, curl_timer_fn);
	curl_multi_setopt(o->multi, CURLMOPT_TIMERDATA, o);
	o->poll = event_new(d->base, -1, EV_PERSIST, outbox_claim_cb, o);
	o->kick = event_new(d->base, -1, 0, outbox_claim_cb, o);
	o->curl_timer = evtimer_new(d->base, curl_timeout_cb, o);
	o->flush = event_new(d->base, -1, 0, record_flush_cb, o);
	if (o->poll == NULL || o->kick == NULL || o->curl_timer == NULL ||
	    o->flush == NULL)
		fatalx("event_new");
	outbox_arm(o);
	return o;
}

/* Messages were queued: look for them now. */
void
outbox_kick(struct outbox *o)
{
	if (o == NULL || o->stopped)
		return;
	if (o->claim != NULL)
		o->again = 1; /* the claim in flight may miss the new rows */
	else
		event_active(o->kick, EV_TIMEOUT, 0);
}

/* The configuration changed: new interval; rates apply at the next run. */
void
outbox_reload(struct outbox *o)
{
	struct bucket *b;

	outbox_arm(o);
	TAILQ_FOREACH(b, &o->buckets, entry)
	{
		bucket_run(b);
	}
}

/* Stop claiming; what is held is still sent and recorded. */
void
outbox_stop(struct outbox *o)
{
	o->stopped = 1;
	evtimer_del(o->poll);
	event_del(o->kick);
}

/* Messages held (waiting, sending, recording) and a claim in flight. */
long
outbox_pending(const struct outbox *o)
{
	if (o == NULL)
		return 0;
	return o->held + (o->claim != NULL);
}

/* Free the queues; messages whose outcome is being recorded are left to
 * their database callback. */
static void
outbox_free_queues(struct outbox *o)
{
	struct bucket *b;
	struct msg *m;

	while ((m = TAILQ_FIRST(&o->sending)) != NULL) {
		TAILQ_REMOVE(&o->sending, m, entry);
		curl_multi_remove_handle(o->multi, m->easy);
		msg_free(m);
	}
	while ((b = TAILQ_FIRST(&o->buckets)) != NULL) {
		TAILQ_REMOVE(&o->buckets, b, entry);
		while ((m = TAILQ_FIRST(&b->waiting)) != NULL) {
			TAILQ_REMOVE(&b->waiting, m, entry);
			msg_free(m);
		}
		event_free(b->timer);
		if (b->ask != NULL)
			b->ask->b = NULL;
		free(b->name);
		free(b);
	}
	while ((m = TAILQ_FIRST(&o->finished)) != NULL) {
		TAILQ_REMOVE(&o->finished, m, entry);
		msg_free(m);
	}
	o->nfinished = 0;
	while ((m = TAILQ_FIRST(&o->recording)) != NULL) {
		TAILQ_REMOVE(&o->recording, m, entry);
		m->o = NULL;
	}
	if (o->claim != NULL)
		o->claim->o = NULL;
}

/* Abort transfers and free; leases bring back what was not recorded. */
void
outbox_free(struct outbox *o)
{
	struct sock *s;

	if (o == NULL)
		return;
	if (o->held > 0)
		log_info("outbox: %ld message%s left to their lease", o->held,
		         o->held == 1 ? "" : "s");
	outbox_free_queues(o);
	while (o->nspare > 0)
		curl_easy_cleanup(o->spare[--o->nspare]);
	curl_multi_cleanup(o->multi);
	while ((s = LIST_FIRST(&o->socks)) != NULL) {
		LIST_REMOVE(s, entry);
		event_free(s->ev);
		free(s);
	}
	event_free(o->poll);
	event_free(o->kick);
	event_free(o->curl_timer);
	event_free(o->flush);
	mcounter_clear(&o->sends);
	free(o);
	curl_global_cleanup();
}

/* Append the send results and what this process holds. */
void
outbox_metrics(const struct outbox *o, struct buf *b)
{
	const struct bucket *bk;
	char lab[128];

	metrics_counter(b, &o->sends);
	metrics_head(b, "pakn_outbox_held", "gauge",
	             "Messages this process claimed and has not recorded.");
	metrics_sample(b, "pakn_outbox_held", NULL, (double)o->held);
	metrics_head(b, "pakn_outbox_yielding", "gauge",
	             "1 while the gateways send at [outbox] backlog_rate, "
	             "stored messages waiting for processing.");
	metrics_sample(b, "pakn_outbox_yielding", NULL, (double)o->yielding);
	metrics_head(b, "pakn_outbox_burst", "gauge",
	             "1 while the gateways send at most [outbox] burst_rate, "
	             "intake under a surge of callbacks.");
	metrics_sample(
	    b, "pakn_outbox_burst", NULL,
	    (double)(o->d->conf->outbox_burst_rate > 0 && load_surge(o->d)));
	metrics_head(b, "pakn_outbox_rate_waiting", "gauge",
	             "Claimed messages waiting for their gateway's rate.");
	TAILQ_FOREACH(bk, &o->buckets, entry)
	{
		struct buf v;
		buf_init(&v);
		metrics_label_value(&v, bk->name);
		snprintf(lab, sizeof lab, "gateway=\"%s\"", v.data);
		buf_clear(&v);
		metrics_sample(b, "pakn_outbox_rate_waiting", lab,
		               (double)bk->nwaiting);
	}
}
