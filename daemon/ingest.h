/* ingest.h: inbound SMS callbacks, stored before they are answered. */
#ifndef PAKN_INGEST_H
#define PAKN_INGEST_H

#include "http.h"

/* Handle POST|GET /v1/gw/{name}/sms. */
void ingest_sms(struct paknd *d, struct evhttp_request *req,
                const char *gwname);

#endif
