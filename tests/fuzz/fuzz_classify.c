/* fuzz_classify.c: classification of arbitrary bytes (daemon/classify.c)
 * with a fixed keyword list; the answer is always one of its categories
 * or "general". The runs of words a place may be named by
 * (daemon/placespan.c) of the same bytes: 1 to 5 words of a-z and 0-9,
 * each with a kind. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "placespan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keyword patterns as pakn.category stores them (folded words). */
static const struct classifier_pattern patterns[] = {
    {"corruption", 3, 0, " hoi lo "},   {"corruption", 3, 1, " hoi lo "},
    {"corruption", 3, 1, " doi 0 tr "}, {"corruption", 3, 1, " xin 0 k "},
    {"flooding", 5, 0, " ngap "},       {"flooding", 5, 0, " ngap nuoc "},
    {"general", 4, 0, " hoi "},         {"roads", 7, 0, " duong "},
    {"roads", 7, 0, " o ga "},          {"construction", 2, 0, " xay dung "},
    {"construction", 2, 0, " dung "},   {"a", 1, 0, " a "},
    {"numbers", 6, 0, " 0 tr "},
};

/* The classifier, built once: C.UTF-8 classes when installed. */
static struct classifier *
classifier(void)
{
	static struct classifier *c;
	size_t n = sizeof patterns / sizeof *patterns;

	if (c == NULL)
		c = classifier_new(patterns, n, "C.UTF-8", 0, NULL);
	if (c == NULL)
		c = classifier_new(patterns, n, "C", 0, NULL);
	if (c == NULL)
		abort();
	return c;
}

/* Is code one a classifier may answer? */
static int
known(const char *code)
{
	if (strcmp(code, "general") == 0)
		return 1;
	for (size_t i = 0; i < sizeof patterns / sizeof *patterns; i++) {
		if (strcmp(code, patterns[i].code) == 0)
			return 1;
	}
	return 0;
}

/* Words hold only ' ', a-z and 0-9, start and end with a space. */
static void
check_words(const char *w)
{
	size_t n = strlen(w);

	if (n < 2 || w[0] != ' ' || w[n - 1] != ' ' ||
	    strspn(w, " abcdefghijklmnopqrstuvwxyz0123456789") != n)
		abort();
}

/* Each run: words of a-z 0-9 one space apart, 1 to 5, with a kind. */
static void
check_spans(const struct place_span *sp, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *k = sp[i].key;
		size_t len = strlen(k), words = 1;

		if (len == 0 || k[0] == ' ' || k[len - 1] == ' ' ||
		    strstr(k, "  ") != NULL ||
		    strspn(k, " abcdefghijklmnopqrstuvwxyz0123456789") != len ||
		    sp[i].kind == NULL ||
		    place_kind_of(sp[i].kind, strlen(sp[i].kind)) == NULL)
			abort();
		for (size_t j = 0; j < len; j++)
			words += k[j] == ' ';
		if (words > PLACE_SPAN_WORDS)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct classifier *c = classifier();
	const char *s = (const char *)data;
	struct place_span *sp;
	size_t head, n;
	char *w;

	if (!known(classifier_category(c, s, size)))
		abort();
	for (int untyped = 0; untyped < 2; untyped++) {
		w = classifier_words(c, s, size, untyped);
		check_words(w);
		free(w);
	}
	/* The head ends where a character starts, within the bytes. */
	head = place_head_bytes(s, size, 40);
	if (head > size || (head < size && (data[head] & 0xc0) == 0x80))
		abort();
	w = classifier_words(c, s, place_head_bytes(s, size, PLACE_HEAD_CHARS),
	                     0);
	n = place_spans(w, &sp);
	check_spans(sp, n);
	place_spans_free(sp, n);
	free(w);
	return 0;
}
