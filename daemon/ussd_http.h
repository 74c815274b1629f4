/* ussd_http.h: USSD callbacks (/v1/gw/NAME/ussd) on the event loop. */
#ifndef PAKN_USSD_HTTP_H
#define PAKN_USSD_HTTP_H

#include "http.h"

/* Register POST|GET /v1/gw/{name}/ussd (one step of a USSD session). */
void ussd_http_routes(struct paknd *d);
/* Append the USSD steps answered by gateway and result (/metrics). */
void ussd_http_metrics(struct buf *b);
/* Forget the counted steps (at exit). */
void ussd_http_metrics_clear(void);

#endif
