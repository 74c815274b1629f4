/* summary.h: the leaders' scheduled summary SMS. */
#ifndef PAKN_SUMMARY_H
#define PAKN_SUMMARY_H

struct paknd;
struct summary;

/* Start the schedule's timer on d's loop. */
struct summary *summary_new(struct paknd *d);
/* Look at the schedule now (tests, SIGUSR2). */
void summary_kick(struct summary *w);
/* Stop starting passes (draining). */
void summary_stop(struct summary *w);
void summary_free(struct summary *w);

#endif
