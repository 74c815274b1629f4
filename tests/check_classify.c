/*
 * check_classify.c: classification in C (daemon/classify.c) against
 * pakn.category_of in the real database, text by text: every keyword of
 * every category as people type it (cases, diacritics, decomposed, Telex
 * and VNI habits, amounts), glued into longer words, in sentences, mixed
 * with a sensitive keyword, around the head cuts (3 000 characters, 300
 * words), random Vietnamese sentences and random Unicode, the labelled
 * corpus (tests/data/classify.tsv), empty text; the folding of every
 * code point (pakn.fold_words, pakn.untype_words); a category changed:
 * the trigger's NOTIFY and version, a classifier read again follows it,
 * and the running paknd reads it again (by its check and on SIGHUP).
 *
 * main() starts one cluster and one paknd (which migrates the schema).
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "classify.h"
#include "harness.h"

#ifndef PAKN_SRCDIR
#define PAKN_SRCDIR "."
#endif

#define SEP "\x1f" /* between texts sent to SQL in one parameter */

/* A list of texts. */
struct texts {
	char **v;
	size_t n, cap;
};

/* Add a copy of s. */
static void
add(struct texts *t, const char *s)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->v = realloc(t->v, t->cap * sizeof(*t->v));
		ck_assert_ptr_nonnull(t->v);
	}
	t->v[t->n++] = strdup(s);
}

static void
texts_free(struct texts *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	memset(t, 0, sizeof(*t));
}

/* The test's classifier, read from the test database. */
static struct classifier *
load(void)
{
	char *cause = NULL;
	struct classifier *c = classifier_load(test_db(), &cause);

	ck_assert_msg(c != NULL, "classifier_load: %s", cause);
	return c;
}

/* Print s with its control and non-ASCII bytes escaped, shortened. */
static void
show(const char *what, const char *s)
{
	size_t n = strlen(s);

	fprintf(stderr, "  %s (%zu bytes): \"", what, n);
	for (size_t i = 0; i < n; i++) {
		if (n > 400 && i == 150) {
			fprintf(stderr, "...");
			i = n - 150;
		}
		unsigned char b = (unsigned char)s[i];
		if (b < 0x20 || b == 0x7f || b == '"')
			fprintf(stderr, "\\x%02x", b);
		else
			fputc(b, stderr);
	}
	fprintf(stderr, "\"\n");
}

/*
 * Run sql (one parameter: the texts joined by SEP, as $1, split into
 * rows t ordered by i) and compare its first column, row by row, with
 * what f gives in C; the number of texts that differ (the first few are
 * printed).
 */
static size_t
compare_with(const struct texts *t, const char *sql,
             char *(*f)(struct classifier *, const char *),
             struct classifier *c, const char *what)
{
	size_t len = 1, bad = 0, i;
	char *all, *p, *got;
	PGresult *res;

	for (i = 0; i < t->n; i++)
		len += strlen(t->v[i]) + 1;
	p = all = malloc(len + 4);
	for (i = 0; i < t->n; i++) {
		ck_assert_msg(strstr(t->v[i], SEP) == NULL, "text holds SEP");
		p = stpcpy(stpcpy(p, t->v[i]), SEP);
	}
	strcpy(p, "end"); /* so that a last empty text is a row too */
	res = q(sql, all, NULL);
	ck_assert_int_eq(PQntuples(res), (int)t->n + 1);
	for (i = 0; i < t->n; i++) {
		got = f(c, t->v[i]);
		if (strcmp(got, PQgetvalue(res, (int)i, 0)) != 0 && bad++ < 5) {
			fprintf(stderr, "%s: C and SQL differ\n", what);
			show("text", t->v[i]);
			show("C", got);
			show("SQL", PQgetvalue(res, (int)i, 0));
		}
		free(got);
	}
	PQclear(res);
	free(all);
	return bad;
}

/* classifier_category as a malloc'd string. */
static char *
category(struct classifier *c, const char *s)
{
	return strdup(classifier_category(c, s, strlen(s)));
}

/* Compare classifier_category with pakn.category_of on every text. */
static void
compare(const struct texts *t, const char *what)
{
	struct classifier *c = load();
	size_t bad = compare_with(
	    t,
	    "SELECT pakn.category_of(x.t) FROM unnest(string_to_array($1, "
	    "E'\\x1f')) WITH ORDINALITY AS x(t, i) ORDER BY x.i",
	    category, c, what);

	ck_assert_msg(bad == 0, "%s: %zu of %zu texts classified otherwise",
	              what, bad, t->n);
	fprintf(stderr, "%s: %zu texts, C = SQL\n", what, t->n);
	classifier_free(c);
}

/* Every keyword of every category, as the database holds them. */
static void
keywords(struct texts *k)
{
	PGresult *res = q("SELECT k FROM pakn.category c, unnest(c.keywords) "
	                  "k ORDER BY c.code, k",
	                  NULL);

	for (int i = 0; i < PQntuples(res); i++)
		add(k, PQgetvalue(res, i, 0));
	PQclear(res);
	ck_assert_uint_ge(k->n, 300);
}

/* The Telex key of a combining mark (UTF-8 CC xx / CD xx), or 0. */
static char
telex_key(unsigned char b1, unsigned char b2)
{
	unsigned cp = ((b1 & 0x1fu) << 6) | (b2 & 0x3fu);

	switch (cp) {
	case 0x301:
		return 's';
	case 0x300:
		return 'f';
	case 0x309:
		return 'r';
	case 0x303:
		return 'x';
	case 0x323:
		return 'j';
	case 0x306:
	case 0x31b:
		return 'w';
	default:
		return 0;
	}
}

/*
 * Type NFD text nfd as Telex (vni 0: tone keys at the word's end, â as
 * aa, ă ơ ư with w, đ as dd) or VNI (vni 1: digits after the letter).
 */
static char *
typed(const char *nfd, int vni)
{
	static const char vni_digit[] = {['s'] = '1', ['f'] = '2', ['r'] = '3',
	                                 ['x'] = '4', ['j'] = '5', ['w'] = '7'};
	char *out = malloc(4 * strlen(nfd) + 8), *o = out, tone = 0, prev = 0;
	const unsigned char *s = (const unsigned char *)nfd;

	for (;; s++) {
		int end = *s == '\0' || *s == ' ' || *s == ',';
		if (end && tone != 0 && !vni)
			*o++ = tone;
		if (end)
			tone = 0;
		if (*s == '\0')
			break;
		if ((*s == 0xcc || *s == 0xcd) && s[1] != 0) {
			char k = telex_key(s[0], s[1]);
			unsigned cp = ((s[0] & 0x1fu) << 6) | (s[1] & 0x3fu);
			s++;
			if (cp == 0x302) /* circumflex: the vowel again */
				*o++ = vni ? '6' : prev;
			else if (k == 'w')
				*o++ = vni ? vni_digit['w'] : 'w';
			else if (k != 0 && vni)
				*o++ = vni_digit[(unsigned char)k];
			else if (k != 0)
				tone = k;
			continue;
		}
		if (s[0] == 0xc4 && (s[1] == 0x91 || s[1] == 0x90)) {
			o = stpcpy(o, vni ? "d9" : "dd");
			s++;
			continue;
		}
		*o++ = (char)*s;
		prev = (char)*s;
	}
	*o = '\0';
	return out;
}

/* Every keyword in every form people type it, alone and in context. */
START_TEST(test_keywords)
{
	struct texts k = {0}, t = {0};
	PGresult *res;
	char *s;

	keywords(&k);
	for (size_t i = 0; i < k.n; i++) {
		res = q("SELECT $1, upper($1), initcap($1), pakn.fold($1), "
		        "normalize($1, NFD), upper(pakn.fold($1)), "
		        "replace($1, ' ', ''), replace($1, ' ', '  ,')",
		        k.v[i], NULL);
		for (int col = 0; col < 8; col++) {
			const char *v = PQgetvalue(res, 0, col);
			add(&t, v);
			s = strf("Tôi phản ánh %s ở thôn 3 xã Yên Hòa", v);
			add(&t, s);
			free(s);
			s = strf("x%sx %sq q%s", v, v, v);
			add(&t, s);
			free(s);
		}
		for (int vni = 0; vni < 2; vni++) {
			s = typed(PQgetvalue(res, 0, 4), vni);
			add(&t, s);
			char *u = strf("Kinh gui UBND, %s o duong lang.", s);
			add(&t, u);
			free(u);
			free(s);
		}
		PQclear(res);
	}
	/* Amounts: any number, with and without a space or unit. */
	static const char *const amounts[] = {
	    "cán bộ đòi 5 triệu", "doi 10tr moi lam",   "đòi 500k",
	    "doi 2,5tr",          "doi 1.000.000 dong", "xin 5tr de",
	    "nop 5 tr để",        "5trieu mới cho",     "doi 05tr",
	    "doi a5tr",           "doi _5tr",           "doi 5 k",
	    "vòi 2 chỉ",          "doi 5tr_",           "doi 5trж",
	    "doi ж5tr",           "doi 中5tr",          "dd0i 5tr",
	};
	for (size_t i = 0; i < sizeof amounts / sizeof *amounts; i++)
		add(&t, amounts[i]);
	compare(&t, "keywords");
	texts_free(&k);
	texts_free(&t);
}
END_TEST

/* A sensitive keyword with any other, in either order: sensitive wins. */
START_TEST(test_mixes)
{
	struct texts t = {0}, sens = {0}, other = {0};
	PGresult *res = q("SELECT k, c.sensitive FROM pakn.category c, "
	                  "unnest(c.keywords) k ORDER BY c.code, k",
	                  NULL);
	char *s;

	for (int i = 0; i < PQntuples(res); i++)
		add(PQgetvalue(res, i, 1)[0] == 't' ? &sens : &other,
		    PQgetvalue(res, i, 0));
	PQclear(res);
	ck_assert_uint_gt(sens.n, 50);
	srandom(12);
	for (size_t i = 0; i < 1500; i++) {
		const char *a = sens.v[(size_t)random() % sens.n];
		const char *b = other.v[(size_t)random() % other.n];
		const char *d = other.v[(size_t)random() % other.n];
		s = strf(i % 2 ? "%s và %s, %s" : "%2$s rồi %1$s %3$s", a, b,
		         d);
		add(&t, s);
		free(s);
		s = strf("%s %s", b, d); /* two others: longest, then code */
		add(&t, s);
		free(s);
	}
	compare(&t, "mixes");
	texts_free(&t);
	texts_free(&sens);
	texts_free(&other);
}
END_TEST

/* Append n copies of unit to b. */
static void
repeat(char **b, const char *unit, int n)
{
	for (int i = 0; i < n; i++) {
		char *s = strf("%s%s", *b, unit);
		free(*b);
		*b = s;
	}
}

/* Keywords around the cuts: 3 000 characters (at a space of any kind)
 * and 300 words, of the text and of its untyped form. */
START_TEST(test_head_cuts)
{
	static const char *const kw[] = {"hối lộ", "ngập nước", "đòi 5tr",
	                                 "xây dựng", "ổ gà"};
	static const char *const sp[] = {" ",      "\t",       "\n",
	                                 "\u3000", "\u00a0",   "\u2003",
	                                 "\u1680", "\xc2\x85", "_"};
	struct texts t = {0};
	char *b, *s;

	for (size_t k = 0; k < sizeof kw / sizeof *kw; k++) {
		for (size_t p = 0; p < sizeof sp / sizeof *sp; p++) {
			/* The keyword starts about 20 characters before the
			 * cut to just after it. */
			for (int off = 2980; off <= 3002; off++) {
				char *unit = strf("abcd%s", sp[p]);
				b = strdup("");
				repeat(&b, unit, off / 5);
				repeat(&b, "y", off % 5);
				s = strf("%s%s%s rồi", b, sp[p], kw[k]);
				add(&t, s);
				free(s);
				free(b);
				free(unit);
			}
		}
		/* 295 to 305 words before it. */
		for (int w = 295; w <= 305; w++) {
			b = strdup("");
			repeat(&b, "a ", w);
			s = strf("%s%s", b, kw[k]);
			add(&t, s);
			free(s);
			free(b);
		}
		/* Folding makes Hangul longer, untyping "5k" longer: the
		 * untyped text passes 3 000 characters, the text does not. */
		for (int n = 900; n <= 1000; n += 10) {
			b = strdup("");
			repeat(&b, "한 ", n);
			s = strf("%s%s x", b, kw[k]);
			add(&t, s);
			free(s);
			free(b);
			b = strdup("");
			repeat(&b, "5k ", n);
			s = strf("%s%s x", b, kw[k]);
			add(&t, s);
			free(s);
			free(b);
		}
		b = strdup("");
		repeat(&b, "x", 3100);
		s = strf("%s %s", kw[k], b); /* no space after the cut */
		add(&t, s);
		free(s);
		free(b);
	}
	compare(&t, "head cuts");
	texts_free(&t);
}
END_TEST

/* Random sentences of keyword words and common words, with or without
 * diacritics, any case, any separator, digits. */
START_TEST(test_random_sentences)
{
	static const char *const common[] = {
	    "tôi", "xin",   "phản", "ánh", "ở",     "thôn",  "xã",   "nhà",
	    "đã",  "không", "được", "của", "và",    "cho",   "dân",  "ông",
	    "bà",  "việc",  "rất",  "lâu", "ngày",  "mới",   "ko",   "k",
	    "dc",  "UBND",  "cb",   "tr",  "nghìn", "triệu", "đồng", "ạ"};
	static const char *const seps[] = {" ",  " ",  " ", ", ", ". ",
	                                   "  ", "\n", "-", "!",  "/"};
	struct texts k = {0}, w = {0}, t = {0};
	char *s, *tok, *save;
	PGresult *res;

	keywords(&k);
	for (size_t i = 0; i < k.n; i++) {
		s = strdup(k.v[i]);
		for (tok = strtok_r(s, " ", &save); tok != NULL;
		     tok = strtok_r(NULL, " ", &save))
			add(&w, tok);
		free(s);
	}
	for (size_t i = 0; i < sizeof common / sizeof *common; i++)
		add(&w, common[i]);
	srandom(7);
	for (int i = 0; i < 3000; i++) {
		char *b = strdup("");
		int n = 1 + (int)(random() % 14);
		for (int j = 0; j < n; j++) {
			const char *word = w.v[(size_t)random() % w.n];
			char num[16] = "";
			if (random() % 9 == 0)
				snprintf(num, sizeof num, "%ld",
				         random() % 2000);
			s = strf("%s%s%s%s", b, word, num,
			         seps[(size_t)random() % 10]);
			free(b);
			b = s;
		}
		add(&t, b);
		free(b);
	}
	/* Half of them folded or upper case, in SQL. */
	for (size_t i = 0; i < t.n; i += 2) {
		res = q(i % 4 ? "SELECT pakn.fold($1)" : "SELECT upper($1)",
		        t.v[i], NULL);
		free(t.v[i]);
		t.v[i] = strdup(PQgetvalue(res, 0, 0));
		PQclear(res);
	}
	compare(&t, "random sentences");
	texts_free(&k);
	texts_free(&w);
	texts_free(&t);
}
END_TEST

/* Append code point cp to b as UTF-8. */
static char *
put_utf8(char *b, uint32_t cp)
{
	if (cp < 0x80) {
		*b++ = (char)cp;
	} else if (cp < 0x800) {
		*b++ = (char)(0xc0 | cp >> 6);
		*b++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*b++ = (char)(0xe0 | cp >> 12);
		*b++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*b++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*b++ = (char)(0xf0 | cp >> 18);
		*b++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*b++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*b++ = (char)(0x80 | (cp & 0x3f));
	}
	return b;
}

/* A random code point, mostly of the kinds folding cares about. */
static uint32_t
random_cp(void)
{
	static const uint32_t pick[][2] = {
	    {0x20, 0x7e},      {0x20, 0x20},     {0x30, 0x39},
	    {0x61, 0x7a},      {0xc0, 0x24f},    {0x300, 0x36f},
	    {0x1ea0, 0x1ef9},  {0x2000, 0x200b}, {0x3000, 0x3000},
	    {0xac00, 0xd7a3},  {0x4e00, 0x4e20}, {0x400, 0x45f},
	    {0x5b0, 0x5c7},    {0x1dc0, 0x1dff}, {0x20d0, 0x20f0},
	    {0x10000, 0x1ffff}};
	size_t i = (size_t)random() % (sizeof pick / sizeof *pick);
	uint32_t cp =
	    pick[i][0] + (uint32_t)random() % (pick[i][1] - pick[i][0] + 1);

	return cp == 0x1f || (cp >= 0xd800 && cp <= 0xdfff) ? 'x' : cp;
}

/* Random Unicode around keywords. */
START_TEST(test_random_unicode)
{
	struct texts k = {0}, t = {0};
	char buf[4096], *p;

	keywords(&k);
	srandom(3);
	for (int i = 0; i < 3000; i++) {
		p = buf;
		int n = (int)(random() % 40);
		for (int j = 0; j < n; j++) {
			if (random() % 6 == 0) {
				p = stpcpy(p, k.v[(size_t)random() % k.n]);
				continue;
			}
			p = put_utf8(p, random_cp());
		}
		*p = '\0';
		add(&t, buf);
	}
	add(&t, "");
	add(&t, " ");
	add(&t, "!!!");
	add(&t, "\u0301");
	compare(&t, "random unicode");
	texts_free(&k);
	texts_free(&t);
}
END_TEST

/* The labelled corpus of citizens' messages. */
START_TEST(test_corpus)
{
	char *text = file_read(PAKN_SRCDIR "/tests/data/classify.tsv", NULL);
	char *line, *save = NULL, *t2;
	struct texts t = {0};

	ck_assert_ptr_nonnull(text);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#')
			continue;
		t2 = strchr(line, '\t');
		t2 = t2 ? strchr(t2 + 1, '\t') : NULL;
		ck_assert_ptr_nonnull(t2);
		add(&t, t2 + 1);
	}
	ck_assert_uint_ge(t.n, 300);
	compare(&t, "classify.tsv");
	free(text);
	texts_free(&t);
}
END_TEST

static char *
folded_words(struct classifier *c, const char *s)
{
	return classifier_words(c, s, strlen(s), 0);
}

static char *
untyped_words(struct classifier *c, const char *s)
{
	return classifier_words(c, s, strlen(s), 1);
}

/*
 * Every code point (but surrogates and the separator) folds as in SQL:
 * alone, after a word ("a0tr" + cp: is it a word character?), before
 * "0k" and with digits around, in pakn.fold_words and pakn.untype_words;
 * and pakn.fold of folded text changes nothing (the untyped text is
 * folded again by pakn.classify_words).
 */
START_TEST(test_fold_every_code_point)
{
	struct classifier *c = load();
	struct texts t = {0};
	char *buf = malloc(4096 * 32), *p;
	size_t bad = 0;
	uint32_t cp = 1;

	while (cp <= 0x10ffff) {
		t.n = 0;
		/* 256 texts of 32 code points each. */
		for (int j = 0; j < 256 && cp <= 0x10ffff; j++) {
			p = buf;
			for (int m = 0; m < 32 && cp <= 0x10ffff; m++, cp++) {
				if ((cp >= 0xd800 && cp <= 0xdfff) ||
				    cp == 0x1f)
					continue;
				p = stpcpy(p, " a0tr");
				p = put_utf8(p, cp);
				p = stpcpy(p, "0k ");
				p = put_utf8(p, cp);
				p = stpcpy(p, "a1");
				p = put_utf8(p, cp);
				p = stpcpy(p, "5,5");
			}
			*p = '\0';
			add(&t, buf);
		}
		bad += compare_with(&t,
		                    "SELECT pakn.fold_words(x.t) FROM "
		                    "unnest(string_to_array($1, E'\\x1f')) "
		                    "WITH ORDINALITY AS x(t, i) ORDER BY x.i",
		                    folded_words, c, "fold_words");
		bad += compare_with(&t,
		                    "SELECT pakn.untype_words(x.t) FROM "
		                    "unnest(string_to_array($1, E'\\x1f')) "
		                    "WITH ORDINALITY AS x(t, i) ORDER BY x.i",
		                    untyped_words, c, "untype_words");
		for (size_t i = 0; i < t.n; i++)
			free(t.v[i]);
	}
	ck_assert_msg(bad == 0, "%zu code points fold otherwise", bad);
	ck_assert_int_eq(
	    qlong("SELECT count(*) FROM generate_series(1, 1114111, 2048) s "
	          "WHERE (SELECT pakn.fold(f) <> f FROM (SELECT pakn.fold("
	          "string_agg(chr(c), '')) AS f FROM generate_series(s, "
	          "least(s + 2047, 1114111)) c WHERE c NOT BETWEEN 55296 AND "
	          "57343) x)",
	          NULL),
	    0);
	free(buf);
	free(t.v);
	classifier_free(c);
}
END_TEST

/* Without a database: patterns given, ASCII classes (LC_CTYPE C). */
START_TEST(test_no_database)
{
	static const struct classifier_pattern p[] = {
	    {"b_two", 2, 0, " duong "},   {"a_one", 1, 0, " ngap "},
	    {"a_one", 1, 0, " ruong "},   {"a_one", 1, 0, " xay dung "},
	    {"b_two", 2, 0, " dung xe "}, {"c_bribe", 3, 1, " doi 0 tr "},
	    {"general", 0, 0, " hoi "},
	};
	struct classifier *c;
	char *cause = NULL;
	const struct {
		const char *text, *want;
	} cases[] = {
	    {"đường NGẬP", "b_two"},       /* the longest */
	    {"ruộng ĐƯỜNG", "a_one"},      /* as long: the first code */
	    {"xây dựng xe", "a_one"},      /* longest wins, overlap */
	    {"xay dung xe dep", "a_one"},  /* " dung xe " is as long */
	    {"xdung xe", "general"},       /* whole words only */
	    {"duongg ngapp", "general"},   /* a keyword inside a word */
	    {"đòi 15tr đường", "c_bribe"}, /* sensitive first */
	    {"doi5tr", "general"},
	    {"hoi", "general"}, /* 'general' found: untyped */
	    {"", "general"},
	};

	ck_assert_ptr_null(classifier_new(p, 1, "xx_NO.locale", 0, &cause));
	ck_assert_ptr_nonnull(strstr(cause, "xx_NO.locale"));
	free(cause);
	c = classifier_new(p, sizeof p / sizeof *p, "C", 0, &cause);
	ck_assert_msg(c != NULL, "%s", cause);
	ck_assert_uint_eq(classifier_size(c), 7);
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
		ck_assert_msg(strcmp(classifier_category(c, cases[i].text,
		                                         strlen(cases[i].text)),
		                     cases[i].want) == 0,
		              "\"%s\": %s, not %s", cases[i].text,
		              classifier_category(c, cases[i].text,
		                                  strlen(cases[i].text)),
		              cases[i].want);
	ck_assert_str_eq(classifier_category(c, NULL, 0), "general");
	/* Bytes SQL never sees: malformed UTF-8, NUL. */
	ck_assert_str_eq(classifier_category(c,
	                                     "ng\xff"
	                                     "ap \0ngap",
	                                     11),
	                 "a_one");
	classifier_free(c);
	{
		static const struct classifier_pattern bad = {"x", 1, 0,
		                                              " Ngap "};
		ck_assert_ptr_null(classifier_new(&bad, 1, "C", 0, &cause));
		free(cause);
	}
}
END_TEST

/* A category changed: NOTIFY and a new version in its transaction, a
 * classifier read again follows it, so does the running paknd (its
 * periodic check, and SIGHUP). */
START_TEST(test_reload)
{
	struct paknd *d = harness_main();
	const char *text = "Phản ánh zorblat quux ở thôn 5";
	struct classifier *c = load();
	long v = qlong("SELECT version FROM pakn.category_version", NULL);
	PGconn *listen = test_db();
	PGresult *res;
	PGnotify *n;
	char *sql_cat, *want;
	size_t from;

	ck_assert_str_eq(classifier_category(c, text, strlen(text)), "general");
	classifier_free(c);
	PQclear(q("LISTEN pakn_categories", NULL));
	from = file_size(d->log);
	/* Another connection changes the keywords. */
	res = sql_query("UPDATE pakn.category SET keywords = keywords || "
	                "'{zorblat quux}' WHERE code = 'roads'",
	                NULL);
	ck_assert_ptr_nonnull(res);
	PQclear(res);
	want = strf("%ld", v + 1);
	ck_assert_int_eq(
	    qlong("SELECT version FROM pakn.category_version", NULL), v + 1);
	res = q("SELECT 1", NULL); /* reads the notification */
	PQclear(res);
	PQconsumeInput(listen);
	n = PQnotifies(listen);
	ck_assert_ptr_nonnull(n);
	ck_assert_str_eq(n->relname, "pakn_categories");
	ck_assert_str_eq(n->extra, want);
	PQfreemem(n);
	c = load();
	sql_cat = qval("SELECT pakn.category_of($1)", text, NULL);
	ck_assert_str_eq(sql_cat, "roads");
	ck_assert_str_eq(classifier_category(c, text, strlen(text)), sql_cat);
	ck_assert_int_eq(classifier_version(c), v + 1);
	classifier_free(c);
	free(sql_cat);
	free(want);
	/* paknd notices by itself, and reads again on SIGHUP. */
	want = strf("classifier reloaded: ");
	ck_assert_int_eq(
	    log_wait(d->log, from, "categories changed (version", 30), 0);
	ck_assert_int_eq(log_wait(d->log, from, want, 30), 0);
	from = file_size(d->log);
	ck_assert_int_eq(paknd_signal(d, SIGHUP), 0);
	ck_assert_int_eq(log_wait(d->log, from, want, 30), 0);
	free(want);
	res = sql_query("UPDATE pakn.category SET keywords = array_remove("
	                "keywords, 'zorblat quux') WHERE code = 'roads'",
	                NULL);
	ck_assert_ptr_nonnull(res);
	PQclear(res);
}
END_TEST

static Suite *
classify_suite(void)
{
	Suite *s = suite_create("classify");
	TCase *tc = tcase(s, "classify", 600);

	tcase_add_test(tc, test_no_database);
	tcase_add_test(tc, test_keywords);
	tcase_add_test(tc, test_mixes);
	tcase_add_test(tc, test_head_cuts);
	tcase_add_test(tc, test_random_sentences);
	tcase_add_test(tc, test_random_unicode);
	tcase_add_test(tc, test_corpus);
	tcase_add_test(tc, test_fold_every_code_point);
	tcase_add_test(tc, test_reload);
	return s;
}

int
main(void)
{
	struct paknd *d = harness_main();
	SRunner *sr;
	int failed;

	if (harness_init() == -1 || pg_setup() == -1) {
		fprintf(stderr, "check_classify: cannot start PostgreSQL\n");
		return 99;
	}
	if (paknd_start(d, "main", NULL) == -1 ||
	    paknd_wait_ready(d, 10) == -1) {
		fprintf(stderr, "check_classify: paknd does not start\n");
		return EXIT_FAILURE;
	}
	if (log_wait(d->log, 0, "classifier read: ", 10) != 0) {
		fprintf(stderr, "check_classify: paknd read no classifier\n");
		return EXIT_FAILURE;
	}
	sr = srunner_create(classify_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	if (paknd_finish(d, NULL) == -1)
		failed++;
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
