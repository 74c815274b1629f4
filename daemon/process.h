/* process.h: the processing worker: stored messages become commands. */
#ifndef PAKN_PROCESS_H
#define PAKN_PROCESS_H

struct paknd;
struct buf;

/* Start the worker on d's loop (a timer, and process_kick). */
struct process *process_new(struct paknd *d);
/* Look for new messages now (one was stored); cheap when busy. */
void process_kick(struct process *p);
/* Claim nothing more (draining); what is in flight finishes. */
void process_stop(struct process *p);
/* Messages claimed and not yet processed. */
long process_pending(const struct process *p);
/* Its counters in the Prometheus text format. */
void process_metrics(const struct process *p, struct buf *b);
/* Stop the timer and free the worker. */
void process_free(struct process *p);

#endif
