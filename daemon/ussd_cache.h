/* ussd_cache.h: what paknd keeps between the steps of USSD sessions, so
 * that a step is one round trip to the database: the menus every session
 * lists (pakn.ussd_menus, known by a version), and for the sessions this
 * process answered last, the session's step, last text, state and the
 * citizen's part of the context (pakn.ussd_citizen). Bounded: the session
 * used longest ago is forgotten first. */
#ifndef PAKN_USSD_CACHE_H
#define PAKN_USSD_CACHE_H

#include <stddef.h>

#include "ussd.h"

/* A session as this process left it after its last step. */
struct ussd_kept {
	char *msisdn;
	int step;      /* the session's step count in the database */
	char *prev;    /* the text of the last step */
	char *state;   /* JSON (ussd_state_json) */
	char *citizen; /* JSON (pakn.ussd_citizen) */
	double at;     /* when it was kept (mono_now) */
};

struct ussd_cache;

/* A cache of at most max sessions. */
struct ussd_cache *ussd_cache_new(size_t max);
/* Free the cache and all it keeps. */
void ussd_cache_free(struct ussd_cache *c);

/* The session kept for (gateway, session), or NULL; valid until the next
 * put or drop. */
const struct ussd_kept *
ussd_cache_get(struct ussd_cache *c, const char *gateway, const char *session);
/* Keep a copy of *k for (gateway, session), replacing what was kept. */
void ussd_cache_put(struct ussd_cache *c, const char *gateway,
                    const char *session, const struct ussd_kept *k);
/* Forget (gateway, session). */
void ussd_cache_drop(struct ussd_cache *c, const char *gateway,
                     const char *session);
/* Sessions kept. */
size_t ussd_cache_count(const struct ussd_cache *c);

/* The version of the menus kept (0: none yet). */
long long ussd_cache_menus_version(const struct ussd_cache *c);
/* Keep menus (a JSON object) of version v. */
void ussd_cache_set_menus(struct ussd_cache *c, long long v, const char *json);
/* A step's whole context in *ctx (its diacritics kept): the menus kept,
 * parsed once when they were kept and lent (ussd_ctx_lend), with the
 * citizen's part (JSON); -1 and *cause when no menus are kept or either
 * is not what it should be. */
int ussd_cache_ctx(const struct ussd_cache *c, const char *citizen,
                   struct ussd_ctx *ctx, char **cause);

#endif
