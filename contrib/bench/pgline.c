/*
 * pgline.c: the physical line of intake (issue 12), for contrib/bench/run.
 *
 *	pgline -p PORT -d CONNINFO [-n CONNS]
 *
 * Stores each Africa's Talking-style POST (form from, to, text, id) as a
 * row of line.inbound (shaped like pakn.inbound_message), answering 200
 * after COMMIT. Requests arriving while commits are in flight queue; an
 * idle connection (of CONNS, default 2) takes the queue (up to MAXBATCH
 * rows, 1000) as one INSERT ... ON CONFLICT DO NOTHING, synchronous_commit on.
 * A repeated (gateway, id) gets 200, stored once; a form without from or
 * id 400; a batch PostgreSQL refuses 503 for each of its rows.
 */

#define _POSIX_C_SOURCE 200809L /* getopt */
#include <sys/queue.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <libpq-fe.h>

#define NCOL     7    /* gateway, id, from, to, text, raw request and body */
#define MAXBATCH 1000 /* rows x NCOL < 65 536 parameters of a statement */

/* One callback waiting for its commit. */
struct row {
	struct evhttp_request *req;
	char *val[NCOL];
	int len[NCOL];
	struct row *next;
};

/* One PostgreSQL connection and the batch it is committing. */
struct conn {
	PGconn *pg;
	struct event *rd;
	struct row *batch; /* NULL when idle */
	int failed;
};

static struct {
	struct event_base *base;
	struct conn *conns;
	int nconns;
	struct row *head, **tail;
} G = {.nconns = 2};

/* Copy a string or exit. */
static char *
dup_or_die(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p == NULL)
		abort();
	if (n > 0) /* s is NULL for an empty body */
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Method, URI and headers of a request, for raw_request. */
static char *
raw_request(struct evhttp_request *req)
{
	struct evbuffer *b = evbuffer_new();
	struct evkeyval *h;
	char *s;

	evbuffer_add_printf(b, "POST %s\n", evhttp_request_get_uri(req));
	TAILQ_FOREACH(h, evhttp_request_get_input_headers(req), next)
	{
		evbuffer_add_printf(b, "%s: %s\n", h->key, h->value);
	}
	s = dup_or_die((const char *)evbuffer_pullup(b, -1),
	               evbuffer_get_length(b));
	evbuffer_free(b);
	return s;
}

/* Send the queue's first rows (at most MAXBATCH) as one INSERT. */
static void
send_batch(struct conn *c)
{
	static const char *vals[MAXBATCH * NCOL];
	static int lens[MAXBATCH * NCOL], fmts[MAXBATCH * NCOL];
	struct evbuffer *sql = evbuffer_new();
	struct row **p = &G.head;
	int i = 0;

	evbuffer_add_printf(sql, "INSERT INTO line.inbound (gateway, "
	                         "gateway_msg_id, msisdn, shortcode, body, "
	                         "raw_request, raw_body) VALUES ");
	for (; *p != NULL && i < MAXBATCH * NCOL; p = &(*p)->next) {
		evbuffer_add_printf(sql, "%s($%d", i ? ", " : "", i + 1);
		for (int j = 1; j < NCOL; j++)
			evbuffer_add_printf(sql, ", $%d%s", i + j + 1,
			                    j == 6 ? "::bytea" : "");
		evbuffer_add(sql, ")", 1);
		for (int j = 0; j < NCOL; j++, i++) {
			vals[i] = (*p)->val[j];
			lens[i] = (*p)->len[j];
			fmts[i] = j == 6; /* raw_body: the bytes as they came */
		}
	}
	c->batch = G.head;
	G.head = *p;
	*p = NULL;
	if (G.head == NULL)
		G.tail = &G.head;
	evbuffer_add_printf(sql, " ON CONFLICT (gateway, gateway_msg_id) "
	                         "DO NOTHING");
	evbuffer_add(sql, "", 1);
	/* Sent whole (blocking); a connection that cannot send is lost. */
	if (!PQsendQueryParams(c->pg, (const char *)evbuffer_pullup(sql, -1), i,
	                       NULL, vals, lens, fmts, 0)) {
		fprintf(stderr, "pgline: %s", PQerrorMessage(c->pg));
		exit(1);
	}
	evbuffer_free(sql);
}

/* Answer and free a list of rows: 200 if they are stored, else 503. */
static void
answer(struct row *r, int stored)
{
	struct row *next;

	for (; r != NULL; r = next) {
		next = r->next;
		evhttp_send_reply(r->req, stored ? 200 : 503,
		                  stored ? "OK" : "not stored", NULL);
		for (int i = 0; i < NCOL; i++)
			free(r->val[i]);
		free(r);
	}
}

/* Give the queue to idle connections. */
static void
kick(void)
{
	for (int i = 0; i < G.nconns && G.head != NULL; i++)
		if (G.conns[i].batch == NULL)
			send_batch(&G.conns[i]);
}

/* Parse a callback into a queued row; 400 if it is not one. */
static void
on_request(struct evhttp_request *req, void *arg)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t n = evbuffer_get_length(in);
	char *body = dup_or_die((const char *)evbuffer_pullup(in, -1), n);
	const char *k[] = {"id", "from", "to", "text"};
	struct evkeyvalq q;
	struct row *r;

	TAILQ_INIT(&q);
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST ||
	    evhttp_parse_query_str(body, &q) != 0 ||
	    evhttp_find_header(&q, "id") == NULL ||
	    evhttp_find_header(&q, "from") == NULL) {
		evhttp_clear_headers(&q);
		free(body);
		evhttp_send_reply(req, 400, "need from and id", NULL);
		return;
	}
	if ((r = calloc(1, sizeof *r)) == NULL)
		abort();
	r->req = req;
	r->val[0] = dup_or_die("at", 2);
	for (int i = 0; i < 4; i++) {
		const char *v = evhttp_find_header(&q, k[i]);
		r->val[i + 1] = dup_or_die(v ? v : "", v ? strlen(v) : 0);
	}
	r->val[5] = raw_request(req);
	r->val[6] = body;
	for (int i = 0; i < NCOL; i++)
		r->len[i] = i == 6 ? (int)n : (int)strlen(r->val[i]);
	evhttp_clear_headers(&q);
	*G.tail = r;
	G.tail = &r->next;
	kick();
}

/* Read results; at the end of one, answer its batch. */
static void
on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	PGresult *res;

	if (!PQconsumeInput(c->pg)) {
		fprintf(stderr, "pgline: %s", PQerrorMessage(c->pg));
		exit(1);
	}
	while (c->batch != NULL && !PQisBusy(c->pg)) {
		if ((res = PQgetResult(c->pg)) == NULL) {
			answer(c->batch, !c->failed);
			c->batch = NULL;
			c->failed = 0;
			kick();
			break;
		}
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			fputs(PQresultErrorMessage(res), stderr);
			c->failed = 1;
		}
		PQclear(res);
	}
}

/* Connect every connection, synchronous_commit on. */
static void
connect_all(const char *conninfo)
{
	if ((G.conns = calloc((size_t)G.nconns, sizeof *G.conns)) == NULL)
		abort();
	for (int i = 0; i < G.nconns; i++) {
		struct conn *c = &G.conns[i];

		c->pg = PQconnectdb(conninfo);
		if (PQstatus(c->pg) != CONNECTION_OK) {
			fprintf(stderr, "pgline: %s", PQerrorMessage(c->pg));
			exit(1);
		}
		PQclear(PQexec(c->pg, "SET synchronous_commit = on"));
		c->rd = event_new(G.base, PQsocket(c->pg), EV_READ | EV_PERSIST,
		                  on_readable, c);
		event_add(c->rd, NULL);
	}
}

/* Stop the loop on SIGTERM or SIGINT. */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(G.base);
}

int
main(int argc, char **argv)
{
	const char *conninfo = NULL;
	struct event *term, *intr;
	struct evhttp *http;
	int ch, port = 0;

	while ((ch = getopt(argc, argv, "p:d:n:")) != -1) {
		if (ch == 'p')
			port = atoi(optarg);
		else if (ch == 'd')
			conninfo = optarg;
		else if (ch == 'n')
			G.nconns = atoi(optarg);
		else
			port = -1;
	}
	if (port <= 0 || port > 65535 || conninfo == NULL || optind != argc ||
	    G.nconns < 1 || G.nconns > 64) {
		fprintf(stderr,
		        "usage: pgline -p port -d conninfo [-n conns]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	G.tail = &G.head;
	if ((G.base = event_base_new()) == NULL ||
	    (http = evhttp_new(G.base)) == NULL)
		return 1;
	connect_all(conninfo);
	evhttp_set_gencb(http, on_request, NULL);
	if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)port) != 0) {
		fprintf(stderr, "pgline: cannot listen on port %d\n", port);
		return 1;
	}
	term = evsignal_new(G.base, SIGTERM, on_signal, NULL);
	intr = evsignal_new(G.base, SIGINT, on_signal, NULL);
	evsignal_add(term, NULL);
	evsignal_add(intr, NULL);
	event_base_dispatch(G.base);
	answer(G.head, 0); /* what was not committed yet */
	for (int i = 0; i < G.nconns; i++) {
		answer(G.conns[i].batch, 0);
		event_free(G.conns[i].rd);
		PQfinish(G.conns[i].pg);
	}
	free(G.conns);
	event_free(term);
	event_free(intr);
	evhttp_free(http);
	event_base_free(G.base);
	return 0;
}
