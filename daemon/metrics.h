/* metrics.h: counters, gauges and histograms in the Prometheus text
 * format. Each module keeps its own (no personal data in names or
 * labels: gateway names, answer codes, outcomes, SQLSTATE classes);
 * metrics_http.c gathers them for GET /metrics. */
#ifndef PAKN_METRICS_H
#define PAKN_METRICS_H

#include "util.h"

#define METRICS_MAX_LABELS 3

/* One series of a labelled counter. */
struct mseries {
	char *values[METRICS_MAX_LABELS];
	long long n;
};

/* A counter with labels; its series appear as they are first counted. */
struct mcounter {
	const char *name;
	const char *help;
	int nlabels;
	const char *labels[METRICS_MAX_LABELS];
	struct mseries *series;
	size_t nseries;
};

/* A histogram without labels over fixed upper bounds. */
struct mhist {
	const char *name;
	const char *help;
	const double *le; /* increasing upper bounds, +Inf implied */
	int nle;
	long long buckets[16]; /* observations <= le[i] (not cumulative) */
	long long count;
	double sum;
};

/* Add n to the series of c named by its label values (nlabels of them). */
void mcounter_add(struct mcounter *c, long long n, ...);
/* The value of a series, 0 if it was never counted. */
long long mcounter_get(const struct mcounter *c, ...);
/* Free the series (the counter can count again). */
void mcounter_clear(struct mcounter *c);
/* Count one observation. */
void mhist_observe(struct mhist *h, double v);

/* Write the HELP and TYPE lines of a family. */
void metrics_head(struct buf *b, const char *name, const char *type,
                  const char *help);
/* Write the series of a counter (or histogram), each with the constant
 * labels extra (such as pool="read", or NULL) before its own. */
void metrics_counter_series(struct buf *b, const struct mcounter *c,
                            const char *extra);
void metrics_hist_series(struct buf *b, const struct mhist *h,
                         const char *extra);
/* Write a counter family with all its series. */
void metrics_counter(struct buf *b, const struct mcounter *c);
/* Write a histogram family. */
void metrics_hist(struct buf *b, const struct mhist *h);
/* Write one sample: name{labels} value; labels may be NULL or "". */
void metrics_sample(struct buf *b, const char *name, const char *labels,
                    double v);
/* Write a family of one sample without labels: its HELP and TYPE lines
 * and name value. */
void metrics_one(struct buf *b, const char *name, const char *type,
                 const char *help, double v);
/* Write a label value escaped as the text format wants (\\, \", \n). */
void metrics_label_value(struct buf *b, const char *v);

#endif
