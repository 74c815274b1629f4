/* dlr.h: delivery reports from the gateways, /v1/gw/{name}/dlr. */
#ifndef PAKN_DLR_H
#define PAKN_DLR_H

#include "http.h"

/* Register GET|POST /v1/gw/{name}/dlr with the server: authenticate,
 * parse, record. */
void dlr_routes(struct paknd *d);

#endif
