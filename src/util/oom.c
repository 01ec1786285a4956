#include "util/oom.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Noreturn void ht_out_of_memory(size_t wanted) {
    fprintf(stderr, "hometab: out of memory (wanted %zu bytes)\n", wanted);
    abort();
}

void *ht_xmalloc(size_t size) {
    void *p = malloc(size ? size : 1);
    if (!p) ht_out_of_memory(size);
    return p;
}

void *ht_xrealloc(void *p, size_t size) {
    void *q = realloc(p, size ? size : 1);
    if (!q) ht_out_of_memory(size);
    return q;
}

char *ht_xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(ht_xmalloc(n), s, n);
}
