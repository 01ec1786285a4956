/* words.c -- cutting text into words (see words.h). Text is read as
 * UTF-8; a byte that does not start a well-formed character is taken as a
 * character of its own (read as Latin-1), so no input can make the scan
 * stray or stall, and the words written are always well-formed UTF-8. */
#include "util/words.h"

#include <stdbool.h>
#include <stdint.h>

/* Base letters of U+00C0..U+00FF and U+0100..U+017F; '.' keeps the letter
 * (only its case is folded). */
static const char latin1[] = "AAAAAA.CEEEEIIII.NOOOOO.OUUUUY..aaaaaa.ceeeeiiii.nooooo.ouuuuy.y";
static const char latin_ext_a[] = "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii..jjkkkllllllllll"
                                  "nnnnnnn..oooooo..rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";

static int ascii_word(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* Decodes the character at s (s[0] is not NUL); sets *len to its bytes.
 * What is not well-formed (a missing continuation, the text's end, an
 * overlong form, a surrogate, past U+10FFFF) is the one byte s[0]. */
static uint32_t decode(const unsigned char *s, size_t *len) {
    size_t n = s[0] >= 0xF8 ? 0 : s[0] >= 0xF0 ? 3 : s[0] >= 0xE0 ? 2 : s[0] >= 0xC0 ? 1 : 0;
    uint32_t cp = n == 3 ? s[0] & 0x07u : n == 2 ? s[0] & 0x0Fu : n == 1 ? s[0] & 0x1Fu : s[0];
    *len = 1;
    for (size_t k = 1; k <= n; k++) {
        if ((s[k] & 0xC0) != 0x80) return s[0];
        cp = (cp << 6) | (s[k] & 0x3Fu);
    }
    static const uint32_t least[] = {0, 0x80, 0x800, 0x10000};
    if (n > 0 && (cp < least[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) return s[0];
    *len = n + 1;
    return cp;
}

/* The character as the index keeps it: 0 to drop it (a combining accent). */
static uint32_t fold(uint32_t cp) {
    if (cp < 0x80) return cp >= 'A' && cp <= 'Z' ? cp + 32 : cp;
    if (cp >= 0x300 && cp <= 0x36F) return 0;
    if (cp >= 0xC0 && cp <= 0xFF) {
        char base = latin1[cp - 0xC0];
        if (base != '.') return (uint32_t)(base >= 'A' && base <= 'Z' ? base + 32 : base);
        return cp <= 0xDE && cp != 0xD7 ? cp + 0x20 : cp;
    }
    if (cp >= 0x100 && cp <= 0x17F) {
        char base = latin_ext_a[cp - 0x100];
        return base != '.' ? (uint32_t)base : cp | 1; /* the lowercase of a pair is odd */
    }
    if (cp >= 0x391 && cp <= 0x3A9 && cp != 0x3A2) return cp + 0x20; /* Greek */
    if (cp >= 0x410 && cp <= 0x42F) return cp + 0x20;                 /* Cyrillic */
    if (cp >= 0x400 && cp <= 0x40F) return cp + 0x50;
    return cp;
}

static size_t encode(uint32_t cp, char *out) {
    if (cp < 0x80) return out[0] = (char)cp, 1;
    if (cp < 0x800) return out[0] = (char)(0xC0 | (cp >> 6)), out[1] = (char)(0x80 | (cp & 0x3F)), 2;
    if (cp < 0x10000)
        return out[0] = (char)(0xE0 | (cp >> 12)), out[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
               out[2] = (char)(0x80 | (cp & 0x3F)), 3;
    return out[0] = (char)(0xF0 | (cp >> 18)), out[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
           out[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), out[3] = (char)(0x80 | (cp & 0x3F)), 4;
}

size_t ht_word_next(const char **pos, char word[HT_WORD_MAX_BYTES + 1]) {
    const unsigned char *p = (const unsigned char *)*pos;
    size_t len = 0;
    while (*p && len == 0) { /* a run of accents alone is no word: on to the next */
        while (*p && !ascii_word(*p) && *p < 0x80) p++;
        bool full = false;
        while (*p && (ascii_word(*p) || *p >= 0x80)) {
            size_t in;
            uint32_t cp = fold(decode(p, &in));
            p += in;
            char bytes[4];
            size_t n = cp ? encode(cp, bytes) : 0;
            if (full || len + n > HT_WORD_MAX_BYTES) {
                full = true; /* the rest of the run is cut off */
                continue;
            }
            for (size_t k = 0; k < n; k++) word[len++] = bytes[k];
        }
    }
    word[len] = '\0';
    *pos = (const char *)p;
    return len;
}
