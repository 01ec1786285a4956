/* utf8.h -- is this text well-formed UTF-8? */
#ifndef HT_UTIL_UTF8_H
#define HT_UTIL_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Rejects overlong forms, surrogates and values past U+10FFFF. */
bool ht_utf8_valid(const unsigned char *s, size_t len);

#endif
