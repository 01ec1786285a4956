/* fuzz_http.c -- libFuzzer target for the HTTP framing and parsing code.
 *
 * The input is the bytes a client might send on one connection. Like the
 * native host, the target cuts requests out of it with ht_request_length()
 * and parses each one with ht_http_parse(). Besides the sanitizers' checks it
 * asserts the one property the hosts rely on: framing and parsing agree. A
 * request that ht_request_length() declares complete must never be refused
 * by the parser as incomplete, and whatever the parser accepts must lie
 * inside the bytes it was given. Small limits make the size checks (413,
 * 414, 431) reachable with short inputs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hometab.h"
#include "http/request.h"
#include "util/arena.h"
#include "util/utf8.h"

static void check(int ok) {
    if (!ok) abort(); /* libFuzzer reports the input that got here */
}

static int is_incomplete_error(ht_error err) {
    static const char *const incomplete[] = {
        "The request ended before its headers did.",
        "The chunked request body is incomplete.",
        "The request body is shorter than its Content-Length.",
    };
    for (size_t i = 0; i < sizeof incomplete / sizeof *incomplete; i++)
        if (err.message && strcmp(err.message, incomplete[i]) == 0) return 1;
    return 0;
}

static void check_request(const ht_request *req, size_t len) {
    check(req->method && req->target && req->raw_path);
    check(req->target[0] == '/');
    check(req->body_len <= len);
    check(req->body[req->body_len] == '\0');
    for (size_t i = 0; i < req->segment_count; i++) check(req->segments[i] != NULL);
    for (size_t i = 0; i < req->query_count; i++)
        check(req->query[i].name && req->query[i].value);
    for (size_t i = 0; i < req->header_count; i++) {
        const char *name = req->headers[i].name;
        check(name && name[0] && req->headers[i].value);
        for (const char *c = name; *c; c++) check(!(*c >= 'A' && *c <= 'Z'));
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.max_body_bytes = 4096;
    cfg.max_header_bytes = 2048;
    cfg.max_uri_bytes = 512;

    static ht_arena arena;
    static int ready;
    if (!ready) {
        ht_arena_init(&arena, 4096);
        ready = 1;
    }

    size_t pos = 0;
    while (pos < size) {
        const unsigned char *bytes = data + pos;
        size_t left = size - pos;
        bool expects_continue = false;
        long n = ht_request_length(&cfg, bytes, left, &expects_continue);
        check(n >= -1 && n <= (long)left);

        /* Framed as it arrives, in pieces (as the native host does), the
         * answer at every prefix is the one framing that prefix whole. */
        ht_framing framing = {0};
        size_t step = 1 + left / 7;
        for (size_t cut = step; cut < left + step; cut += step) {
            size_t have = cut < left ? cut : left;
            long resumed = ht_request_length_resume(&cfg, bytes, have, &framing, NULL);
            check(resumed == ht_request_length(&cfg, bytes, have, NULL));
            if (resumed != 0) break; /* framed (or refused): a host stops feeding here */
        }

        ht_request req;
        ht_arena_reset(&arena);
        size_t parse_len = n > 0 ? (size_t)n : left;
        /* Parse a copy of exactly the framed bytes, so ASan catches any read
         * past the request's end. */
        unsigned char *copy = malloc(parse_len ? parse_len : 1);
        memcpy(copy, bytes, parse_len);
        ht_error err = ht_http_parse(&arena, &cfg, copy, parse_len, &req);
        if (n > 0) {
            check(!is_incomplete_error(err));
        }
        if (!err.code) check_request(&req, parse_len);
        if (err.code) check(err.status >= 400 && err.status <= 505 && err.message);
        free(copy);

        if (n <= 0) break; /* incomplete or unframeable: the host stops here */
        pos += (size_t)n;
    }

    /* Percent-decoding and UTF-8 checking on the raw input too. */
    ht_arena_reset(&arena);
    char *decoded = ht_percent_decode(&arena, (const char *)data, size, size % 2 == 0);
    if (decoded) check(ht_utf8_valid((const unsigned char *)decoded, strlen(decoded)));
    return 0;
}
