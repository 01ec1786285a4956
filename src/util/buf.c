#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/oom.h"

void ht_buf_reserve(ht_buf *b, size_t extra) {
    if (b->cap - b->len >= extra) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) cap *= 2;
    b->data = ht_xrealloc(b->data, cap);
    b->cap = cap;
}

void ht_buf_append(ht_buf *b, const void *data, size_t len) {
    if (len == 0) return;
    ht_buf_reserve(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

void ht_buf_puts(ht_buf *b, const char *s) { ht_buf_append(b, s, strlen(s)); }

void ht_buf_printf(ht_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0) return;
    ht_buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void ht_buf_clear(ht_buf *b) { b->len = 0; }

void ht_buf_free(ht_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}
