/* ussd_session.c: a USSD session between two steps, as PostgreSQL keeps
 * and exchanges it (JSON, pure).
 *
 * pakn.ussd_session.state holds the machine's state (struct ussd_state);
 * pakn.ussd_menus and pakn.ussd_citizen give what the menus need to know
 * for one step (struct ussd_ctx); pakn.ussd_advance takes the action a
 * step asks for.
 * The machine itself (ussd.c) reads and writes only the structs.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ussd.h"
#include "ussd_session.h"
#include "util.h"

/* The names of the screens and flows in a saved state. */
static const char *const screen_names[US_NSCREENS] = {
    [US_MAIN] = "main", [US_DIM] = "dim",   [US_CAT] = "cat",
    [US_UNIT] = "unit", [US_TEXT] = "text", [US_CONFIRM] = "confirm",
    [US_RATE] = "rate", [US_SVC] = "svc",   [US_SCORE] = "score",
    [US_REG] = "reg",   [US_DONE] = "done",
};

static const char *const flow_names[] = {
    [UF_COMPLAINT] = "complaint",
    [UF_TICKET] = "ticket",
    [UF_SERVICE] = "service",
};

/* Set key to a string, or leave it out when s is NULL. */
static void
json_str(json_t *o, const char *key, const char *s)
{
	if (s != NULL)
		json_object_set_new(o, key, json_string(s));
}

/* The state as JSON. */
char *
ussd_state_json(const struct ussd_state *st)
{
	json_t *o = json_object();
	char *s;

	json_str(o, "screen", screen_names[st->screen]);
	json_str(o, "flow", flow_names[st->flow]);
	json_object_set_new(o, "page", json_integer(st->page));
	json_object_set_new(o, "dim", json_integer(st->dim));
	json_str(o, "cat", st->cat);
	json_str(o, "svc", st->svc);
	json_str(o, "unit", st->unit);
	json_str(o, "unit_name", st->unit_name);
	json_str(o, "text", st->text);
	json_str(o, "ticket", st->ticket);
	json_object_set_new(o, "cid", json_integer(st->cid));
	json_object_set_new(o, "score", json_integer(st->score));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		fatalx("json_dumps");
	return s;
}

/* A string member, copied, or NULL. */
static char *
get_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? xstrdup(s) : NULL;
}

/* An integer member within lo..hi, or lo. */
static long long
get_int(const json_t *o, const char *key, long long lo, long long hi)
{
	json_int_t v = json_integer_value(json_object_get(o, key));

	return v >= lo && v <= hi ? v : lo;
}

/* The index of name in a table of names, or -1. */
static int
name_index(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; name != NULL && i < n; i++) {
		if (names[i] != NULL && strcmp(names[i], name) == 0)
			return (int)i;
	}
	return -1;
}

/* Parse a saved state. */
int
ussd_state_parse(struct ussd_state *st, const char *json, char **cause)
{
	json_t *o = json_loads(json, 0, NULL);
	int screen, flow;

	memset(st, 0, sizeof *st);
	screen = name_index(json_string_value(json_object_get(o, "screen")),
	                    screen_names, US_NSCREENS);
	flow = name_index(json_string_value(json_object_get(o, "flow")),
	                  flow_names, 3);
	if (!json_is_object(o) || screen < 0 || flow < 0) {
		set_cause(cause, "not a USSD state");
		json_decref(o);
		return -1;
	}
	st->screen = (enum ussd_screen)screen;
	st->flow = (enum ussd_flow)flow;
	st->page = (int)get_int(o, "page", 0, 1000);
	st->dim = (int)get_int(o, "dim", 0, 8);
	st->cat = get_str(o, "cat");
	st->svc = get_str(o, "svc");
	st->unit = get_str(o, "unit");
	st->unit_name = get_str(o, "unit_name");
	st->text = get_str(o, "text");
	st->ticket = get_str(o, "ticket");
	st->cid = get_int(o, "cid", 0, INT64_MAX);
	st->score = (int)get_int(o, "score", 0, 5);
	json_decref(o);
	return 0;
}

/* Free the strings of a state and clear it. */
void
ussd_state_clear(struct ussd_state *st)
{
	free(st->cat);
	free(st->svc);
	free(st->unit);
	free(st->unit_name);
	free(st->text);
	free(st->ticket);
	memset(st, 0, sizeof *st);
}

static const char *action_names[] = {
    [UA_NONE] = "none",         [UA_COMPLAINT] = "complaint",
    [UA_RATE] = "rate",         [UA_RATE_SERVICE] = "rate_service",
    [UA_REGISTER] = "register",
};

/* The name of an action, for logs. */
const char *
ussd_action_name(enum ussd_action action)
{
	return action_names[action];
}

/* The action of out as JSON, or NULL. */
char *
ussd_action_json(const struct ussd_state *st, const struct ussd_out *out)
{
	json_t *o;
	char *s;

	if (out->action == UA_NONE)
		return NULL;
	o = json_object();
	json_str(o, "kind", action_names[out->action]);
	json_str(o, "category", st->cat);
	json_str(o, "service", st->svc);
	json_str(o, "unit", st->unit);
	json_str(o, "text", st->text);
	json_object_set_new(o, "complaint", json_integer(st->cid));
	json_object_set_new(o, "score", json_integer(st->score));
	json_object_set_new(o, "dim", json_integer(st->dim));
	json_str(o, "fail", out->fail);
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (s == NULL)
		fatalx("json_dumps");
	return s;
}

/* Parse an array of {code, label, dim} into *v; -1 if malformed. */
static int
items_parse(const json_t *a, struct ussd_item **v, size_t *n)
{
	size_t i;
	json_t *e;

	*v = NULL;
	*n = 0;
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return -1;
	*v = xcalloc(json_array_size(a) + 1, sizeof **v);
	json_array_foreach(a, i, e)
	{
		const char *code =
		    json_string_value(json_object_get(e, "code"));
		const char *label =
		    json_string_value(json_object_get(e, "label"));
		if (code == NULL || label == NULL)
			return -1;
		(*v)[i].code = xstrdup(code);
		(*v)[i].label = xstrdup(label);
		(*v)[i].dim = (int)get_int(e, "dim", 0, 8);
		*n = i + 1;
	}
	return 0;
}

/* Parse the open tickets; -1 if malformed. */
static int
tickets_parse(const json_t *a, struct ussd_ctx *ctx)
{
	size_t i;
	json_t *e;

	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a))
		return -1;
	ctx->open = xcalloc(json_array_size(a) + 1, sizeof *ctx->open);
	json_array_foreach(a, i, e)
	{
		struct ussd_ticket *t = &ctx->open[i];
		if ((t->ticket = get_str(e, "ticket")) == NULL)
			return -1;
		ctx->nopen = i + 1;
		t->status = get_str(e, "status");
		t->due = get_str(e, "due");
		if (t->status == NULL)
			t->status = xstrdup("");
		if (t->due == NULL)
			t->due = xstrdup("");
	}
	return 0;
}

/* Parse a {code, name} member into two strings (both or neither). */
static void
unit_parse(const json_t *o, const char *key, char **code, char **name)
{
	const json_t *u = json_object_get(o, key);

	*code = get_str(u, "code");
	*name = get_str(u, "name");
	if (*code == NULL || *name == NULL) {
		free(*code);
		free(*name);
		*code = *name = NULL;
	}
}

/* Parse a context's JSON into *ctx, example NULL when it has none. */
static int
ctx_parse(struct ussd_ctx *ctx, const char *json, char **cause)
{
	json_t *o = json_loads(json, 0, NULL), *ans;
	int diacritics = ctx->diacritics, bad;

	memset(ctx, 0, sizeof *ctx);
	ctx->diacritics = diacritics;
	bad = !json_is_object(o) ||
	      items_parse(json_object_get(o, "dims"), &ctx->dims,
	                  &ctx->ndims) != 0 ||
	      items_parse(json_object_get(o, "cats"), &ctx->cats,
	                  &ctx->ncats) != 0 ||
	      items_parse(json_object_get(o, "svcs"), &ctx->svcs,
	                  &ctx->nsvcs) != 0 ||
	      tickets_parse(json_object_get(o, "open"), ctx) != 0;
	if (!bad) {
		unit_parse(o, "home", &ctx->home_code, &ctx->home_name);
		unit_parse(o, "unit", &ctx->unit_code, &ctx->unit_name);
		ctx->example = get_str(o, "example");
		ans = json_object_get(o, "answered");
		ctx->answered_ticket = get_str(ans, "ticket");
		ctx->answered_id = ctx->answered_ticket != NULL
		                       ? get_int(ans, "id", 0, INT64_MAX)
		                       : 0;
	}
	json_decref(o);
	if (bad) {
		set_cause(cause, "not a USSD context");
		ussd_ctx_clear(ctx);
		return -1;
	}
	return 0;
}

/* Parse the JSON of pakn.ussd_menus and pakn.ussd_citizen in one object. */
int
ussd_ctx_parse(struct ussd_ctx *ctx, const char *json, char **cause)
{
	if (ctx_parse(ctx, json, cause) != 0)
		return -1;
	if (ctx->example == NULL)
		ctx->example = xstrdup("00004");
	return 0;
}

/* Which members a context lends (ussd_ctx_lend). */
#define LENT_DIMS    0x1
#define LENT_CATS    0x2
#define LENT_SVCS    0x4
#define LENT_EXAMPLE 0x8

/* The citizen's part, with the menus' lists and example lent where it
 * has none (menus parsed by ussd_ctx_parse: its example is set): a
 * member of the citizen's part wins, as the later of two equal keys of
 * one JSON object does. Parsing the menus at every step was a third of
 * paknd's time in the USSD bench. */
int
ussd_ctx_lend(struct ussd_ctx *ctx, const struct ussd_ctx *menus,
              const char *citizen, char **cause)
{
	if (ctx_parse(ctx, citizen, cause) != 0)
		return -1;
	if (ctx->dims == NULL) {
		ctx->dims = menus->dims;
		ctx->ndims = menus->ndims;
		ctx->lent |= LENT_DIMS;
	}
	if (ctx->cats == NULL) {
		ctx->cats = menus->cats;
		ctx->ncats = menus->ncats;
		ctx->lent |= LENT_CATS;
	}
	if (ctx->svcs == NULL) {
		ctx->svcs = menus->svcs;
		ctx->nsvcs = menus->nsvcs;
		ctx->lent |= LENT_SVCS;
	}
	if (ctx->example == NULL) {
		ctx->example = menus->example;
		ctx->lent |= LENT_EXAMPLE;
	}
	return 0;
}

/* Free the items of a list. */
static void
items_free(struct ussd_item *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].code);
		free(v[i].label);
	}
	free(v);
}

/* Free a context's strings and clear it (keeping diacritics). */
void
ussd_ctx_clear(struct ussd_ctx *ctx)
{
	int diacritics = ctx->diacritics;

	if (!(ctx->lent & LENT_DIMS))
		items_free(ctx->dims, ctx->ndims);
	if (!(ctx->lent & LENT_CATS))
		items_free(ctx->cats, ctx->ncats);
	if (!(ctx->lent & LENT_SVCS))
		items_free(ctx->svcs, ctx->nsvcs);
	for (size_t i = 0; i < ctx->nopen; i++) {
		free(ctx->open[i].ticket);
		free(ctx->open[i].status);
		free(ctx->open[i].due);
	}
	free(ctx->open);
	free(ctx->home_code);
	free(ctx->home_name);
	if (!(ctx->lent & LENT_EXAMPLE))
		free(ctx->example);
	free(ctx->unit_code);
	free(ctx->unit_name);
	free(ctx->answered_ticket);
	memset(ctx, 0, sizeof *ctx);
	ctx->diacritics = diacritics;
}
