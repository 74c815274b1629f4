/* notify.h: telling systemd how paknd is doing (sd_notify). */
#ifndef PAKN_NOTIFY_H
#define PAKN_NOTIFY_H

struct paknd;
struct notify;

/* Start watching for readiness (the listener is up, a database connection
 * is ready) and pinging the watchdog, if systemd asked for them. */
struct notify *notify_new(struct paknd *d);
/* The configuration is being reloaded / was reloaded. */
void notify_reloading(struct notify *n);
void notify_reloaded(struct notify *n);
/* paknd drains and will exit. */
void notify_stopping(struct notify *n);
void notify_free(struct notify *n);

#endif
