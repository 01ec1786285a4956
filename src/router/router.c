#include "router/router.h"

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

ht_match_result ht_route_match(const ht_route *table, const char *method, const char **segments,
                               size_t segment_count, ht_match *out) {
    bool path_known = false;
    const char *wanted = strcmp(method, "HEAD") == 0 ? "GET" : method;
    for (const ht_route *r = table; r->method; r++) {
        if (!path_matches(r->path, segments, segment_count, out)) continue;
        path_known = true;
        if (strcmp(r->method, wanted) == 0) {
            out->route = r;
            return HT_ROUTE_FOUND;
        }
    }
    out->route = NULL;
    out->param_count = 0;
    return path_known ? HT_ROUTE_NO_METHOD : HT_ROUTE_NO_PATH;
}
