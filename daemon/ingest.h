/* ingest.h: inbound SMS callbacks, stored before they are answered. */
#ifndef PAKN_INGEST_H
#define PAKN_INGEST_H

#include "http.h"

/* Register POST|GET /v1/gw/{name}/sms with the server. */
void ingest_routes(struct paknd *d);

#endif
