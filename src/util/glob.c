/* glob.c -- bounded glob matching (see glob.h).
 *
 * Literal runs are found with Knuth-Morris-Pratt, which never looks at a
 * text byte twice: that keeps filters and wildcard-free push patterns
 * linear however the bytes are chosen. Push patterns with '*' or '?' run a
 * small NFA over code points (a set of pattern positions advanced one text
 * character at a time), which costs pattern length x text length: that is
 * what is charged to the budget before it starts. */
#include "util/glob.h"

#include <stdlib.h>
#include <string.h>

#include "util/oom.h"

enum { SMALL_TABLE = 256 };

bool ht_budget_take(int64_t *budget, int64_t cost) {
    if (!budget) return true;
    if (*budget < cost) {
        *budget = -1;
        return false;
    }
    *budget -= cost;
    return true;
}

bool ht_budget_spent(const int64_t *budget) { return budget && *budget < 0; }

static unsigned char fold(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c; }

static bool same(unsigned char a, unsigned char b, bool folding) {
    return folding ? fold(a) == fold(b) : a == b;
}

/* The KMP failure function of needle: fail[k] is the length of the longest
 * proper prefix of needle[0..k] that is also its suffix. */
static void failure_table(const unsigned char *needle, size_t m, bool folding, size_t *fail) {
    fail[0] = 0;
    for (size_t k = 1, len = 0; k < m; k++) {
        while (len && !same(needle[k], needle[len], folding)) len = fail[len - 1];
        if (same(needle[k], needle[len], folding)) len++;
        fail[k] = len;
    }
}

typedef struct kmp {
    const unsigned char *needle;
    size_t m;
    bool folding;
    size_t *fail;
    size_t small[SMALL_TABLE];
} kmp;

static void kmp_init(kmp *k, const char *needle, size_t m, bool folding) {
    k->needle = (const unsigned char *)needle;
    k->m = m;
    k->folding = folding;
    k->fail = m <= SMALL_TABLE ? k->small : ht_xmalloc(m * sizeof *k->fail);
    if (m) failure_table(k->needle, m, folding, k->fail);
}

static void kmp_free(kmp *k) {
    if (k->fail != k->small) free(k->fail);
}

/* The first place at or after `from` where the needle ends, as the offset
 * where it starts; SIZE_MAX if none. *matched carries the automaton's state
 * from one call to the next, so that successive calls over one text
 * examine each byte once. */
static size_t kmp_next(const kmp *k, const unsigned char *hay, size_t n, size_t *at, size_t *matched) {
    if (k->m == 0) return *at <= n ? (*at)++ : SIZE_MAX;
    while (*at < n) {
        unsigned char c = hay[(*at)++];
        while (*matched && !same(c, k->needle[*matched], k->folding)) *matched = k->fail[*matched - 1];
        if (same(c, k->needle[*matched], k->folding)) (*matched)++;
        if (*matched == k->m) {
            *matched = k->fail[k->m - 1];
            return *at - k->m;
        }
    }
    return SIZE_MAX;
}

/* ---- filters ------------------------------------------------------------ */

/* The stars split the pattern into literal runs. The first must begin the
 * text and the last end it; each one between is taken at its leftmost place
 * after the one before, which is never worse than a later place for the
 * runs still to come. */
bool ht_glob_filter(const char *pattern, const char *text, int64_t *budget) {
    size_t m = strlen(pattern), n = strlen(text);
    if (!ht_budget_take(budget, (int64_t)(m + n + 1))) return false;
    const char *first_star = memchr(pattern, '*', m);
    if (!first_star) return m == n && memcmp(pattern, text, n) == 0;
    const char *last_star = strrchr(pattern, '*');
    size_t head = (size_t)(first_star - pattern), tail = m - (size_t)(last_star - pattern) - 1;
    if (head + tail > n || memcmp(pattern, text, head) != 0 || memcmp(last_star + 1, text + n - tail, tail) != 0)
        return false;
    const unsigned char *middle = (const unsigned char *)text + head;
    size_t middle_len = n - head - tail, at = 0;
    for (const char *p = first_star + 1; p < last_star;) {
        const char *star = memchr(p, '*', (size_t)(last_star - p) + 1);
        size_t len = (size_t)(star - p);
        if (len) {
            kmp k;
            kmp_init(&k, p, len, false);
            size_t matched = 0;
            size_t found = kmp_next(&k, middle, middle_len, &at, &matched);
            kmp_free(&k);
            if (found == SIZE_MAX) return false;
        }
        p = star + 1;
    }
    return true;
}

/* ---- push rules --------------------------------------------------------- */

/* Letters, digits and '_' make words; so does anything beyond ASCII, so
 * that "é" does not split a name in two. On UTF-8 every byte of such a
 * character is >= 0x80, so bytes and code points agree on this. */
static bool word_byte(uint32_t c) {
    return c >= 0x80 || c == '_' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

size_t ht_push_word_next(const char **text, char *word) {
    const unsigned char *t = (const unsigned char *)*text;
    while (*t && !word_byte(*t)) t++;
    size_t n = 0;
    bool cut = false;
    for (; *t && word_byte(*t); t++)
        if (n < HT_PUSH_WORD_MAX) word[n++] = (char)fold(*t);
        else cut = true;
    /* A cut word ends on a whole character, so that it stays text. */
    if (cut) {
        size_t lead = n;
        while (lead > 0 && n - lead < 4 && ((unsigned char)word[lead - 1] & 0xC0) == 0x80) lead--;
        if (lead > 0 && (unsigned char)word[lead - 1] >= 0xC0) {
            unsigned char c = (unsigned char)word[lead - 1];
            size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (lead - 1 + len > n) n = lead - 1;
        }
    }
    word[n] = '\0';
    *text = (const char *)t;
    return n;
}

size_t ht_push_name_key(const char *name, char *word) { return ht_push_word_next(&name, word); }

/* Without wildcards: the whole text equal, or an occurrence between word
 * boundaries. One pass of KMP finds every occurrence. */
static bool plain_match(const char *pattern, size_t m, const char *text, size_t n, bool words) {
    const unsigned char *t = (const unsigned char *)text;
    if (!words) {
        if (m != n) return false;
        for (size_t i = 0; i < n; i++)
            if (fold(t[i]) != fold((unsigned char)pattern[i])) return false;
        return true;
    }
    kmp k;
    kmp_init(&k, pattern, m, true);
    size_t at = 0, matched = 0, start;
    bool found = false;
    while (!found && (start = kmp_next(&k, t, n, &at, &matched)) != SIZE_MAX) {
        size_t end = start + m;
        found = (start == 0 || !word_byte(t[start - 1])) && (end == n || !word_byte(t[end]));
    }
    kmp_free(&k);
    return found;
}

/* Decodes UTF-8 into code points; invalid bytes stand for themselves. */
static uint32_t *decode(const char *s, size_t len, size_t *count) {
    uint32_t *out = ht_xmalloc((len + 1) * sizeof *out);
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t extra = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
        if (extra && i + extra >= len) extra = 0;
        for (size_t k = 1; k <= extra; k++)
            if (((unsigned char)s[i + k] & 0xC0) != 0x80) extra = 0;
        uint32_t cp = extra ? (c & (0x3F >> extra)) : c;
        for (size_t k = 1; k <= extra; k++) cp = (cp << 6) | ((unsigned char)s[i + k] & 0x3F);
        out[n++] = cp;
        i += 1 + extra;
    }
    *count = n;
    return out;
}

static uint32_t fold_cp(uint32_t c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* '*' states also stand for the state after them. */
static void closure(const uint32_t *p, size_t m, bool *states) {
    for (size_t k = 0; k < m; k++)
        if (states[k] && p[k] == '*') states[k + 1] = true;
}

static bool nfa_match(const char *pattern, size_t pattern_len, const char *text, size_t text_len, bool words) {
    size_t m, n;
    uint32_t *p = decode(pattern, pattern_len, &m);
    uint32_t *t = decode(text, text_len, &n);
    bool *now = ht_xmalloc(m + 1), *next = ht_xmalloc(m + 1);
    memset(now, 0, m + 1);
    bool found = false;
    for (size_t i = 0; i <= n && !found; i++) {
        if (i == 0 || (words && !word_byte(t[i - 1]))) {
            now[0] = true;
            closure(p, m, now);
        }
        /* A match ends at the end of the text, or, among words, before a
         * character that is not part of a word. */
        bool at_end = i == n || (words && !word_byte(t[i]));
        if (now[m] && at_end) found = true;
        if (found || i == n) break;
        memset(next, 0, m + 1);
        for (size_t k = 0; k < m; k++) {
            if (!now[k]) continue;
            if (p[k] == '*') next[k] = true;
            else if (p[k] == '?' || fold_cp(p[k]) == fold_cp(t[i])) next[k + 1] = true;
        }
        closure(p, m, next);
        bool *swap = now;
        now = next;
        next = swap;
    }
    free(p);
    free(t);
    free(now);
    free(next);
    return found;
}

/* The longest run of the pattern without wildcards: any match contains it. */
static void longest_literal(const char *pattern, const char **run, size_t *len) {
    *run = pattern;
    *len = 0;
    for (const char *p = pattern; *p;) {
        size_t n = strcspn(p, "*?");
        if (n > *len) *run = p, *len = n;
        p += n;
        if (*p) p++;
    }
}

bool ht_glob_push(const char *pattern, const char *text, bool words, bool literal, int64_t *budget) {
    size_t m = strlen(pattern), n = strlen(text);
    if (!ht_budget_take(budget, (int64_t)(m + n + 1))) return false;
    if (literal || !strpbrk(pattern, "*?")) return plain_match(pattern, m, text, n, words);
    /* Most texts lack the pattern's longest literal run: a linear look
     * says no before the NFA's pattern x text. */
    const char *run;
    size_t run_len;
    longest_literal(pattern, &run, &run_len);
    if (run_len) {
        kmp k;
        kmp_init(&k, run, run_len, true);
        size_t at = 0, matched = 0;
        bool present = kmp_next(&k, (const unsigned char *)text, n, &at, &matched) != SIZE_MAX;
        kmp_free(&k);
        if (!present) return false;
    }
    if (!ht_budget_take(budget, (int64_t)(m + 1) * (int64_t)(n + 1))) return false;
    return nfa_match(pattern, m, text, n, words);
}

bool ht_text_contains(const char *text, const char *needle, int64_t *budget) {
    size_t m = strlen(needle), n = strlen(text);
    if (!ht_budget_take(budget, (int64_t)(m + n + 1))) return false;
    kmp k;
    kmp_init(&k, needle, m, true);
    size_t at = 0, matched = 0;
    bool found = kmp_next(&k, (const unsigned char *)text, n, &at, &matched) != SIZE_MAX;
    kmp_free(&k);
    return found;
}
