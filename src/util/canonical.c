/* canonical.c -- the canonical JSON writer and validator (see canonical.h).
 *
 * Both walk the value recursively and stop at the first thing that is not
 * canonical; the JSON path to it is built while the recursion unwinds, so a
 * value that is fine costs no path bookkeeping at all. Keys are sorted by
 * their UTF-8 bytes, which is the same order as by code point (UTF-8 was made
 * so); jansson's JSON_SORT_KEYS sorts the same way, but escapes control
 * characters in upper case (\u001B where canonical JSON has \u001b). */
#include "util/canonical.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/oom.h"

static const char reason_real[] =
    "is a number with a fraction or an exponent; canonical JSON allows integers only";
static const char reason_range[] =
    "is a number outside the range of canonical JSON's integers, -(2^53 - 1) to 2^53 - 1";
/* HT_CANONICAL_MAX_DEPTH, in words: */
static const char reason_depth[] = "nests arrays and objects more than 1000 levels deep";
static const char reason_utf8[] = "is not valid UTF-8";
static const char reason_parse[] = "is not valid JSON";
static const char reason_type[] = "is not a JSON value";

/* ---- the error path ------------------------------------------------------ */

static void fail(ht_canonical_error *err, const char *reason) {
    if (!err) return;
    err->path[0] = '\0';
    err->reason = reason;
}

/* The index where the UTF-8 character holding byte i begins. */
static size_t char_start(const char *s, size_t i) {
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
    return i;
}

/* Puts seg[0..len) in front of the path. When the whole does not fit, the
 * innermost part is kept (it says the most) behind a leading "...". */
static void prepend(ht_canonical_error *err, const char *seg, size_t len) {
    if (!err) return;
    size_t have = strlen(err->path);
    size_t room = sizeof err->path - 1;
    if (len + have <= room) {
        memmove(err->path + len, err->path, have + 1);
        memcpy(err->path, seg, len);
        return;
    }
    char joined[sizeof err->path + 64]; /* segments are shorter than 64 bytes */
    if (len > 63) len = 63;
    memcpy(joined, seg, len);
    memcpy(joined + len, err->path, have);
    size_t total = len + have, from = total - (room - 3);
    while (from < total && ((unsigned char)joined[from] & 0xC0) == 0x80) from++;
    memcpy(err->path, "...", 3);
    memcpy(err->path + 3, joined + from, total - from);
    err->path[3 + total - from] = '\0';
}

static bool plain_name(const char *key, size_t len) {
    if (len == 0) return false;
    for (size_t i = 0; i < len; i++) {
        char c = key[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

/* Adds ".key" or ["key"] (long keys shortened at a character boundary). */
static void prepend_key(ht_canonical_error *err, const char *key, size_t len) {
    if (!err) return;
    char seg[64];
    size_t n;
    if (plain_name(key, len) && len < sizeof seg - 2) {
        n = (size_t)snprintf(seg, sizeof seg, ".%.*s", (int)len, key);
    } else {
        size_t shown = len > 40 ? char_start(key, 40) : len;
        /* A key may hold quotes or control characters: the path is for a
         * person, so those become '?'. */
        char safe[48];
        for (size_t i = 0; i < shown; i++) {
            unsigned char c = (unsigned char)key[i];
            safe[i] = (c < 0x20 || c == '"' || c == '\\' || c == 0x7f) ? '?' : (char)c;
        }
        n = (size_t)snprintf(seg, sizeof seg, "[\"%.*s%s\"]", (int)shown, safe, shown < len ? "..." : "");
    }
    prepend(err, seg, n);
}

static void prepend_index(ht_canonical_error *err, size_t index) {
    if (!err) return;
    char seg[32];
    int n = snprintf(seg, sizeof seg, "[%zu]", index);
    prepend(err, seg, (size_t)n);
}

/* ---- the validator ------------------------------------------------------- */

static bool integer_ok(json_int_t v) { return v >= -HT_CANONICAL_INT_MAX && v <= HT_CANONICAL_INT_MAX; }

static bool check(json_t *value, int depth, ht_canonical_error *err) {
    switch (json_typeof(value)) {
    case JSON_OBJECT: {
        if (depth >= HT_CANONICAL_MAX_DEPTH) return fail(err, reason_depth), false;
        for (void *iter = json_object_iter(value); iter; iter = json_object_iter_next(value, iter)) {
            if (!check(json_object_iter_value(iter), depth + 1, err)) {
                prepend_key(err, json_object_iter_key(iter), json_object_iter_key_len(iter));
                return false;
            }
        }
        return true;
    }
    case JSON_ARRAY: {
        if (depth >= HT_CANONICAL_MAX_DEPTH) return fail(err, reason_depth), false;
        for (size_t i = 0; i < json_array_size(value); i++) {
            if (!check(json_array_get(value, i), depth + 1, err)) {
                prepend_index(err, i);
                return false;
            }
        }
        return true;
    }
    case JSON_INTEGER:
        if (integer_ok(json_integer_value(value))) return true;
        return fail(err, reason_range), false;
    case JSON_REAL:
        return fail(err, reason_real), false;
    default:
        return true;
    }
}

bool ht_canonical_check(json_t *value, ht_canonical_error *err) {
    if (!value) return fail(err, reason_type), false;
    return check(value, 0, err);
}

/* ---- the writer ---------------------------------------------------------- */

/* Length of the valid UTF-8 character at s (1..4), or 0 if there is none:
 * no overlong forms, no surrogates, nothing past U+10FFFF. */
static size_t utf8_char(const unsigned char *s, size_t left) {
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) n = 2;
    else if (c == 0xE0) n = 3, lo = 0xA0;
    else if (c == 0xED) n = 3, hi = 0x9F;
    else if (c >= 0xE1 && c <= 0xEF) n = 3;
    else if (c == 0xF0) n = 4, lo = 0x90;
    else if (c == 0xF4) n = 4, hi = 0x8F;
    else if (c >= 0xF1 && c <= 0xF3) n = 4;
    else return 0;
    if (left < n || s[1] < lo || s[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    return n;
}

/* Python's escapes (json.dumps with ensure_ascii=False): the quote, the
 * backslash, the five short forms, other C0 controls as \u00xx in lower case.
 * Everything else, DEL, U+2028 and '/' included, is written as it is. */
bool ht_canonical_write_string(ht_buf *out, const char *text, size_t len) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)text;
    ht_buf_reserve(out, len + 2);
    out->data[out->len++] = '"';
    size_t run = 0; /* start of the bytes not yet copied */
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        if (c >= 0x80) {
            size_t n = utf8_char(s + i, len - i);
            if (!n) return false;
            i += n;
            continue;
        }
        if (c >= 0x20 && c != '"' && c != '\\') {
            i++;
            continue;
        }
        ht_buf_append(out, s + run, i - run);
        char esc[6] = {'\\', 0};
        size_t n = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            n = 6;
        }
        ht_buf_append(out, esc, n);
        run = ++i;
    }
    ht_buf_append(out, s + run, len - run);
    ht_buf_append(out, "\"", 1);
    return true;
}

static void write_integer(ht_buf *out, json_int_t v) {
    char digits[24];
    int n = snprintf(digits, sizeof digits, "%" JSON_INTEGER_FORMAT, v);
    ht_buf_append(out, digits, (size_t)n);
}

typedef struct member {
    const char *key;
    size_t len;
    json_t *value;
} member;

/* Code point order is UTF-8 byte order; a key that is a prefix of another
 * comes first. */
static int by_key(const void *a, const void *b) {
    const member *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    return (x->len > y->len) - (x->len < y->len);
}

static bool write_value(ht_buf *out, json_t *value, int depth, ht_canonical_error *err);

/* Called before member `before` is written (NULL: before the closing
 * brace): each place not yet found whose key sorts before it is absent,
 * and stands here. (A place that is there gets its value's span as the
 * member is written.) */
static void mark_absent(const ht_buf *out, ht_canonical_place *places, size_t n, const member *before) {
    for (size_t k = 0; k < n; k++) {
        ht_canonical_place *p = &places[k];
        if (p->present || p->end) continue;
        member m = {p->key, strlen(p->key), NULL};
        if (before && by_key(&m, before) >= 0) continue;
        p->start = p->end = out->len;
    }
}

static bool write_object(ht_buf *out, json_t *value, int depth, ht_canonical_place *places, size_t nplaces,
                         ht_canonical_error *err) {
    size_t count = json_object_size(value);
    member local[16];
    member *members = count <= 16 ? local : ht_xmalloc(count * sizeof *members);
    size_t i = 0;
    for (void *iter = json_object_iter(value); iter && i < count; iter = json_object_iter_next(value, iter), i++)
        members[i] = (member){json_object_iter_key(iter), json_object_iter_key_len(iter),
                              json_object_iter_value(iter)};
    count = i;
    qsort(members, count, sizeof *members, by_key);
    bool ok = true;
    ht_buf_append(out, "{", 1);
    for (i = 0; i < count && ok; i++) {
        mark_absent(out, places, nplaces, &members[i]);
        if (i) ht_buf_append(out, ",", 1);
        if (!ht_canonical_write_string(out, members[i].key, members[i].len)) {
            fail(err, reason_utf8);
            ok = false;
        } else {
            ht_buf_append(out, ":", 1);
            size_t start = out->len;
            ok = write_value(out, members[i].value, depth + 1, err);
            for (size_t k = 0; k < nplaces; k++)
                if (strlen(places[k].key) == members[i].len && memcmp(places[k].key, members[i].key, members[i].len) == 0)
                    places[k] = (ht_canonical_place){places[k].key, start, out->len, true};
        }
        if (!ok) prepend_key(err, members[i].key, members[i].len);
    }
    mark_absent(out, places, nplaces, NULL);
    if (ok) ht_buf_append(out, "}", 1);
    if (members != local) free(members);
    return ok;
}

static bool write_value(ht_buf *out, json_t *value, int depth, ht_canonical_error *err) {
    switch (json_typeof(value)) {
    case JSON_OBJECT:
        if (depth >= HT_CANONICAL_MAX_DEPTH) return fail(err, reason_depth), false;
        return write_object(out, value, depth, NULL, 0, err);
    case JSON_ARRAY:
        if (depth >= HT_CANONICAL_MAX_DEPTH) return fail(err, reason_depth), false;
        ht_buf_append(out, "[", 1);
        for (size_t i = 0; i < json_array_size(value); i++) {
            if (i) ht_buf_append(out, ",", 1);
            if (!write_value(out, json_array_get(value, i), depth + 1, err)) {
                prepend_index(err, i);
                return false;
            }
        }
        ht_buf_append(out, "]", 1);
        return true;
    case JSON_STRING:
        if (ht_canonical_write_string(out, json_string_value(value), json_string_length(value))) return true;
        return fail(err, reason_utf8), false;
    case JSON_INTEGER:
        if (!integer_ok(json_integer_value(value))) return fail(err, reason_range), false;
        write_integer(out, json_integer_value(value));
        return true;
    case JSON_REAL: {
        /* 1e10 is the integer 10000000000 written another way (the spec's
         * example); 1.5 and 1e300 have no canonical form. */
        double d = json_real_value(value);
        if (!(d >= -(double)HT_CANONICAL_INT_MAX && d <= (double)HT_CANONICAL_INT_MAX))
            return fail(err, reason_range), false;
        if ((double)(json_int_t)d != d) return fail(err, reason_real), false;
        write_integer(out, (json_int_t)d);
        return true;
    }
    case JSON_TRUE:
        ht_buf_append(out, "true", 4);
        return true;
    case JSON_FALSE:
        ht_buf_append(out, "false", 5);
        return true;
    case JSON_NULL:
        ht_buf_append(out, "null", 4);
        return true;
    }
    return fail(err, reason_type), false;
}

bool ht_canonical_write(ht_buf *out, json_t *value, ht_canonical_error *err) {
    size_t start = out->len;
    if (value && write_value(out, value, 0, err)) return true;
    if (!value) fail(err, reason_type);
    out->len = start;
    return false;
}

bool ht_canonical_write_places(ht_buf *out, json_t *object, ht_canonical_place *places, size_t n,
                               ht_canonical_error *err) {
    for (size_t k = 0; k < n; k++) places[k] = (ht_canonical_place){places[k].key, 0, 0, false};
    size_t start = out->len;
    if (!json_is_object(object)) return fail(err, reason_type), false;
    if (write_object(out, object, 0, places, n, err)) return true;
    out->len = start;
    return false;
}

char *ht_canonical_json(json_t *value, size_t *len, ht_canonical_error *err) {
    ht_buf out = {0};
    if (!ht_canonical_write(&out, value, err)) {
        ht_buf_free(&out);
        return NULL;
    }
    ht_buf_append(&out, "", 1); /* the terminating NUL, not counted */
    if (len) *len = out.len - 1;
    return (char *)out.data;
}

/* ---- parsing received JSON ----------------------------------------------- */

json_t *ht_canonical_parse(const char *text, size_t len, ht_canonical_error *err) {
    json_error_t parse_error;
    json_t *value = json_loadb(text, len, JSON_REJECT_DUPLICATES, &parse_error);
    if (!value) {
        if (err) {
            /* jansson's message may quote the input after " near "; the input
             * may be anything, so only the printable ASCII before it is kept. */
            char what[JSON_ERROR_TEXT_LENGTH];
            size_t n = strcspn(parse_error.text, "\n");
            const char *near = strstr(parse_error.text, " near ");
            if (near && (size_t)(near - parse_error.text) < n) n = (size_t)(near - parse_error.text);
            for (size_t i = 0; i < n; i++) {
                char c = parse_error.text[i];
                what[i] = (c >= 0x20 && c < 0x7f) ? c : '?';
            }
            what[n] = '\0';
            snprintf(err->path, sizeof err->path, "line %d, column %d (%.100s)", parse_error.line,
                     parse_error.column, what);
            err->reason = reason_parse;
        }
        return NULL;
    }
    if (!ht_canonical_check(value, err)) {
        json_decref(value);
        return NULL;
    }
    return value;
}

const char *ht_canonical_error_text(ht_arena *arena, const ht_canonical_error *err) {
    if (err->reason == reason_parse) return ht_arena_printf(arena, "Not valid JSON at %s.", err->path);
    const char *path = err->path[0] == '.' ? err->path + 1 : err->path;
    if (!path[0]) return ht_arena_printf(arena, "The JSON value %s.", err->reason);
    return ht_arena_printf(arena, "%s %s.", path, err->reason);
}
