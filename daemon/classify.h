/* classify.h: a complaint's category in C, exactly as pakn.category_of.
 *
 * The keywords of pakn.category (its stored columns patterns and
 * untyped, folded by pakn.fold_words and pakn.untype_words when a
 * category is written) are read once into two Aho-Corasick automata;
 * a message is then folded, untyped and matched in one pass each,
 * following sql/013_law.sql: the head cut of pakn.classify_head, a
 * sensitive category's untyped keyword first, then pakn.classify of the
 * text, then pakn.classify of the untyped text, 'general' when nothing
 * matches; the longest keyword wins, ties go to the first code in the
 * database's order. Folding follows the database's LC_CTYPE (word and
 * space characters of its regular expressions, lower()).
 */
#ifndef PAKN_CLASSIFY_H
#define PAKN_CLASSIFY_H

#include <stddef.h>

#include <libpq-fe.h>

/*
 * The one statement a classifier is read with (no parameters): one row
 * per keyword pattern, plus one row with NULL pattern columns when no
 * category has any. Columns: lc_ctype, version of
 * pakn.category_version, code, rank (order of code), untyped (true: a
 * sensitive category's untyped pattern; false: a pattern), pattern.
 */
#define CLASSIFIER_SQL                                                         \
	"WITH c AS (SELECT code, sensitive, patterns, untyped, "               \
	"row_number() OVER (ORDER BY code) AS rank FROM pakn.category) "       \
	"SELECT current_setting('lc_ctype'), v.version, k.code, k.rank, "      \
	"k.untyped, k.pattern FROM pakn.category_version v LEFT JOIN ("        \
	"SELECT c.code, c.rank, false AS untyped, p AS pattern "               \
	"FROM c, unnest(c.patterns) p UNION ALL "                              \
	"SELECT c.code, c.rank, true, u FROM c, unnest(c.untyped) u "          \
	"WHERE c.sensitive) k ON true"

/* The counter migration 022 bumps whenever pakn.category changes. */
#define CLASSIFIER_VERSION_SQL "SELECT version FROM pakn.category_version"

struct classifier;

/* One keyword pattern as pakn.category stores it (" word word "). */
struct classifier_pattern {
	const char *code; /* the category */
	long rank;        /* position of code in the database's order */
	int untyped;      /* 1: an untyped pattern of a sensitive category */
	const char *pattern;
};

/*
 * Read the categories over conn (a blocking query: at start, in tests
 * and tools) and build a classifier. NULL and *cause on failure.
 */
struct classifier *classifier_load(PGconn *conn, char **cause);
/* The same from the result of CLASSIFIER_SQL run elsewhere (paknd runs
 * it on its pool, without blocking the event loop). */
struct classifier *classifier_from_result(const PGresult *res, char **cause);
/*
 * Build a classifier from patterns (no database), with the character
 * classes of the locale ctype ("C" or "POSIX": ASCII only). NULL and
 * *cause when a pattern is not " word word " of a-z and 0-9 or the
 * locale is not installed.
 */
struct classifier *classifier_new(const struct classifier_pattern *p, size_t n,
                                  const char *ctype, long long version,
                                  char **cause);
/*
 * The category code of text[0..len) as pakn.category_of gives it for
 * the same (UTF-8) text; "general" when no keyword matches. Malformed
 * UTF-8 is read as U+FFFD, a NUL byte as a character of its own. The
 * string belongs to c: copy it to keep it past classifier_free(c).
 */
const char *classifier_category(const struct classifier *c, const char *text,
                                size_t len);
/*
 * What the SQL compares keywords with, for tests: pakn.fold_words(text)
 * (untyped 0) or pakn.untype_words(text) (untyped 1), of the whole text
 * (no head cut), malloc'd.
 */
char *classifier_words(const struct classifier *c, const char *text, size_t len,
                       int untyped);
/* The pakn.category_version the classifier was read at (0 when built
 * without a database), and how many patterns it holds. */
long long classifier_version(const struct classifier *c);
size_t classifier_size(const struct classifier *c);
void classifier_free(struct classifier *c);

#endif
