/* fuzz_core.c -- libFuzzer target for the whole door, ht_core_handle().
 *
 * One core on a scratch ":memory:" database is opened once and serves many
 * inputs, so state builds up the way it does on a real server: rooms made by
 * one input are there for the next (it is reopened every few thousand inputs
 * to keep memory bounded). At start-up the target registers two
 * users, creates a room and sends an event, and the input may name them by
 * placeholders that are replaced before the bytes reach the core:
 *
 *   @@TOKEN@@   alice's access token     @@TOKEN2@@  bob's access token
 *   @@ROOM@@    alice's room id          @@EVENT@@   an event in that room
 *
 * (the seed corpus uses them only in request lines and headers, so a body's
 * Content-Length stays true). The input is then treated like the bytes of one
 * connection: requests are cut out with ht_request_length() and answered in
 * order, exactly as the native host does, and a parked /sync is retried at
 * its deadline, where it must answer.
 *
 * Every answer is checked: a well-formed HTTP/1.1 response whose
 * Content-Length matches its body, a JSON body that parses, never a 500 (no
 * client input may make the server fail), and no password from the request
 * quoted back. Argon2 runs with libsodium's
 * minimum cost so hashing does not dominate the run. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hometab.h"
#include "http/request.h"
#include "util/arena.h"

static ht_core *core;
static int64_t clock_ms = 1700000000000;
static char token1[128], token2[128], room_id[256], event_id[256];

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "fuzz_core: invariant broken: %s\n", what);
        abort();
    }
}

/* Checks the shape of a response; returns its status. */
static int check_response(const ht_result *res, bool head) {
    const char *r = (const char *)res->response;
    size_t len = res->response_len;
    check(len > 12 && memcmp(r, "HTTP/1.1 ", 9) == 0, "status line");
    int status = (r[9] - '0') * 100 + (r[10] - '0') * 10 + (r[11] - '0');
    check(status >= 100 && status <= 599, "status code");
    const char *end = memmem(r, len, "\r\n\r\n", 4);
    check(end != NULL, "end of head");
    size_t head_len = (size_t)(end - r) + 4;
    const char *cl = memmem(r, head_len, "\r\nContent-Length: ", 18);
    check(cl != NULL, "Content-Length present");
    unsigned long long declared = strtoull(cl + 18, NULL, 10);
    size_t body_len = len - head_len;
    if (!head) check(declared == body_len, "Content-Length matches the body");
    else check(body_len == 0, "HEAD has no body");
    if (body_len > 0 && memmem(r, head_len, "Content-Type: application/json", 30)) {
        json_error_t jerr;
        json_t *body = json_loadb(r + head_len, body_len, 0, &jerr);
        check(body != NULL, "a JSON body parses");
        if (status >= 400 && status != 401)
            check(json_is_string(json_object_get(body, "errcode")), "an error has an errcode");
        json_decref(body);
    }
    /* 501 (unknown Transfer-Encoding) and 505 (HTTP/2.0) are about the
     * client's request; a 500 or 503 would be the server failing. */
    check(status != 500 && status != 503, "no client input makes the server fail");
    return status;
}

/* Calls the door like the native host does: password work handed out is
 * run and given back, and the same bytes are retried (a few passes at most:
 * a request has at most two password operations). */
static void handle(const unsigned char *bytes, size_t len, int64_t received, ht_result *res) {
    /* A client address, as the native host passes (the login and register
     * buckets per address). */
    ht_request_meta meta = {.received_ms = received, .now_ms = clock_ms, .client_address = "192.0.2.1"};
    ht_core_handle(core, bytes, len, &meta, res);
    for (int passes = 1; res->outcome == HT_WORK; passes++) {
        check(passes <= 3, "password work ends");
        ht_work_run(res->work);
        ht_core_work_done(core, res->work);
        ht_core_handle(core, bytes, len, &meta, res);
    }
    /* A streamed body is pulled to its end and put after its head, so the
     * checks below see the whole answer, as a client would. */
    static unsigned char *whole;
    if (res->body) {
        size_t total = res->response_len + (size_t)res->body_len;
        whole = realloc(whole, total);
        memcpy(whole, res->response, res->response_len);
        for (size_t at = res->response_len; at < total;) {
            long n = ht_core_body_read(core, res->body, whole + at, total - at);
            check(n > 0, "a streamed body reads to its end");
            at += (size_t)n;
        }
        check(ht_core_body_read(core, res->body, whole, 1) == 0, "a streamed body ends at its length");
        ht_core_body_close(core, res->body);
        res->body = NULL;
        res->response = whole;
        res->response_len = total;
    }
}

static json_t *call(const char *request) {
    ht_result res;
    clock_ms += 1000;
    handle((const unsigned char *)request, strlen(request), clock_ms, &res);
    check(res.outcome == HT_ANSWER, "set-up request answered");
    const char *body = memmem(res.response, res.response_len, "\r\n\r\n", 4);
    check(body != NULL, "set-up response");
    json_error_t jerr;
    return json_loadb(body + 4, res.response_len - (size_t)((const unsigned char *)body + 4 - res.response),
                      0, &jerr);
}

static void copy_field(json_t *obj, const char *key, char *out, size_t size) {
    const char *v = json_string_value(json_object_get(obj, key));
    check(v != NULL && strlen(v) < size, key);
    snprintf(out, size, "%s", v);
    json_decref(obj);
}

static void register_user(const char *name, char *token, size_t size) {
    char body[256], req[512];
    snprintf(body, sizeof body,
             "{\"username\":\"%s\",\"password\":\"fuzz-password\",\"auth\":{\"type\":\"m.login.dummy\"}}",
             name);
    snprintf(req, sizeof req,
             "POST /_matrix/client/v3/register HTTP/1.1\r\nHost: f\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(body), body);
    copy_field(call(req), "access_token", token, size);
}

/* Registers alice and bob (alice2 and bob2 on the second call...), and
 * gives alice a room with one message in it. */
static int generation;

static void make_actors(void) {
    char name[32];
    generation++;
    snprintf(name, sizeof name, generation == 1 ? "alice" : "alice%d", generation);
    register_user(name, token1, sizeof token1);
    snprintf(name, sizeof name, generation == 1 ? "bob" : "bob%d", generation);
    register_user(name, token2, sizeof token2);
    static const char create_body[] = "{\"preset\":\"public_chat\",\"name\":\"fuzz\"}";
    char req[1024];
    snprintf(req, sizeof req,
             "POST /_matrix/client/v3/createRoom HTTP/1.1\r\nHost: f\r\nAuthorization: Bearer %s\r\n"
             "Content-Length: %zu\r\n\r\n%s",
             token1, sizeof create_body - 1, create_body);
    copy_field(call(req), "room_id", room_id, sizeof room_id);
    static const char msg[] = "{\"msgtype\":\"m.text\",\"body\":\"hello\"}";
    snprintf(req, sizeof req,
             "PUT /_matrix/client/v3/rooms/%s/send/m.room.message/setup1 HTTP/1.1\r\nHost: f\r\n"
             "Authorization: Bearer %s\r\nContent-Length: %zu\r\n\r\n%s",
             room_id, token1, sizeof msg - 1, msg);
    copy_field(call(req), "event_id", event_id, sizeof event_id);
}

static void set_up(void) {
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.db_path = ":memory:";
    cfg.wal = false;
    cfg.max_body_bytes = 64 * 1024;
    cfg.pwhash_opslimit = crypto_pwhash_OPSLIMIT_MIN;
    cfg.pwhash_memlimit = crypto_pwhash_MEMLIMIT_MIN;
    cfg.offload_hashing = true; /* as natively: the replay path gets fuzzed too */
    char err[256];
    core = ht_core_open(&cfg, err, sizeof err);
    check(core != NULL, err);
    generation = 0;
    make_actors();
}

static bool token_works(const char *token) {
    char req[512];
    snprintf(req, sizeof req,
             "GET /_matrix/client/v3/account/whoami HTTP/1.1\r\nHost: f\r\nAuthorization: Bearer %s\r\n\r\n",
             token);
    json_t *reply = call(req);
    bool ok = json_is_string(json_object_get(reply, "user_id"));
    json_decref(reply);
    return ok;
}

/* Replaces the placeholders; the result is malloc'd. */
static unsigned char *substitute(const uint8_t *data, size_t size, size_t *out_len) {
    static const struct { const char *name; const char *value; } subs[] = {
        {"@@TOKEN2@@", token2}, {"@@TOKEN@@", token1}, {"@@ROOM@@", room_id}, {"@@EVENT@@", event_id},
    };
    size_t cap = size * 32 + 1; /* each placeholder grows by far less than 32x */
    unsigned char *out = malloc(cap);
    size_t o = 0;
    for (size_t i = 0; i < size;) {
        bool replaced = false;
        for (size_t k = 0; k < sizeof subs / sizeof *subs && !replaced; k++) {
            size_t nl = strlen(subs[k].name);
            if (size - i >= nl && memcmp(data + i, subs[k].name, nl) == 0) {
                size_t vl = strlen(subs[k].value);
                memcpy(out + o, subs[k].value, vl);
                o += vl;
                i += nl;
                replaced = true;
            }
        }
        if (!replaced) out[o++] = data[i++];
    }
    *out_len = o;
    return out;
}

/* A password a request carries ("password":"...") must not come back in
 * an error answer: error messages never quote secrets, not even a part (a
 * JSON parser's message quotes the token it stopped at). Only values that
 * look like passwords (8+ letters and digits, both present) count, and any
 * 6 of their characters in a row that hold a digit are looked for, so an
 * ordinary English word in an error sentence is not mistaken for one (the
 * fuzzer made "fuzz6password", whose "passwo" is in "Invalid user name or
 * password."). */
static bool has_digit(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i] >= '0' && p[i] <= '9') return true;
    return false;
}

static void check_no_echo(const unsigned char *req, size_t req_len, const ht_result *res, int status) {
    static const char key[] = "\"password\":";
    if (status < 400) return; /* success bodies may carry what a client stored */
    const unsigned char *p = memmem(req, req_len, key, sizeof key - 1);
    if (!p) return;
    p += sizeof key - 1;
    if (p < req + req_len && *p == '"') p++;
    size_t n = 0;
    bool letter = false, digit = false;
    for (; p + n < req + req_len && n < 64; n++) {
        unsigned char ch = p[n];
        if (ch >= 'a' && ch <= 'z') letter = true;
        else if (ch >= '0' && ch <= '9') digit = true;
        else break;
    }
    if (n < 8 || !letter || !digit) return;
    const unsigned char *body = memmem(res->response, res->response_len, "\r\n\r\n", 4);
    if (!body) return;
    body += 4;
    size_t body_len = res->response_len - (size_t)(body - res->response);
    for (size_t i = 0; i + 6 <= n; i++) {
        if (!has_digit(p + i, 6)) continue;
        check(memmem(body, body_len, p + i, 6) == NULL, "an error answer quotes a password");
    }
}

/* A HEAD request the parser accepts is answered without a body; one it
 * refuses gets an ordinary error answer. */
static bool is_head(const ht_config *cfg, const unsigned char *bytes, size_t len) {
    static ht_arena arena;
    static bool ready;
    if (!ready) ht_arena_init(&arena, 4096), ready = true;
    ht_arena_reset(&arena);
    ht_request req;
    ht_error err = ht_http_parse(&arena, cfg, bytes, len, &req);
    return !err.code && strcmp(req.method, "HEAD") == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* The database starts afresh now and then, so it stays small enough for
     * long runs (and closing a used core is checked for leaks too). */
    static unsigned inputs;
    if (core && ++inputs % 4096 == 0) {
        ht_core_close(core);
        core = NULL;
    }
    if (!core) set_up();
    size_t len;
    unsigned char *input = substitute(data, size, &len);
    ht_config cfg;
    ht_config_defaults(&cfg);
    cfg.max_body_bytes = 64 * 1024;

    /* Time moves on between inputs, so rate limits refill as they would. */
    clock_ms += 60 * 1000;
    size_t pos = 0;
    while (pos < len) {
        const unsigned char *bytes = input + pos;
        size_t left = len - pos;
        long n = ht_request_length(&cfg, bytes, left, NULL);
        size_t request_len = n > 0 ? (size_t)n : left;
        /* An exact copy, so ASan sees any read past the request's end. */
        unsigned char *copy = malloc(request_len ? request_len : 1);
        memcpy(copy, bytes, request_len);
        int64_t received = clock_ms;
        ht_result res;
        handle(copy, request_len, received, &res);
        if (res.outcome == HT_PARK) {
            check(res.park_deadline_ms >= clock_ms, "a park deadline is not in the past");
            check(res.park_deadline_ms - received <= 5 * 60 * 1000, "long-polls are capped");
            clock_ms = res.park_deadline_ms;
            handle(copy, request_len, received, &res);
            check(res.outcome == HT_ANSWER, "a parked request answers at its deadline");
        }
        int status = check_response(&res, is_head(&cfg, copy, request_len));
        check_no_echo(copy, request_len, &res, status);
        free(copy);
        if (n <= 0 || res.close_connection) break; /* the host would close here */
        pos += (size_t)n;
        clock_ms += 10;
    }
    free(input);
    /* An input that logged a placeholder's session out (or changed its
     * password) would leave every later input unauthenticated: start over
     * with fresh users so the fuzzer keeps reaching the handlers. */
    if (!token_works(token1) || !token_works(token2)) make_actors();
    return 0;
}
