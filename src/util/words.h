/* words.h -- the words of a text, as the search index keeps them
 * (store/search) and as a search term is cut (api/search).
 *
 * The one design decision: a single, deliberately plain rule on both sides,
 * so that what a user types finds what was said. A word is a run of ASCII
 * letters, digits, '_' and non-ASCII characters (letters of every script
 * are kept whole; combining accents, U+0300..U+036F, are dropped). Case is
 * folded for ASCII, Latin-1, Latin Extended-A, Greek and Cyrillic, and the
 * accented Latin letters fold to their base letter ("Café" is "cafe");
 * there is no stemming. A word longer than HT_WORD_MAX_BYTES (after
 * folding) is cut there, at a character boundary, on both sides. */
#ifndef HT_UTIL_WORDS_H
#define HT_UTIL_WORDS_H

#include <stddef.h>

enum { HT_WORD_MAX_BYTES = 64 };

/* The next word at or after *pos: written into word (folded, cut, NUL
 * terminated) and its length returned; 0 when the text has no more words.
 * *pos moves past the whole run, cut part included. */
size_t ht_word_next(const char **pos, char word[HT_WORD_MAX_BYTES + 1]);

#endif
