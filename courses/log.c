/* log.c - see log.h. */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "courses/errors.h"
#include "courses/log.h"

static _Atomic int level = LOG_INFO;
static FILE *stream;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const names[] = { "error", "warn", "info", "debug" };
static const char *const tags[] = { "ERROR", "WARN ", "INFO ", "DEBUG" };

int
log_level_parse(const char *s, enum log_level *out)
{
	for (int i = 0; i < 4; i++)
		if (s && strcmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return TC_EINVALID;
}

const char *
log_level_name(enum log_level l)
{
	return (l >= LOG_ERROR && l <= LOG_DEBUG) ? names[l] : "?";
}

void
log_set_level(enum log_level l)
{
	atomic_store(&level, l);
}

enum log_level
log_get_level(void)
{
	return (enum log_level)atomic_load(&level);
}

void
log_set_stream(FILE *fp)
{
	pthread_mutex_lock(&lock);
	stream = fp;
	pthread_mutex_unlock(&lock);
}

void
log_write(enum log_level l, const char *fmt, ...)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	size_t n;
	int m;

	if ((int)l > atomic_load(&level))
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
	m = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s ",
		     ts.tv_nsec / 1000000, tags[l]);
	n += (m > 0) ? (size_t)m : 0;
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += (size_t)m;
	if (n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	while (n > 0 && line[n - 1] == '\n')	/* lws lines end in \n */
		n--;
	line[n++] = '\n';

	pthread_mutex_lock(&lock);
	FILE *fp = stream ? stream : stderr;
	fwrite(line, 1, n, fp);
	fflush(fp);
	pthread_mutex_unlock(&lock);
}
