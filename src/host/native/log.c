/* log.c -- the native server's log (see log.h). */
#include "host/native/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static ht_log_level shown = HT_LOG_INFO;
static bool journal; /* stderr is the systemd journal's stream */

static const char *const level_names[] = {"error", "warn", "info", "debug"};
static const char *const level_labels[] = {"ERROR", "WARN ", "INFO ", "DEBUG"};
static const int syslog_priorities[] = {3, 4, 6, 7};

bool ht_host_log_level_named(const char *name, ht_log_level *out) {
    for (int i = 0; i < 4; i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (ht_log_level)i;
            return true;
        }
    }
    return false;
}

/* systemd sets JOURNAL_STREAM to "device:inode" of the stream it gave us;
 * it is only ours if stderr still is that stream (not a redirection made
 * by a script in between). */
static bool stderr_is_journal(void) {
    const char *stream = getenv("JOURNAL_STREAM");
    struct stat st;
    unsigned long long dev, ino;
    if (!stream || sscanf(stream, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) != 0) return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void ht_host_log_setup(ht_log_level min_level) {
    shown = min_level;
    journal = stderr_is_journal();
}

static void write_line(ht_log_level level, const char *text) {
    if (level > shown) return;
    if (journal) {
        fprintf(stderr, "<%d>%s\n", syslog_priorities[level], text);
        return;
    }
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03ldZ %s %s\n", when, ts.tv_nsec / 1000000, level_labels[level], text);
}

void ht_host_log(ht_log_level level, const char *fmt, ...) {
    if (level > shown) return;
    char text[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* One event, one line, whatever a message quotes. */
    for (char *p = text; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    write_line(level, text);
}

void ht_host_log_lines(const ht_log_line *lines, size_t count) {
    for (size_t i = 0; i < count; i++) write_line(lines[i].level, lines[i].text);
}
