/* open311.h: Open311 GeoReport v2 over HTTP (/open311/v2/...). */
#ifndef PAKN_OPEN311_H
#define PAKN_OPEN311_H

#include "http.h"

/* Register /open311/v2/ with the server: services, service definitions,
 * requests (list, one, POST) and tokens, in JSON; errors are the spec's
 * array [{"code", "description"}]. */
void open311_routes(struct paknd *d);

#endif
