/* str.h -- small string helpers every layer uses. */
#ifndef HT_UTIL_STR_H
#define HT_UTIL_STR_H

#include <stdbool.h>
#include <string.h>

/* Equal strings; false if either is NULL. */
static inline bool ht_str_is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

#endif
