/* stats.h: statistics for leaders over HTTP (/v1/stats, the public
 * monthly report, the dashboard) and the timer that folds the deltas. */
#ifndef PAKN_STATS_H
#define PAKN_STATS_H

#include <event2/http.h>

struct paknd;
struct stats;

/* Register /v1/stats[.csv], /public/report/ and the dashboard's files. */
void stats_routes(struct paknd *d);

/* Start the fold timer on d's loop. */
struct stats *stats_new(struct paknd *d);
/* Stop starting folds (draining). */
void stats_stop(struct stats *s);
/* 1 while a fold is in flight. */
int stats_busy(const struct stats *s);
void stats_free(struct stats *s);
struct buf;
/* Append the folds (for /metrics). */
void stats_metrics(const struct stats *s, struct buf *b);

#endif
