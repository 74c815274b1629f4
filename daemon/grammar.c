/* grammar.c: SMS keywords and Vietnamese folding (pure). */

#include <stdlib.h>
#include <string.h>

#include "grammar.h"
#include "ticket.h"
#include "util.h"

#define LEN(a)          (sizeof(a) / sizeof((a)[0]))
#define UNIT_MIN_DIGITS 2
#define UNIT_MAX_DIGITS 10
#define TICKET_KEEP     15 /* symbols of a malformed ticket kept in cmd */

/* Base letters of the code points lo, lo+1, ...; '.' keeps the character. */
struct fold_range {
	uint32_t lo;
	uint32_t n;
	const char *base;
};

/* clang-format off */
#define FOLD(lo, s) {(lo), sizeof(s) - 1, (s)}
/* clang-format on */

static const struct fold_range fold_ranges[] = {
    /* Latin-1 Supplement; Ð (U+00D0) is typed for Đ on some keyboards. */
    FOLD(0x00c0, "AAAAAA.CEEEEIIII"
                 "DNOOOOO.OUUUUY.."
                 "aaaaaa.ceeeeiiii"
                 "dnooooo.ouuuuy.y"),
    /* Latin Extended-A, with Ă ă, Đ đ, Ĩ ĩ, Ũ ũ. */
    FOLD(0x0100, "AaAaAaCcCcCcCcDd"
                 "DdEeEeEeEeEeGgGg"
                 "GgGgHhHhIiIiIiIi"
                 "Ii..JjKk.LlLlLlL"
                 "lLlNnNnNn...OoOo"
                 "Oo..RrRrRrSsSsSs"
                 "SsTtTtTtUuUuUuUu"
                 "UuUuWwYyYZzZzZz."),
    /* Latin Extended-B: Ơ ơ, Ư ư, Ǎ ǎ .. Ǜ ǜ. */
    FOLD(0x01a0, "Oo"),
    FOLD(0x01af, "Uu"),
    FOLD(0x01cd, "AaIiOoUuUuUuUuUu"),
    /* Latin Extended Additional, the Vietnamese letters Ạ .. ỹ. */
    FOLD(0x1ea0, "AaAaAaAaAaAaAaAaAaAaAaAa"
                 "EeEeEeEeEeEeEeEe"
                 "IiIi"
                 "OoOoOoOoOoOoOoOoOoOoOoOo"
                 "UuUuUuUuUuUuUu"
                 "YyYyYyYy"),
};

/* A message being parsed: the original, its folding and the offset in
 * the original of each folded byte. */
struct scan {
	const char *orig;
	const char *f;
	const size_t *map;
	size_t pos;
};

typedef int (*parse_fn)(struct scan *, struct sms_cmd *);

/* A keyword, folded; ' ' matches any run of spaces, '-', '_', '.' or
 * nothing ("phananh", "phan-anh"). The handler returns 0 when the rest
 * of the message does not fit, and the message is a bare complaint. */
struct keyword {
	const char *word;
	enum cmd_kind kind;
	parse_fn parse;
};

static int parse_complaint(struct scan *, struct sms_cmd *);
static int parse_ticket_only(struct scan *, struct sms_cmd *);
static int parse_register(struct scan *, struct sms_cmd *);
static int parse_alone(struct scan *, struct sms_cmd *);
static int parse_rate(struct scan *, struct sms_cmd *);
static int parse_answer(struct scan *, struct sms_cmd *);
static int parse_transfer(struct scan *, struct sms_cmd *);
static int parse_apology(struct scan *, struct sms_cmd *);
static int parse_list(struct scan *, struct sms_cmd *);
static int parse_extend(struct scan *, struct sms_cmd *);
static int parse_summary_off(struct scan *, struct sms_cmd *);
static int parse_summary_on(struct scan *, struct sms_cmd *);

static const struct keyword keywords[] = {
    {"phan anh kien nghi", CMD_COMPLAINT, parse_complaint},
    {"phan anh", CMD_COMPLAINT, parse_complaint},
    {"pakn", CMD_COMPLAINT, parse_complaint},
    {"pa", CMD_COMPLAINT, parse_complaint},
    {"gop y", CMD_COMPLAINT, parse_complaint},
    {"gy", CMD_COMPLAINT, parse_complaint},
    {"kien nghi", CMD_COMPLAINT, parse_complaint},
    {"kn", CMD_COMPLAINT, parse_complaint},
    {"tra cuu", CMD_STATUS, parse_ticket_only},
    {"tt", CMD_STATUS, parse_ticket_only},
    {"dang ky lai", CMD_START, parse_alone},
    {"dang ki lai", CMD_START, parse_alone},
    {"dk lai", CMD_START, parse_alone},
    {"start", CMD_START, parse_alone},
    {"dang ky", CMD_REGISTER, parse_register},
    {"dang ki", CMD_REGISTER, parse_register},
    {"dk", CMD_REGISTER, parse_register},
    {"huy", CMD_WITHDRAW, parse_ticket_only},
    {"huong dan", CMD_HELP, parse_alone},
    {"hd", CMD_HELP, parse_alone},
    {"help", CMD_HELP, parse_alone},
    {"?", CMD_HELP, parse_alone},
    {"tu choi", CMD_STOP, parse_alone},
    {"stop", CMD_STOP, parse_alone},
    {"bao cao tat", CMD_SUMMARY, parse_summary_off},
    {"bao cao bat", CMD_SUMMARY, parse_summary_on},
    {"bc tat", CMD_SUMMARY, parse_summary_off},
    {"bc bat", CMD_SUMMARY, parse_summary_on},
    {"bao cao", CMD_REPORT, parse_alone},
    {"bc", CMD_REPORT, parse_alone},
    {"danh gia", CMD_RATE, parse_rate},
    {"dg", CMD_RATE, parse_rate},
    {"tl", CMD_ANSWER, parse_answer},
    {"ct", CMD_TRANSFER, parse_transfer},
    {"thu ly", CMD_ACCEPT, parse_ticket_only},
    {"hen", CMD_APOLOGIZE, parse_apology},
    {"danh sach", CMD_LIST, parse_list},
    {"ds", CMD_LIST, parse_list},
    {"xem", CMD_SHOW, parse_ticket_only},
    {"gh", CMD_EXTEND, parse_extend},
    {"tc", CMD_RETURN, parse_answer},
};

/* Is c ASCII white space? */
static int
is_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* Is c an ASCII digit? */
static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* Is c an ASCII letter or digit? */
static int
is_alnum(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Is c white space or punctuation allowed after a keyword or argument? */
static int
is_sep(int c)
{
	return is_space(c) || (c != '\0' && strchr(":.,;-_=>/\\|*!~", c));
}

/* Is s only ASCII white space and punctuation? */
static int
is_blank(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p >= 0x80 || is_alnum(*p))
			return 0;
	}
	return 1;
}

/* Decode one UTF-8 character; see grammar.h. */
size_t
grammar_utf8_next(const char *s, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c, min;
	size_t n, i;

	*cp = p[0];
	if (p[0] < 0x80)
		return p[0] != '\0';
	if (p[0] < 0xc2 || p[0] > 0xf4)
		goto bad;
	n = p[0] < 0xe0 ? 2 : p[0] < 0xf0 ? 3 : 4;
	c = p[0] & (0x7f >> n);
	min = n == 2 ? 0x80 : n == 3 ? 0x800 : 0x10000;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			goto bad;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto bad;
	*cp = c;
	return n;
bad:
	*cp = 0xfffd;
	return 1;
}

/* Strip the diacritic from cp; see grammar.h. */
uint32_t
grammar_base(uint32_t cp)
{
	const struct fold_range *r;
	size_t i;

	if (cp < 0xc0)
		return cp;
	if (cp >= 0x0300 && cp <= 0x036f)
		return 0;
	for (i = 0; i < LEN(fold_ranges); i++) {
		r = &fold_ranges[i];
		if (cp >= r->lo && cp - r->lo < r->n)
			return r->base[cp - r->lo] == '.'
			           ? cp
			           : (unsigned char)r->base[cp - r->lo];
	}
	return cp;
}

/* Fold in; when map is not NULL (strlen(in) + 1 entries), record the
 * offset in in of the character each output byte comes from. The output
 * is never longer than in; a malformed byte is copied as it is. */
static char *
fold_map(const char *in, size_t *map)
{
	struct buf b;
	size_t i = 0, n, start;
	uint32_t cp, base;

	buf_init(&b);
	while ((n = grammar_utf8_next(in + i, &cp)) != 0) {
		start = b.len;
		base = grammar_base(cp);
		if (n == 1 && cp >= 0x80)
			buf_addc(&b, in[i]);
		else if (base >= 'A' && base <= 'Z')
			buf_addc(&b, (char)(base - 'A' + 'a'));
		else if (base != 0 && base < 0x80)
			buf_addc(&b, (char)base);
		else if (base != 0)
			buf_add(&b, in + i, n);
		for (; map != NULL && start < b.len; start++)
			map[start] = i;
		i += n;
	}
	if (map != NULL)
		map[b.len] = i;
	return buf_detach(&b);
}

/* Fold Vietnamese to lowercase ASCII. */
char *
grammar_fold(const char *utf8)
{
	return fold_map(utf8 == NULL ? "" : utf8, NULL);
}

/* Copy s without leading and trailing white space. */
static char *
trim_copy(const char *s)
{
	size_t n;

	while (is_space((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n > 0 && is_space((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

/* Length of the unit code (#, @ or nothing, then 2 to 10 digits not
 * followed by a letter or digit) at f, copied to unit; 0 if none. */
static size_t
code_at(const char *f, char unit[24])
{
	size_t p = (*f == '#' || *f == '@'), n = 0;

	while (n <= UNIT_MAX_DIGITS && is_digit(f[p + n]))
		n++;
	if (n < UNIT_MIN_DIGITS || n > UNIT_MAX_DIGITS || is_alnum(f[p + n]))
		return 0;
	memcpy(unit, f + p, n);
	unit[n] = '\0';
	return p + n;
}

/* Length of a unit code of any kind at f (letters, digits, '.', '_', '-',
 * starting with a letter or digit and holding a digit: "00004-tyt"),
 * copied to unit (folded, so lower case); 0 if none. For officials' CT,
 * which may name a department. */
static size_t
any_code_at(const char *f, char unit[24])
{
	size_t p = (*f == '#' || *f == '@'), n = 0;
	int digits = 0;

	f += p;
	if (!is_alnum(*f))
		return 0;
	while (n < 23 &&
	       (is_alnum(f[n]) || f[n] == '.' || f[n] == '_' || f[n] == '-'))
		digits |= is_digit(f[n++]);
	if (!digits || is_alnum(f[n]) || f[n] == '.' || f[n] == '_' ||
	    f[n] == '-')
		return 0;
	/* All digits: a statistical code, 2 to 10 digits as code_at. */
	if (strspn(f, "0123456789") >= n &&
	    (n < UNIT_MIN_DIGITS || n > UNIT_MAX_DIGITS))
		return 0;
	memcpy(unit, f, n);
	unit[n] = '\0';
	return p + n;
}

/* Find the first #code or @code in f (not inside a word) for unit. */
static void
find_unit(const char *f, char unit[24])
{
	size_t i;

	for (i = 0; f[i] != '\0'; i++) {
		if ((f[i] == '#' || f[i] == '@') &&
		    (i == 0 || !is_alnum(f[i - 1])) &&
		    code_at(f + i, unit) != 0)
			return;
	}
	unit[0] = '\0';
}

/* Skip separators at the scan position. */
static void
skip_sep(struct scan *s)
{
	while (is_sep((unsigned char)s->f[s->pos]))
		s->pos++;
}

/* Is the rest of the message only white space and punctuation? */
static int
rest_blank(const struct scan *s)
{
	return is_blank(s->f + s->pos);
}

/* The original text after the separators at the scan position, trimmed. */
static char *
rest_text(struct scan *s)
{
	skip_sep(s);
	return trim_copy(s->orig + s->map[s->pos]);
}

/* Append the letters and digits of the run of [A-Za-z0-9-] at s->f + p
 * to t (uppercase, keeping at most TICKET_KEEP), counting them in *n;
 * return the end of the run. */
static size_t
ticket_run(const struct scan *s, size_t p, char *t, size_t *n)
{
	char c;

	for (; is_alnum((unsigned char)s->f[p]) || s->f[p] == '-'; p++) {
		if ((c = s->f[p]) == '-')
			continue;
		if (*n < TICKET_KEEP)
			t[*n] =
			    c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
		(*n)++;
	}
	return p;
}

/*
 * Read a ticket at the scan position into cmd. People type it with
 * spaces or dashes inside ("K7M 4Q9X", "k7m4-q9x"), so runs separated by
 * spaces are joined while they add up to at most 7 symbols; when they do
 * not make exactly 7, the first run alone is the (malformed) ticket.
 */
static void
scan_ticket(struct scan *s, struct sms_cmd *cmd)
{
	char t[TICKET_KEEP + 1];
	size_t n = 0, first_n, end, first_end, q;

	end = first_end = ticket_run(s, s->pos, t, &n);
	first_n = n;
	while (n < TICKET_LEN) {
		for (q = end; s->f[q] == ' ' || s->f[q] == '\t'; q++)
			;
		if (q == end || !is_alnum((unsigned char)s->f[q]))
			break;
		end = ticket_run(s, q, t, &n);
	}
	if (n != TICKET_LEN) {
		n = first_n < TICKET_KEEP ? first_n : TICKET_KEEP;
		end = first_end;
	}
	memcpy(cmd->ticket, t, n);
	cmd->ticket[n] = '\0';
	cmd->ticket_ok = ticket_valid(cmd->ticket);
	s->pos = end;
}

/* Read a rating 1..5 (a digit not followed by another) at the position. */
static int
scan_rating(struct scan *s)
{
	int c = (unsigned char)s->f[s->pos];

	if (c < '1' || c > '5' || is_digit((unsigned char)s->f[s->pos + 1]))
		return 0;
	s->pos++;
	return c - '0';
}

/* PA <text>: the rest is the complaint. */
static int
parse_complaint(struct scan *s, struct sms_cmd *cmd)
{
	cmd->text = rest_text(s);
	find_unit(s->f + s->pos, cmd->unit);
	return 1;
}

/* TT/HUY <ticket>: after a malformed ticket, more words are prose. */
static int
parse_ticket_only(struct scan *s, struct sms_cmd *cmd)
{
	scan_ticket(s, cmd);
	if (!cmd->ticket_ok && !rest_blank(s))
		return 0;
	cmd->text = rest_text(s);
	return 1;
}

/* DK <code>, or DK alone; "Dang ky ket hon ..." is prose. */
static int
parse_register(struct scan *s, struct sms_cmd *cmd)
{
	size_t n;

	if (!rest_blank(s)) {
		if ((n = code_at(s->f + s->pos, cmd->unit)) == 0)
			return 0;
		s->pos += n;
		if (!rest_blank(s))
			return 0;
	}
	cmd->text = rest_text(s);
	return 1;
}

/* HD, TU CHOI: only when nothing else is said ("Tu choi cap phep ..."). */
static int
parse_alone(struct scan *s, struct sms_cmd *cmd)
{
	if (!rest_blank(s))
		return 0;
	cmd->text = xstrdup("");
	return 1;
}

/* DG <ticket> <1-5>, or DG <1-5> for the last ticket. */
static int
parse_rate(struct scan *s, struct sms_cmd *cmd)
{
	size_t start = s->pos;

	if ((cmd->rating = scan_rating(s)) != 0 && rest_blank(s)) {
		cmd->text = rest_text(s);
		return 1;
	}
	s->pos = start;
	scan_ticket(s, cmd);
	skip_sep(s);
	cmd->rating = scan_rating(s);
	if (!cmd->ticket_ok && !rest_blank(s))
		return 0;
	cmd->text = rest_text(s);
	return 1;
}

/* TL <ticket> <answer>. */
static int
parse_answer(struct scan *s, struct sms_cmd *cmd)
{
	scan_ticket(s, cmd);
	cmd->text = rest_text(s);
	return 1;
}

/* CT <ticket> <unit code> <reason>. */
static int
parse_transfer(struct scan *s, struct sms_cmd *cmd)
{
	scan_ticket(s, cmd);
	skip_sep(s);
	s->pos += any_code_at(s->f + s->pos, cmd->unit);
	cmd->text = rest_text(s);
	return 1;
}

/* Length of a date d/m or d/m/y (or with '.' or '-') at f: day and
 * month of one or two digits, a year of two or four; 0 if none. */
static size_t
date_at(const char *f)
{
	size_t i = 0, n, end = 0;
	int part;

	for (part = 0; part < 3; part++) {
		for (n = 0; is_digit((unsigned char)f[i + n]); n++)
			;
		if (part < 2 ? n < 1 || n > 2 : n != 2 && n != 4)
			break;
		i += n;
		end = part >= 1 ? i : 0;
		if (f[i] != '/' && f[i] != '.' && f[i] != '-')
			break;
		i++;
	}
	if (end == 0 || is_alnum((unsigned char)f[end]))
		return 0;
	return end;
}

/* HEN <ticket> <date> <reason>: "Hẹn mai hẹn mốt" is prose. */
static int
parse_apology(struct scan *s, struct sms_cmd *cmd)
{
	scan_ticket(s, cmd);
	skip_sep(s);
	if (date_at(s->f + s->pos) == 0)
		return 0;
	cmd->text = trim_copy(s->orig + s->map[s->pos]);
	return 1;
}

/* Read a number of 1 to 3 digits not followed by a letter or digit at
 * the position into *n; 0 if there is none. */
static int
scan_number(struct scan *s, int *n)
{
	size_t k = 0;

	while (k < 4 && is_digit((unsigned char)s->f[s->pos + k]))
		k++;
	if (k == 0 || k > 3 || is_alnum((unsigned char)s->f[s->pos + k]))
		return 0;
	*n = atoi(s->f + s->pos);
	s->pos += k;
	return 1;
}

/* DS [page]: "Danh sach ho ngheo ..." is prose. */
static int
parse_list(struct scan *s, struct sms_cmd *cmd)
{
	if (!rest_blank(s) && !scan_number(s, &cmd->number))
		return 0;
	return parse_alone(s, cmd);
}

/* GH <ticket> <days> <reason>. */
static int
parse_extend(struct scan *s, struct sms_cmd *cmd)
{
	scan_ticket(s, cmd);
	skip_sep(s);
	scan_number(s, &cmd->number);
	cmd->text = rest_text(s);
	return 1;
}

/* BC TAT: the leaders' summary off. */
static int
parse_summary_off(struct scan *s, struct sms_cmd *cmd)
{
	cmd->number = 0;
	return parse_alone(s, cmd);
}

/* BC BAT: the leaders' summary on. */
static int
parse_summary_on(struct scan *s, struct sms_cmd *cmd)
{
	cmd->number = 1;
	return parse_alone(s, cmd);
}

/* Is c an ASCII letter? */
static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/*
 * The bytes at p that typing habits left after the keyword letter w[0]
 * (just matched), which the keyword word is being matched from: Telex
 * "dd" for đ, "aa ee oo" for â ê ô, "aw ow uw" for ă ơ ư, a tone key
 * (s f r x j) ending the word; a VNI digit 1-9 inside a word ("pha3n",
 * "d9k"), or ending a word of a keyword longer than two letters ("nghi5").
 */
static size_t
typed_extra(const char *p, const char *w, const char *word)
{
	int ends = w[1] == ' ' || w[1] == '\0';
	size_t n = 0;

	if (p[0] == w[0] && w[1] != w[0] && strchr("adeo", w[0]) != NULL)
		return 1;
	if (p[0] == 'w' && strchr("aou", w[0]) != NULL)
		return 1;
	if (ends && p[0] != '\0' && strchr("sfrxj", p[0]) != NULL &&
	    !is_alnum((unsigned char)p[1]))
		return 1;
	while (n < 2 && p[n] >= '1' && p[n] <= '9')
		n++;
	if (n > 0 &&
	    (is_alpha((unsigned char)p[n]) ||
	     (ends && strlen(word) > 2 && !is_alnum((unsigned char)p[n]))))
		return n;
	return 0;
}

/* The bytes typing habits left after w[0], at most three of them
 * ("uwf" in "tuwf"). */
static size_t
typed_run(const char *p, const char *w, const char *word)
{
	size_t n = 0, x;

	for (int k = 0; k < 3 && (x = typed_extra(p + n, w, word)) > 0; k++)
		n += x;
	return n;
}

/* Match word at f, forgiving the typing habits of typed_extra and a dot
 * between letters ("Đ.K"); the length matched, or 0. */
static size_t
keyword_match(const char *f, const char *word)
{
	size_t i = 0;
	const char *w;

	for (w = word; *w != '\0'; w++) {
		if (*w != ' ') {
			if (w != word && w[-1] != ' ' && f[i] == '.' &&
			    f[i + 1] == *w)
				i++;
			if (f[i] != *w)
				return 0;
			i++;
			i += typed_run(f + i, w, word);
			continue;
		}
		while (is_space((unsigned char)f[i]) || f[i] == '-' ||
		       f[i] == '_' || f[i] == '.')
			i++;
	}
	return i;
}

/* Does a keyword of this kind end at f (a whole word)? "Pa-nô" is a
 * word, not PA followed by text. */
static int
keyword_ends(const char *f, enum cmd_kind kind)
{
	unsigned char c = (unsigned char)f[0];

	if (c == '\0' || is_space(c))
		return 1;
	if (c >= 0x80 || is_alnum(c))
		return 0;
	return !(c == '-' && kind == CMD_COMPLAINT &&
	         is_alnum((unsigned char)f[1]));
}

/* Parse a message starting with a keyword; 0 if it does not. */
static int
parse_keyword(struct scan *s, struct sms_cmd *cmd)
{
	const struct keyword *k;
	size_t i, n;

	for (i = 0; i < LEN(keywords); i++) {
		k = &keywords[i];
		n = keyword_match(s->f + s->pos, k->word);
		if (n != 0 && keyword_ends(s->f + s->pos + n, k->kind))
			break;
	}
	if (i == LEN(keywords))
		return 0;
	cmd->kind = k->kind;
	cmd->keyword = 1;
	s->pos += n;
	skip_sep(s);
	return k->parse(s, cmd);
}

/* Parse a message that is only a digit 1..5, a unit code or nothing. */
static int
parse_reply(struct scan *s, struct sms_cmd *cmd)
{
	const char *f = s->f + s->pos;
	size_t n;

	if (*f == '\0')
		cmd->kind = CMD_EMPTY;
	else if (*f >= '1' && *f <= '5' && is_blank(f + 1)) {
		cmd->kind = CMD_DIGIT;
		cmd->rating = *f - '0';
	} else if ((n = code_at(f, cmd->unit)) != 0 && is_blank(f + n))
		cmd->kind = CMD_CODE;
	else
		return 0;
	cmd->text = xstrdup("");
	return 1;
}

/* The yes/no answers a survey reply may spell, folded. */
static const struct {
	const char *word;
	char answer;
} survey_words[] = {
    {"co", 'C'}, {"c", 'C'}, {"khong", 'K'}, {"ko", 'K'},
    {"kg", 'K'}, {"k", 'K'}, {"kh", 'K'},
};

/* Read one word of survey answers (f[0..n)) into cmd; 0 if it is not
 * one: a yes/no word, or a run of digits 1..5 and letters c/k. */
static int
survey_word(const char *f, size_t n, struct sms_cmd *cmd, size_t *letters)
{
	size_t i;

	for (i = 0; i < LEN(survey_words); i++)
		if (strlen(survey_words[i].word) == n &&
		    !strncmp(f, survey_words[i].word, n)) {
			if (*letters >= 2)
				return 0;
			cmd->answers[(*letters)++] = survey_words[i].answer;
			return 1;
		}
	for (i = 0; i < n; i++) {
		if (f[i] >= '1' && f[i] <= '5' && cmd->rating == 0)
			cmd->rating = f[i] - '0';
		else if ((f[i] == 'c' || f[i] == 'k') && *letters < 2)
			cmd->answers[(*letters)++] = (char)(f[i] - 'a' + 'A');
		else
			return 0;
	}
	return 1;
}

/* Parse a message of survey answers only; 0 if it is not one. */
static int
parse_survey(struct scan *s, struct sms_cmd *cmd)
{
	const char *f = s->f + s->pos;
	size_t i = 0, n, letters = 0;

	while (f[i] != '\0') {
		while (is_sep((unsigned char)f[i]))
			i++;
		for (n = 0;
		     f[i + n] != '\0' && !is_sep((unsigned char)f[i + n]); n++)
			;
		if (n > 0 && !survey_word(f + i, n, cmd, &letters))
			goto fail;
		i += n;
	}
	if (letters == 0)
		goto fail;
	cmd->answers[letters] = '\0';
	cmd->kind = CMD_SURVEY;
	cmd->text = rest_text(s);
	return 1;
fail:
	cmd->rating = 0;
	memset(cmd->answers, 0, sizeof cmd->answers);
	return 0;
}

/* Fill cmd as a bare complaint. */
void
grammar_complaint(const char *utf8, struct sms_cmd *cmd)
{
	sms_cmd_clear(cmd);
	memset(cmd, 0, sizeof *cmd);
	cmd->kind = CMD_COMPLAINT;
	cmd->text = trim_copy(utf8 == NULL ? "" : utf8);
	cmd->folded = grammar_fold(cmd->text);
	find_unit(cmd->folded, cmd->unit);
}

/* Parse one SMS body into cmd. */
int
grammar_parse(const char *utf8, struct sms_cmd *cmd)
{
	struct scan s;
	size_t *map, start;
	char *f;

	memset(cmd, 0, sizeof *cmd);
	if (utf8 == NULL)
		utf8 = "";
	map = xcalloc(strlen(utf8) + 1, sizeof *map);
	f = fold_map(utf8, map);
	s.orig = utf8;
	s.f = f;
	s.map = map;
	for (s.pos = 0; is_space((unsigned char)f[s.pos]); s.pos++)
		;
	start = s.pos;
	if (!parse_reply(&s, cmd) && !parse_keyword(&s, cmd)) {
		/* A keyword whose rest did not fit leaves cmd half filled. */
		sms_cmd_clear(cmd);
		memset(cmd, 0, sizeof *cmd);
		s.pos = start;
		if (!parse_survey(&s, cmd))
			grammar_complaint(utf8, cmd);
	}
	if (cmd->folded == NULL)
		cmd->folded = grammar_fold(cmd->text);
	free(f);
	free(map);
	return 0;
}

/* Release the strings of cmd. */
void
sms_cmd_clear(struct sms_cmd *cmd)
{
	free(cmd->text);
	free(cmd->folded);
	cmd->text = cmd->folded = NULL;
}
