/* service.h: POST /v1/services: one-stop shops report finished
 * procedures, which pakn surveys by SMS. */
#ifndef PAKN_SERVICE_H
#define PAKN_SERVICE_H

#include "http.h"

/* Register POST /v1/services (a Bearer token of an official of the unit
 * that served); every answer, errors included, is JSON like the
 * officials' API: {"error": {"code", "message"}}. */
void service_routes(struct paknd *d);

#endif
