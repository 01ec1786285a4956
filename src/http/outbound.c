/* outbound.c -- request bytes out, response bytes in (see outbound.h). */
#include "http/outbound.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

void ht_http_write_request(ht_buf *out, const char *method, const char *target, const char *host,
                           const char *authorization, const unsigned char *body, size_t body_len) {
    ht_buf_printf(out, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, host);
    if (authorization) ht_buf_printf(out, "Authorization: %s\r\n", authorization);
    if (body) ht_buf_puts(out, "Content-Type: application/json\r\n");
    ht_buf_printf(out, "Content-Length: %zu\r\n\r\n", body ? body_len : 0);
    if (body) ht_buf_append(out, body, body_len);
}

/* The value of a header in a head (lines of "Name: value\r\n"), or NULL. */
static const char *header(const char *head, size_t head_len, const char *name, size_t *value_len) {
    size_t name_len = strlen(name);
    const char *end = head + head_len;
    for (const char *line = head; line < end;) {
        const char *eol = memchr(line, '\n', (size_t)(end - line));
        if (!eol) eol = end;
        if ((size_t)(eol - line) > name_len && strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
            const char *v = line + name_len + 1;
            while (v < eol && (*v == ' ' || *v == '\t')) v++;
            const char *ve = eol;
            while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t')) ve--;
            *value_len = (size_t)(ve - v);
            return v;
        }
        line = eol + 1;
    }
    return NULL;
}

static bool dechunk(const unsigned char *p, const unsigned char *end, size_t max_body, ht_buf *out,
                    const char **why) {
    for (;;) {
        const unsigned char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) return *why = "the chunked body is cut short", false;
        char *stop;
        unsigned long long size = strtoull((const char *)p, &stop, 16);
        if (stop == (const char *)p) return *why = "a chunk size is not a number", false;
        p = eol + 1;
        if (size == 0) return true;
        if (size > max_body || out->len + size > max_body) return *why = "the answer's body is too large", false;
        if ((size_t)(end - p) < size + 2) return *why = "the chunked body is cut short", false;
        ht_buf_append(out, p, (size_t)size);
        p += size;
        if (*p == '\r') p++;
        if (p >= end || *p != '\n') return *why = "a chunk does not end its line", false;
        p++;
    }
}

bool ht_http_read_response(const unsigned char *bytes, size_t len, size_t max_body, int *status,
                           const unsigned char **body, size_t *body_len, ht_buf *decoded, const char **why) {
    *why = NULL;
    const unsigned char *head_end = memmem(bytes, len, "\r\n\r\n", 4);
    size_t sep = 4;
    if (!head_end) head_end = memmem(bytes, len, "\n\n", 2), sep = 2;
    if (!head_end) return *why = "the answer has no complete head", false;
    if (len < 12 || memcmp(bytes, "HTTP/1.", 7) != 0 || bytes[8] != ' ')
        return *why = "the answer is not HTTP/1.x", false;
    int code = 0;
    for (int i = 9; i < 12; i++) {
        if (bytes[i] < '0' || bytes[i] > '9') return *why = "the answer's status is not a number", false;
        code = code * 10 + (bytes[i] - '0');
    }
    *status = code;
    const char *head = (const char *)bytes;
    size_t head_len = (size_t)(head_end - bytes);
    const unsigned char *start = head_end + sep, *end = bytes + len;
    size_t vlen;
    const char *te = header(head, head_len, "Transfer-Encoding", &vlen);
    if (te && vlen >= 7 && strncasecmp(te + vlen - 7, "chunked", 7) == 0) {
        if (!dechunk(start, end, max_body, decoded, why)) return false;
        *body = decoded->data;
        *body_len = decoded->len;
        return true;
    }
    const char *cl = header(head, head_len, "Content-Length", &vlen);
    size_t n = (size_t)(end - start);
    if (cl) {
        char digits[24];
        if (vlen == 0 || vlen >= sizeof digits) return *why = "the answer's Content-Length is unreadable", false;
        memcpy(digits, cl, vlen);
        digits[vlen] = '\0';
        char *stop;
        unsigned long long want = strtoull(digits, &stop, 10);
        if (*stop) return *why = "the answer's Content-Length is unreadable", false;
        if (want > max_body) return *why = "the answer's body is too large", false;
        if (n < want) return *why = "the answer's body is cut short", false;
        n = (size_t)want;
    } else if (n > max_body) {
        return *why = "the answer's body is too large", false;
    }
    *body = start;
    *body_len = n;
    return true;
}

char *ht_percent_encode(ht_arena *arena, const char *s) {
    static const char hex[] = "0123456789ABCDEF";
    char *out = ht_arena_alloc(arena, strlen(s) * 3 + 1), *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || strchr("-._~", *p)) {
            *o++ = (char)*p;
        } else {
            *o++ = '%';
            *o++ = hex[*p >> 4];
            *o++ = hex[*p & 15];
        }
    }
    *o = '\0';
    return out;
}

bool ht_http_response_content_type(const unsigned char *bytes, size_t len, char *out, size_t out_size) {
    const unsigned char *head_end = memmem(bytes, len, "\r\n\r\n", 4);
    if (!head_end) head_end = memmem(bytes, len, "\n\n", 2);
    if (!head_end) return false;
    size_t vlen;
    const char *v = header((const char *)bytes, (size_t)(head_end - bytes), "Content-Type", &vlen);
    if (!v || vlen >= out_size) return false;
    memcpy(out, v, vlen);
    out[vlen] = '\0';
    return true;
}

static const char *field_copy(ht_arena *arena, const char *head, size_t head_len, const char *name) {
    size_t vlen;
    const char *v = header(head, head_len, name, &vlen);
    return v ? ht_arena_strndup(arena, v, vlen) : NULL;
}

size_t ht_http_multipart(ht_arena *arena, const char *content_type, const unsigned char *body, size_t len,
                         ht_http_part *parts, size_t max) {
    /* The boundary: 1 to 70 characters (RFC 2046). */
    const char *b = content_type ? strstr(content_type, "boundary=") : NULL;
    const char *boundary;
    if (b) {
        b += 9;
        bool quoted = *b == '"';
        b += quoted;
        size_t n = strcspn(b, quoted ? "\"" : "; \t");
        boundary = ht_arena_strndup(arena, b, n);
    } else {
        if (len < 3 || memcmp(body, "--", 2) != 0) return 0;
        const unsigned char *eol = memchr(body, '\r', len < 80 ? len : 80);
        if (!eol) return 0;
        boundary = ht_arena_strndup(arena, (const char *)body + 2, (size_t)(eol - body) - 2);
    }
    size_t blen = strlen(boundary);
    if (blen == 0 || blen > 70) return 0;
    char *delim = ht_arena_printf(arena, "\r\n--%s", boundary); /* between parts */
    size_t dlen = blen + 4;
    /* The first delimiter may open the body (no preamble). */
    const unsigned char *p, *end = body + len;
    if (len >= dlen - 2 && memcmp(body, delim + 2, dlen - 2) == 0) p = body + dlen - 2;
    else if ((p = memmem(body, len, delim, dlen))) p += dlen;
    else return 0;
    size_t count = 0;
    while (count < max && (size_t)(end - p) >= 2 && memcmp(p, "--", 2) != 0) {
        if (memcmp(p, "\r\n", 2) != 0) return 0;
        p += 2;
        const unsigned char *head_end = (size_t)(end - p) >= 2 && memcmp(p, "\r\n", 2) == 0
                                            ? p
                                            : memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        if (!head_end) return 0;
        const char *head = (const char *)p;
        size_t head_len = (size_t)(head_end - p);
        const unsigned char *start = head_end + (head_end == p ? 2 : 4);
        const unsigned char *stop = memmem(start, (size_t)(end - start), delim, dlen);
        if (!stop) return 0;
        parts[count++] = (ht_http_part){.content_type = field_copy(arena, head, head_len, "Content-Type"),
                                        .disposition = field_copy(arena, head, head_len, "Content-Disposition"),
                                        .location = field_copy(arena, head, head_len, "Location"),
                                        .body = start,
                                        .body_len = (size_t)(stop - start)};
        p = stop + dlen;
    }
    return count;
}
