/* deadline.h: the deadline worker: reminders, escalation, apologies. */
#ifndef PAKN_DEADLINE_H
#define PAKN_DEADLINE_H

struct paknd;
struct deadline;

/* Start the worker's timer on d's loop. */
struct deadline *deadline_new(struct paknd *d);
/* Run a pass now (tests, SIGUSR2). */
void deadline_kick(struct deadline *w);
/* Stop starting passes (draining). */
void deadline_stop(struct deadline *w);
/* 1 while a pass is in flight. */
int deadline_busy(const struct deadline *w);
void deadline_free(struct deadline *w);
struct buf;
/* Append the passes and actions (for /metrics). */
void deadline_metrics(const struct deadline *w, struct buf *b);

#endif
