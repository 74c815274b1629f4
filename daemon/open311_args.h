/* open311_args.h: Open311 GeoReport v2 paths and parameters (pure). */
#ifndef PAKN_OPEN311_ARGS_H
#define PAKN_OPEN311_ARGS_H

#include "text.h"

#define OPEN311_ID_MAX    64   /* a service code, request id or token */
#define OPEN311_VALUE_MAX 8000 /* bytes of one parameter's value */

enum open311_op {
	O311_SERVICES, /* GET services.json */
	O311_SERVICE,  /* GET services/{code}.json */
	O311_REQUESTS, /* GET requests.json */
	O311_REQUEST,  /* GET requests/{id}.json */
	O311_POST,     /* POST requests.json */
	O311_TOKEN,    /* GET tokens/{token}.json */
};

struct open311_target {
	enum open311_op op;
	char id[OPEN311_ID_MAX + 1]; /* the path's code, id or token */
};

/* The name pakn.open311 knows an operation by. */
const char *open311_op_name(enum open311_op op);

/*
 * Read the path after "/open311/v2/" of a GET (post 0) or POST request
 * into t. Returns 0, or an HTTP status (404 no such endpoint, 400 a
 * format other than .json, 405 a method the endpoint does not take) with
 * *reason, a constant sentence.
 */
int open311_target(const char *rest, int post, struct open311_target *t,
                   const char **reason);

/*
 * The parameters of t's operation in f as a JSON object (compact text,
 * malloc'd), with the path's id under "code", "id" or "token"; unknown
 * parameters are ignored, as the spec lets clients send more. For a POST,
 * *api_key (malloc'd, or NULL) and *phone (the reporter's phone in
 * E.164, malloc'd, or NULL when none is given) come out apart. NULL and
 * *cause (malloc'd) when a value is not UTF-8 text, too long, given twice
 * with different values, or the phone is not a mobile number.
 */
char *open311_args(const struct open311_target *t, const struct form *f,
                   char **api_key, char **phone, char **cause);

#endif
