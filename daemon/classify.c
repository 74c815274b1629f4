/* classify.c: a complaint's category in C, exactly as pakn.category_of
 * (sql/013_law.sql) gives it; see classify.h.
 *
 * A text becomes, as in SQL, a string of characters; here one byte per
 * character: ASCII as it is, and any other character as one of three
 * placeholder bytes saying what the database's regular expressions see
 * in it (a word character, a space, anything else). Every step the SQL
 * applies (pakn.fold, pakn.untype's eight replacements, the head cuts,
 * the words) only ever looks at ASCII letters, digits, '.', ',', ' ' and
 * at those classes, so the placeholders give the same results.
 */

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <locale.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "classify.h"
#include "util.h"

#include "classify_unicode.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

#define HEAD_CHARS 3000 /* pakn.classify_head, pakn.classify_words */
#define HEAD_WORDS 300  /* pakn.classify_words */
#define NSYM       37   /* ' ', a-z, 0-9: what patterns are made of */

/* Placeholders of non-ASCII characters after folding. */
#define P_OTHER 0x80
#define P_SPACE 0x81 /* \s of the database's regular expressions */
#define P_WORD  0x82 /* \w: alphanumeric in the database's LC_CTYPE */

/* The best pattern ending in a state: longest, then first category. */
struct best {
	int32_t len; /* 0: none */
	int32_t cat;
};

/* An Aho-Corasick automaton over ' ', a-z, 0-9, as a full DFA. */
struct ac {
	int32_t (*next)[NSYM];
	int32_t *fail;
	struct best *best;
	size_t n, cap;
};

struct category {
	char *code;
	long rank;
};

struct classifier {
	struct category *cats;
	size_t ncats;
	struct ac all;       /* patterns of every category */
	struct ac sensitive; /* untyped patterns of sensitive categories */
	size_t npatterns;
	size_t nsensitive; /* patterns in sensitive */
	long long version;
	locale_t loc; /* (locale_t)0: LC_CTYPE C, ASCII classes only */
	unsigned char ascii_space[128];
	unsigned char ascii_word[128];
};

/* A text being folded: one byte per character. */
struct chars {
	unsigned char *s;
	size_t n;
};

/* The symbol of a pattern byte, or -1. */
static int
sym(unsigned char b)
{
	if (b == ' ')
		return 0;
	if (b >= 'a' && b <= 'z')
		return 1 + (b - 'a');
	if (b >= '0' && b <= '9')
		return 27 + (b - '0');
	return -1;
}

/* A new state of a. */
static int32_t
ac_state(struct ac *a)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 64;
		a->next = xreallocarray(a->next, a->cap, sizeof(*a->next));
		a->fail = xreallocarray(a->fail, a->cap, sizeof(*a->fail));
		a->best = xreallocarray(a->best, a->cap, sizeof(*a->best));
	}
	for (int i = 0; i < NSYM; i++)
		a->next[a->n][i] = -1;
	a->fail[a->n] = 0;
	a->best[a->n].len = 0;
	a->best[a->n].cat = -1;
	return (int32_t)a->n++;
}

/* Is x better than y (longer, or as long and of an earlier category)? */
static int
better(const struct classifier *c, struct best x, struct best y)
{
	if (x.len != y.len)
		return x.len > y.len;
	return x.len != 0 && c->cats[x.cat].rank < c->cats[y.cat].rank;
}

/* Add pattern p of category cat to a; -1 if p holds another byte. */
static int
ac_add(const struct classifier *c, struct ac *a, const char *p, int32_t cat)
{
	int32_t s = 0;
	struct best b = {(int32_t)strlen(p), cat};
	int k;

	if (a->n == 0)
		ac_state(a);
	for (const char *q = p; *q != '\0'; q++) {
		if ((k = sym((unsigned char)*q)) < 0)
			return -1;
		if (a->next[s][k] < 0) {
			int32_t t = ac_state(a);
			a->next[s][k] = t;
		}
		s = a->next[s][k];
	}
	if (better(c, b, a->best[s]))
		a->best[s] = b;
	return 0;
}

/* Fill the failure transitions breadth first, so that a reads any text
 * in one step per byte, and each state's best includes its suffixes'. */
static void
ac_finish(const struct classifier *c, struct ac *a)
{
	int32_t *queue, head = 0, tail = 0, s, t;

	if (a->n == 0)
		ac_state(a);
	queue = xcalloc(a->n, sizeof(*queue));
	for (int k = 0; k < NSYM; k++) {
		if ((t = a->next[0][k]) < 0)
			a->next[0][k] = 0;
		else
			queue[tail++] = t;
	}
	while (head < tail) {
		s = queue[head++];
		if (better(c, a->best[a->fail[s]], a->best[s]))
			a->best[s] = a->best[a->fail[s]];
		for (int k = 0; k < NSYM; k++) {
			if ((t = a->next[s][k]) < 0) {
				a->next[s][k] = a->next[a->fail[s]][k];
				continue;
			}
			a->fail[t] = a->next[a->fail[s]][k];
			queue[tail++] = t;
		}
	}
	free(queue);
}

/* The best pattern found in words (' ', a-z, 0-9 only). */
static struct best
ac_run(const struct classifier *c, const struct ac *a, const char *words)
{
	struct best b = {0, -1};
	int32_t s = 0;

	for (const char *p = words; *p != '\0'; p++) {
		s = a->next[s][sym((unsigned char)*p)];
		if (better(c, a->best[s], b))
			b = a->best[s];
	}
	return b;
}

static void
ac_free(struct ac *a)
{
	free(a->next);
	free(a->fail);
	free(a->best);
}

/* Decode one UTF-8 character of s[0..len) (len > 0) into *cp; its
 * length. A malformed sequence is one byte read as U+FFFD. */
static size_t
utf8_next(const unsigned char *s, size_t len, uint32_t *cp)
{
	size_t n;
	uint32_t c = s[0], min;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, c &= 0x1f, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, c &= 0x0f, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, c &= 0x07, min = 0x10000;
	else
		goto bad;
	if (n > len)
		goto bad;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto bad;
	*cp = c;
	return n;
bad:
	*cp = 0xfffd;
	return 1;
}

/* Is cp a space to the database's regular expressions (\s)? */
static int
is_space(const struct classifier *c, uint32_t cp)
{
	if (cp < 0x80)
		return c->ascii_space[cp];
	return c->loc != (locale_t)0 && iswspace_l((wint_t)cp, c->loc);
}

/*
 * Decode text and keep its head as pakn.classify_head does: the whole
 * text when it has at most 3 000 characters, else the first 3 000 less
 * the characters after their last space. The count is returned; out
 * holds HEAD_CHARS + 1 code points.
 */
static size_t
head_decode(const struct classifier *c, const char *text, size_t len,
            uint32_t *out)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = 0, i = 0;

	while (i < len && n <= HEAD_CHARS)
		i += utf8_next(s + i, len - i, &out[n++]);
	if (n <= HEAD_CHARS)
		return n;
	n = HEAD_CHARS;
	while (n > 0 && !is_space(c, out[n - 1]))
		n--;
	return n;
}

/* The canonical combining class of cp. */
static int
ccc_of(uint32_t cp)
{
	size_t lo = 0, hi = LEN(ccc_ranges), mid;

	if (cp < 0x300)
		return 0;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (cp < ccc_ranges[mid].lo)
			hi = mid;
		else if (cp > ccc_ranges[mid].hi)
			lo = mid + 1;
		else
			return ccc_ranges[mid].ccc;
	}
	return 0;
}

/* Append the full canonical decomposition of cp at out; its length. */
static size_t
decompose(uint32_t cp, uint32_t *out)
{
	size_t lo = 0, hi = LEN(decomp), mid;
	uint32_t si, t;

	if (cp < 0xc0) {
		out[0] = cp;
		return 1;
	}
	if (cp >= 0xac00 && cp <= 0xd7a3) { /* Hangul syllables, by rule */
		si = cp - 0xac00;
		out[0] = 0x1100 + si / 588;
		out[1] = 0x1161 + (si % 588) / 28;
		t = si % 28;
		if (t == 0)
			return 2;
		out[2] = 0x11a7 + t;
		return 3;
	}
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (cp < decomp[mid].cp)
			hi = mid;
		else if (cp > decomp[mid].cp)
			lo = mid + 1;
		else {
			memcpy(out, decomp_pool + decomp[mid].off,
			       decomp[mid].n * sizeof(*out));
			return decomp[mid].n;
		}
	}
	out[0] = cp;
	return 1;
}

/* Sort each run of combining marks by class, stably (canonical order). */
static void
reorder(uint32_t *cp, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		uint32_t x = cp[i];
		int cc = ccc_of(x);
		size_t j = i;

		if (cc == 0)
			continue;
		while (j > 0 && ccc_of(cp[j - 1]) > cc) {
			cp[j] = cp[j - 1];
			j--;
		}
		cp[j] = x;
	}
}

/* One character of NFD text folded as pakn.fold (lower(), then đ Đ ð Ð
 * as d); 0 for a mark pakn.fold removes. */
static unsigned char
fold_char(const struct classifier *c, uint32_t cp)
{
	if (cp >= 0x300 && cp <= 0x36f)
		return 0;
	if (cp < 0x80)
		return cp == 0
		           ? P_OTHER
		           : (unsigned char)(cp >= 'A' && cp <= 'Z' ? cp + 32
		                                                    : cp);
	if (c->loc != (locale_t)0)
		cp = (uint32_t)towlower_l((wint_t)cp, c->loc);
	if (cp == 0x110 || cp == 0x111 || cp == 0xd0 || cp == 0xf0)
		return 'd';
	if (cp < 0x80)
		return cp == 0 ? P_OTHER : (unsigned char)cp;
	if (c->loc == (locale_t)0)
		return P_OTHER;
	if (iswalnum_l((wint_t)cp, c->loc))
		return P_WORD;
	return iswspace_l((wint_t)cp, c->loc) ? P_SPACE : P_OTHER;
}

/* pakn.fold of cp[0..n), as characters (out: 4 n bytes). */
static size_t
fold(const struct classifier *c, const uint32_t *cp, size_t n,
     unsigned char *out)
{
	uint32_t *d = xcalloc(4 * n + 1, sizeof(*d));
	size_t m = 0, k = 0;

	for (size_t i = 0; i < n; i++)
		m += decompose(cp[i], d + m);
	reorder(d, m);
	for (size_t i = 0; i < m; i++) {
		unsigned char b = fold_char(c, d[i]);
		if (b != 0)
			out[k++] = b;
	}
	free(d);
	return k;
}

static int
az(unsigned char b)
{
	return b >= 'a' && b <= 'z';
}

static int
digit(unsigned char b)
{
	return b >= '0' && b <= '9';
}

/* A word character of the database's regular expressions (\w). */
static int
word(const struct classifier *c, unsigned char b)
{
	return b < 0x80 ? c->ascii_word[b] : b == P_WORD;
}

/* '([a-z])[1-9]+(?=[a-z]|[^a-z0-9]|$)' -> '\1': VNI tone digits. */
static size_t
untype_vni(const unsigned char *s, size_t n, unsigned char *o)
{
	size_t i = 0, k = 0, j;

	while (i < n) {
		if (az(s[i]) && i + 1 < n && s[i + 1] >= '1' &&
		    s[i + 1] <= '9') {
			for (j = i + 1; j < n && s[j] >= '1' && s[j] <= '9';
			     j++)
				;
			if (j == n || s[j] != '0') {
				o[k++] = s[i];
				i = j;
				continue;
			}
		}
		o[k++] = s[i++];
	}
	return k;
}

/* '([a-z][a-z])[sfrxj](?=[^a-z0-9]|$)' -> '\1': Telex tone keys. */
static size_t
untype_telex(const unsigned char *s, size_t n, unsigned char *o)
{
	size_t i = 0, k = 0;
	unsigned char t;

	while (i < n) {
		if (i + 2 < n && az(s[i]) && az(s[i + 1]) &&
		    ((t = s[i + 2]) == 's' || t == 'f' || t == 'r' ||
		     t == 'x' || t == 'j') &&
		    (i + 3 == n || !(az(s[i + 3]) || digit(s[i + 3])))) {
			o[k++] = s[i];
			o[k++] = s[i + 1];
			i += 3;
			continue;
		}
		o[k++] = s[i++];
	}
	return k;
}

/* Is b in [b-df-hj-np-tv-z]? */
static int
consonant(unsigned char b)
{
	return az(b) && b != 'a' && b != 'e' && b != 'i' && b != 'o' &&
	       b != 'u';
}

/*
 * The pairs of pakn.untype, left to right without overlap: 'dd' -> 'd',
 * '([aeo])\1' -> '\1', '([aou])w' -> '\1', '([b-df-hj-np-tv-z])w' ->
 * '\1u', as step 1, 2, 3 or 4.
 */
static size_t
untype_pairs(int step, const unsigned char *s, size_t n, unsigned char *o)
{
	size_t i = 0, k = 0;
	int hit;

	while (i < n) {
		hit = 0;
		if (i + 1 < n) {
			unsigned char a = s[i], b = s[i + 1];
			hit = (step == 1 && a == 'd' && b == 'd') ||
			      (step == 2 && a == b &&
			       (a == 'a' || a == 'e' || a == 'o')) ||
			      (step == 3 && b == 'w' &&
			       (a == 'a' || a == 'o' || a == 'u')) ||
			      (step == 4 && b == 'w' && consonant(a));
		}
		if (!hit) {
			o[k++] = s[i++];
			continue;
		}
		o[k++] = s[i];
		if (step == 4)
			o[k++] = 'u';
		i += 2;
	}
	return k;
}

/* '[0-9]+([.,][0-9]+)*' -> '0': any number. */
static size_t
untype_numbers(const unsigned char *s, size_t n, unsigned char *o)
{
	size_t i = 0, k = 0;

	while (i < n) {
		if (!digit(s[i])) {
			o[k++] = s[i++];
			continue;
		}
		while (i < n && digit(s[i]))
			i++;
		while (i + 1 < n && (s[i] == '.' || s[i] == ',') &&
		       digit(s[i + 1])) {
			for (i++; i < n && digit(s[i]); i++)
				;
		}
		o[k++] = '0';
	}
	return k;
}

/* Where the unit of '\m0 ?(trieu|...)\M' at s[i] starts (*u) and ends;
 * 0 if none is there. */
static size_t
unit_at(const struct classifier *c, const unsigned char *s, size_t n, size_t i,
        size_t *u)
{
	static const char *const units[] = {"trieu", "tr", "nghin", "ngan",
	                                    "k",     "cu", "lit",   "xi"};
	size_t j = i + 1, l;

	if (s[i] != '0' || (i > 0 && word(c, s[i - 1])))
		return 0;
	if (j < n && s[j] == ' ')
		j++;
	for (size_t k = 0; k < LEN(units); k++) {
		l = strlen(units[k]);
		if (n - j >= l && memcmp(s + j, units[k], l) == 0 &&
		    (j + l == n || !word(c, s[j + l]))) {
			*u = j;
			return j + l;
		}
	}
	return 0;
}

/* '\m0 ?(trieu|tr|nghin|ngan|k|cu|lit|xi)\M' -> '0 \1'. */
static size_t
untype_units(const struct classifier *c, const unsigned char *s, size_t n,
             unsigned char *o)
{
	size_t i = 0, k = 0, u, end;

	while (i < n) {
		if ((end = unit_at(c, s, n, i, &u)) == 0) {
			o[k++] = s[i++];
			continue;
		}
		o[k++] = '0';
		o[k++] = ' ';
		memcpy(o + k, s + u, end - u);
		k += end - u;
		i = end;
	}
	return k;
}

/* pakn.untype of folded text t, in place (t->s holds 3 t->n bytes). */
static void
untype(const struct classifier *c, struct chars *t)
{
	unsigned char *o = xmalloc(3 * t->n / 2 + 2);
	size_t n = t->n;

	n = untype_vni(t->s, n, o);
	n = untype_telex(o, n, t->s);
	n = untype_pairs(1, t->s, n, o);
	n = untype_pairs(2, o, n, t->s);
	n = untype_pairs(3, t->s, n, o);
	n = untype_pairs(4, o, n, t->s);
	n = untype_numbers(t->s, n, o);
	n = untype_units(c, o, n, t->s);
	free(o);
	t->n = n;
}

/*
 * The words of t as pakn.fold_words writes them (" w1 w2 "): each run of
 * a-z 0-9 a word, at most limit of them (0: all). malloc'd.
 */
static char *
words(const struct chars *t, size_t limit)
{
	char *w = xmalloc(t->n + 3), *p = w;
	size_t nw = 0, i = 0;

	*p++ = ' ';
	while (i < t->n && (limit == 0 || nw < limit)) {
		if (!(az(t->s[i]) || digit(t->s[i]))) {
			i++;
			continue;
		}
		if (nw++ > 0)
			*p++ = ' ';
		while (i < t->n && (az(t->s[i]) || digit(t->s[i])))
			*p++ = (char)t->s[i++];
	}
	*p++ = ' ';
	*p = '\0';
	return w;
}

/* Fold text[0..len) (its head, or all of it) into t (malloc'd). */
static void
fold_text(const struct classifier *c, const char *text, size_t len, int head,
          struct chars *t)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t n = 0, i = 0, cap = head ? HEAD_CHARS + 1 : len + 1;
	uint32_t *cp = xcalloc(cap, sizeof(*cp));

	if (head)
		n = head_decode(c, text, len, cp);
	else
		while (i < len)
			i += utf8_next(s + i, len - i, &cp[n++]);
	/* Each character decomposes into at most 4; untype adds half. */
	t->s = xmalloc(4 * 3 * (n + 1) / 2 + 8);
	t->n = fold(c, cp, n, t->s);
	free(cp);
}

/* The code of the best match, or NULL. */
static const char *
code_of(const struct classifier *c, struct best b)
{
	return b.len == 0 ? NULL : c->cats[b.cat].code;
}

/* pakn.classify_words of untyped text t: cut at 3 000 characters, less
 * the characters after the last space, then its first 300 words. */
static char *
head_words(const struct classifier *c, struct chars *t)
{
	if (t->n > HEAD_CHARS) {
		t->n = HEAD_CHARS;
		while (t->n > 0 &&
		       !(t->s[t->n - 1] < 0x80 ? c->ascii_space[t->s[t->n - 1]]
		                               : t->s[t->n - 1] == P_SPACE))
			t->n--;
	}
	return words(t, HEAD_WORDS);
}

/* See classify.h. */
const char *
classifier_category(const struct classifier *c, const char *text, size_t len)
{
	struct chars t;
	const char *folded, *sens = NULL, *code;
	char *w;

	if (text == NULL)
		return "general";
	fold_text(c, text, len, 1, &t);
	/* pakn.classify(h): the first 300 words of the folded head. */
	w = words(&t, HEAD_WORDS);
	folded = code_of(c, ac_run(c, &c->all, w));
	free(w);
	untype(c, &t);
	/* pakn.sensitive_category(h): every word of the untyped head. */
	if (c->nsensitive > 0) {
		w = words(&t, 0);
		sens = code_of(c, ac_run(c, &c->sensitive, w));
		free(w);
	}
	if (sens != NULL ||
	    (folded != NULL && strcmp(folded, "general") != 0)) {
		free(t.s);
		return sens != NULL ? sens : folded;
	}
	/* pakn.classify(pakn.untype(h)). */
	w = head_words(c, &t);
	code = code_of(c, ac_run(c, &c->all, w));
	free(w);
	free(t.s);
	return code != NULL ? code : "general";
}

/* See classify.h. */
char *
classifier_words(const struct classifier *c, const char *text, size_t len,
                 int untyped)
{
	struct chars t;
	char *w;

	fold_text(c, text, len, 0, &t);
	if (untyped)
		untype(c, &t);
	w = words(&t, 0);
	free(t.s);
	return w;
}

/* Set the character classes of LC_CTYPE ctype; -1 if not installed. */
static int
classes_init(struct classifier *c, const char *ctype, char **cause)
{
	if (strcmp(ctype, "C") != 0 && strcmp(ctype, "POSIX") != 0 &&
	    (c->loc = newlocale(LC_CTYPE_MASK, ctype, (locale_t)0)) ==
	        (locale_t)0) {
		set_cause(cause,
		          "classifier: the database's LC_CTYPE %s is "
		          "not installed here",
		          ctype);
		return -1;
	}
	for (int i = 0; i < 128; i++) {
		if (c->loc != (locale_t)0) {
			c->ascii_space[i] = iswspace_l((wint_t)i, c->loc) != 0;
			c->ascii_word[i] = iswalnum_l((wint_t)i, c->loc) != 0;
		} else {
			c->ascii_space[i] =
			    i == ' ' || (i >= '\t' && i <= '\r');
			c->ascii_word[i] = (i >= 'a' && i <= 'z') ||
			                   (i >= 'A' && i <= 'Z') || digit(i);
		}
	}
	c->ascii_word['_'] = 1;
	return 0;
}

/* The index of category code in c, added when new. */
static int32_t
category_index(struct classifier *c, const char *code, long rank)
{
	for (size_t i = 0; i < c->ncats; i++) {
		if (strcmp(c->cats[i].code, code) == 0)
			return (int32_t)i;
	}
	c->cats = xreallocarray(c->cats, c->ncats + 1, sizeof(*c->cats));
	c->cats[c->ncats].code = xstrdup(code);
	c->cats[c->ncats].rank = rank;
	return (int32_t)c->ncats++;
}

/* See classify.h. */
struct classifier *
classifier_new(const struct classifier_pattern *p, size_t n, const char *ctype,
               long long version, char **cause)
{
	struct classifier *c = xcalloc(1, sizeof(*c));
	int32_t cat;

	if (classes_init(c, ctype, cause) == -1)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		cat = category_index(c, p[i].code, p[i].rank);
		if (p[i].pattern[0] == '\0' ||
		    ac_add(c, p[i].untyped ? &c->sensitive : &c->all,
		           p[i].pattern, cat) == -1) {
			set_cause(cause,
			          "classifier: category %s: pattern \"%s\" is "
			          "not folded words",
			          p[i].code, p[i].pattern);
			goto fail;
		}
		c->nsensitive += p[i].untyped != 0;
	}
	ac_finish(c, &c->all);
	ac_finish(c, &c->sensitive);
	c->npatterns = n;
	c->version = version;
	return c;
fail:
	classifier_free(c);
	return NULL;
}

/* See classify.h. */
struct classifier *
classifier_from_result(const PGresult *res, char **cause)
{
	struct classifier_pattern *p;
	struct classifier *c;
	size_t n = 0;
	int rows = PQntuples(res);

	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) != 6 ||
	    rows < 1 || PQgetisnull(res, 0, 0)) {
		set_cause(cause, "classifier: unexpected result of the "
		                 "categories' query");
		return NULL;
	}
	p = xcalloc((size_t)rows, sizeof(*p));
	for (int i = 0; i < rows; i++) {
		if (PQgetisnull(res, i, 2) || PQgetisnull(res, i, 5))
			continue;
		p[n].code = PQgetvalue(res, i, 2);
		p[n].rank = strtol(PQgetvalue(res, i, 3), NULL, 10);
		p[n].untyped = PQgetvalue(res, i, 4)[0] == 't';
		p[n++].pattern = PQgetvalue(res, i, 5);
	}
	c = classifier_new(p, n, PQgetvalue(res, 0, 0),
	                   strtoll(PQgetvalue(res, 0, 1), NULL, 10), cause);
	free(p);
	return c;
}

/* See classify.h. */
struct classifier *
classifier_load(PGconn *conn, char **cause)
{
	PGresult *res = PQexec(conn, CLASSIFIER_SQL);
	struct classifier *c;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_cause(cause, "classifier: %s",
		          PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
		              ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY)
		              : PQerrorMessage(conn));
		PQclear(res);
		return NULL;
	}
	c = classifier_from_result(res, cause);
	PQclear(res);
	return c;
}

/* See classify.h. */
long long
classifier_version(const struct classifier *c)
{
	return c->version;
}

/* See classify.h. */
size_t
classifier_size(const struct classifier *c)
{
	return c->npatterns;
}

/* See classify.h. */
void
classifier_free(struct classifier *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->ncats; i++)
		free(c->cats[i].code);
	free(c->cats);
	ac_free(&c->all);
	ac_free(&c->sensitive);
	if (c->loc != (locale_t)0)
		freelocale(c->loc);
	free(c);
}
