#include "router/router.h"

#include <stdio.h>
#include <string.h>

/* Does one template segment accept this path segment? Captures {name}. */
static bool segment_matches(const char *tmpl, size_t tmpl_len, const char *seg, ht_match *m) {
    if (tmpl_len >= 2 && tmpl[0] == '{' && tmpl[tmpl_len - 1] == '}') {
        if (m->param_count == HT_MAX_PATH_PARAMS) return false;
        /* Parameter names are static template text; store the name's start
         * and rely on the closing brace being excluded by length below. */
        m->params[m->param_count].name = tmpl + 1;
        m->params[m->param_count].value = seg;
        m->param_count++;
        return true;
    }
    if (tmpl_len >= 2 && tmpl[0] == '(' && tmpl[tmpl_len - 1] == ')') {
        const char *p = tmpl + 1, *end = tmpl + tmpl_len - 1;
        while (p < end) {
            const char *bar = memchr(p, '|', (size_t)(end - p));
            const char *alt_end = bar ? bar : end;
            size_t alt_len = (size_t)(alt_end - p);
            if (strlen(seg) == alt_len && memcmp(p, seg, alt_len) == 0) return true;
            p = alt_end + 1;
        }
        return false;
    }
    return strlen(seg) == tmpl_len && memcmp(tmpl, seg, tmpl_len) == 0;
}

static bool path_matches(const char *tmpl, const char **segments, size_t count, ht_match *m) {
    m->param_count = 0;
    const char *p = tmpl + 1; /* templates start with '/' */
    size_t i = 0;
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (i == count || !segment_matches(p, len, segments[i], m)) return false;
        i++;
        if (!slash) break;
        p = slash + 1;
    }
    return i == count;
}

/* The value of the Allow header a 405 must carry (RFC 9110, 15.5.6), in a
 * fixed order whatever the table's. */
static void write_allow(char *allow, size_t size, unsigned found) {
    static const char *const order[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"};
    size_t o = 0;
    allow[0] = '\0';
    for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
        if (!(found & (1u << i))) continue;
        int n = snprintf(allow + o, size - o, "%s%s", o ? ", " : "", order[i]);
        if (n < 0 || (size_t)n >= size - o) return;
        o += (size_t)n;
    }
}

static unsigned method_bit(const char *method) {
    if (strcmp(method, "GET") == 0) return 1u << 0 | 1u << 1; /* HEAD comes with GET */
    if (strcmp(method, "POST") == 0) return 1u << 2;
    if (strcmp(method, "PUT") == 0) return 1u << 3;
    if (strcmp(method, "DELETE") == 0) return 1u << 4;
    return 0;
}

ht_match_result ht_route_match(const ht_route *table, const char *method, const char **segments,
                               size_t segment_count, ht_match *out) {
    /* The first route of the method whose path matches; only when there is
     * none are the other methods' paths matched, for the 405's Allow. */
    const char *wanted = strcmp(method, "HEAD") == 0 ? "GET" : method;
    for (const ht_route *r = table; r->method; r++) {
        if (strcmp(r->method, wanted) == 0 && path_matches(r->path, segments, segment_count, out)) {
            out->route = r;
            return HT_ROUTE_FOUND;
        }
    }
    unsigned found = 0;
    for (const ht_route *r = table; r->method; r++)
        if (path_matches(r->path, segments, segment_count, out)) found |= method_bit(r->method);
    out->route = NULL;
    out->param_count = 0;
    if (!found) return HT_ROUTE_NO_PATH;
    write_allow(out->allow, sizeof out->allow, found | 1u << 5);
    return HT_ROUTE_NO_METHOD;
}
