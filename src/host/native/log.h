/* log.h -- the native server's log: one line per event, with a level.
 *
 * Lines go to stderr. Run by systemd (its JOURNAL_STREAM names our
 * stderr), each line starts with the kernel-style priority "<N>", which
 * the journal reads as the line's level and strips; it stamps the time
 * itself. Anywhere else a line reads
 *   2026-12-06T17:00:15.123Z INFO  hometab 0.1.0 serving ...
 * with the time in UTC, so lines from machines in any zone sort together. */
#ifndef HT_NATIVE_LOG_H
#define HT_NATIVE_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "hometab.h"

/* Lines less important than min_level are not written. Call once, early. */
void ht_host_log_setup(ht_log_level min_level);

void ht_host_log(ht_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The lines the core handed back with an answer (ht_result.log). */
void ht_host_log_lines(const ht_log_line *lines, size_t count);

/* "error", "warn", "info", "debug"; false if name is none of them. */
bool ht_host_log_level_named(const char *name, ht_log_level *out);

#endif
