/* outbox.h: the sender of pakn.outbox: claims due messages, sends them
 * with libcurl's multi interface on the event loop, records outcomes. */
#ifndef PAKN_OUTBOX_H
#define PAKN_OUTBOX_H

struct paknd;
struct outbox;

/* Start the sender on d's loop, using d->db and d->conf. */
struct outbox *outbox_new(struct paknd *d);
/* Stored messages wait for processing (1) or not (0): with [outbox]
 * backlog_rate set, the gateways send at most that rate meanwhile. */
void outbox_processing_backlog(struct outbox *o, int waiting);
/* Messages were queued: look for them now rather than at the next poll. */
void outbox_kick(struct outbox *o);
/* The configuration was reloaded (d->conf changed): apply rates, limits. */
void outbox_reload(struct outbox *o);
/* Stop claiming new messages (draining); sends in flight go on. */
void outbox_stop(struct outbox *o);
/* Sends in flight or outcomes not yet recorded. */
long outbox_pending(const struct outbox *o);
/* Abort transfers and free; messages in flight are retried after their
 * lease runs out. */
void outbox_free(struct outbox *o);
struct buf;
/* Append the send results by gateway and the messages held (/metrics). */
void outbox_metrics(const struct outbox *o, struct buf *b);

#endif
