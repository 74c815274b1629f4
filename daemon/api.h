/* api.h: the officials' JSON API: their queue of complaints, one
 * complaint with its history, and the actions on it. */
#ifndef PAKN_API_H
#define PAKN_API_H

#include "http.h"

/* Is path one of the API's (/v1/complaints and below)? */
int api_path(const char *path);

/*
 * Handle a request for an API path: GET /v1/complaints, GET
 * /v1/complaints/{ticket}, POST /v1/complaints/{ticket}/{answer|transfer|
 * reject|extend|reopen}. Checks the body size and draining itself, so
 * every answer, errors included, is JSON.
 */
void api_request(struct paknd *d, struct evhttp_request *req, const char *path);

#endif
