/* metrics.c: counters, gauges and histograms in the Prometheus text
 * format (version 0.0.4). Pure: the modules own their counters and
 * metrics_http.c writes them out. */

#include <math.h> /* isinf */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

/* Find the series of c with these label values, or NULL. */
static struct mseries *
mcounter_find(const struct mcounter *c, const char *const *v)
{
	for (size_t i = 0; i < c->nseries; i++) {
		int j;
		for (j = 0; j < c->nlabels; j++)
			if (strcmp(c->series[i].values[j], v[j]) != 0)
				break;
		if (j == c->nlabels)
			return &c->series[i];
	}
	return NULL;
}

/* Read nlabels label values from ap ("" for NULL ones). */
static void
mcounter_args(const struct mcounter *c, const char **v, va_list ap)
{
	for (int i = 0; i < c->nlabels; i++) {
		v[i] = va_arg(ap, const char *);
		if (v[i] == NULL)
			v[i] = "";
	}
}

/* Add n to the series of c named by its label values. */
void
mcounter_add(struct mcounter *c, long long n, ...)
{
	const char *v[METRICS_MAX_LABELS];
	struct mseries *s;
	va_list ap;

	va_start(ap, n);
	mcounter_args(c, v, ap);
	va_end(ap);
	if ((s = mcounter_find(c, v)) == NULL) {
		c->series =
		    xreallocarray(c->series, c->nseries + 1, sizeof *c->series);
		s = &c->series[c->nseries++];
		memset(s, 0, sizeof *s);
		for (int i = 0; i < c->nlabels; i++)
			s->values[i] = xstrdup(v[i]);
	}
	s->n += n;
}

/* The value of a series, 0 if it was never counted. */
long long
mcounter_get(const struct mcounter *c, ...)
{
	const char *v[METRICS_MAX_LABELS];
	const struct mseries *s;
	va_list ap;

	va_start(ap, c);
	mcounter_args(c, v, ap);
	va_end(ap);
	s = mcounter_find(c, v);
	return s != NULL ? s->n : 0;
}

/* Free the series. */
void
mcounter_clear(struct mcounter *c)
{
	for (size_t i = 0; i < c->nseries; i++)
		for (int j = 0; j < c->nlabels; j++)
			free(c->series[i].values[j]);
	free(c->series);
	c->series = NULL;
	c->nseries = 0;
}

/* Count one observation. */
void
mhist_observe(struct mhist *h, double v)
{
	int i;

	for (i = 0; i < h->nle && v > h->le[i]; i++)
		;
	if (i < h->nle)
		h->buckets[i]++;
	h->count++;
	h->sum += v;
}

/* Write the HELP and TYPE lines of a family. */
void
metrics_head(struct buf *b, const char *name, const char *type,
             const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Write a label value escaped. */
void
metrics_label_value(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			buf_addc(b, '\\');
		if (*v == '\n') {
			buf_adds(b, "\\n");
			continue;
		}
		buf_addc(b, *v);
	}
}

/* Write a number as the text format wants it. */
static void
metrics_number(struct buf *b, double v)
{
	if (isinf(v))
		buf_adds(b, v > 0 ? "+Inf" : "-Inf");
	else if (v == (double)(long long)v && (v < 0 ? -v : v) < 1e15)
		buf_printf(b, "%lld", (long long)v);
	else
		buf_printf(b, "%.9g", v);
}

/* Write one sample. */
void
metrics_sample(struct buf *b, const char *name, const char *labels, double v)
{
	buf_adds(b, name);
	if (labels != NULL && *labels != '\0')
		buf_printf(b, "{%s}", labels);
	buf_addc(b, ' ');
	metrics_number(b, v);
	buf_addc(b, '\n');
}

/* Write a family of one sample without labels. */
void
metrics_one(struct buf *b, const char *name, const char *type, const char *help,
            double v)
{
	metrics_head(b, name, type, help);
	metrics_sample(b, name, NULL, v);
}

/* Write the series of a counter, each with the labels extra (a
 * constant such as pool="read", or NULL) before its own. */
void
metrics_counter_series(struct buf *b, const struct mcounter *c,
                       const char *extra)
{
	int has = extra != NULL && *extra != '\0';

	for (size_t i = 0; i < c->nseries; i++) {
		buf_adds(b, c->name);
		if (has)
			buf_printf(b, "{%s", extra);
		for (int j = 0; j < c->nlabels; j++) {
			buf_printf(b, "%s%s=\"", j == 0 && !has ? "{" : ",",
			           c->labels[j]);
			metrics_label_value(b, c->series[i].values[j]);
			buf_addc(b, '"');
		}
		buf_printf(b, "%s %lld\n", c->nlabels > 0 || has ? "}" : "",
		           c->series[i].n);
	}
}

/* Write a counter family with all its series. */
void
metrics_counter(struct buf *b, const struct mcounter *c)
{
	metrics_head(b, c->name, "counter", c->help);
	metrics_counter_series(b, c, NULL);
}

/* Write the samples of a histogram (cumulative buckets, sum, count),
 * each with the labels extra first (or NULL). */
void
metrics_hist_series(struct buf *b, const struct mhist *h, const char *extra)
{
	const char *x = extra != NULL ? extra : "";
	const char *sep = *x != '\0' ? "," : "";
	long long cum = 0;
	char name[128], lab[256];

	snprintf(name, sizeof name, "%s_bucket", h->name);
	for (int i = 0; i < h->nle; i++) {
		cum += h->buckets[i];
		snprintf(lab, sizeof lab, "%s%sle=\"%g\"", x, sep, h->le[i]);
		metrics_sample(b, name, lab, (double)cum);
	}
	snprintf(lab, sizeof lab, "%s%sle=\"+Inf\"", x, sep);
	metrics_sample(b, name, lab, (double)h->count);
	snprintf(name, sizeof name, "%s_sum", h->name);
	metrics_sample(b, name, x, h->sum);
	snprintf(name, sizeof name, "%s_count", h->name);
	metrics_sample(b, name, x, (double)h->count);
}

/* Write a histogram family. */
void
metrics_hist(struct buf *b, const struct mhist *h)
{
	metrics_head(b, h->name, "histogram", h->help);
	metrics_hist_series(b, h, NULL);
}
