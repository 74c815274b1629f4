/* placespan.c: runs of words that may name a place (placespan.h). */

#include <stdlib.h>
#include <string.h>

#include "placespan.h"
#include "util.h"

/* pakn.place_kind_of, whole words: full names and abbreviations. */
static const struct {
	const char *words;
	const char *kind;
} kinds[] = {
    {"phuong", "phuong"},
    {"p", "phuong"},
    {"xa", "xa"},
    {"x", "xa"},
    {"dac khu", "dac khu"},
    {"thi tran", "thi tran"},
    {"tt", "thi tran"},
    {"quan", "quan"},
    {"q", "quan"},
    {"huyen", "huyen"},
    {"h", "huyen"},
    {"thi xa", "thi xa"},
    {"tx", "thi xa"},
    {"thanh pho", "thanh pho"},
    {"tp", "thanh pho"},
    {"tinh", "tinh"},
    {"o", "o"},
    {"tai", "o"},
};

/* See placespan.h. */
const char *
place_kind_of(const char *w, size_t n)
{
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (strlen(kinds[i].words) == n &&
		    memcmp(kinds[i].words, w, n) == 0)
			return kinds[i].kind;
	return NULL;
}

/* See placespan.h. */
size_t
place_head_bytes(const char *text, size_t len, size_t chars)
{
	size_t i = 0, n = 0;

	for (; i < len; i++)
		/* A byte that starts a character (not 10xxxxxx). */
		if (((unsigned char)text[i] & 0xc0) != 0x80 && n++ == chars)
			break;
	return i;
}

/* A word of the folded text: where it starts and its length. */
struct word {
	const char *s;
	size_t n;
};

/* The kind of the words w[a] and w[a + 1], one space apart. */
static const char *
kind_of_pair(const struct word *w, size_t a)
{
	char buf[16];

	if (w[a].n + w[a + 1].n + 1 >= sizeof buf)
		return NULL;
	memcpy(buf, w[a].s, w[a].n);
	buf[w[a].n] = ' ';
	memcpy(buf + w[a].n + 1, w[a + 1].s, w[a + 1].n);
	return place_kind_of(buf, w[a].n + 1 + w[a + 1].n);
}

/* See placespan.h. */
size_t
place_spans(const char *words, struct place_span **out)
{
	struct word *w = NULL;
	struct place_span *s = NULL;
	size_t nw = 0, cap = 0, ns = 0, scap = 0;
	const char *p = words;

	*out = NULL;
	/* The words: runs of anything but spaces. */
	while (*p != '\0') {
		size_t n;

		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		n = strcspn(p, " ");
		if (nw == cap) {
			cap = cap ? cap * 2 : 64;
			w = xreallocarray(w, cap, sizeof *w);
		}
		w[nw].s = p;
		w[nw++].n = n;
		p += n;
	}
	/* i counts from 0 here, from 1 in SQL: "i > 2" is i >= 2. */
	for (size_t i = 1; i < nw && i < PLACE_SPAN_STARTS; i++) {
		const char *kind = NULL;

		if (i >= 2)
			kind = kind_of_pair(w, i - 2);
		if (kind == NULL)
			kind = place_kind_of(w[i - 1].s, w[i - 1].n);
		if (kind == NULL)
			continue;
		for (size_t n = 1; n <= PLACE_SPAN_WORDS && i + n <= nw; n++) {
			const char *end = w[i + n - 1].s + w[i + n - 1].n;

			if (ns == scap) {
				scap = scap ? scap * 2 : 16;
				s = xreallocarray(s, scap, sizeof *s);
			}
			/* The words are one space apart in the folded text. */
			s[ns].key = xstrndup(w[i].s, (size_t)(end - w[i].s));
			s[ns++].kind = kind;
		}
	}
	free(w);
	*out = s;
	return ns;
}

/* See placespan.h. */
void
place_spans_free(struct place_span *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i].key);
	free(s);
}
