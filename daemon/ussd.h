/* ussd.h: USSD menus (complain, rate, status, register) as a pure state
 * machine (no I/O). A gateway's USSD callback is parsed by its adapter
 * (gw.h: parse_ussd); the JSON kept between steps is in ussd_session.h. */
#ifndef PAKN_USSD_H
#define PAKN_USSD_H

#include <stddef.h>

#define USSD_MAX        182  /* characters of an answer after CON/END */
#define USSD_REASON_MAX 36   /* characters of the line saying what was wrong */
#define USSD_LABEL_MAX  40   /* characters of one list item or unit name */
#define USSD_CODE_MAX   16   /* characters of a code or ticket shown */
#define USSD_PAGE_ITEMS 8    /* list items per page (9: more, 0: back) */
#define USSD_TEXT_MAX   1000 /* bytes of complaint text kept */

/*
 * The input of this step: with cumulative text, what follows the text of
 * the previous step (prev) and a '*', else the part after the last '*'
 * (prev NULL: a new session, the whole text); without, the text itself.
 * Returns a pointer into text.
 */
const char *ussd_input(const char *prev, const char *text, int cumulative);
/* The part of text after its last '*' (the code to look up this step). */
const char *ussd_last_input(const char *text);

/* A list entry: a PAPI dimension, a category or a rated service. */
struct ussd_item {
	char *code;
	char *label; /* as stored, diacritics and all */
	int dim;     /* the PAPI dimension (categories, services) */
};

/* An open ticket for the status screen. */
struct ussd_ticket {
	char *ticket;
	char *status; /* pakn.status_vi */
	char *due;    /* DD/MM/YYYY, or "" */
};

/* What the database knows for one step (pakn.ussd_menus and pakn.ussd_citizen
 * in one JSON object). */
struct ussd_ctx {
	int diacritics; /* show Vietnamese diacritics (else folded ASCII) */
	char *home_code, *home_name; /* the registered commune, or NULL */
	char *example;               /* a commune code for examples */
	char *unit_code,
	    *unit_name; /* this step's input as a commune, or NULL */
	struct ussd_item *dims, *cats, *svcs;
	size_t ndims, ncats, nsvcs;
	struct ussd_ticket *open; /* newest first */
	size_t nopen;
	long long answered_id; /* the last answered complaint, 0 if none */
	char *answered_ticket;
	/* The lists and example lent by the menus kept (ussd_ctx_lend):
	 * ussd_ctx_clear leaves them to their owner. */
	int lent;
};

enum ussd_screen {
	US_MAIN,    /* 1 complain, 2 rate, 3 status, 4 register */
	US_DIM,     /* PAPI dimensions, paged */
	US_CAT,     /* categories of the dimension, paged */
	US_UNIT,    /* the commune: 1 registered one, or a code */
	US_TEXT,    /* the complaint's text */
	US_CONFIRM, /* 1 send */
	US_RATE,    /* 1 the answered complaint, 2 a service */
	US_SVC,     /* services, paged */
	US_SCORE,   /* 1-5 */
	US_REG,     /* a commune code to register */
	US_DONE,    /* the session has ended */
	US_NSCREENS
};

enum ussd_flow {
	UF_COMPLAINT, /* a new complaint */
	UF_TICKET,    /* rating the answered complaint */
	UF_SERVICE,   /* rating a service of a commune */
};

/* The session between steps (pakn.ussd_session.state as JSON). */
struct ussd_state {
	enum ussd_screen screen;
	enum ussd_flow flow;
	int page;
	int dim;
	char *cat, *svc, *unit, *unit_name, *text, *ticket;
	long long cid; /* the complaint rated */
	int score;
};

enum ussd_action {
	UA_NONE,
	UA_COMPLAINT,    /* file the complaint of the state */
	UA_RATE,         /* rate complaint cid */
	UA_RATE_SERVICE, /* rate service svc of unit */
	UA_REGISTER,     /* register unit as the home commune */
};

/* The answer of one step. */
struct ussd_out {
	int end;      /* END (close) rather than CON (wait for input) */
	char *screen; /* at most USSD_MAX characters; "{ticket}" is filled in
	                 by the database for UA_COMPLAINT */
	enum ussd_action action;
	char *fail; /* UA_RATE: the END screen if it cannot be rated */
};

/* The first screen of a new session. */
void ussd_start(const struct ussd_ctx *ctx, struct ussd_state *st,
                struct ussd_out *out);
/* Apply one input to the state and say what to show and do. */
void ussd_step(const struct ussd_ctx *ctx, struct ussd_state *st,
               const char *input, struct ussd_out *out);
/* Whether the step of this input looks it up as a commune code (the
 * context's unit, which the database finds for that input). */
int ussd_needs_unit(const struct ussd_state *st, const char *input);
/* Whether the step after this state, whatever its input, can read the
 * citizen's part of the context (home, open, answered): when not, the
 * database need not compute it for that step. */
int ussd_reads_citizen(const struct ussd_state *st);
/* The END screen of a session that expired or is unknown. */
char *ussd_expired(int diacritics);
/* The END screen when the database cannot answer. */
char *ussd_unavailable(int diacritics);
/* "CON screen" or "END screen", as the gateway wants it. */
char *ussd_answer(const struct ussd_out *out);
/* Length in characters (GSM-7 septets when folded, else UTF-16 units). */
int ussd_len(const char *s);

/* Free what a step returned and clear it. */
void ussd_out_clear(struct ussd_out *out);

#endif
