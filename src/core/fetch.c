/* fetch.c -- asking other servers without doing I/O (see matrix/remote.h
 * and fetch.h).
 *
 * An ask that has no answer yet becomes an ht_fetch: what to send (server,
 * method, target, X-Matrix header, body) and, once the host gives it back,
 * the answer. Answers wait in a short list (the memo) for their request's
 * replay, found by the request's digest and the ask's own digest, and go
 * when the request is answered; entries also expire, since a client that
 * went away never replays. The memo is bounded in entries and in bytes:
 * past either, the oldest answers go (a replay that misses one asks again,
 * and the per-request ask limit ends any loop). */
#include "core/fetch.h"

#include <stdlib.h>
#include <string.h>

#include "federation/xmatrix.h"
#include "http/outbound.h"
#include "matrix/remote.h"
#include "util/canonical.h"
#include "util/crypto.h"
#include "util/json.h"
#include "util/oom.h"

enum {
    MEMO_MAX_ANSWERS = 512,
    MEMO_TTL_MS = 2 * 60 * 1000,
    /* The largest answer kept: a send_join's state of a big room. */
    MAX_ANSWER_BYTES = 16 * 1024 * 1024,
};
/* All answers kept at once; and all the handlers' readings of them (a
 * parsed answer takes about six times its text: one of the largest fits). */
static const size_t MEMO_MAX_BYTES = 64u * 1024 * 1024;
static const size_t MEMO_MAX_KEPT_BYTES = 128u * 1024 * 1024;

struct ht_fetch {
    ht_fetch *next;
    ht_fetch_kind kind;
    unsigned char request[HT_SHA256_BYTES]; /* the asking request's digest... */
    size_t request_len;                     /* ...and length (checked first: cheaper) */
    unsigned char ask[HT_SHA256_BYTES];     /* destination, method, target, body */
    char *destination, *method, *target, *authorization;
    unsigned char *body;
    size_t body_len;
    ht_buf bytes; /* the whole request, made when a byte transport asks */
    int64_t timeout_ms;
    /* The outbox's transaction. */
    char *txn_id;
    int64_t through;
    /* The answer. */
    bool answered;
    int status;
    unsigned char *answer;
    size_t answer_len;
    char *content_type; /* the answer's, or NULL */
    char *error;
    int64_t answered_ms;
    /* A handler's reading of the answer (ht_remote_keep). */
    void *reading;
    size_t reading_bytes;
    void (*free_reading)(void *);
};

/* ---- the host's side ------------------------------------------------- */

const char *ht_fetch_destination(const ht_fetch *f) { return f->destination; }
const char *ht_fetch_method(const ht_fetch *f) { return f->method; }
const char *ht_fetch_target(const ht_fetch *f) { return f->target; }
const char *ht_fetch_authorization(const ht_fetch *f) { return f->authorization; }
int64_t ht_fetch_timeout_ms(const ht_fetch *f) { return f->timeout_ms; }

void ht_fetch_set_content_type(ht_fetch *f, const char *content_type) {
    free(f->content_type);
    f->content_type = content_type && strlen(content_type) <= 255 ? ht_xstrdup(content_type) : NULL;
}

const unsigned char *ht_fetch_body(const ht_fetch *f, size_t *len) {
    *len = f->body_len;
    return f->body;
}

const unsigned char *ht_fetch_request(ht_fetch *f, size_t *len) {
    if (!f->bytes.len)
        ht_http_write_request(&f->bytes, f->method, f->target, f->destination, f->authorization, f->body,
                              f->body_len);
    *len = f->bytes.len;
    return f->bytes.data;
}

void ht_fetch_free(ht_fetch *f) {
    if (!f) return;
    free(f->destination);
    free(f->method);
    free(f->target);
    free(f->authorization);
    free(f->body);
    ht_buf_free(&f->bytes);
    free(f->txn_id);
    free(f->answer);
    free(f->content_type);
    free(f->error);
    if (f->reading) f->free_reading(f->reading);
    free(f);
}

ht_fetch_kind ht_fetch_kind_of(const ht_fetch *f) { return f->kind; }
const char *ht_fetch_txn(const ht_fetch *f) { return f->txn_id; }
int64_t ht_fetch_through(const ht_fetch *f) { return f->through; }
int ht_fetch_status(const ht_fetch *f) { return f->status; }
const char *ht_fetch_error(const ht_fetch *f) { return f->error; }

/* Records the answer in f (the host's status and body, or its error). */
void ht_fetch_set_answer(ht_fetch *f, int status, const unsigned char *body, size_t len, const char *error,
                         int64_t now_ms) {
    f->answered = true;
    f->answered_ms = now_ms;
    f->status = error ? 0 : status;
    if (error) {
        f->error = ht_xstrdup(error);
    } else if (len > MAX_ANSWER_BYTES) {
        f->status = 0;
        f->error = ht_xstrdup("the answer is larger than this server accepts");
    } else if (len) {
        f->answer = ht_xmalloc(len + 1);
        memcpy(f->answer, body, len);
        f->answer[len] = '\0';
        f->answer_len = len;
    }
}

/* ---- the memo ---------------------------------------------------------- */

static void unlink_answer(ht_fetch_memo *memo, ht_fetch **at) {
    ht_fetch *f = *at;
    *at = f->next;
    memo->count--;
    memo->bytes -= f->answer_len;
    memo->kept_bytes -= f->reading_bytes;
    ht_fetch_free(f);
}

/* Drops expired answers, then the oldest while over the bounds. */
static void trim(ht_fetch_memo *memo, int64_t now_ms) {
    for (ht_fetch **p = &memo->answered; *p;) {
        if (now_ms - (*p)->answered_ms > MEMO_TTL_MS)
            unlink_answer(memo, p);
        else
            p = &(*p)->next;
    }
    while (memo->count > MEMO_MAX_ANSWERS || memo->bytes > MEMO_MAX_BYTES) {
        ht_fetch **last = &memo->answered;
        while ((*last)->next) last = &(*last)->next;
        unlink_answer(memo, last);
    }
}

void ht_fetch_keep(ht_fetch_memo *memo, ht_fetch *f, int64_t now_ms) {
    f->next = memo->answered;
    memo->answered = f;
    memo->count++;
    memo->bytes += f->answer_len;
    trim(memo, now_ms);
}

void ht_fetch_memo_free(ht_fetch_memo *memo) {
    while (memo->answered) unlink_answer(memo, &memo->answered);
}

static bool request_digest(ht_ctx *ctx) {
    if (!ctx->work_key_known) {
        ht_sha256(ctx->req_bytes, ctx->req_len, ctx->work_key);
        ctx->work_key_known = true;
    }
    return true;
}

bool ht_fetch_is_replay(ht_ctx *ctx) {
    ht_fetch_memo *memo = ctx->memo;
    if (!memo) return false;
    /* Every rate-limited request asks: its bytes (an upload's, say) are
     * hashed only if an answer kept is of a request of their length. */
    for (const ht_fetch *f = memo->answered; f; f = f->next)
        if (f->request_len == ctx->req_len && request_digest(ctx) &&
            memcmp(f->request, ctx->work_key, sizeof ctx->work_key) == 0)
            return true;
    return false;
}

void ht_fetch_request_answered(ht_ctx *ctx) {
    ht_fetch_memo *memo = ctx->memo;
    if (!memo || !memo->answered || !ctx->work_key_known) return;
    for (ht_fetch **p = &memo->answered; *p;) {
        if (memcmp((*p)->request, ctx->work_key, sizeof ctx->work_key) == 0)
            unlink_answer(memo, p);
        else
            p = &(*p)->next;
    }
}

/* ---- the handlers' side ------------------------------------------------ */

static void ask_digest(const char *destination, const char *method, const char *target, const char *body,
                       unsigned char out[HT_SHA256_BYTES]) {
    ht_buf b = {0};
    ht_buf_printf(&b, "%s%c%s%c%s%c%s", destination, 0, method, 0, target, 0, body ? body : "");
    ht_sha256(b.data, b.len, out);
    ht_buf_free(&b);
}

static unsigned asks_of_request(const ht_fetch_memo *memo, const unsigned char *request) {
    unsigned n = 0;
    for (const ht_fetch *f = memo->answered; f; f = f->next) n += memcmp(f->request, request, HT_SHA256_BYTES) == 0;
    return n;
}

static void read_answer(ht_ctx *ctx, ht_fetch *f, bool parse, ht_remote_answer *out) {
    *out = (ht_remote_answer){.status = f->status,
                              .error = f->error ? ht_arena_strdup(ctx->arena, f->error) : NULL,
                              .body = f->answer, .body_len = f->answer_len,
                              .content_type = f->content_type ? ht_arena_strdup(ctx->arena, f->content_type) : NULL,
                              .from = f};
    if (parse && f->answer && !f->reading) out->json = ht_json_parse(ctx->arena, (const char *)f->answer);
}

bool ht_remote_keep(ht_ctx *ctx, const ht_remote_answer *answer, void *reading, size_t bytes,
                    void (*free_reading)(void *)) {
    ht_fetch *f = answer->from;
    ht_fetch_memo *memo = ctx->memo;
    if (!f || f->reading || bytes > MEMO_MAX_KEPT_BYTES - memo->kept_bytes) return false;
    f->reading = reading;
    f->reading_bytes = bytes;
    f->free_reading = free_reading;
    memo->kept_bytes += bytes;
    return true;
}

void *ht_remote_kept(const ht_remote_answer *answer) { return answer->from ? answer->from->reading : NULL; }

/* A reading of the request's own is kept as an answer no host fetched:
 * found by the request's digest and its name's, going with the answers. */
static void reading_ask(const char *name, unsigned char out[HT_SHA256_BYTES]) {
    ask_digest("", "READING", name, NULL, out);
}

bool ht_remote_keep_reading(ht_ctx *ctx, const char *name, void *reading, size_t bytes,
                            void (*free_reading)(void *)) {
    ht_fetch_memo *memo = ctx->memo;
    if (!memo || bytes > MEMO_MAX_KEPT_BYTES - memo->kept_bytes) return false;
    request_digest(ctx);
    ht_fetch *f = ht_xmalloc(sizeof *f);
    *f = (ht_fetch){.kind = HT_FETCH_ASK, .request_len = ctx->req_len, .answered = true,
                    .answered_ms = ctx->now_ms, .reading = reading, .reading_bytes = bytes,
                    .free_reading = free_reading};
    memcpy(f->request, ctx->work_key, sizeof f->request);
    reading_ask(name, f->ask);
    memo->kept_bytes += bytes;
    ht_fetch_keep(memo, f, ctx->now_ms);
    return true;
}

void *ht_remote_reading(ht_ctx *ctx, const char *name) {
    ht_fetch_memo *memo = ctx->memo;
    if (!memo || !memo->answered) return NULL;
    request_digest(ctx);
    unsigned char ask[HT_SHA256_BYTES];
    reading_ask(name, ask);
    for (ht_fetch *f = memo->answered; f; f = f->next)
        if (memcmp(f->ask, ask, sizeof ask) == 0 && memcmp(f->request, ctx->work_key, sizeof ctx->work_key) == 0)
            return f->reading;
    return NULL;
}

void ht_remote_resume(ht_ctx *ctx) { ctx->resume = true; }

static bool ask(ht_ctx *ctx, const char *destination, const char *method, const char *target, json_t *body,
                int64_t timeout_ms, bool parse, ht_remote_answer *out) {
    ht_fetch_memo *memo = ctx->memo;
    /* Canonical JSON: the same body is the same bytes on every pass. */
    ht_canonical_error cerr;
    size_t text_len = 0;
    char *made = body ? ht_canonical_json(body, &text_len, &cerr) : NULL;
    const char *text = made ? ht_arena_strndup(ctx->arena, made, text_len) : NULL;
    free(made);
    if (body && !text) {
        *out = (ht_remote_answer){.error = "the request's body has no JSON form"};
        return true;
    }
    request_digest(ctx);
    unsigned char ask[HT_SHA256_BYTES];
    ask_digest(destination, method, target, text, ask);
    for (ht_fetch *f = memo->answered; f; f = f->next)
        if (memcmp(f->ask, ask, sizeof ask) == 0 && memcmp(f->request, ctx->work_key, sizeof ctx->work_key) == 0) {
            read_answer(ctx, f, parse, out);
            return true;
        }
    for (const ht_fetch *f = ctx->asked; f; f = f->next)
        if (memcmp(f->ask, ask, sizeof ask) == 0) return false; /* asked already in this pass */
    if (asks_of_request(memo, ctx->work_key) + ctx->asked_count >= HT_REMOTE_MAX_ASKS) {
        *out = (ht_remote_answer){.error = "this request asked other servers too many times"};
        return true;
    }
    const char *authorization = ht_xmatrix_header(ctx->arena, ctx->env->signing_key, ctx->env->server_name,
                                                  destination, method, target, body);
    if (!authorization) {
        *out = (ht_remote_answer){.error = "the request could not be signed"};
        return true;
    }
    ht_fetch *f = ht_xmalloc(sizeof *f);
    memset(f, 0, sizeof *f);
    f->kind = HT_FETCH_ASK;
    memcpy(f->request, ctx->work_key, sizeof f->request);
    f->request_len = ctx->req_len;
    memcpy(f->ask, ask, sizeof f->ask);
    f->destination = ht_xstrdup(destination);
    f->method = ht_xstrdup(method);
    f->target = ht_xstrdup(target);
    f->authorization = ht_xstrdup(authorization);
    if (text) {
        f->body_len = strlen(text);
        f->body = (unsigned char *)ht_xstrdup(text);
    }
    f->timeout_ms = timeout_ms;
    f->next = ctx->asked;
    ctx->asked = f;
    ctx->asked_count++;
    return false;
}

bool ht_remote_ask(ht_ctx *ctx, const char *destination, const char *method, const char *target, json_t *body,
                   int64_t timeout_ms, ht_remote_answer *out) {
    return ask(ctx, destination, method, target, body, timeout_ms, true, out);
}

bool ht_remote_ask_unparsed(ht_ctx *ctx, const char *destination, const char *method, const char *target,
                            json_t *body, int64_t timeout_ms, ht_remote_answer *out) {
    return ask(ctx, destination, method, target, body, timeout_ms, false, out);
}

ht_fetch **ht_fetch_pending(ht_ctx *ctx, size_t *count) {
    *count = ctx->asked_count;
    if (!ctx->asked_count) return NULL;
    ht_fetch **list = ht_arena_calloc(ctx->arena, ctx->asked_count, sizeof *list);
    size_t i = ctx->asked_count;
    for (ht_fetch *f = ctx->asked; f; f = f->next) list[--i] = f; /* in the order asked */
    return list;
}

void ht_fetch_hand_out(ht_ctx *ctx) {
    ctx->memo->out += ctx->asked_count;
    ctx->asked = NULL;
    ctx->asked_count = 0;
}

void ht_fetch_drop_pending(ht_ctx *ctx) {
    while (ctx->asked) {
        ht_fetch *f = ctx->asked;
        ctx->asked = f->next;
        ht_fetch_free(f);
    }
    ctx->asked_count = 0;
}

ht_fetch *ht_fetch_new_outbox(const ht_env *env, const char *destination, const char *target,
                              const char *txn_id, const char *body, int64_t through) {
    json_t *json = json_loads(body, 0, NULL);
    const char *authorization = json ? ht_xmatrix_header(env->arena, env->signing_key, env->server_name,
                                                         destination, "PUT", target, json)
                                     : NULL;
    json_decref(json);
    if (!authorization) return NULL;
    ht_fetch *f = ht_xmalloc(sizeof *f);
    memset(f, 0, sizeof *f);
    f->kind = HT_FETCH_OUTBOX;
    f->destination = ht_xstrdup(destination);
    f->method = ht_xstrdup("PUT");
    f->target = ht_xstrdup(target);
    f->authorization = ht_xstrdup(authorization);
    f->body_len = strlen(body);
    f->body = (unsigned char *)ht_xstrdup(body);
    f->timeout_ms = 60000;
    f->txn_id = ht_xstrdup(txn_id);
    f->through = through;
    return f;
}
