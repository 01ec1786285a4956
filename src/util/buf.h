/* buf.h -- a growable byte buffer on the heap, for building responses. */
#ifndef HT_BUF_H
#define HT_BUF_H

#include <stddef.h>

typedef struct ht_buf {
    unsigned char *data;
    size_t len;
    size_t cap;
} ht_buf;

void ht_buf_reserve(ht_buf *b, size_t extra);
void ht_buf_append(ht_buf *b, const void *data, size_t len);
void ht_buf_puts(ht_buf *b, const char *s);
void ht_buf_printf(ht_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ht_buf_clear(ht_buf *b);
void ht_buf_free(ht_buf *b);

#endif
