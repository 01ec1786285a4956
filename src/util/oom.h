/* oom.h -- what the core does when malloc fails.
 *
 * A homeserver that keeps running after a failed allocation risks answering
 * 200 for a write it never made. We stop instead: every acknowledged write
 * is already committed to SQLite, so a restart loses nothing. */
#ifndef HT_OOM_H
#define HT_OOM_H

#include <stddef.h>

_Noreturn void ht_out_of_memory(size_t wanted);
void *ht_xmalloc(size_t size);
void *ht_xrealloc(void *p, size_t size);
char *ht_xstrdup(const char *s);

#endif
