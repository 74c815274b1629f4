/* open311.h: Open311 GeoReport v2 over HTTP (/open311/v2/...). */
#ifndef PAKN_OPEN311_H
#define PAKN_OPEN311_H

#include "http.h"

/* Answer a request for /open311/v2/<rest>: services, service
 * definitions, requests (list, one, POST) and tokens, in JSON; errors
 * are the spec's array [{"code", "description"}]. */
void open311_route(struct paknd *d, struct evhttp_request *req,
                   const char *rest);

#endif
