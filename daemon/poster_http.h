/* poster_http.h: GET /poster/UNIT, the printable poster of a commune. */
#ifndef PAKN_POSTER_HTTP_H
#define PAKN_POSTER_HTTP_H

#include "http.h"

/* Answer a request whose path is /poster/...; 0 if the path is not. */
int poster_route(struct paknd *d, struct evhttp_request *req, const char *path);

#endif
