/* survey.h: the survey worker: samples the services one-stop shops
 * report, sends survey SMS by day, reminds once, expires. */
#ifndef PAKN_SURVEY_H
#define PAKN_SURVEY_H

struct paknd;
struct survey;

/* Start the worker's timer on d's loop ([survey] interval). */
struct survey *survey_new(struct paknd *d);
/* Run a pass now (SIGUSR2). */
void survey_kick(struct survey *w);
/* Stop starting passes (draining). */
void survey_stop(struct survey *w);
/* 1 while a pass is in flight. */
int survey_busy(const struct survey *w);
void survey_free(struct survey *w);

#endif
