/* notify.c: telling systemd how paknd is doing (Type=notify).
 *
 * READY=1 once the listener is bound (http_start ran before) and a
 * database connection is ready, so a unit ordered after paknd.service
 * finds it serving; until then STATUS= says what it waits for.
 * RELOADING=1 and READY=1 around SIGHUP, STOPPING=1 when draining.
 * WATCHDOG=1 every half of WatchdogSec from a timer on the event loop:
 * a loop that hangs misses it and systemd restarts paknd. Without
 * NOTIFY_SOCKET (or built without libsystemd) nothing is sent.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "http.h"
#include "notify.h"
#include "util.h"

struct notify {
	struct paknd *d;
	struct event *ready; /* polls for the first database connection */
	struct event *watchdog;
	int is_ready;
	char status[256]; /* the last STATUS= sent */
};

/* Send one notification; the text of sd_notify(3). */
static void
notify_send(const char *what)
{
#ifdef HAVE_SYSTEMD
	int rc = sd_notify(0, what);

	if (rc < 0)
		log_debug("sd_notify: %s", strerror(-rc));
#else
	(void)what;
#endif
}

/* Send STATUS= when it changed. */
static void
notify_status(struct notify *n, const char *status)
{
	char *msg;

	if (strcmp(n->status, status) == 0)
		return;
	snprintf(n->status, sizeof n->status, "%s", status);
	msg = xasprintf("STATUS=%s", status);
	notify_send(msg);
	free(msg);
}

/* Until a connection is ready: READY=1 then, else say why not. */
static void
notify_ready_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;
	const char *why;
	char *msg;

	if (db_pool_up(n->d->db) == 0) {
		why = db_pool_last_error(n->d->db);
		msg = xasprintf("waiting for the database%s%s", why ? ": " : "",
		                why ? why : "");
		notify_status(n, msg);
		free(msg);
		return;
	}
	event_del(n->ready);
	n->is_ready = 1;
	msg = xasprintf("serving on %s", n->d->conf->listen);
	snprintf(n->status, sizeof n->status, "%s", msg);
	free(msg);
	msg = xasprintf("READY=1\nSTATUS=%s", n->status);
	notify_send(msg);
	free(msg);
	log_info("ready: listening and the database is up");
}

/* The watchdog's timer: the loop is alive. */
static void
notify_watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	notify_send("WATCHDOG=1");
}

/* Arm the watchdog when systemd asked for one. */
static void
notify_watchdog_start(struct notify *n)
{
#ifdef HAVE_SYSTEMD
	uint64_t usec = 0;
	struct timeval tv;

	if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
		return;
	usec /= 2;
	tv.tv_sec = (time_t)(usec / 1000000);
	tv.tv_usec = (suseconds_t)(usec % 1000000);
	n->watchdog =
	    event_new(n->d->base, -1, EV_PERSIST, notify_watchdog_cb, n);
	event_add(n->watchdog, &tv);
	log_info("systemd watchdog: a ping every %lld ms",
	         (long long)usec / 1000);
#else
	(void)n;
#endif
}

/* Start watching for readiness and pinging the watchdog. */
struct notify *
notify_new(struct paknd *d)
{
	struct notify *n = xcalloc(1, sizeof *n);
	struct timeval tick = {0, 50000};

	n->d = d;
	n->ready = event_new(d->base, -1, EV_PERSIST, notify_ready_cb, n);
	event_add(n->ready, &tick);
	notify_watchdog_start(n);
	return n;
}

/* The configuration is being reloaded. */
void
notify_reloading(struct notify *n)
{
	notify_send("RELOADING=1\nSTATUS=reloading the configuration");
}

/* The reload is over (taken or refused). */
void
notify_reloaded(struct notify *n)
{
	char *msg;

	if (!n->is_ready)
		return;
	msg = xasprintf("READY=1\nSTATUS=%s", n->status);
	notify_send(msg);
	free(msg);
}

/* paknd drains and will exit. */
void
notify_stopping(struct notify *n)
{
	event_del(n->ready);
	notify_send("STOPPING=1\nSTATUS=draining: finishing the work in "
	            "flight");
}

/* Stop the timers. */
void
notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	event_free(n->ready);
	if (n->watchdog != NULL)
		event_free(n->watchdog);
	free(n);
}
