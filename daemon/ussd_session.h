/* ussd_session.h: a USSD session between steps as JSON: the saved state,
 * the context a step reads, the action it asks for (pure). */
#ifndef PAKN_USSD_SESSION_H
#define PAKN_USSD_SESSION_H

#include "ussd.h"

/* The state as JSON (pakn.ussd_session.state). */
char *ussd_state_json(const struct ussd_state *st);
/* Parse a saved state into *st; -1 and *cause if the JSON is not one. */
int ussd_state_parse(struct ussd_state *st, const char *json, char **cause);
/* Free the strings of a state and clear it. */
void ussd_state_clear(struct ussd_state *st);
/* The name of an action, for logs ("complaint", "rate", ...). */
const char *ussd_action_name(enum ussd_action action);
/* The action of out (for pakn.ussd_advance) as JSON, or NULL for UA_NONE. */
char *ussd_action_json(const struct ussd_state *st, const struct ussd_out *out);
/* Parse the context (pakn.ussd_menus and pakn.ussd_citizen) into *ctx (keeping
 * ctx->diacritics); -1 and *cause if it is not one. */
int ussd_ctx_parse(struct ussd_ctx *ctx, const char *json, char **cause);
/* Parse the citizen's part of a step's context (pakn.ussd_citizen) and
 * lend it the lists and example of menus (a context parsed once from
 * pakn.ussd_menus by ussd_ctx_parse) where the citizen's part has none,
 * as if both were one object; no copy, so menus must outlive *ctx. -1
 * and *cause if the JSON is not one. */
int ussd_ctx_lend(struct ussd_ctx *ctx, const struct ussd_ctx *menus,
                  const char *citizen, char **cause);
/* Free a context's strings and clear it (keeping diacritics). */
void ussd_ctx_clear(struct ussd_ctx *ctx);

#endif
