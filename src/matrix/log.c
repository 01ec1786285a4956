/* log.c -- noting lines for the operator's log (see log.h). */
#include "matrix/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "matrix/env.h"

void ht_log(ht_env *env, ht_log_level level, bool on_commit, const char *fmt, ...) {
    ht_request_log *log = env->log;
    if (!log) return;
    if (log->count == HT_LOG_MAX_LINES) {
        log->dropped++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    char small[1];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    char *text = ht_arena_alloc(env->arena, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(text, (size_t)n + 1, fmt, ap);
    va_end(ap);
    /* Names and ids come from clients: whatever they hold, the line stays
     * one line. */
    for (char *p = text; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    log->lines[log->count] = (ht_log_line){level, text};
    log->on_commit[log->count] = on_commit;
    log->count++;
}

void ht_log_settle(ht_request_log *log, bool committed) {
    if (committed) return;
    size_t kept = 0;
    for (size_t i = 0; i < log->count; i++) {
        if (log->on_commit[i]) continue;
        log->lines[kept] = log->lines[i];
        log->on_commit[kept] = false;
        kept++;
    }
    log->count = kept;
}
