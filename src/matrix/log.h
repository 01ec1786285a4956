/* log.h -- lines for the operator's log, from under the door.
 *
 * The core does no I/O: a handler (or the door itself) notes a line here
 * and the door hands the request's lines to the host with its answer
 * (ht_result.log), which writes them where it logs. A line noted "on
 * commit" (an admin action) is handed out only if the request's
 * transaction committed, so the log never claims what was rolled back,
 * and a request replayed after password work logs its action once. */
#ifndef HT_MATRIX_LOG_H
#define HT_MATRIX_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "hometab.h"
#include "util/arena.h"

/* A request has little to say; past this, lines are counted, not kept. */
enum { HT_LOG_MAX_LINES = 8 };

typedef struct ht_request_log {
    ht_log_line lines[HT_LOG_MAX_LINES];
    bool on_commit[HT_LOG_MAX_LINES];
    size_t count;
    size_t dropped;
} ht_request_log;

struct ht_env;

/* Notes one line (text in the request's arena; newlines and control
 * characters are shown as '?', so one event stays one line). */
void ht_log(struct ht_env *env, ht_log_level level, bool on_commit, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Called by the door once the request is over: drops the on-commit lines
 * unless it committed. */
void ht_log_settle(ht_request_log *log, bool committed);

#endif
