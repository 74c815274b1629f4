/* poster_http.h: GET /poster/UNIT, the printable poster of a commune. */
#ifndef PAKN_POSTER_HTTP_H
#define PAKN_POSTER_HTTP_H

#include "http.h"

/* Register GET /poster/UNIT with the server. */
void poster_routes(struct paknd *d);

#endif
