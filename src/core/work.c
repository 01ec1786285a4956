/* work.c -- password hashing that the host may run off its event loop; see
 * work.h for the protocol.
 *
 * Finished work waits in a short list on the core until its request is
 * replayed and answered. A request whose client went away never comes back,
 * so entries also expire; and the list is bounded: past MAX_WORK pieces out
 * or waiting, hashing simply runs inline, slower for everyone but never
 * unbounded. */
#include "core/work.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/login_limit.h"
#include "util/crypto.h"
#include "util/oom.h"

enum { MAX_WORK = 64, WORK_TTL_MS = 60 * 1000 };

/* Password operations happen in small JSON requests; a large request (an
 * upload) is not worth a digest of its bytes and simply hashes inline. */
enum { MAX_REPLAYABLE_BYTES = 64 * 1024 };

struct ht_work {
    ht_work *next;
    unsigned char request[HT_SHA256_BYTES]; /* digest of the request's bytes */
    unsigned op;             /* the request's first, second... password operation */
    bool verify;             /* check password against hash; else make hash */
    char *password;          /* owned, wiped when freed */
    char *hash;              /* verify: the stored hash; make: the result or NULL */
    unsigned long opslimit;
    size_t memlimit;
    bool ok;                 /* verify: the password matched */
    int64_t done_ms;
};

static void work_free(ht_work *w) {
    if (w->password) sodium_memzero(w->password, strlen(w->password));
    free(w->password);
    free(w->hash);
    free(w);
}

void ht_work_run(ht_work *w) {
    if (w->verify) {
        w->ok = ht_password_verify(w->hash, w->password);
        return;
    }
    char *out = ht_xmalloc(HT_PASSWORD_HASH_BYTES);
    if (ht_password_hash_into(out, w->password, w->opslimit, w->memlimit)) {
        w->hash = out;
    } else {
        free(out);
    }
}

/* Expired entries go whenever the list is looked at. */
static void drop_expired(ht_replay *replay, int64_t now_ms) {
    for (ht_work **p = &replay->done; *p;) {
        ht_work *w = *p;
        if (now_ms - w->done_ms > WORK_TTL_MS) {
            *p = w->next;
            replay->count--;
            work_free(w);
        } else {
            p = &w->next;
        }
    }
}

void ht_core_work_done(ht_core *core, ht_work *w) {
    ht_replay *replay = &core->replay;
    replay->out--;
    w->done_ms = core->clock_ms;
    w->next = replay->done;
    replay->done = w;
    replay->count++;
}

void ht_replay_free(ht_replay *replay) {
    while (replay->done) {
        ht_work *w = replay->done;
        replay->done = w->next;
        work_free(w);
    }
    replay->count = 0;
}

/* The request's digest, computed once per pass; false for a request too
 * large to be worth replaying. */
static bool request_key(ht_ctx *ctx) {
    if (ctx->work_key_known) return true;
    if (ctx->req_len > MAX_REPLAYABLE_BYTES) return false;
    ht_sha256(ctx->req_bytes, ctx->req_len, ctx->work_key);
    ctx->work_key_known = true;
    return true;
}

bool ht_work_is_replay(ht_ctx *ctx) {
    ht_replay *replay = ctx->replay;
    if (!replay->done) return false;
    drop_expired(replay, ctx->now_ms);
    if (!replay->done || !request_key(ctx)) return false;
    for (ht_work *w = replay->done; w; w = w->next)
        if (memcmp(w->request, ctx->work_key, sizeof w->request) == 0) return true;
    return false;
}

void ht_work_request_answered(ht_ctx *ctx) {
    if (!ctx->work_key_known) return;
    for (ht_work **p = &ctx->replay->done; *p;) {
        ht_work *w = *p;
        if (memcmp(w->request, ctx->work_key, sizeof w->request) == 0) {
            *p = w->next;
            ctx->replay->count--;
            work_free(w);
        } else {
            p = &w->next;
        }
    }
}

/* Finished work for this operation of this request (it stays listed until
 * the request is answered: a later pass replays this operation again); or
 * NULL when it must be handed out (then *offload is true) or run inline. */
static ht_work *finished(ht_ctx *ctx, bool verify, bool *offload) {
    ht_replay *replay = ctx->replay;
    unsigned op = ctx->password_ops++;
    *offload = false;
    if (!ctx->env->cfg->offload_hashing || !request_key(ctx)) return NULL;
    for (ht_work *w = replay->done; w; w = w->next)
        if (w->op == op && w->verify == verify && memcmp(w->request, ctx->work_key, sizeof w->request) == 0)
            return w;
    *offload = replay->out + replay->count < MAX_WORK;
    return NULL;
}

/* Finished work that no longer fits its request (the stored hash changed
 * between the passes): forgotten, and done again. */
static void forget(ht_replay *replay, ht_work *stale) {
    for (ht_work **p = &replay->done; *p; p = &(*p)->next) {
        if (*p == stale) {
            *p = stale->next;
            replay->count--;
            work_free(stale);
            return;
        }
    }
}

/* Hands a new piece of work to the host through the door. */
static void hand_out(ht_ctx *ctx, bool verify, const char *password, const char *hash) {
    ht_work *w = ht_xmalloc(sizeof *w);
    memset(w, 0, sizeof *w);
    memcpy(w->request, ctx->work_key, sizeof w->request);
    w->op = ctx->password_ops - 1;
    w->verify = verify;
    w->password = ht_xstrdup(password);
    w->hash = hash ? ht_xstrdup(hash) : NULL;
    w->opslimit = ctx->env->cfg->pwhash_opslimit;
    w->memlimit = ctx->env->cfg->pwhash_memlimit;
    ctx->replay->out++;
    ctx->work = w;
}

bool ht_password_check(ht_ctx *ctx, const char *hash, const char *password, bool *ok, ht_reply *wait) {
    bool offload;
    ht_work *w = finished(ctx, true, &offload);
    /* The same check only: the stored hash may have changed since. */
    if (w && strcmp(w->hash, hash) == 0 && strcmp(w->password, password) == 0) {
        *ok = w->ok;
        return true;
    }
    if (w) {
        forget(ctx->replay, w);
        offload = true;
    }
    if (!offload) {
        *ok = ht_password_verify(hash, password);
        return true;
    }
    hand_out(ctx, true, password, hash);
    *wait = (ht_reply){0};
    return false;
}

/* True if this request's next password operation was already handed out
 * and is back: the pass is a replay of an attempt already charged. */
static bool next_operation_done(ht_ctx *ctx) {
    if (!ctx->replay->done || !ctx->env->cfg->offload_hashing || !request_key(ctx)) return false;
    for (ht_work *w = ctx->replay->done; w; w = w->next)
        if (w->op == ctx->password_ops && memcmp(w->request, ctx->work_key, sizeof w->request) == 0) return true;
    return false;
}

bool ht_password_check_login(ht_ctx *ctx, const char *user_id, const char *hash, const char *password,
                             bool *ok, ht_reply *wait) {
    if (!next_operation_done(ctx) && !ht_login_limit_admit(ctx, user_id, wait)) return false;
    if (!ht_password_check(ctx, hash, password, ok, wait)) return false;
    if (!*ok) ht_login_limit_failed(ctx, user_id);
    return true;
}

bool ht_password_new(ht_ctx *ctx, const char *password, const char **hash, ht_reply *wait) {
    bool offload;
    ht_work *w = finished(ctx, false, &offload);
    if (w && strcmp(w->password, password) == 0) {
        *hash = w->hash ? ht_arena_strdup(ctx->arena, w->hash) : NULL;
        return true;
    }
    if (w) {
        forget(ctx->replay, w);
        offload = true;
    }
    if (!offload) {
        *hash = ht_password_hash(ctx->arena, password, ctx->env->cfg->pwhash_opslimit,
                                 ctx->env->cfg->pwhash_memlimit);
        return true;
    }
    hand_out(ctx, false, password, NULL);
    *wait = (ht_reply){0};
    return false;
}
