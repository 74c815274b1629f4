/*
 * fakegw.c: a fake SMS gateway for the integration tests (libevent only).
 *
 *	fakegw -p PORT -m kannel|twilio|at -o FILE [-f N] [-s STATUS]
 *	       [-b BODY] [-d MS]
 *
 * Listens on 127.0.0.1:PORT and answers every request the way the real
 * send API does: Kannel 202 "0: Accepted for delivery"; Twilio 201
 * {"sid":"SM<n>","status":"queued"}; Africa's Talking 201 with
 * SMSMessageData.Recipients[0] status "Success", messageId "ATXid_<n>".
 * -f N answers 503 to the first N requests; -s STATUS answers STATUS to
 * every other one (with an error body in the gateway's style); -b BODY
 * replaces the body of those answers; -d MS answers each request MS
 * milliseconds after it came (sends in flight at once, as with a real
 * gateway across a network; the sender must not give up before).
 *
 * Every request appends one line to FILE (flushed), fields separated by
 * tabs: the Unix time with milliseconds, the method, the path, then every
 * query and form parameter as name=value (decoded), then the headers
 * Authorization, apiKey, Accept and Content-Type as name=value when
 * present, and the client's port as peer=PORT (one a connection: the
 * number of connections a sender opened). In values, backslash, tab, CR
 * and LF are written \\ \t \r \n and other control bytes \xNN. FILE
 * is created once the port is bound.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

enum mode {
	MODE_KANNEL,
	MODE_TWILIO,
	MODE_AT,
};

static struct {
	enum mode mode;
	FILE *out;
	long fail_first;
	int status;
	const char *body;
	long count;
	long delay_ms;
	struct event_base *base;
} G;

/* Print usage and exit. */
static void __attribute__((noreturn)) usage(void)
{
	fprintf(stderr, "usage: fakegw -p port -m kannel|twilio|at -o file "
	                "[-f n] [-s status] [-b body] [-d ms]\n");
	exit(2);
}

/* Write bytes with tabs, newlines and control bytes escaped. */
static void
put_escaped(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\')
			fputs("\\\\", G.out);
		else if (c == '\t')
			fputs("\\t", G.out);
		else if (c == '\n')
			fputs("\\n", G.out);
		else if (c == '\r')
			fputs("\\r", G.out);
		else if (c < 0x20 || c == 0x7f)
			fprintf(G.out, "\\x%02x", c);
		else
			fputc(c, G.out);
	}
}

/* Value of a hex digit, or -1. */
static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decode s[0..len) ('+' is a space) into a new buffer. */
static char *
decode(const char *s, size_t len, size_t *outlen)
{
	char *out = malloc(len + 1);
	size_t i, n = 0;

	if (out == NULL)
		abort();
	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			out[n++] = ' ';
		else if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 &&
		         hexval(s[i + 2]) >= 0) {
			out[n++] =
			    (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else
			out[n++] = s[i];
	}
	out[n] = '\0';
	*outlen = n;
	return out;
}

/* Write the parameters of a query or form; remember the recipient. */
static void
put_params(const char *s, size_t len, char **to)
{
	const char *p = s, *end = s + len, *amp, *eq;
	char *name, *value;
	size_t nlen, vlen;

	while (p < end) {
		amp = memchr(p, '&', (size_t)(end - p));
		if (amp == NULL)
			amp = end;
		if (amp > p) {
			eq = memchr(p, '=', (size_t)(amp - p));
			if (eq == NULL)
				eq = amp;
			name = decode(p, (size_t)(eq - p), &nlen);
			value = decode(eq + (eq < amp),
			               (size_t)(amp - eq) - (eq < amp), &vlen);
			fputc('\t', G.out);
			put_escaped(name, nlen);
			fputc('=', G.out);
			put_escaped(value, vlen);
			if (*to == NULL && strcasecmp(name, "to") == 0)
				*to = strdup(value);
			free(name);
			free(value);
		}
		p = amp + 1;
	}
}

/* Append one line describing the request to the output file. */
static void
record(struct evhttp_request *req, char **to)
{
	static const char *const hdrs[] = {"Authorization", "apiKey", "Accept",
	                                   "Content-Type"};
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	const char *path = evhttp_uri_get_path(uri), *query, *ct, *v;
	struct evhttp_connection *conn;
	size_t blen = evbuffer_get_length(body);
	struct timeval tv;
	size_t i;

	gettimeofday(&tv, NULL);
	fprintf(G.out, "%lld.%03ld\t%s\t", (long long)tv.tv_sec,
	        (long)(tv.tv_usec / 1000),
	        evhttp_request_get_command(req) == EVHTTP_REQ_POST ? "POST"
	                                                           : "GET");
	put_escaped(path ? path : "", path ? strlen(path) : 0);
	if ((query = evhttp_uri_get_query(uri)) != NULL)
		put_params(query, strlen(query), to);
	ct = evhttp_find_header(in, "Content-Type");
	if (blen > 0 && ct != NULL &&
	    strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
		put_params((const char *)evbuffer_pullup(body, -1), blen, to);
	for (i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
		if ((v = evhttp_find_header(in, hdrs[i])) == NULL)
			continue;
		fprintf(G.out, "\t%s=", hdrs[i]);
		put_escaped(v, strlen(v));
	}
	if ((conn = evhttp_request_get_connection(req)) != NULL) {
		char *addr = NULL;
		ev_uint16_t port = 0;
		evhttp_connection_get_peer(conn, &addr, &port);
		fprintf(G.out, "\tpeer=%u", (unsigned)port);
	}
	fputc('\n', G.out);
	fflush(G.out);
}

/* The body of an error answer in the gateway's style. */
static const char *
error_body(int status)
{
	switch (G.mode) {
	case MODE_KANNEL:
		return status == 403   ? "Authorization failed for sendsms"
		       : status == 400 ? "Missing receiver number"
		                       : "Service unavailable";
	case MODE_TWILIO:
		return status == 400
		           ? "{\"code\":21610,\"message\":\"Attempt to "
		             "send to unsubscribed recipient\","
		             "\"status\":400}"
		           : "{\"code\":20500,\"message\":\"Internal "
		             "Server Error\",\"status\":500}";
	case MODE_AT:
		break;
	}
	return status == 401 ? "The supplied authentication is invalid"
	                     : "Internal Server Error";
}

/* Answer one request: failure, forced status, or success. */
static void
answer(struct evhttp_request *req, long n, const char *to)
{
	struct evbuffer *out = evbuffer_new();
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	int json = G.mode != MODE_KANNEL, status;

	if (n <= G.fail_first) {
		status = 503;
		evbuffer_add_printf(out, "%s", error_body(503));
	} else if (G.status != 0) {
		status = G.status;
		evbuffer_add_printf(out, "%s",
		                    G.body ? G.body : error_body(status));
	} else if (G.body != NULL) {
		status = G.mode == MODE_KANNEL ? 202 : 201;
		evbuffer_add_printf(out, "%s", G.body);
	} else if (G.mode == MODE_KANNEL) {
		status = 202;
		evbuffer_add_printf(out, "0: Accepted for delivery");
	} else if (G.mode == MODE_TWILIO) {
		status = 201;
		evbuffer_add_printf(
		    out, "{\"sid\":\"SM%ld\",\"status\":\"queued\"}", n);
	} else {
		status = 201;
		evbuffer_add_printf(
		    out,
		    "{\"SMSMessageData\":{\"Message\":\"Sent to 1/1 Total "
		    "Cost: "
		    "VND 250\",\"Recipients\":[{\"statusCode\":101,\"number\":"
		    "\"%s\",\"status\":\"Success\",\"cost\":\"VND 250\","
		    "\"messageId\":\"ATXid_%ld\"}]}}",
		    to != NULL ? to : "", n);
	}
	evhttp_add_header(h, "Content-Type",
	                  json ? "application/json" : "text/plain");
	evhttp_send_reply(req, status, NULL, out);
	evbuffer_free(out);
}

/* A request answered later (-d). */
struct later {
	struct evhttp_request *req;
	long n;
	char *to;
};

/* The delay is over: answer. */
static void
on_later(evutil_socket_t fd, short what, void *arg)
{
	struct later *l = arg;

	answer(l->req, l->n, l->to);
	free(l->to);
	free(l);
}

/* Every request: record it, then answer (now, or after -d). */
static void
on_request(struct evhttp_request *req, void *arg)
{
	char *to = NULL;
	struct later *l;
	struct timeval tv;

	record(req, &to);
	if (G.delay_ms <= 0 || (l = malloc(sizeof *l)) == NULL) {
		answer(req, ++G.count, to);
		free(to);
		return;
	}
	l->req = req;
	l->n = ++G.count;
	l->to = to;
	tv.tv_sec = G.delay_ms / 1000;
	tv.tv_usec = (G.delay_ms % 1000) * 1000;
	if (event_base_once(G.base, -1, EV_TIMEOUT, on_later, l, &tv) != 0)
		on_later(-1, EV_TIMEOUT, l);
}

/* SIGTERM or SIGINT: stop. */
static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopbreak(G.base);
}

/* Parse the mode name. */
static enum mode
mode_of(const char *s)
{
	if (strcmp(s, "kannel") == 0)
		return MODE_KANNEL;
	if (strcmp(s, "twilio") == 0)
		return MODE_TWILIO;
	if (strcmp(s, "at") == 0)
		return MODE_AT;
	usage();
}

/* Read the options; exit with usage on a bad one. */
static void
parse_args(int argc, char **argv, int *port, const char **file)
{
	int ch;

	while ((ch = getopt(argc, argv, "p:m:o:f:s:b:d:")) != -1) {
		switch (ch) {
		case 'p':
			*port = atoi(optarg);
			break;
		case 'm':
			G.mode = mode_of(optarg);
			break;
		case 'o':
			*file = optarg;
			break;
		case 'f':
			G.fail_first = atol(optarg);
			break;
		case 's':
			G.status = atoi(optarg);
			break;
		case 'b':
			G.body = optarg;
			break;
		case 'd':
			G.delay_ms = atol(optarg);
			break;
		default:
			usage();
		}
	}
	if (*port <= 0 || *port > 65535 || *file == NULL || optind != argc)
		usage();
}

/* Serve until SIGTERM or SIGINT. */
static void
serve(void)
{
	struct event *sigterm = evsignal_new(G.base, SIGTERM, on_signal, NULL);
	struct event *sigint = evsignal_new(G.base, SIGINT, on_signal, NULL);

	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	event_base_dispatch(G.base);
	event_free(sigterm);
	event_free(sigint);
}

int
main(int argc, char **argv)
{
	const char *file = NULL;
	struct evhttp *http;
	int port = 0;

	parse_args(argc, argv, &port, &file);
	signal(SIGPIPE, SIG_IGN);
	if ((G.base = event_base_new()) == NULL ||
	    (http = evhttp_new(G.base)) == NULL)
		return 1;
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(http, on_request, NULL);
	if (evhttp_bind_socket(http, "127.0.0.1", (ev_uint16_t)port) != 0) {
		fprintf(stderr, "fakegw: cannot listen on port %d\n", port);
		return 1;
	}
	/* The file appears once the port is bound: callers wait for it. */
	if ((G.out = fopen(file, "a")) == NULL) {
		perror(file);
		return 1;
	}
	serve();
	evhttp_free(http);
	event_base_free(G.base);
	fclose(G.out);
	return 0;
}
