/* ussd_http.h: USSD callbacks (/v1/gw/NAME/ussd) on the event loop. */
#ifndef PAKN_USSD_HTTP_H
#define PAKN_USSD_HTTP_H

#include "http.h"

/* Register POST|GET /v1/gw/{name}/ussd (one step of a USSD session). */
void ussd_http_routes(struct paknd *d);
/* Append the USSD steps answered by gateway and result, the database
 * calls and the sessions kept (/metrics). */
void ussd_http_metrics(struct buf *b);
/* Forget the counted steps and the kept sessions (at exit). */
void ussd_http_clear(void);

#endif
