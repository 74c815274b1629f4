/* api.c: the officials' JSON API.
 *
 * Officials authenticate with a bearer token. Each request is checked
 * here (path, method, token present, query or JSON body) and then
 * answered by one call of a pakn.api_* function (sql/functions/api.sql) in one
 * round trip: it checks the token, what the official may see and the
 * complaint's state, does the action through the accountable
 * pakn.complaint_* functions, and returns the HTTP status, the JSON body
 * and the number of SMS it queued. The answer goes out only after the
 * COMMIT. Every answer, errors included, is a JSON object; an error is
 * {"error": {"code": ..., "message": ...}} with a stable code.
 */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "api.h"
#include "outbox.h"
#include "sms.h"
#include "stmt.h"
#include "util.h"

#define API_PREFIX         "/v1/complaints"
#define API_TRANSFERS_PATH "/v1/transfers"
#define API_DESK_PATH      "/v1/desk"
#define API_JSON           "application/json; charset=utf-8"
#define API_DEFAULT_LIMIT  20
#define API_MAX_LIMIT      100
#define API_MAX_PAGE       1000000L
#define API_MAX_OFFSET     100000000L
#define API_MAX_PARAMS     16
#define API_MAX_TICKET     16
#define API_ERRLEN         256

/* A request waiting for its commit. */
struct api_call {
	struct paknd *d;
	struct evhttp_request *req;
	char *what; /* "POST /v1/complaints/T/answer", for log lines */
	int post;
};

/* The actions and the fields their bodies may have. */
struct api_action {
	const char *name;
	const char *fields[4];
};

static const struct api_action api_actions[] = {
    {"answer", {"text", NULL}},
    {"transfer", {"unit", "reason", NULL}},
    {"reject", {"reason", NULL}},
    {"extend", {"reason", NULL}},
    {"reopen", {"reason", NULL}},
    {"accept_transfer", {"reason", NULL}},
    {"refuse_transfer", {"reason", NULL}},
    {"classify", {"category", "reason", NULL}},
    {"accept", {"date", "reason", NULL}},
    {"complex", {"reason", NULL}},
    {"suspend", {"reason", "date", NULL}},
    {"resume", {"reason", "date", NULL}},
    {"apologize", {"reason", "new_due", NULL}},
    {"send_back", {"reason", NULL}},
    {"forward", {"place", "category", "reason", NULL}},
};

/* What a path names. */
struct api_target {
	enum { API_LIST, API_SHOW, API_ACT, API_TRANSFERS, API_DESK } kind;
	char ticket[API_MAX_TICKET + 1];
	const struct api_action *action;
};

/* The query parameters of GET /v1/complaints. */
static const char *api_list_params[] = {
    "status",   "overdue", "category", "dimension", "page",
    "per_page", "limit",   "offset",   "sort",      NULL};

/* The parameters of pakn.api_list: token, status, overdue, category,
 * dimension, limit, offset, sort (NULL when not given). */
struct api_listq {
	const char *values[8];
	char dimension[8];
	char limit[24];
	char offset[24];
};

static void api_error(struct paknd *d, struct evhttp_request *req, int status,
                      const char *code, const char *fmt, ...) PAKN_PRINTF(5, 6);

/* Send an error {"error": {"code", "message"}}. */
static void
api_error(struct paknd *d, struct evhttp_request *req, int status,
          const char *code, const char *fmt, ...)
{
	char msg[API_ERRLEN], *body;
	json_t *j;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* The message may quote the request; json_pack wants UTF-8. */
	j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
	if (j == NULL)
		j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message",
		              "invalid request");
	if (j == NULL || (body = json_dumps(j, JSON_PRESERVE_ORDER)) == NULL)
		fatalx("json_dumps");
	json_decref(j);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	                  "Cache-Control", "no-store");
	http_reply(d, req, status, API_JSON, body, strlen(body));
	free(body);
}

/* Ask for a bearer token (RFC 6750). */
static void
api_challenge(struct evhttp_request *req, int presented)
{
	evhttp_add_header(
	    evhttp_request_get_output_headers(req), "WWW-Authenticate",
	    presented ? "Bearer realm=\"pakn\", error=\"invalid_token\""
	              : "Bearer realm=\"pakn\"");
}

/* Split the path into what it names; -1 if it names nothing. */
static int
api_target(const char *path, struct api_target *t)
{
	const char *p = path + strlen(API_PREFIX), *slash;
	size_t n, i;

	memset(t, 0, sizeof *t);
	if (strcmp(path, API_TRANSFERS_PATH) == 0) {
		t->kind = API_TRANSFERS;
		return 0;
	}
	if (strcmp(path, API_DESK_PATH) == 0) {
		t->kind = API_DESK;
		return 0;
	}
	if (*p == '\0')
		return 0;
	slash = strchr(++p, '/');
	n = slash != NULL ? (size_t)(slash - p) : strlen(p);
	if (n == 0 || n > API_MAX_TICKET)
		return -1;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)p[i]))
			return -1;
	memcpy(t->ticket, p, n);
	t->kind = slash == NULL ? API_SHOW : API_ACT;
	if (slash == NULL)
		return 0;
	for (i = 0; i < sizeof api_actions / sizeof api_actions[0]; i++)
		if (!strcmp(slash + 1, api_actions[i].name))
			t->action = &api_actions[i];
	return t->action != NULL ? 0 : -1;
}

/* Check the method; answer 405 and return -1 if it is wrong. */
static int
api_method(struct paknd *d, struct evhttp_request *req,
           const struct api_target *t)
{
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	int act = t->kind == API_ACT;

	if (act ? m == EVHTTP_REQ_POST
	        : m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD)
		return 0;
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
	                  act ? "POST" : "GET, HEAD");
	api_error(d, req, 405, "method_not_allowed", "use %s here",
	          act ? "POST" : "GET");
	return -1;
}

/* Answer with what the pakn.api_* function returned. */
static void
api_answer(struct api_call *c, PGresult *res)
{
	int status, sms;
	const char *body;

	if (PQntuples(res) != 1 || PQnfields(res) != 3 ||
	    PQgetisnull(res, 0, 0) || PQgetisnull(res, 0, 1) ||
	    (status = atoi(PQgetvalue(res, 0, 0))) < 200 || status > 599) {
		log_warnx("api: %s: unexpected answer from the database",
		          c->what);
		api_error(c->d, c->req, 500, "internal_error",
		          "internal error");
		return;
	}
	body = PQgetvalue(res, 0, 1);
	sms = PQgetisnull(res, 0, 2) ? 0 : atoi(PQgetvalue(res, 0, 2));
	if (sms > 0 && c->d->outbox != NULL)
		outbox_kick(c->d->outbox);
	if (c->post)
		log_info("api: %s: %d, %d SMS queued", c->what, status, sms);
	else
		log_debug("api: %s: %d", c->what, status);
	if (status == 401)
		api_challenge(c->req, 1);
	evhttp_add_header(evhttp_request_get_output_headers(c->req),
	                  "Cache-Control", "no-store");
	http_reply(c->d, c->req, status, API_JSON, body, strlen(body));
}

/* The commit (or failure) of one request: answer it. */
static void
api_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct api_call *c = arg;

	switch (st) {
	case DB_OK:
		api_answer(c, res);
		break;
	case DB_UNAVAILABLE:
		log_warnx("api: %s: %s", c->what, error);
		api_error(c->d, c->req, 503, "unavailable",
		          "database unavailable, retry later");
		break;
	case DB_ERROR:
		log_warnx("api: %s: %s", c->what, error);
		api_error(c->d, c->req, 500, "internal_error",
		          "internal error, nothing was changed");
		break;
	}
	free(c->what);
	free(c);
}

/* Queue one pakn.api_* call; answer 503 at once if it cannot be. */
static void
api_submit(struct paknd *d, struct evhttp_request *req, int stmt, int nparams,
           const char *const *values)
{
	struct api_call *c = xcalloc(1, sizeof *c);
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	char *cause = NULL;

	c->d = d;
	c->req = req;
	c->post = m == EVHTTP_REQ_POST;
	c->what =
	    xasprintf("%s %s", c->post ? "POST" : "GET",
	              evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req)));
	if (db_submit(d->db, stmt, nparams, values, NULL, NULL, api_done, c,
	              &cause) == 0)
		return;
	log_warnx("api: %s: %s", c->what, cause);
	api_error(d, req, 503, "unavailable", "%s, retry later", cause);
	free(cause);
	free(c->what);
	free(c);
}

/* Parse a whole decimal number in [min, max]; -1 if it is not one. */
static int
api_number(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A text parameter, NULL when absent or empty. */
static const char *
api_param(struct evkeyvalq *q, const char *name)
{
	const char *v = evhttp_find_header(q, name);

	return v != NULL && *v != '\0' ? v : NULL;
}

/* Refuse unknown and repeated parameters; -1 and err. */
static int
api_params_known(struct evkeyvalq *q, char *err)
{
	struct evkeyval *kv, *prev;
	int i, n = 0;

	TAILQ_FOREACH(kv, q, next)
	{
		for (i = 0; api_list_params[i] != NULL; i++)
			if (!strcmp(kv->key, api_list_params[i]))
				break;
		if (api_list_params[i] == NULL || ++n > API_MAX_PARAMS) {
			snprintf(err, API_ERRLEN,
			         "unknown parameter \"%.40s\" "
			         "(status, overdue, category, dimension, page, "
			         "per_page, limit, offset, sort)",
			         kv->key);
			return -1;
		}
		for (prev = TAILQ_FIRST(q); prev != kv;
		     prev = TAILQ_NEXT(prev, next))
			if (!strcmp(prev->key, kv->key)) {
				snprintf(err, API_ERRLEN,
				         "%s: given more than once", kv->key);
				return -1;
			}
	}
	return 0;
}

/* The filters of a queue: status, overdue, category, dimension, sort. */
static int
api_list_filters(struct evkeyvalq *q, struct api_listq *lq, char *err)
{
	const char *overdue = api_param(q, "overdue");
	long dim;

	lq->values[1] = api_param(q, "status");
	lq->values[3] = api_param(q, "category");
	lq->values[7] = api_param(q, "sort");
	if (overdue != NULL) {
		if (!strcmp(overdue, "true") || !strcmp(overdue, "1"))
			lq->values[2] = "true";
		else if (!strcmp(overdue, "false") || !strcmp(overdue, "0"))
			lq->values[2] = "false";
		else {
			snprintf(err, API_ERRLEN, "overdue: true or false");
			return -1;
		}
	}
	if (evhttp_find_header(q, "dimension") != NULL) {
		if (api_number(evhttp_find_header(q, "dimension"), 1, 8,
		               &dim) != 0) {
			snprintf(err, API_ERRLEN, "dimension: 1 to 8");
			return -1;
		}
		snprintf(lq->dimension, sizeof lq->dimension, "%ld", dim);
		lq->values[4] = lq->dimension;
	}
	return 0;
}

/* A number parameter that may be absent; -1 and err if it is bad. */
static int
api_param_number(struct evkeyvalq *q, const char *name, long min, long max,
                 long *out, char *err)
{
	const char *v = evhttp_find_header(q, name);

	if (v == NULL || api_number(v, min, max, out) == 0)
		return 0;
	snprintf(err, API_ERRLEN, "%s: a whole number from %ld to %ld", name,
	         min, max);
	return -1;
}

/* The page of a queue: page and per_page, or limit and offset. */
static int
api_list_page(struct evkeyvalq *q, struct api_listq *lq, char *err)
{
	long page = 1, limit = API_DEFAULT_LIMIT, offset = 0;
	int has_page = evhttp_find_header(q, "page") != NULL;

	if ((has_page || evhttp_find_header(q, "per_page") != NULL) &&
	    (evhttp_find_header(q, "offset") != NULL ||
	     evhttp_find_header(q, "limit") != NULL)) {
		snprintf(
		    err, API_ERRLEN,
		    "use page and per_page, or limit and offset, not both");
		return -1;
	}
	if (api_param_number(q, "page", 1, API_MAX_PAGE, &page, err) != 0 ||
	    api_param_number(q, "per_page", 1, 1000000, &limit, err) != 0 ||
	    api_param_number(q, "limit", 1, 1000000, &limit, err) != 0 ||
	    api_param_number(q, "offset", 0, API_MAX_OFFSET, &offset, err) != 0)
		return -1;
	if (limit > API_MAX_LIMIT)
		limit = API_MAX_LIMIT;
	if (has_page)
		offset = (page - 1) * limit;
	snprintf(lq->limit, sizeof lq->limit, "%ld", limit);
	snprintf(lq->offset, sizeof lq->offset, "%ld", offset);
	lq->values[5] = lq->limit;
	lq->values[6] = lq->offset;
	return 0;
}

/* GET /v1/complaints: the caller's queue, filtered and paged. */
static void
api_list(struct paknd *d, struct evhttp_request *req, const char *token)
{
	const char *query =
	    evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct api_listq lq;
	struct evkeyvalq q;
	char err[API_ERRLEN] = "";

	memset(&lq, 0, sizeof lq);
	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) != 0)
		snprintf(err, sizeof err, "malformed query string");
	else if (api_params_known(&q, err) == 0 &&
	         api_list_filters(&q, &lq, err) == 0)
		api_list_page(&q, &lq, err);
	if (err[0] != '\0')
		api_error(d, req, 400, "bad_request", "%s", err);
	else {
		lq.values[0] = token;
		api_submit(d, req, STMT_API_LIST, 8, lq.values);
	}
	evhttp_clear_headers(&q);
}

/* Is name a field of the action's body? */
static int
api_field(const struct api_action *a, const char *name)
{
	for (int i = 0; a->fields[i] != NULL; i++)
		if (!strcmp(a->fields[i], name))
			return 1;
	return 0;
}

/* Is an answer's text longer than [sms] max_answer_parts as it would be
 * sent (with diacritics if a gateway keeps them)? Then say so in err:
 * Kannel cuts what is over its max-messages without a word. */
static int
api_answer_too_long(const struct config *c, const json_t *text, char *err)
{
	int parts;

	if (!json_is_string(text))
		return 0;
	parts =
	    sms_segments_sent(json_string_value(text), config_diacritics(c));
	if (parts <= c->max_answer_parts)
		return 0;
	snprintf(err, API_ERRLEN,
	         "text: the answer takes %d SMS parts, over the limit of %ld "
	         "([sms] max_answer_parts); shorten it",
	         parts, c->max_answer_parts);
	return 1;
}

/* Check an action's body: a JSON object of the action's fields, each a
 * string (or null), an answer within the length limit. Returns it as
 * compact JSON, or NULL and err. */
static char *
api_body(const struct config *c, struct evhttp_request *req,
         const struct api_action *a, char *err)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	json_error_t jerr;
	json_t *root, *v;
	const char *key;
	char *out = NULL;

	if (len == 0) {
		snprintf(err, API_ERRLEN, "the body must be a JSON object");
		return NULL;
	}
	root = json_loadb((const char *)evbuffer_pullup(in, -1), len,
	                  JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		snprintf(err, API_ERRLEN,
		         "malformed JSON: %s (line %d, column "
		         "%d)",
		         jerr.text, jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(root))
		snprintf(err, API_ERRLEN, "the body must be a JSON object");
	json_object_foreach(root, key, v)
	{
		if (err[0] != '\0')
			break;
		if (!api_field(a, key))
			snprintf(err, API_ERRLEN, "unknown field \"%.40s\"",
			         key);
		else if (!json_is_string(v) && !json_is_null(v))
			snprintf(err, API_ERRLEN, "%s: must be a string", key);
		else if (!strcmp(a->name, "answer") && !strcmp(key, "text"))
			api_answer_too_long(c, v, err);
	}
	if (err[0] == '\0' && (out = json_dumps(root, JSON_COMPACT)) == NULL)
		fatalx("json_dumps");
	json_decref(root);
	return out;
}

/* POST /v1/complaints/{ticket}/{action}. */
static void
api_act(struct paknd *d, struct evhttp_request *req, const char *token,
        const struct api_target *t)
{
	char err[API_ERRLEN] = "", *args;
	const char *values[4];

	if ((args = api_body(d->conf, req, t->action, err)) == NULL) {
		api_error(d, req, 400, "bad_request", "%s", err);
		return;
	}
	values[0] = token;
	values[1] = t->ticket;
	values[2] = t->action->name;
	values[3] = args;
	api_submit(d, req, STMT_API_ACT, 4, values);
	free(args);
}

/* Handle a request for an API path. */
static void
api_request(struct paknd *d, struct evhttp_request *req, const char *path,
            const char *arg)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	const char *values[2], *reason;
	char token[TEXT_BEARER_MAX + 1];
	struct api_target t;

	if (d->draining) {
		api_error(d, req, 503, "unavailable", "shutting down");
		return;
	}
	if ((long)evbuffer_get_length(in) > d->conf->max_body_size) {
		api_error(d, req, 413, "too_large", "body over %ld bytes",
		          d->conf->max_body_size);
		return;
	}
	if (api_target(path, &t) != 0) {
		api_error(d, req, 404, "not_found", "no such endpoint");
		return;
	}
	if (api_method(d, req, &t) != 0)
		return;
	if (http_bearer(req, token, &reason) != 0) {
		api_challenge(req, 0);
		api_error(d, req, 401, "unauthorized", "%s", reason);
		return;
	}
	if (t.kind == API_LIST)
		api_list(d, req, token);
	else if (t.kind == API_TRANSFERS) {
		values[0] = token;
		api_submit(d, req, STMT_API_TRANSFERS, 1, values);
	} else if (t.kind == API_DESK) {
		values[0] = token;
		api_submit(d, req, STMT_API_DESK, 1, values);
	} else if (t.kind == API_ACT)
		api_act(d, req, token, &t);
	else {
		values[0] = token;
		values[1] = t.ticket;
		api_submit(d, req, STMT_API_SHOW, 2, values);
	}
}

/* Register the API's paths; it answers every error, body size and
 * draining included, as JSON. */
void
api_routes(struct paknd *d)
{
	int f = HTTP_JSON | HTTP_OWN_BODY;

	http_route_add(d, API_PREFIX, f, api_request);
	http_route_add(d, API_PREFIX "/", f | HTTP_PREFIX, api_request);
	http_route_add(d, API_TRANSFERS_PATH, f, api_request);
	http_route_add(d, API_DESK_PATH, f, api_request);
}
