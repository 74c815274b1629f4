/* ussd_cache.c: the menus and the sessions paknd keeps between USSD
 * steps (ussd_cache.h). A hash of chains for lookup, a list in order of
 * use for eviction. */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "ussd_cache.h"
#include "ussd_session.h"
#include "util.h"

struct entry {
	char *key; /* gateway, NUL, session */
	size_t klen;
	uint32_t hash;
	struct ussd_kept k;
	struct entry *next; /* in its bucket */
	TAILQ_ENTRY(entry) lru;
};

TAILQ_HEAD(entries, entry);

struct ussd_cache {
	struct entry **buckets;
	size_t nbuckets; /* a power of 2 */
	size_t count, max;
	struct entries lru; /* least recently used first */
	long long menus_version;
	char *menus;
	struct ussd_ctx menus_ctx; /* menus parsed, if menus_ok */
	int menus_ok;
};

/* FNV-1a. */
static uint32_t
hash_of(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 16777619u;
	}
	return h;
}

/* The key of (gateway, session) in a new buffer of *len bytes. */
static char *
key_of(const char *gateway, const char *session, size_t *len)
{
	size_t g = strlen(gateway), s = strlen(session);
	char *k = xmalloc(g + 1 + s + 1);

	memcpy(k, gateway, g + 1);
	memcpy(k + g + 1, session, s + 1);
	*len = g + 1 + s;
	return k;
}

/* Free what a session keeps. */
static void
kept_clear(struct ussd_kept *k)
{
	free(k->msisdn);
	free(k->prev);
	free(k->state);
	free(k->citizen);
	memset(k, 0, sizeof *k);
}

struct ussd_cache *
ussd_cache_new(size_t max)
{
	struct ussd_cache *c = xcalloc(1, sizeof *c);

	c->max = max > 0 ? max : 1;
	for (c->nbuckets = 64; c->nbuckets < c->max; c->nbuckets *= 2)
		;
	c->buckets = xcalloc(c->nbuckets, sizeof *c->buckets);
	TAILQ_INIT(&c->lru);
	return c;
}

/* The slot holding the entry of key (or the empty slot at the end of its
 * chain). */
static struct entry **
slot_of(struct ussd_cache *c, const char *key, size_t klen, uint32_t h)
{
	struct entry **e = &c->buckets[h & (c->nbuckets - 1)];

	for (; *e != NULL; e = &(*e)->next)
		if ((*e)->hash == h && (*e)->klen == klen &&
		    memcmp((*e)->key, key, klen) == 0)
			break;
	return e;
}

/* Unlink and free the entry in slot e. */
static void
entry_remove(struct ussd_cache *c, struct entry **e)
{
	struct entry *x = *e;

	*e = x->next;
	TAILQ_REMOVE(&c->lru, x, lru);
	kept_clear(&x->k);
	free(x->key);
	free(x);
	c->count--;
}

void
ussd_cache_free(struct ussd_cache *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->nbuckets; i++)
		while (c->buckets[i] != NULL)
			entry_remove(c, &c->buckets[i]);
	free(c->buckets);
	free(c->menus);
	ussd_ctx_clear(&c->menus_ctx);
	free(c);
}

const struct ussd_kept *
ussd_cache_get(struct ussd_cache *c, const char *gateway, const char *session)
{
	size_t klen;
	char *key = key_of(gateway, session, &klen);
	struct entry **e = slot_of(c, key, klen, hash_of(key, klen));

	free(key);
	if (*e == NULL)
		return NULL;
	TAILQ_REMOVE(&c->lru, *e, lru);
	TAILQ_INSERT_TAIL(&c->lru, *e, lru);
	return &(*e)->k;
}

void
ussd_cache_put(struct ussd_cache *c, const char *gateway, const char *session,
               const struct ussd_kept *k)
{
	size_t klen;
	char *key = key_of(gateway, session, &klen);
	uint32_t h = hash_of(key, klen);
	struct entry **e = slot_of(c, key, klen, h), *x;

	if (*e != NULL) {
		x = *e;
		free(key);
		kept_clear(&x->k);
		TAILQ_REMOVE(&c->lru, x, lru);
	} else {
		x = xcalloc(1, sizeof *x);
		x->key = key;
		x->klen = klen;
		x->hash = h;
		*e = x;
		c->count++;
	}
	x->k.msisdn = xstrdup(k->msisdn);
	x->k.step = k->step;
	x->k.prev = xstrdup(k->prev);
	x->k.state = xstrdup(k->state);
	x->k.citizen = xstrdup(k->citizen);
	x->k.at = k->at;
	TAILQ_INSERT_TAIL(&c->lru, x, lru);
	while (c->count > c->max) {
		struct entry *old = TAILQ_FIRST(&c->lru);

		entry_remove(c, slot_of(c, old->key, old->klen, old->hash));
	}
}

void
ussd_cache_drop(struct ussd_cache *c, const char *gateway, const char *session)
{
	size_t klen;
	char *key = key_of(gateway, session, &klen);
	struct entry **e = slot_of(c, key, klen, hash_of(key, klen));

	free(key);
	if (*e != NULL)
		entry_remove(c, e);
}

size_t
ussd_cache_count(const struct ussd_cache *c)
{
	return c->count;
}

long long
ussd_cache_menus_version(const struct ussd_cache *c)
{
	return c->menus != NULL ? c->menus_version : 0;
}

void
ussd_cache_set_menus(struct ussd_cache *c, long long v, const char *json)
{
	free(c->menus);
	c->menus = xstrdup(json);
	c->menus_version = v;
	ussd_ctx_clear(&c->menus_ctx);
	c->menus_ok = ussd_ctx_parse(&c->menus_ctx, json, NULL) == 0;
}

int
ussd_cache_ctx(const struct ussd_cache *c, const char *citizen,
               struct ussd_ctx *ctx, char **cause)
{
	if (c->menus == NULL || !c->menus_ok) {
		if (cause != NULL)
			*cause = xstrdup(c->menus == NULL ? "no USSD menus"
			                                  : "not USSD menus");
		return -1;
	}
	return ussd_ctx_lend(ctx, &c->menus_ctx, citizen, cause);
}
