/* dlr.h: delivery reports from the gateways, /v1/gw/{name}/dlr. */
#ifndef PAKN_DLR_H
#define PAKN_DLR_H

#include "http.h"

/* Handle GET|POST /v1/gw/{name}/dlr: authenticate, parse, record. */
void dlr_handle(struct paknd *d, struct evhttp_request *req,
                const char *gwname);

#endif
