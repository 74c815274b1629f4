/* metrics_http.h: GET /metrics, the Prometheus text format. */
#ifndef PAKN_METRICS_HTTP_H
#define PAKN_METRICS_HTTP_H

#include "http.h"

/* Seconds the gauges read from the database are reused for. */
#define METRICS_DB_TTL 5

/* Start keeping the database gauges for d. */
struct metrics *metrics_new(struct paknd *d);
void metrics_free(struct metrics *m);
/* Register GET /metrics with the server. */
void metrics_routes(struct paknd *d);

#endif
