/* open311.c: Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2).
 *
 * Categories are services (their PAPI dimension is the group);
 * complaints are requests: status open or closed, status_notes the
 * official's answer, agency_responsible the unit's name,
 * expected_datetime the due date. Anyone may read (public fields only: no
 * phone, no text of sensitive categories); registered clients POST with
 * their api_key (paknctl open311-client). The path and parameters are
 * read by open311_args.c (pure); each request is one call of
 * pakn.open311 (sql/functions/open311.sql). JSON only.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "open311.h"
#include "open311_args.h"
#include "outbox.h"
#include "stmt.h"
#include "util.h"

#define OPEN311_PREFIX "/open311/v2/"

#define OPEN311_JSON "application/json; charset=utf-8"

/* A request waiting for its answer. */
struct open311_call {
	struct paknd *d;
	struct evhttp_request *req;
	int post;
};

/* Send the spec's error array [{"code", "description"}]. */
static void
open311_error(struct paknd *d, struct evhttp_request *req, int status,
              const char *description)
{
	json_t *j = json_pack("[{s:i,s:s}]", "code", status, "description",
	                      description);
	char *body;

	if (j == NULL)
		j = json_pack("[{s:i,s:s}]", "code", status, "description",
		              "invalid request");
	if (j == NULL || (body = json_dumps(j, JSON_PRESERVE_ORDER)) == NULL)
		fatalx("json_dumps");
	json_decref(j);
	http_reply(d, req, status, OPEN311_JSON, body, strlen(body));
	free(body);
}

/* Answer with what pakn.open311 returned. */
static void
open311_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct open311_call *c = arg;
	const char *body;
	int status;

	if (st != DB_OK) {
		log_warnx("open311: %s", error);
		open311_error(c->d, c->req, st == DB_UNAVAILABLE ? 503 : 500,
		              st == DB_UNAVAILABLE
		                  ? "database unavailable, retry later"
		                  : "internal error, nothing was changed");
	} else if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ||
	           (status = atoi(PQgetvalue(res, 0, 0))) < 200 ||
	           status > 599) {
		log_warnx("open311: unexpected answer from the database");
		open311_error(c->d, c->req, 500, "internal error");
	} else {
		body = PQgetvalue(res, 0, 1);
		if (!PQgetisnull(res, 0, 2) &&
		    atoi(PQgetvalue(res, 0, 2)) > 0 && c->d->outbox != NULL)
			outbox_kick(c->d->outbox);
		if (c->post)
			log_info("open311: POST requests: %d", status);
		http_reply(c->d, c->req, status, OPEN311_JSON, body,
		           strlen(body));
	}
	free(c);
}

/* Queue pakn.open311; answer 503 at once if it cannot be. */
static void
open311_submit(struct paknd *d, struct evhttp_request *req,
               const struct open311_target *t, const char *key,
               const char *phone, const char *args)
{
	struct open311_call *c = xcalloc(1, sizeof *c);
	const char *values[5] = {open311_op_name(t->op), key,
	                         config_sms_gateway(d->conf), phone, args};
	char *cause = NULL;

	c->d = d;
	c->req = req;
	c->post = t->op == O311_POST;
	if (db_submit(d->db, STMT_OPEN311, 5, values, NULL, NULL, open311_done,
	              c, &cause) == 0)
		return;
	log_warnx("open311: %s", cause);
	open311_error(d, req, 503, "database unavailable, retry later");
	free(cause);
	free(c);
}

/* The query and, for a POST, the form body; -1 and *cause. */
static int
open311_form(struct evhttp_request *req, int post, struct form *f, char **cause)
{
	const char *q =
	    evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req));
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);

	if (q != NULL && form_parse(f, q, strlen(q), cause) != 0)
		return -1;
	if (!post || len == 0)
		return 0;
	return form_parse(f, (const char *)evbuffer_pullup(in, -1), len, cause);
}

/* Answer a request for /open311/v2/<rest>. */
static void
open311_route(struct paknd *d, struct evhttp_request *req, const char *path,
              const char *arg)
{
	const char *rest = path + strlen(OPEN311_PREFIX);
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	struct open311_target t;
	struct form f = {0};
	const char *reason;
	char *cause = NULL, *args, *key = NULL, *phone = NULL;
	int status;

	if (d->draining) {
		open311_error(d, req, 503, "shutting down");
		return;
	}
	if ((long)evbuffer_get_length(evhttp_request_get_input_buffer(req)) >
	    d->conf->max_body_size) {
		open311_error(d, req, 413, "body too large");
		return;
	}
	if ((status = open311_target(rest, m == EVHTTP_REQ_POST, &t,
	                             &reason)) != 0) {
		open311_error(d, req, status, reason);
		return;
	}
	if (t.op == O311_POST && config_sms_gateway(d->conf) == NULL) {
		open311_error(d, req, 503, "no SMS gateway configured");
		return;
	}
	if (open311_form(req, t.op == O311_POST, &f, &cause) != 0 ||
	    (args = open311_args(&t, &f, &key, &phone, &cause)) == NULL) {
		open311_error(d, req, 400, cause);
		free(cause);
		form_clear(&f);
		return;
	}
	open311_submit(d, req, &t, key, phone, args);
	free(args);
	free(key);
	free(phone);
	form_clear(&f);
}

/* Register /open311/v2/; it checks body size and draining itself, to
 * answer errors as the spec's array. */
void
open311_routes(struct paknd *d)
{
	http_route_add(d, OPEN311_PREFIX, HTTP_PREFIX | HTTP_OWN_BODY,
	               open311_route);
}
