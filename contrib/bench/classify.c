/* classify.c: per message, classification in C (daemon/classify.c)
 * against pakn.category_of in PostgreSQL, over the labelled corpus
 * (tests/data/classify.tsv). Built and run by contrib/bench/classify.
 *   classify CONNINFO CORPUS [ROUNDS]                                  */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "classify.h"

/* Seconds of the monotonic clock. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	char *text = NULL, *line, *save = NULL, *t, *all, *p, *cause = NULL;
	char *msgs[1024];
	size_t n = 0, len = 0, cap = 0, diff = 0;
	int rounds = argc > 3 ? atoi(argv[3]) : 200;
	FILE *f;
	PGconn *conn;
	PGresult *res;
	struct classifier *c;
	double t0, csec, ssec;

	if (argc < 3 || (f = fopen(argv[2], "r")) == NULL ||
	    getdelim(&text, &cap, '\0', f) < 0)
		return 2;
	for (line = strtok_r(text, "\n", &save); line && n < 1024;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] != '#' && (t = strchr(line, '\t')) &&
		    (t = strchr(t + 1, '\t')))
			msgs[n++] = t + 1, len += strlen(t + 1) + 1;
	}
	conn = PQconnectdb(argv[1]);
	if ((c = classifier_load(conn, &cause)) == NULL) {
		fprintf(stderr, "%s\n", cause);
		return 1;
	}
	t0 = now();
	for (int r = 0; r < rounds; r++)
		for (size_t i = 0; i < n; i++)
			classifier_category(c, msgs[i], strlen(msgs[i]));
	csec = (now() - t0) / rounds / n;
	p = all = malloc(len + 1);
	for (size_t i = 0; i < n; i++)
		p = stpcpy(stpcpy(p, msgs[i]), i + 1 < n ? "\x1f" : "");
	const char *v[1] = {all};
	/* One statement per round: the function's cost, no round trips. */
	t0 = now();
	for (int r = 0; r < 5; r++) {
		res = PQexecParams(conn,
		                   "SELECT pakn.category_of(x.t) FROM unnest("
		                   "string_to_array($1, E'\\x1f')) WITH "
		                   "ORDINALITY x(t, i) ORDER BY x.i",
		                   1, NULL, v, NULL, NULL, 0);
		if (PQntuples(res) != (int)n)
			return 1;
		for (size_t i = 0; r == 0 && i < n; i++)
			diff += strcmp(PQgetvalue(res, (int)i, 0),
			               classifier_category(
			                   c, msgs[i], strlen(msgs[i]))) != 0;
		PQclear(res);
	}
	ssec = (now() - t0) / 5 / n;
	printf("%zu messages (%zu keyword patterns), %zu classified "
	       "otherwise\n",
	       n, classifier_size(c), diff);
	printf("C   classifier_category  %8.1f us/message\n", csec * 1e6);
	printf("SQL pakn.category_of     %8.1f us/message\n", ssec * 1e6);
	printf("ratio SQL/C              %8.0fx\n", ssec / csec);
	classifier_free(c);
	PQfinish(conn);
	free(all);
	free(text);
	return diff != 0;
}
