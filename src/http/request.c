/* request.c -- HTTP/1.1 request framing and parsing.
 *
 * Framing and parsing walk the same grammar, so they share the scanner below:
 * framing only needs to know where the request ends, parsing copies what it
 * finds into the arena. Lines may end in CRLF or a bare LF (tolerated as RFC
 * 9112 allows). A request carrying both Content-Length and Transfer-Encoding,
 * or two different Content-Lengths, is refused: that ambiguity is how request
 * smuggling works. */
#include "http/request.h"

#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/utf8.h"

enum { MAX_HEADERS = 100, MAX_SEGMENTS = 64, MAX_QUERY_PARAMS = 128, MAX_CHUNK_LINE = 4096 };

/* ---- scanning -------------------------------------------------------- */

/* Finds the end of the line starting at pos: *line_len excludes the line
 * ending, the return value is the position after it, or 0 if none yet. */
static size_t next_line(const unsigned char *b, size_t len, size_t pos, size_t *line_len) {
    const unsigned char *nl = memchr(b + pos, '\n', len - pos);
    if (!nl) return 0;
    size_t end = (size_t)(nl - b);
    size_t l = end - pos;
    if (l > 0 && b[end - 1] == '\r') l--;
    *line_len = l;
    return end + 1;
}

static bool is_tchar(unsigned char c) {
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

typedef struct head_info {
    size_t head_len;        /* bytes up to and including the blank line */
    size_t request_line_start; /* after the empty lines a client may send first */
    size_t request_line_len;
    bool request_line_incomplete; /* error found before the first line ended */
    bool chunked;
    bool has_length;
    unsigned long long content_length;
    bool expects_continue;
    ht_error error;
} head_info;

static ht_error err_status(int status, ht_errcode code, const char *message) {
    return (ht_error){code, status, message};
}

static bool header_is(const unsigned char *line, size_t name_len, const char *name) {
    return strlen(name) == name_len && strncasecmp((const char *)line, name, name_len) == 0;
}

static const unsigned char *trim(const unsigned char *s, size_t *len) {
    while (*len && (*s == ' ' || *s == '\t')) s++, (*len)--;
    while (*len && (s[*len - 1] == ' ' || s[*len - 1] == '\t')) (*len)--;
    return s;
}

static bool parse_decimal(const unsigned char *s, size_t len, unsigned long long *out) {
    if (len == 0 || len > 18) return false;
    unsigned long long v = 0;
    for (size_t i = 0; i < len; i++) {
        if (!isdigit(s[i])) return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return true;
}

/* RFC 9112 (2.2) asks a server to ignore an empty line or two before a
 * request line: some clients send an extra CRLF after a POST body. More
 * than a few is not a request at all. */
enum { MAX_EMPTY_LINES_BYTES = 8 };

static size_t skip_empty_lines(const unsigned char *b, size_t len) {
    size_t i = 0;
    while (i < len && i < MAX_EMPTY_LINES_BYTES && (b[i] == '\r' || b[i] == '\n')) i++;
    return i;
}

/* Scans the request line and headers. Returns true once the head is
 * complete (or definitely invalid: then info->error is set), false if more
 * bytes are needed. */
static bool scan_head(const ht_config *cfg, const unsigned char *b, size_t len, head_info *info) {
    memset(info, 0, sizeof *info);
    size_t start = skip_empty_lines(b, len);
    if (start == len && len < MAX_EMPTY_LINES_BYTES) {
        info->request_line_incomplete = true;
        return false;
    }
    info->request_line_start = start;
    size_t line_len;
    size_t pos = next_line(b, len, start, &line_len);
    if (!pos) {
        info->request_line_incomplete = true;
        if (len > cfg->max_uri_bytes + 32) {
            info->error = err_status(414, HT_M_TOO_LARGE, "The request URI is too long.");
            return true;
        }
        /* Bytes that cannot start a request line (a TLS handshake, binary
         * noise) are refused now rather than after the read timeout. */
        for (size_t i = start; i < len && b[i] != ' '; i++) {
            if (!is_tchar(b[i]) && b[i] != '\r') {
                info->error = err_status(400, HT_M_UNKNOWN, "The request line is malformed.");
                return true;
            }
        }
        return false;
    }
    info->request_line_len = line_len;
    if (line_len > cfg->max_uri_bytes + 32) {
        info->error = err_status(414, HT_M_TOO_LARGE, "The request URI is too long.");
        return true;
    }
    int headers = 0;
    for (;;) {
        size_t next = next_line(b, len, pos, &line_len);
        if (!next) {
            if (len > cfg->max_header_bytes) {
                info->error = err_status(431, HT_M_TOO_LARGE, "The request's headers are too large.");
                return true;
            }
            return false;
        }
        if (next > cfg->max_header_bytes) {
            info->error = err_status(431, HT_M_TOO_LARGE, "The request's headers are too large.");
            return true;
        }
        const unsigned char *line = b + pos;
        pos = next;
        if (line_len == 0) break;
        if (++headers > MAX_HEADERS) {
            info->error = err_status(431, HT_M_TOO_LARGE, "The request has too many headers.");
            return true;
        }
        const unsigned char *colon = memchr(line, ':', line_len);
        if (!colon || colon == line) {
            info->error = err_status(400, HT_M_UNKNOWN, "A header line has no name.");
            return true;
        }
        size_t name_len = (size_t)(colon - line);
        size_t value_len = line_len - name_len - 1;
        const unsigned char *value = trim(colon + 1, &value_len);
        if (header_is(line, name_len, "content-length")) {
            unsigned long long cl;
            if (!parse_decimal(value, value_len, &cl) ||
                (info->has_length && cl != info->content_length)) {
                info->error = err_status(400, HT_M_UNKNOWN, "The Content-Length header is invalid.");
                return true;
            }
            info->has_length = true;
            info->content_length = cl;
        } else if (header_is(line, name_len, "transfer-encoding")) {
            if (value_len == 7 && strncasecmp((const char *)value, "chunked", 7) == 0) {
                info->chunked = true;
            } else {
                info->error = err_status(501, HT_M_UNRECOGNIZED,
                                         "Only the chunked Transfer-Encoding is supported.");
                return true;
            }
        } else if (header_is(line, name_len, "expect")) {
            info->expects_continue =
                value_len == 12 && strncasecmp((const char *)value, "100-continue", 12) == 0;
        }
    }
    info->head_len = pos;
    if (info->chunked && info->has_length) {
        info->error = err_status(400, HT_M_UNKNOWN,
                                 "A request may not have both Content-Length and Transfer-Encoding.");
    } else if (info->has_length && info->content_length > cfg->max_body_bytes) {
        info->error = err_status(413, HT_M_TOO_LARGE, "The request body is too large.");
    }
    return true;
}

/* A chunked body is bounded by its framing too, not only by the data it
 * decodes to: chunk-size lines with extensions and tiny chunks could
 * otherwise make a small body arrive as hundreds of megabytes. The framing
 * (size lines, extensions, line ends, trailers) may exceed the data by at
 * most this much; real clients add a few bytes per chunk of many bytes. */
enum { MAX_FRAMING_OVER_DATA = 64 * 1024 };

/* Walks a chunked body: its chunks start at `start`; walking resumes at
 * *resume_at (0: at start) with *resume_decoded data bytes before it, and
 * leaves both at the last complete chunk, so bytes that keep arriving are
 * read once. Returns the position after the last chunk and trailers, 0 if
 * incomplete, or sets *error. When out is given the chunk data is appended
 * to it (it must have room for decoded_len bytes). */
static size_t scan_chunks(const ht_config *cfg, const unsigned char *b, size_t len, size_t start,
                          size_t *resume_at, size_t *resume_decoded, size_t *decoded_len, unsigned char *out,
                          ht_error *error) {
    size_t pos = *resume_at ? *resume_at : start;
    size_t total = *resume_at ? *resume_decoded : 0;
    const ht_error too_much_framing =
        err_status(413, HT_M_TOO_LARGE, "The chunked request body has far more framing than data.");
    for (;;) {
        size_t line_len;
        size_t next = next_line(b, len, pos, &line_len);
        if (!next) {
            if (len - pos > MAX_CHUNK_LINE)
                *error = err_status(400, HT_M_UNKNOWN, "A chunk size line in the request body is too long.");
            return 0;
        }
        if (line_len > MAX_CHUNK_LINE) {
            *error = err_status(400, HT_M_UNKNOWN, "A chunk size line in the request body is too long.");
            return 0;
        }
        const unsigned char *line = b + pos;
        size_t digits = 0;
        unsigned long long size = 0;
        while (digits < line_len && isxdigit(line[digits])) {
            if (digits >= 15) {
                *error = err_status(413, HT_M_TOO_LARGE, "The request body is too large.");
                return 0;
            }
            int c = line[digits];
            size = size * 16 + (unsigned)(isdigit(c) ? c - '0' : (tolower(c) - 'a' + 10));
            digits++;
        }
        if (digits == 0 || (digits < line_len && line[digits] != ';' && line[digits] != ' ' &&
                            line[digits] != '\t')) {
            *error = err_status(400, HT_M_UNKNOWN, "A chunk size in the request body is invalid.");
            return 0;
        }
        pos = next;
        if ((pos - start) - total > total + MAX_FRAMING_OVER_DATA) {
            *error = too_much_framing;
            return 0;
        }
        if (size == 0) break;
        if (size > cfg->max_body_bytes || total + size > cfg->max_body_bytes) {
            *error = err_status(413, HT_M_TOO_LARGE, "The request body is too large.");
            return 0;
        }
        if (len - pos < size) return 0;
        if (out) memcpy(out + total, b + pos, size);
        total += size;
        pos += size;
        /* The chunk's data must be followed by its own line ending. */
        if (pos == len || (b[pos] == '\r' && pos + 1 == len)) return 0;
        if (b[pos] == '\n') {
            pos += 1;
        } else if (b[pos] == '\r' && b[pos + 1] == '\n') {
            pos += 2;
        } else {
            *error = err_status(400, HT_M_UNKNOWN, "A chunk is longer than its size says.");
            return 0;
        }
        /* A whole chunk: the next call starts after it. */
        *resume_at = pos;
        *resume_decoded = total;
    }
    /* Trailer fields, ignored, up to a blank line; no larger than a head. */
    size_t trailers = pos;
    for (;;) {
        size_t line_len;
        size_t next = next_line(b, len, pos, &line_len);
        if ((next ? next : len) - trailers > cfg->max_header_bytes) {
            *error = err_status(431, HT_M_TOO_LARGE, "The request's trailer fields are too large.");
            return 0;
        }
        if (!next) return 0;
        pos = next;
        if ((pos - start) - total > total + MAX_FRAMING_OVER_DATA) {
            *error = too_much_framing;
            return 0;
        }
        if (line_len == 0) break;
    }
    *decoded_len = total;
    return pos;
}

long ht_request_length_resume(const ht_config *cfg, const unsigned char *bytes, size_t len, ht_framing *framing,
                              bool *expects_continue) {
    head_info info;
    if (expects_continue) *expects_continue = false;
    if (!scan_head(cfg, bytes, len, &info)) return 0;
    if (info.error.code) return -1;
    if (expects_continue) *expects_continue = info.expects_continue;
    if (info.chunked) {
        ht_framing fresh = {0};
        if (!framing || framing->chunk_at > len) framing = &fresh;
        ht_error error = {0};
        size_t decoded;
        size_t end = scan_chunks(cfg, bytes, len, info.head_len, &framing->chunk_at, &framing->decoded, &decoded,
                                 NULL, &error);
        if (error.code) return -1;
        return end ? (long)end : 0;
    }
    size_t total = info.head_len + (size_t)info.content_length;
    if (total > LONG_MAX) return -1;
    return len >= total ? (long)total : 0;
}

long ht_request_length(const ht_config *cfg, const unsigned char *bytes, size_t len,
                       bool *expects_continue) {
    return ht_request_length_resume(cfg, bytes, len, NULL, expects_continue);
}

/* Only the method is looked at: the request is parsed properly when it is
 * handled. Empty lines before the request line are skipped as the parser
 * skips them. */
bool ht_request_is_read(const unsigned char *bytes, size_t len) {
    size_t at = 0;
    while (at < len && (bytes[at] == '\r' || bytes[at] == '\n')) at++;
    static const char *const reads[] = {"GET ", "HEAD ", "OPTIONS "};
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        size_t n = strlen(reads[i]);
        if (len - at >= n && memcmp(bytes + at, reads[i], n) == 0) return true;
    }
    return false;
}

/* ---- decoding -------------------------------------------------------- */

static int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

char *ht_percent_decode(ht_arena *arena, const char *src, size_t len, bool plus_is_space) {
    char *out = ht_arena_alloc(arena, len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%') {
            if (i + 2 >= len) return NULL;
            int hi = hex_value((unsigned char)src[i + 1]), lo = hex_value((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0) return NULL;
            c = (unsigned char)(hi * 16 + lo);
            if (c == 0) return NULL;
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return ht_utf8_valid((unsigned char *)out, o) ? out : NULL;
}

/* ---- parsing --------------------------------------------------------- */

static const char *const known_methods[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"};

static ht_error parse_target(ht_arena *arena, const char *target, ht_request *out) {
    const ht_error bad = err_status(400, HT_M_UNKNOWN, "The request path is not valid.");
    if (target[0] != '/') return bad;
    const char *q = strchr(target, '?');
    size_t path_len = q ? (size_t)(q - target) : strlen(target);
    out->raw_path = ht_arena_strndup(arena, target, path_len);

    out->segments = ht_arena_calloc(arena, MAX_SEGMENTS, sizeof *out->segments);
    const char *p = target + 1, *end = target + path_len;
    if (path_len > 1) {
        for (;;) {
            const char *slash = memchr(p, '/', (size_t)(end - p));
            const char *seg_end = slash ? slash : end;
            if (out->segment_count == MAX_SEGMENTS) return bad;
            const char *seg = ht_percent_decode(arena, p, (size_t)(seg_end - p), false);
            if (!seg) return err_status(400, HT_M_UNKNOWN,
                                        "The request path has a bad escape or is not UTF-8.");
            out->segments[out->segment_count++] = seg;
            if (!slash) break;
            p = slash + 1;
        }
    }
    if (!q) return (ht_error){0};

    out->query = ht_arena_calloc(arena, MAX_QUERY_PARAMS, sizeof *out->query);
    p = q + 1;
    while (*p) {
        const char *amp = strchr(p, '&');
        const char *pair_end = amp ? amp : p + strlen(p);
        if (pair_end > p) {
            if (out->query_count == MAX_QUERY_PARAMS)
                return err_status(400, HT_M_UNKNOWN, "The request has too many query parameters.");
            const char *eq = memchr(p, '=', (size_t)(pair_end - p));
            const char *name_end = eq ? eq : pair_end;
            const char *name = ht_percent_decode(arena, p, (size_t)(name_end - p), true);
            const char *value = eq ? ht_percent_decode(arena, eq + 1, (size_t)(pair_end - eq - 1), true)
                                   : "";
            if (!name || !value)
                return err_status(400, HT_M_UNKNOWN,
                                  "A query parameter has a bad escape or is not UTF-8.");
            out->query[out->query_count++] = (ht_param){name, value};
        }
        if (!amp) break;
        p = amp + 1;
    }
    return (ht_error){0};
}

static ht_error parse_request_line(ht_arena *arena, const ht_config *cfg, const unsigned char *line,
                                   size_t len, ht_request *out) {
    const ht_error bad = err_status(400, HT_M_UNKNOWN, "The request line is malformed.");
    const unsigned char *sp1 = memchr(line, ' ', len);
    if (!sp1 || sp1 == line) return bad;
    size_t method_len = (size_t)(sp1 - line);
    for (size_t i = 0; i < method_len; i++)
        if (!is_tchar(line[i])) return bad;
    const unsigned char *target = sp1 + 1;
    const unsigned char *sp2 = memchr(target, ' ', len - (size_t)(target - line));
    if (!sp2 || sp2 == target) return bad;
    size_t target_len = (size_t)(sp2 - target);
    const unsigned char *version = sp2 + 1;
    size_t version_len = len - (size_t)(version - line);
    /* HTTP-version = "HTTP/" DIGIT "." DIGIT; a well-formed other version
     * gets 505, anything else is simply malformed. */
    if (version_len != 8 || memcmp(version, "HTTP/", 5) != 0 || !isdigit(version[5]) ||
        version[6] != '.' || !isdigit(version[7]))
        return bad;
    if (version[5] != '1')
        return err_status(505, HT_M_UNRECOGNIZED, "Only HTTP/1.x is supported.");
    out->minor_version = version[7] - '0';
    if (target_len > cfg->max_uri_bytes)
        return err_status(414, HT_M_TOO_LARGE, "The request URI is too long.");
    for (size_t i = 0; i < target_len; i++)
        if (target[i] <= 0x20 || target[i] >= 0x7F) return bad;

    out->method = ht_arena_strndup(arena, (const char *)line, method_len);
    out->target = ht_arena_strndup(arena, (const char *)target, target_len);
    bool known = false;
    for (size_t i = 0; i < sizeof known_methods / sizeof *known_methods; i++)
        if (strcmp(out->method, known_methods[i]) == 0) known = true;
    if (!known)
        return err_status(405, HT_M_UNRECOGNIZED, "This server does not support that HTTP method.");
    return parse_target(arena, out->target, out);
}

/* Connection is a list of tokens, possibly over several header lines
 * ("keep-alive, Upgrade"); "close" anywhere wins. HTTP/1.0 keeps the
 * connection only when asked to. */
static bool connection_keeps_alive(const ht_request *req) {
    bool keep = req->minor_version >= 1, close = false;
    for (size_t i = 0; i < req->header_count; i++) {
        if (strcmp(req->headers[i].name, "connection") != 0) continue;
        for (const char *p = req->headers[i].value; *p;) {
            p += strspn(p, " \t,");
            size_t n = strcspn(p, " \t,");
            if (n == 5 && strncasecmp(p, "close", 5) == 0) close = true;
            if (n == 10 && strncasecmp(p, "keep-alive", 10) == 0) keep = true;
            p += n;
        }
    }
    return keep && !close;
}

ht_error ht_http_parse(ht_arena *arena, const ht_config *cfg, const unsigned char *bytes,
                       size_t len, ht_request *out) {
    memset(out, 0, sizeof *out);
    head_info info;
    if (!scan_head(cfg, bytes, len, &info))
        return err_status(400, HT_M_UNKNOWN, "The request ended before its headers did.");
    /* Refused before its first line ended: there is no request line to read. */
    if (info.request_line_incomplete) return info.error;
    ht_error err = parse_request_line(arena, cfg, bytes + info.request_line_start,
                                      info.request_line_len, out);
    if (err.code) return err;
    if (info.error.code) return info.error;

    /* Headers: the scanner has checked the shape; copy them, lower-casing names. */
    out->headers = ht_arena_calloc(arena, MAX_HEADERS, sizeof *out->headers);
    size_t line_len;
    size_t pos = next_line(bytes, len, info.request_line_start, &line_len);
    for (;;) {
        const unsigned char *line = bytes + pos;
        pos = next_line(bytes, len, pos, &line_len);
        if (line_len == 0) break;
        const unsigned char *colon = memchr(line, ':', line_len);
        size_t name_len = (size_t)(colon - line);
        for (size_t i = 0; i < name_len; i++)
            if (!is_tchar(line[i])) return err_status(400, HT_M_UNKNOWN, "A header name is invalid.");
        size_t value_len = line_len - name_len - 1;
        const unsigned char *value = trim(colon + 1, &value_len);
        for (size_t i = 0; i < value_len; i++)
            if (value[i] == 0 || value[i] == '\r')
                return err_status(400, HT_M_UNKNOWN, "A header value is invalid.");
        char *name = ht_arena_strndup(arena, (const char *)line, name_len);
        for (char *c = name; *c; c++) *c = (char)tolower((unsigned char)*c);
        out->headers[out->header_count++] =
            (ht_header){name, ht_arena_strndup(arena, (const char *)value, value_len)};
    }

    if (info.chunked) {
        ht_error chunk_err = {0};
        size_t decoded = 0;
        size_t at = 0, so_far = 0;
        size_t end = scan_chunks(cfg, bytes, len, info.head_len, &at, &so_far, &decoded, NULL, &chunk_err);
        if (chunk_err.code) return chunk_err;
        if (!end) return err_status(400, HT_M_UNKNOWN, "The chunked request body is incomplete.");
        unsigned char *body = ht_arena_alloc(arena, decoded + 1);
        at = so_far = 0;
        scan_chunks(cfg, bytes, len, info.head_len, &at, &so_far, &decoded, body, &chunk_err);
        body[decoded] = '\0';
        out->body = body;
        out->body_len = decoded;
    } else {
        size_t cl = (size_t)info.content_length;
        if (len - info.head_len < cl)
            return err_status(400, HT_M_UNKNOWN, "The request body is shorter than its Content-Length.");
        unsigned char *body = ht_arena_alloc(arena, cl + 1);
        memcpy(body, bytes + info.head_len, cl);
        body[cl] = '\0';
        out->body = body;
        out->body_len = cl;
    }

    out->keep_alive = connection_keeps_alive(out);
    if (out->minor_version >= 1 && !ht_request_header(out, "host"))
        return err_status(400, HT_M_UNKNOWN, "An HTTP/1.1 request needs a Host header.");
    return (ht_error){0};
}
