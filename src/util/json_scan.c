/* json_scan.c -- see json_scan.h. */
#include "util/json_scan.h"

#include <string.h>

static const char *skip_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* Past the string that starts at p (at its opening quote); NULL if it does
 * not end. */
static const char *skip_string(const char *p) {
    for (p++; *p; p++) {
        if (*p == '\\') {
            if (!*++p) return NULL;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return NULL;
}

/* Past the value that starts at p; NULL if the text ends first. Objects
 * and arrays are skipped by counting brackets outside strings: the text is
 * trusted to be JSON, the scan only has to find where a value ends. */
static const char *skip_value(const char *p) {
    if (*p == '"') return skip_string(p);
    if (*p == '{' || *p == '[') {
        int depth = 0;
        while (*p) {
            if (*p == '"') {
                if (!(p = skip_string(p))) return NULL;
                continue;
            }
            if (*p == '{' || *p == '[') depth++;
            else if (*p == '}' || *p == ']') {
                if (--depth == 0) return p + 1;
            }
            p++;
        }
        return NULL;
    }
    const char *start = p;
    while (*p && !strchr(",}] \t\n\r", *p)) p++;
    return p > start ? p : NULL;
}

bool ht_json_top_members(const char *json, const char *const *keys, size_t n, ht_json_span *spans) {
    for (size_t i = 0; i < n; i++) spans[i] = (ht_json_span){0};
    const char *p = skip_space(json);
    if (*p++ != '{') return false;
    p = skip_space(p);
    if (*p == '}') return true;
    for (;;) {
        if (*p != '"') return false;
        const char *key = p + 1, *key_end = skip_string(p);
        if (!key_end || memchr(key, '\\', (size_t)(key_end - 1 - key))) return false;
        size_t key_len = (size_t)(key_end - 1 - key);
        p = skip_space(key_end);
        if (*p++ != ':') return false;
        p = skip_space(p);
        const char *value = p;
        if (!(p = skip_value(p))) return false;
        for (size_t i = 0; i < n; i++) {
            if (strlen(keys[i]) != key_len || memcmp(key, keys[i], key_len) != 0) continue;
            if (spans[i].start) return false;
            spans[i] = (ht_json_span){value, (size_t)(p - value)};
        }
        p = skip_space(p);
        if (*p == '}') return true;
        if (*p++ != ',') return false;
        p = skip_space(p);
    }
}

bool ht_json_items_begin(ht_json_span array, ht_json_items *items) {
    if (!array.start || *array.start != '[') return false;
    *items = (ht_json_items){.at = array.start + 1};
    return true;
}

int ht_json_items_next(ht_json_items *items, ht_json_span *item) {
    const char *p = skip_space(items->at);
    if (*p == ']') return 0;
    if (items->taken && *p++ != ',') return -1;
    p = skip_space(p);
    const char *end = skip_value(p);
    if (!end) return -1;
    *item = (ht_json_span){p, (size_t)(end - p)};
    items->at = end;
    items->taken++;
    return 1;
}
