/* open311_args.c: Open311 GeoReport v2 paths and parameters (pure). */

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "open311_args.h"
#include "phone.h"
#include "util.h"

/* Each operation: its path form, method and parameters. */
static const struct {
	enum open311_op op;
	const char *params[16];
} open311_params[] = {
    {O311_SERVICES, {"jurisdiction_id", NULL}},
    {O311_SERVICE, {"jurisdiction_id", NULL}},
    {O311_REQUESTS,
     {"jurisdiction_id", "service_request_id", "service_code", "start_date",
      "end_date", "status", NULL}},
    {O311_REQUEST, {"jurisdiction_id", NULL}},
    {O311_POST,
     {"jurisdiction_id", "service_code", "lat", "long", "address_string",
      "address_id", "email", "device_id", "account_id", "first_name",
      "last_name", "description", "media_url", NULL}},
    {O311_TOKEN, {"jurisdiction_id", NULL}},
};

static const char *op_names[] = {
    [O311_SERVICES] = "services", [O311_SERVICE] = "service",
    [O311_REQUESTS] = "requests", [O311_REQUEST] = "request",
    [O311_POST] = "post",         [O311_TOKEN] = "token",
};

/* The name pakn.open311 knows an operation by. */
const char *
open311_op_name(enum open311_op op)
{
	return op_names[op];
}

/* Is s[0..n) a usable id: 1 to OPEN311_ID_MAX of [A-Za-z0-9_.-]? */
static int
id_ok(const char *s, size_t n)
{
	if (n == 0 || n > OPEN311_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		      (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

/* Split "name.json" at its last dot: the name's length, or -1 with the
 * format refused. */
static long
format_json(const char *rest, const char **reason)
{
	const char *dot = strrchr(rest, '.');

	if (dot == NULL) {
		*reason = "no such endpoint: add the format (.json)";
		return -1;
	}
	if (strcmp(dot, ".json") != 0) {
		*reason = "format not supported: only .json is served";
		return -2;
	}
	return (long)(dot - rest);
}

/* Read the path after "/open311/v2/". */
int
open311_target(const char *rest, int post, struct open311_target *t,
               const char **reason)
{
	const char *slash = strchr(rest, '/'), *name;
	long n = format_json(slash != NULL ? slash + 1 : rest, reason);
	size_t base = slash != NULL ? (size_t)(slash - rest) : 0;

	memset(t, 0, sizeof *t);
	if (n < 0)
		return n == -2 ? 400 : 404;
	name = slash != NULL ? slash + 1 : rest;
	if (slash == NULL && (size_t)n == 8 && !strncmp(rest, "services", 8))
		t->op = O311_SERVICES;
	else if (slash == NULL && (size_t)n == 8 &&
	         !strncmp(rest, "requests", 8))
		t->op = post ? O311_POST : O311_REQUESTS;
	else if (slash != NULL && id_ok(name, (size_t)n) &&
	         ((base == 8 && !strncmp(rest, "services", 8)) ||
	          (base == 8 && !strncmp(rest, "requests", 8)) ||
	          (base == 6 && !strncmp(rest, "tokens", 6)))) {
		t->op = rest[0] == 't'                     ? O311_TOKEN
		        : rest[1] == 'e' && rest[2] == 'r' ? O311_SERVICE
		                                           : O311_REQUEST;
		memcpy(t->id, name, (size_t)n);
	} else {
		*reason = "no such endpoint";
		return 404;
	}
	if (post && t->op != O311_POST) {
		*reason = "method not allowed: POST only to requests.json";
		return 405;
	}
	return 0;
}

/* Is key one of op's parameters? */
static int
param_known(enum open311_op op, const char *key)
{
	for (size_t i = 0; i < sizeof open311_params / sizeof *open311_params;
	     i++)
		if (open311_params[i].op == op)
			for (int j = 0; open311_params[i].params[j]; j++)
				if (!strcmp(key, open311_params[i].params[j]))
					return 1;
	return 0;
}

/* Check one value: UTF-8 text without NUL, bounded; NULL or why. */
static const char *
value_problem(const struct kv *kv)
{
	if (kv->vlen > OPEN311_VALUE_MAX)
		return "too long";
	if (strlen(kv->val) != kv->vlen || !text_utf8_valid(kv->val, kv->vlen))
		return "not UTF-8 text";
	return NULL;
}

/* Take out api_key and phone (normalised); -1 and *cause. */
static int
post_extras(const struct form *f, char **api_key, char **phone, char **cause)
{
	const struct kv *k = form_get(f, "api_key"), *p = form_get(f, "phone");
	char *why = NULL;

	if (k != NULL && k->val[0] != '\0')
		*api_key = xstrdup(k->val);
	if (p == NULL || p->val[0] == '\0')
		return 0;
	if ((*phone = phone_normalize(p->val, &why)) == NULL) {
		*cause = xasprintf("phone: %s", why);
		free(why);
		return -1;
	}
	if (phone_plan(*phone) != NULL) {
		*cause =
		    xasprintf("phone: %s", phone_flag_text(phone_plan(*phone)));
		return -1;
	}
	return 0;
}

/* Add one parameter to o; -1 and *cause when it cannot be. */
static int
args_add(json_t *o, const struct kv *kv, char **cause)
{
	const char *why = value_problem(kv);
	json_t *old = json_object_get(o, kv->key);

	if (why != NULL) {
		*cause = xasprintf("%.40s: %s", kv->key, why);
		return -1;
	}
	if (old != NULL && strcmp(json_string_value(old), kv->val) != 0) {
		*cause = xasprintf("%.40s: given twice", kv->key);
		return -1;
	}
	json_object_set_new(o, kv->key, json_string(kv->val));
	return 0;
}

/* The parameters of t's operation as a JSON object. */
char *
open311_args(const struct open311_target *t, const struct form *f,
             char **api_key, char **phone, char **cause)
{
	json_t *o = json_object();
	char *out = NULL;

	*api_key = *phone = NULL;
	if (o == NULL)
		fatalx("json_object");
	for (size_t i = 0; i < f->n; i++)
		if (param_known(t->op, f->v[i].key) &&
		    args_add(o, &f->v[i], cause) != 0)
			goto fail;
	if (t->id[0] != '\0')
		json_object_set_new(o,
		                    t->op == O311_SERVICE ? "code"
		                    : t->op == O311_TOKEN ? "token"
		                                          : "id",
		                    json_string(t->id));
	if (t->op == O311_POST && post_extras(f, api_key, phone, cause) != 0)
		goto fail;
	if ((out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		fatalx("json_dumps");
	json_decref(o);
	return out;
fail:
	json_decref(o);
	free(*api_key);
	free(*phone);
	*api_key = *phone = NULL;
	return NULL;
}
