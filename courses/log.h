/*
 * log.h - the one log module: levels, one line per event, to stderr or a file.
 *
 * Lines look like
 *   2026-11-30T06:27:29.123Z INFO  listening on http://127.0.0.1:8080
 * The level is set once at start (log_set_level) and may be read from any
 * thread; writes are whole lines (one fwrite under a lock), so lines from
 * different threads never interleave. server/ routes libwebsockets' own log
 * lines here as well.
 */
#ifndef TINCHI_LOG_H
#define TINCHI_LOG_H

#include <stdio.h>

enum log_level { LOG_ERROR = 0, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* Parses "error", "warn", "info", "debug". Returns 0 or TC_EINVALID. */
int log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level l);

void log_set_level(enum log_level l);
enum log_level log_get_level(void);

/* Sends lines to FP (not owned; NULL means stderr). */
void log_set_stream(FILE *fp);

void log_write(enum log_level l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_write(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_debug(...) \
	do { if (log_get_level() >= LOG_DEBUG) log_write(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
