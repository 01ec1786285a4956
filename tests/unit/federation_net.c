/* federation_net.c -- cores joined in one process (see federation_net.h). */
#include "federation_net.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/fetch.h"
#include "federation/xmatrix.h"
#include "http/outbound.h"
#include "matrix/handler.h"
#include "store/store.h"
#include "util/buf.h"

static int find(const net *n, const char *name) {
    for (int i = 0; i < n->count; i++)
        if (strcmp(n->names[i], name) == 0) return i;
    return -1;
}

static bool open_cores(net *n, int count, const char *const *names, int limited, const ht_rate *user_rate) {
    memset(n, 0, sizeof *n);
    n->clock_ms = 1700000000000;
    for (int i = 0; i < count; i++) {
        ht_config cfg;
        ht_config_defaults(&cfg);
        cfg.db_path = ":memory:";
        cfg.wal = false;
        cfg.server_name = names ? names[i] : "ignored.test";
        cfg.name_from_key = names == NULL;
        cfg.federation = true;
        cfg.rate_limit = user_rate && i == limited;
        if (cfg.rate_limit) {
            /* Only the users' buckets count here: the rest cannot run dry. */
            const ht_rate open = {1e6, 1000000};
            cfg.rate_login = cfg.rate_login_address = cfg.rate_login_account = open;
            cfg.rate_register = cfg.rate_register_address = cfg.rate_federation = cfg.rate_federation_keys = open;
            cfg.rate_user = *user_rate;
        }
        cfg.pwhash_opslimit = crypto_pwhash_OPSLIMIT_MIN;
        cfg.pwhash_memlimit = crypto_pwhash_MEMLIMIT_MIN;
        char err[256];
        n->cores[i] = ht_core_open(&cfg, err, sizeof err);
        if (!n->cores[i]) {
            fprintf(stderr, "net_open: %s\n", err);
            return false;
        }
        n->names[i] = ht_core_server_name(n->cores[i]);
        n->count++;
    }
    return true;
}

bool net_open(net *n, int count, const char *const *names) { return open_cores(n, count, names, -1, NULL); }

bool net_open_user_limited(net *n, int count, const char *const *names, int limited, double per_second,
                           unsigned burst) {
    const ht_rate rate = {per_second, burst};
    return open_cores(n, count, names, limited, &rate);
}

bool net_open_p2p(net *n, int count) { return open_cores(n, count, NULL, -1, NULL); }

void net_close(net *n) {
    for (int i = 0; i < n->count; i++) ht_core_close(n->cores[i]);
}

void reply_free(reply *r) {
    json_decref(r->json);
    r->json = NULL;
    free(r->body);
    r->body = NULL;
}

static reply read_reply(const ht_result *r) {
    reply out = {0};
    sscanf((const char *)r->response, "HTTP/1.1 %d ", &out.status);
    const unsigned char *end = memmem(r->response, r->response_len, "\r\n\r\n", 4);
    if (end) {
        out.json = json_loadb((const char *)end + 4, r->response_len - (size_t)(end + 4 - r->response), 0, NULL);
        out.body_len = r->response_len - (size_t)(end + 4 - r->response);
        out.body = malloc(out.body_len + 1);
        memcpy(out.body, end + 4, out.body_len);
        out.body[out.body_len] = '\0';
        ht_http_response_content_type(r->response, r->response_len, out.content_type, sizeof out.content_type);
    }
    return out;
}

/* Handles bytes on core i to the end: carries its fetches, replays it.
 * Returns the answer's bytes (malloc'd, *len long). */
static unsigned char *handle(net *n, int i, const unsigned char *bytes, size_t len, const char *peer,
                             size_t *out_len);

static int asker_index(const net *n, const ht_core *core) {
    for (int i = 0; i < n->count; i++)
        if (n->cores[i] == core) return i;
    return 0;
}

static void carry(net *n, ht_fetch *f, ht_core *asker) {
    n->fetches++;
    int to = find(n, ht_fetch_destination(f));
    if (to < 0 || n->down[to]) {
        ht_core_fetch_done(asker, f, 0, NULL, 0, "the server could not be reached");
        return;
    }
    int status;
    char *body = NULL;
    if (n->liar && n->liar(n->liar_arg, ht_fetch_destination(f), ht_fetch_target(f), &status, &body)) {
        ht_core_fetch_done(asker, f, status, (const unsigned char *)body, body ? strlen(body) : 0, NULL);
        free(body);
        return;
    }
    size_t len;
    const unsigned char *request = ht_fetch_request(f, &len);
    unsigned char *copy = malloc(len);
    memcpy(copy, request, len);
    size_t answer_len;
    unsigned char *answer = handle(n, to, copy, len, n->names[asker_index(n, asker)], &answer_len);
    free(copy);
    ht_core_fetch_done_bytes(asker, f, answer, answer_len, NULL);
    free(answer);
}

/* peer: the server whose request this is (as a transport that
 * authenticates its peers would say), or NULL for a client. */
static unsigned char *handle(net *n, int i, const unsigned char *bytes, size_t len, const char *peer,
                             size_t *out_len) {
    ht_core *core = n->cores[i];
    int64_t received = ++n->clock_ms;
    for (int pass = 0; pass < 50; pass++) {
        ht_result r;
        ht_request_meta meta = {.received_ms = received, .now_ms = ++n->clock_ms, .client_address = "127.0.0.1",
                                .peer_server = peer};
        ht_core_handle(core, bytes, len, &meta, &r);
        if (r.outcome == HT_FETCH) {
            /* The list lives in the core's arena: the next call reuses it. */
            size_t count = r.fetch_count;
            ht_fetch **list = malloc(count * sizeof *list);
            memcpy(list, r.fetches, count * sizeof *list);
            for (size_t k = 0; k < count; k++) carry(n, list[k], core);
            free(list);
            continue;
        }
        if (r.outcome == HT_WORK) {
            ht_work_run(r.work);
            ht_core_work_done(core, r.work);
            continue;
        }
        if (r.outcome == HT_PARK && r.park_deadline_ms <= meta.now_ms) {
            n->resumes++;
            if (n->on_resume) n->on_resume(n, i, n->on_resume_arg);
            continue;
        }
        if (r.outcome == HT_PARK) {
            n->clock_ms = r.park_deadline_ms; /* a long-poll: let its deadline come */
            continue;
        }
        /* A stored file's bytes come after the head, read as a host reads them. */
        size_t body_len = r.body ? (size_t)r.body_len : 0;
        unsigned char *out = malloc(r.response_len + body_len + 1);
        memcpy(out, r.response, r.response_len);
        size_t got = 0;
        while (got < body_len) {
            long k = ht_core_body_read(core, r.body, out + r.response_len + got, body_len - got);
            if (k <= 0) break;
            got += (size_t)k;
        }
        if (r.body) ht_core_body_close(core, r.body);
        *out_len = r.response_len + got;
        return out;
    }
    fprintf(stderr, "net: a request on %s never finished\n", n->names[i]);
    abort();
}

reply net_call(net *n, int i, const char *method, const char *path, const char *token, json_t *body) {
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    ht_buf b = {0};
    ht_buf_printf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, n->names[i]);
    if (token) ht_buf_printf(&b, "Authorization: Bearer %s\r\n", token);
    ht_buf_printf(&b, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", text ? strlen(text) : 0,
                  text ? text : "");
    free(text);
    size_t len;
    unsigned char *answer = handle(n, i, b.data, b.len, NULL, &len);
    ht_buf_free(&b);
    ht_result r = {.response = answer, .response_len = len};
    reply out = read_reply(&r);
    free(answer);
    net_pump(n);
    return out;
}

void net_pump(net *n) {
    for (int round = 0; round < 100; round++) {
        bool sent = false;
        for (int i = 0; i < n->count; i++) {
            int64_t next;
            ht_fetch *f;
            while ((f = ht_core_outbound_next(n->cores[i], ++n->clock_ms, &next))) {
                carry(n, f, n->cores[i]);
                sent = true;
            }
        }
        if (!sent) return;
    }
}

char *net_register(net *n, int i, const char *name) {
    json_t *body = json_pack("{s:s, s:s, s:{s:s}}", "username", name, "password", "pw-of-a-test-user", "auth", "type",
                             "m.login.dummy");
    reply r = net_call(n, i, "POST", "/_matrix/client/v3/register", NULL, body);
    json_decref(body);
    char *token = r.status == 200 ? strdup(json_string_value(json_object_get(r.json, "access_token"))) : NULL;
    reply_free(&r);
    return token;
}

char *net_xmatrix(net *n, int from, const char *destination, const char *method, const char *target,
                  json_t *body) {
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    char *header = ht_xmatrix_header(&arena, &n->cores[from]->signing_key, n->names[from], destination, method,
                                     target, body);
    char *out = header ? strdup(header) : NULL;
    ht_arena_free(&arena);
    return out;
}

reply net_fed_call(net *n, int from, int to, const char *method, const char *target, json_t *body,
                   const char *authorization) {
    char *signed_header = authorization ? NULL : net_xmatrix(n, from, n->names[to], method, target, body);
    const char *header = authorization ? authorization : signed_header;
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    ht_buf b = {0};
    ht_buf_printf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, n->names[to]);
    if (header && *header) ht_buf_printf(&b, "Authorization: %s\r\n", header);
    ht_buf_printf(&b, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s", text ? strlen(text) : 0,
                  text ? text : "");
    free(text);
    free(signed_header);
    size_t len;
    unsigned char *answer = handle(n, to, b.data, b.len, n->names[from], &len);
    ht_buf_free(&b);
    ht_result r = {.response = answer, .response_len = len};
    reply out = read_reply(&r);
    free(answer);
    return out;
}

void net_run(net *n, int i, net_task *task, void *arg) {
    ht_core *core = n->cores[i];
    /* The request's identity, by which the door keeps its answers. */
    static unsigned runs;
    char id[64];
    snprintf(id, sizeof id, "net_run %u", ++runs);
    ht_request req = {.method = "POST", .target = "/net_run", .raw_path = "/net_run"};
    int64_t received = ++n->clock_ms;
    for (int pass = 0; pass < 50; pass++) {
        ht_arena_reset(&core->arena);
        core->clock_ms = core->env.now_ms = ++n->clock_ms;
        if (!ht_store_begin(core->env.store)) abort();
        ht_ctx ctx = {.env = &core->env, .arena = &core->arena, .replay = &core->replay, .memo = &core->memo,
                      .req = &req, .received_ms = received, .now_ms = core->env.now_ms,
                      .req_bytes = (const unsigned char *)id, .req_len = strlen(id)};
        bool done = task(&ctx, arg);
        if (ctx.asked_count) {
            ht_store_rollback(core->env.store);
            size_t count;
            ht_fetch **pending = ht_fetch_pending(&ctx, &count);
            ht_fetch **list = malloc(count * sizeof *list);
            memcpy(list, pending, count * sizeof *list);
            ht_fetch_hand_out(&ctx);
            for (size_t k = 0; k < count; k++) carry(n, list[k], core);
            free(list);
            continue;
        }
        if (!done || ht_store_failed(core->env.store) || !ht_store_commit(core->env.store)) {
            fprintf(stderr, "net_run on %s: the task failed without waiting\n", n->names[i]);
            abort();
        }
        ht_fetch_request_answered(&ctx);
        return;
    }
    fprintf(stderr, "net_run on %s: the task never finished\n", n->names[i]);
    abort();
}
