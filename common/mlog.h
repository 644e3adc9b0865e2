/* mlog.h - one logging macro family.
 *
 * The level is checked before any formatting; every line carries the
 * calling function's name.  Output goes to stderr or syslog, chosen once
 * at start-up with mlog_init(). */
#ifndef MAGMA_MLOG_H
#define MAGMA_MLOG_H

enum mlog_level { MLOG_ERR = 0, MLOG_WARN = 1, MLOG_INFO = 2, MLOG_DEBUG = 3 };

extern int mlog_level_now;

/* Configure logging: ident for syslog, use_syslog non-zero for syslog,
 * level the most verbose level printed.  May be called again. */
void mlog_init(const char *ident, int use_syslog, int level);

/* Parse "error", "warn", "info", "debug"; returns the level or -1. */
int mlog_parse_level(const char *s);

void mlog_write(int level, const char *func, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

#define mlog(level, ...)                                                       \
	do {                                                                   \
		if ((level) <= mlog_level_now)                                 \
			mlog_write((level), __func__, __VA_ARGS__);            \
	} while (0)

#define LOG_E(...) mlog(MLOG_ERR, __VA_ARGS__)
#define LOG_W(...) mlog(MLOG_WARN, __VA_ARGS__)
#define LOG_I(...) mlog(MLOG_INFO, __VA_ARGS__)
#define LOG_D(...) mlog(MLOG_DEBUG, __VA_ARGS__)

#endif
