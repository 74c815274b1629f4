/* service.c: POST /v1/services, the one-stop shops' report of a
 * finished procedure.
 *
 * The body is a JSON object: phone, procedure_code, procedure_name,
 * unit, received_at, returned_at (dates or times), on_time (true or
 * false) and optionally file_id (the shop's file number: the same file
 * again is stored once). Its shape and the phone are checked here (the
 * phone normalised to E.164 and checked against the numbering plan);
 * pakn.api_service_new checks the token, the unit, the dates and
 * stores the record in one round trip. Answers are JSON like the
 * officials' API; the phone number is never echoed.
 */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <jansson.h>

#include "phone.h"
#include "service.h"
#include "stmt.h"
#include "util.h"

#define SERVICE_PATH   "/v1/services"
#define SERVICE_JSON   "application/json; charset=utf-8"
#define SERVICE_ERRLEN 256

/* A request waiting for its commit. */
struct service_call {
	struct paknd *d;
	struct evhttp_request *req;
};

/* The fields of the body: name, JSON type, required. */
static const struct {
	const char *name;
	json_type type;
	int required;
} service_fields[] = {
    {"phone", JSON_STRING, 1},          {"procedure_code", JSON_STRING, 1},
    {"procedure_name", JSON_STRING, 1}, {"unit", JSON_STRING, 1},
    {"received_at", JSON_STRING, 1},    {"returned_at", JSON_STRING, 1},
    {"on_time", JSON_TRUE, 1},          {"file_id", JSON_STRING, 0},
};
#define NFIELDS (sizeof service_fields / sizeof service_fields[0])

static void service_error(struct paknd *d, struct evhttp_request *req,
                          int status, const char *code, const char *fmt, ...)
    PAKN_PRINTF(5, 6);

/* Send an error {"error": {"code", "message"}}. */
static void
service_error(struct paknd *d, struct evhttp_request *req, int status,
              const char *code, const char *fmt, ...)
{
	char msg[SERVICE_ERRLEN], *body;
	json_t *j;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", msg);
	if (j == NULL)
		j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message",
		              "invalid request");
	if (j == NULL || (body = json_dumps(j, JSON_PRESERVE_ORDER)) == NULL)
		fatalx("json_dumps");
	json_decref(j);
	if (status == 401)
		evhttp_add_header(evhttp_request_get_output_headers(req),
		                  "WWW-Authenticate", "Bearer realm=\"pakn\"");
	http_reply(d, req, status, SERVICE_JSON, body, strlen(body));
	free(body);
}

/* Check one member of the body against the field table; 0 or -1. */
static int
service_member(const char *key, json_t *v, char *err)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		if (strcmp(key, service_fields[i].name) != 0)
			continue;
		if (service_fields[i].type == JSON_TRUE
		        ? json_is_boolean(v)
		        : json_is_string(v) ||
		              (json_is_null(v) && !service_fields[i].required))
			return 0;
		snprintf(err, SERVICE_ERRLEN, "%s: must be %s", key,
		         service_fields[i].type == JSON_TRUE ? "true or false"
		                                             : "a string");
		return -1;
	}
	snprintf(err, SERVICE_ERRLEN,
	         "unknown field \"%.40s\" (phone, procedure_code, "
	         "procedure_name, unit, received_at, returned_at, on_time, "
	         "file_id)",
	         key);
	return -1;
}

/* Check the body's shape; the object, or NULL and err. */
static json_t *
service_body(struct evhttp_request *req, char *err)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	json_error_t jerr;
	json_t *root, *v;
	const char *key;

	root = len == 0 ? NULL
	                : json_loadb((const char *)evbuffer_pullup(in, -1), len,
	                             JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		if (root == NULL && len > 0)
			snprintf(err, SERVICE_ERRLEN,
			         "malformed JSON: %s (line %d, column %d)",
			         jerr.text, jerr.line, jerr.column);
		else
			snprintf(err, SERVICE_ERRLEN,
			         "the body must be a JSON object");
		json_decref(root);
		return NULL;
	}
	json_object_foreach(root, key,
	                    v) if (service_member(key, v, err) != 0) goto fail;
	for (size_t i = 0; i < NFIELDS; i++)
		if (service_fields[i].required &&
		    json_object_get(root, service_fields[i].name) == NULL) {
			snprintf(err, SERVICE_ERRLEN, "%s: missing",
			         service_fields[i].name);
			goto fail;
		}
	return root;
fail:
	json_decref(root);
	return NULL;
}

/* The citizen's phone in E.164, if it can receive SMS; NULL and err. */
static char *
service_phone(json_t *body, char *err)
{
	char *why = NULL,
	     *p = phone_normalize(
	         json_string_value(json_object_get(body, "phone")), &why);
	const char *flag;

	if (p == NULL) {
		snprintf(err, SERVICE_ERRLEN, "phone: %s", why);
		free(why);
		return NULL;
	}
	if ((flag = phone_plan(p)) != NULL) {
		snprintf(err, SERVICE_ERRLEN, "phone: %s",
		         phone_flag_text(flag));
		free(p);
		return NULL;
	}
	return p;
}

/* Answer with what pakn.api_service_new returned. */
static void
service_done(void *arg, enum db_status st, PGresult *res, const char *error)
{
	struct service_call *c = arg;
	const char *body;
	int status;

	if (st != DB_OK) {
		log_warnx("services: %s", error);
		service_error(c->d, c->req, st == DB_UNAVAILABLE ? 503 : 500,
		              st == DB_UNAVAILABLE ? "unavailable"
		                                   : "internal_error",
		              "%s",
		              st == DB_UNAVAILABLE
		                  ? "database unavailable, retry later"
		                  : "internal error, nothing was stored");
	} else if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0) ||
	           (status = atoi(PQgetvalue(res, 0, 0))) < 200 ||
	           status > 599) {
		log_warnx("services: unexpected answer from the database");
		service_error(c->d, c->req, 500, "internal_error",
		              "internal error");
	} else {
		body = PQgetvalue(res, 0, 1);
		log_info("services: POST %s: %d", SERVICE_PATH, status);
		if (status == 401)
			evhttp_add_header(
			    evhttp_request_get_output_headers(c->req),
			    "WWW-Authenticate",
			    "Bearer realm=\"pakn\", error=\"invalid_token\"");
		http_reply(c->d, c->req, status, SERVICE_JSON, body,
		           strlen(body));
	}
	free(c);
}

/* Queue pakn.api_service_new; answer 503 at once if it cannot be. */
static void
service_submit(struct paknd *d, struct evhttp_request *req, const char *token,
               const char *msisdn, const char *args)
{
	struct service_call *c = xcalloc(1, sizeof *c);
	const char *values[3] = {token, msisdn, args};
	char *cause = NULL;

	c->d = d;
	c->req = req;
	if (db_submit(d->db, STMT_SERVICE_NEW, 3, values, NULL, NULL,
	              service_done, c, &cause) == 0)
		return;
	log_warnx("services: %s", cause);
	service_error(d, req, 503, "unavailable", "%s, retry later", cause);
	free(cause);
	free(c);
}

/* Handle POST /v1/services. */
static void
service_request(struct paknd *d, struct evhttp_request *req, const char *path,
                const char *arg)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	char token[TEXT_BEARER_MAX + 1], err[SERVICE_ERRLEN] = "", *phone,
	                                 *args;
	const char *reason;
	json_t *body;

	if (d->draining) {
		service_error(d, req, 503, "unavailable", "shutting down");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		                  "Allow", "POST");
		service_error(d, req, 405, "method_not_allowed",
		              "use POST here");
		return;
	}
	if ((long)evbuffer_get_length(in) > d->conf->max_body_size) {
		service_error(d, req, 413, "too_large", "body over %ld bytes",
		              d->conf->max_body_size);
		return;
	}
	if (http_bearer(req, token, &reason) != 0) {
		service_error(d, req, 401, "unauthorized", "%s", reason);
		return;
	}
	if ((body = service_body(req, err)) == NULL ||
	    (phone = service_phone(body, err)) == NULL) {
		json_decref(body);
		service_error(d, req, 400, "bad_request", "%s", err);
		return;
	}
	json_object_del(body, "phone");
	if ((args = json_dumps(body, JSON_COMPACT)) == NULL)
		fatalx("json_dumps");
	service_submit(d, req, token, phone, args);
	free(args);
	free(phone);
	json_decref(body);
}

/* Register POST /v1/services; it answers every error as JSON. */
void
service_routes(struct paknd *d)
{
	http_route_add(d, SERVICE_PATH, HTTP_JSON | HTTP_OWN_BODY,
	               service_request);
}
