/* utf8.h -- is this text well-formed UTF-8? */
#ifndef HT_UTIL_UTF8_H
#define HT_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Rejects overlong forms, surrogates and values past U+10FFFF. */
bool ht_utf8_valid(const unsigned char *s, size_t len);
/* The number of characters (code points) in valid UTF-8 text. */
size_t ht_utf8_count(const char *s);

#endif
