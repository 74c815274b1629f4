/* api.h: the officials' JSON API: their queue of complaints, one
 * complaint with its history, and the actions on it. */
#ifndef PAKN_API_H
#define PAKN_API_H

#include "http.h"

/* Register the officials' API with the server: GET /v1/complaints, GET
 * /v1/complaints/{ticket}, POST /v1/complaints/{ticket}/{action}, GET
 * /v1/transfers. */
void api_routes(struct paknd *d);

#endif
