/* log.h: logging to stderr (foreground) or syslog (daemon). */
#ifndef PAKN_LOG_H
#define PAKN_LOG_H

#include <stdarg.h>

#define PAKN_PRINTF(f, a) __attribute__((format(printf, f, a)))

void log_init(const char *ident, int foreground, int verbose);
void log_reopen(void);
void log_set_verbose(int verbose);
int log_get_verbose(void);
void log_warn(const char *fmt, ...) PAKN_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) PAKN_PRINTF(1, 2);
void log_info(const char *fmt, ...) PAKN_PRINTF(1, 2);
void log_debug(const char *fmt, ...) PAKN_PRINTF(1, 2);
void fatal(const char *fmt, ...) PAKN_PRINTF(1, 2) __attribute__((noreturn));
void fatalx(const char *fmt, ...) PAKN_PRINTF(1, 2) __attribute__((noreturn));

#endif
