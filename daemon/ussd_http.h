/* ussd_http.h: USSD callbacks (/v1/gw/NAME/ussd) on the event loop. */
#ifndef PAKN_USSD_HTTP_H
#define PAKN_USSD_HTTP_H

#include "http.h"

/* Handle POST|GET /v1/gw/{name}/ussd: one step of a USSD session. */
void ussd_http(struct paknd *d, struct evhttp_request *req, const char *gwname);

#endif
