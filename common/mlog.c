/* mlog.c - stderr/syslog back end of the logging macros. */
#include "mlog.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

int mlog_level_now = MLOG_INFO;
static int mlog_syslog;
static const char *mlog_ident = "magma";
static pthread_mutex_t mlog_lock = PTHREAD_MUTEX_INITIALIZER;

void mlog_init(const char *ident, int use_syslog, int level)
{
	mlog_ident = ident;
	mlog_level_now = level;
	if (use_syslog && !mlog_syslog)
		openlog(ident, LOG_PID, LOG_DAEMON);
	mlog_syslog = use_syslog;
}

int mlog_parse_level(const char *s)
{
	static const char *const names[] = { "error", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++)
		if (strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

void mlog_write(int level, const char *func, const char *fmt, ...)
{
	static const char *const tag[] = { "error", "warn", "info", "debug" };
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (mlog_syslog) {
		syslog(prio[level], "%s: %s", func, msg);
		return;
	}
	struct timespec ts;
	struct tm tm;
	char when[32];
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	pthread_mutex_lock(&mlog_lock);
	fprintf(stderr, "%s.%03ldZ %s[%s] %s: %s\n", when, ts.tv_nsec / 1000000,
	        mlog_ident, tag[level], func, msg);
	pthread_mutex_unlock(&mlog_lock);
}
