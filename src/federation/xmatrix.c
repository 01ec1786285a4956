/* xmatrix.c -- the X-Matrix Authorization header (see xmatrix.h).
 *
 * The writer uses the form the spec recommends for compatibility: one
 * space after the scheme, lower-case names, every value quoted, no spaces
 * around commas (Synapse 1.67 splits on "," and nothing else). The parser
 * accepts anything RFC 9110 allows, plus the unquoted colons of key ids that
 * the spec says older servers send. */
#include "federation/xmatrix.h"

#include <string.h>
#include <strings.h>

#include "util/buf.h"

static json_t *signed_object(const char *origin, const char *destination, const char *method, const char *uri,
                             json_t *content) {
    json_t *obj = json_pack("{s:s, s:s, s:s, s:s}", "method", method, "uri", uri, "origin", origin,
                            "destination", destination);
    if (content) json_object_set(obj, "content", content);
    return obj;
}

/* A quoted-string: backslash before '"' and '\'. */
static void quote(ht_buf *b, const char *value) {
    ht_buf_append(b, "\"", 1);
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\') ht_buf_append(b, "\\", 1);
        ht_buf_append(b, p, 1);
    }
    ht_buf_append(b, "\"", 1);
}

char *ht_xmatrix_header(ht_arena *arena, const ht_signing_key *key, const char *origin,
                        const char *destination, const char *method, const char *uri, json_t *content) {
    json_t *obj = signed_object(origin, destination, method, uri, content);
    bool ok = ht_json_sign(obj, origin, key);
    const char *sig = ok ? json_string_value(json_object_get(json_object_get(json_object_get(obj, "signatures"),
                                                                              origin),
                                                             key->key_id))
                         : NULL;
    char *out = NULL;
    if (sig) {
        ht_buf b = {0};
        ht_buf_append(&b, "X-Matrix origin=", 16);
        quote(&b, origin);
        ht_buf_append(&b, ",destination=", 13);
        quote(&b, destination);
        ht_buf_append(&b, ",key=", 5);
        quote(&b, key->key_id);
        ht_buf_append(&b, ",sig=", 5);
        quote(&b, sig);
        out = ht_arena_strndup(arena, (const char *)b.data, b.len);
        ht_buf_free(&b);
    }
    json_decref(obj);
    return out;
}

static bool tchar(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static void skip_ows(const char **p) {
    while (**p == ' ' || **p == '\t') (*p)++;
}

/* One value: a quoted-string, or a token (with the colons key ids hold). */
static const char *read_value(ht_arena *arena, const char **p) {
    const char *s = *p;
    if (*s == '"') {
        ht_buf b = {0};
        for (s++;; s++) {
            if (!*s) {
                ht_buf_free(&b);
                return NULL;
            }
            if (*s == '"') break;
            if (*s == '\\') {
                if (!s[1]) {
                    ht_buf_free(&b);
                    return NULL;
                }
                s++;
            }
            ht_buf_append(&b, s, 1);
        }
        *p = s + 1;
        const char *v = ht_arena_strndup(arena, b.data ? (const char *)b.data : "", b.len);
        ht_buf_free(&b);
        return v;
    }
    while (tchar(*s) || *s == ':') s++;
    if (s == *p) return NULL;
    const char *v = ht_arena_strndup(arena, *p, (size_t)(s - *p));
    *p = s;
    return v;
}

bool ht_xmatrix_parse(ht_arena *arena, const char *header, ht_xmatrix *out) {
    memset(out, 0, sizeof *out);
    if (!header || strncasecmp(header, "X-Matrix", 8) != 0 || (header[8] != ' ' && header[8] != '\t'))
        return false;
    const char *p = header + 8;
    for (;;) {
        skip_ows(&p);
        while (*p == ',') {
            p++;
            skip_ows(&p);
        }
        if (!*p) break;
        const char *name = p;
        while (tchar(*p)) p++;
        size_t name_len = (size_t)(p - name);
        if (!name_len) return false;
        skip_ows(&p);
        if (*p++ != '=') return false;
        skip_ows(&p);
        const char *value = read_value(arena, &p);
        if (!value) return false;
        skip_ows(&p);
        if (*p && *p != ',') return false;
        const char **slot = name_len == 6 && strncasecmp(name, "origin", 6) == 0 ? &out->origin
                            : name_len == 11 && strncasecmp(name, "destination", 11) == 0 ? &out->destination
                            : name_len == 3 && strncasecmp(name, "key", 3) == 0 ? &out->key
                            : name_len == 3 && strncasecmp(name, "sig", 3) == 0 ? &out->sig
                                                                               : NULL;
        if (slot) {
            if (*slot) return false; /* the same parameter twice: ambiguous */
            *slot = value;
        }
    }
    return out->origin && out->key && out->sig && *out->origin;
}

bool ht_xmatrix_verify(const ht_xmatrix *x, const char *me, const char *method, const char *uri,
                       json_t *content, const char *public_key) {
    if (x->destination && strcmp(x->destination, me) != 0) return false;
    json_t *obj = signed_object(x->origin, me, method, uri, content);
    json_t *sigs = json_pack("{s:{s:s}}", x->origin, x->key, x->sig);
    json_object_set_new(obj, "signatures", sigs);
    bool ok = ht_json_signature_valid(obj, x->origin, x->key, public_key);
    json_decref(obj);
    return ok;
}
