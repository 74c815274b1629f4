/* placespan.h: the runs of words a complaint's text may name its place
 * by, as pakn.place_spans gives them (sql/functions/places.sql), so that
 * the processing worker hands them to pakn.place_match_spans instead of
 * the database cutting every text into words (issue 12: the words and
 * their runs were about 90 us of PostgreSQL's time a complaint located by
 * name, more than the look-ups).
 *
 * The folded words themselves come from the classifier
 * (classifier_words: pakn.fold_words), of the text's first
 * PLACE_HEAD_CHARS characters (pakn.place_match reads
 * pakn.place_words(left(text, 2000))).
 */
#ifndef PAKN_PLACESPAN_H
#define PAKN_PLACESPAN_H

#include <stddef.h>

#define PLACE_HEAD_CHARS  2000 /* left(p_text, 2000) of pakn.place_match */
#define PLACE_SPAN_STARTS 300  /* runs start at the first 300 words */
#define PLACE_SPAN_WORDS  5    /* a run is 1 to 5 words */

struct place_span {
	char *key;        /* the run's words, one space apart */
	const char *kind; /* the kind written before it: pakn.place_kind_of */
};

/*
 * The kind that folded words name as written before a place name, as
 * pakn.place_kind_of: phuong, xa, dac khu, thi tran, quan, huyen,
 * thi xa, thanh pho, tinh, or o ("o", "tai"); NULL for any other words.
 * w[0..n) is compared whole.
 */
const char *place_kind_of(const char *w, size_t n);

/*
 * The length in bytes of the first chars characters of UTF-8 text[0..len)
 * (left(text, chars) of PostgreSQL, whose texts are valid UTF-8).
 */
size_t place_head_bytes(const char *text, size_t len, size_t chars);

/*
 * The runs of words of folded words (" w1 w2 ... ", as pakn.fold_words
 * writes them) that have a kind written before them, as
 * pakn.place_spans(words, false) gives them: each run of 1 to 5 words
 * starting at one of the first 300 words, its kind the two words before
 * it when they name one (thi xa, ...), else the word before it. In the
 * order of their first word, then length. *out is malloc'd (NULL when
 * there are none); free with place_spans_free. Returns how many.
 */
size_t place_spans(const char *words, struct place_span **out);
void place_spans_free(struct place_span *s, size_t n);

#endif
