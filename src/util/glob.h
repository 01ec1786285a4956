/* glob.h -- matching a pattern a client chose against text a client chose,
 * at a cost that is bounded.
 *
 * Two flavours of glob meet client data in the core: event filters (spec
 * "Filtering": '*' matches any run of characters, nothing else is special,
 * bytes compare exactly) and push rules ('*' any run and '?' one character,
 * compared ASCII case-insensitively, against a whole value or against the
 * words of a message body).
 *
 * The design decision: every match is paid for from a budget of steps that
 * the caller owns, and that the door refills once per request (ht_env's
 * match_budget). A call charges what it will examine before it looks, and
 * answers "no match" without looking when the budget cannot cover it. So
 * whatever patterns and texts are stored (500 rules of 20 conditions each
 * against 64 KiB bodies, filters of 500 globs against long event types),
 * the CPU one request spends matching stays below the budget; a request
 * that runs out sees fewer matches, never a stalled server. The matchers
 * themselves are linear where the flavour allows it (filters; push
 * patterns without wildcards) and a small NFA, pattern x text, otherwise. */
#ifndef HT_UTIL_GLOB_H
#define HT_UTIL_GLOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Steps one request may spend matching: a few tens of milliseconds. */
enum { HT_MATCH_BUDGET = 50 * 1000 * 1000 };

/* Takes cost steps from *budget (NULL: unlimited). False, leaving the
 * budget spent, when it cannot cover them. */
bool ht_budget_take(int64_t *budget, int64_t cost);
/* True once a budget has refused a charge. */
bool ht_budget_spent(const int64_t *budget);

/* A filter glob: does pattern match the whole text? */
bool ht_glob_filter(const char *pattern, const char *text, int64_t *budget);

/* A push-rule glob. words: match any run of text that starts and ends at a
 * word boundary (content.body); otherwise the whole text. literal: the
 * pattern has no wildcards (a display name). Code points, not bytes, for
 * '?'; ASCII letters fold. */
bool ht_glob_push(const char *pattern, const char *text, bool words, bool literal, int64_t *budget);

/* A member's name is looked up by its key: its first word (a maximal run
 * of word bytes: letters, digits, '_', anything beyond ASCII), ASCII
 * letters folded. A name that matches a body's words (ht_glob_push with
 * words, and no wildcards) lies between word boundaries, so its first
 * word is one of the body's words whole: only members whose key is one
 * of the body's words, or whose name has no word at all, can be named.
 * ht_push_word_next gives the body's words one by one, from *text on,
 * folded into word (HT_PUSH_WORD_MAX bytes: a longer word is cut there,
 * and so is a key, alike); 0 at the end. ht_push_name_key: the key of
 * name into word, its length; 0 when name has no word. */
enum { HT_PUSH_WORD_MAX = 255 };
size_t ht_push_word_next(const char **text, char *word);
size_t ht_push_name_key(const char *name, char *word);

/* Does text contain needle, ASCII case-insensitively? (A search term in
 * room names and topics.) Linear. */
bool ht_text_contains(const char *text, const char *needle, int64_t *budget);

#endif
