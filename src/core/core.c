/* core.c -- the one door: request bytes in, response bytes out.
 *
 * Each call parses the request, finds its route, authenticates it if the
 * route asks, runs the handler inside one SQLite transaction and writes the
 * response. The transaction is committed only if the handler answered with
 * success and no SQL failed; otherwise it is rolled back, so an error answer
 * always means "nothing changed".
 *
 * Rate limits. Authenticated calls that cost the server (sending events,
 * creating rooms, hashing a new password) take from the caller's own
 * bucket, keyed by user id: one noisy user cannot slow anyone else.
 * Registration has no user yet: it takes from one bucket shared by every
 * caller and from one per client address, the address the host vouches for
 * in ht_request_meta (the TCP peer natively; never a header, which anyone
 * can write). Logins are charged inside the handler, only when they cost an
 * Argon2 check: core/login_limit.c. Other servers' signed requests take
 * from their origin's bucket once authenticated (a name anyone may claim
 * charges nothing, so no one can spend another server's tokens). A pass
 * replayed after fetches or password work was counted on its first pass.
 *
 * Group commit. A host may run several requests in one transaction
 * (ht_core_group_begin/commit): then each request's transaction is a
 * savepoint of the group's (store.c), and whatever a request did that the
 * outside world may only learn once it is durable -- the stream position
 * it moved, the long-polls it wakes, its traffic for other servers, its
 * log lines noted on commit -- is gathered in core->group and told only
 * after the group's COMMIT. A failed COMMIT then leaves the core exactly
 * as before the group. */
#include "hometab.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/admin.h"
#include "api/auth.h"
#include "core/core.h"
#include "core/fetch.h"
#include "core/login_limit.h"
#include "core/rate_limit.h"
#include "core/work.h"
#include "federation/federation.h"
#include "federation/outbox.h"
#include "http/outbound.h"
#include "http/request.h"
#include "http/response.h"
#include "matrix/handler.h"
#include "room/event_cache.h"
#include "room/push_eval.h"
#include "room/server_key.h"
#include "router/router.h"
#include "store/admin.h"
#include "store/federation.h"
#include "store/media.h"
#include "store/meta.h"
#include "store/store.h"
#include "util/crypto.h"
#include "util/glob.h"
#include "util/oom.h"
#include "util/recent_keys.h"

enum {
    ARENA_BLOCK = 64 * 1024,
    OUT_KEEP_BYTES = 256 * 1024,
    THUMBNAIL_MISSES = 1024, /* remembered at once (api/media.c, remote_thumbnail) */
};

static void group_clear(ht_core *core);

void ht_config_defaults(ht_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->db_path = "hometab.sqlite";
    cfg->server_name = "localhost";
    cfg->max_body_bytes = 50u * 1024 * 1024;
    cfg->max_upload_bytes = 50u * 1024 * 1024;
    cfg->max_header_bytes = 16 * 1024;
    cfg->max_uri_bytes = 8 * 1024;
    cfg->wal = true;
    cfg->rate_limit = true;
    /* Generous for people, tight for scripts: a client may send 50 events at
     * once and 10 a second after that; 30 logins or 20 registrations may
     * arrive together, then one login a second and one registration every
     * two seconds, server-wide. */
    cfg->rate_user = (ht_rate){10.0, 50};
    cfg->rate_login = (ht_rate){1.0, 30};
    cfg->rate_register = (ht_rate){0.5, 20};
    /* One address gets a tenth of the server's logins and registrations, so
     * one client cannot empty the shared buckets; an account's failures
     * refill faster than one address may try, so one client guessing cannot
     * lock the owner out (see core/login_limit.c). */
    cfg->rate_login_address = (ht_rate){0.1, 10};
    cfg->rate_login_account = (ht_rate){0.2, 20};
    cfg->rate_register_address = (ht_rate){0.05, 10};
    /* A server joining a big room reads many events at once; its steady
     * traffic is one transaction at a time. */
    cfg->rate_federation = (ht_rate){20.0, 200};
    /* Keys change rarely: a few fetches, then one every half minute. */
    cfg->rate_federation_keys = (ht_rate){1.0 / 30, 5};
    cfg->pwhash_opslimit = 2;
    cfg->pwhash_memlimit = 19u * 1024 * 1024;
    /* Clients long-poll every 30 s or so: three minutes of silence means
     * none is running. */
    cfg->presence_offline_ms = 3 * 60 * 1000;
}

ht_core *ht_core_open(const ht_config *cfg, char *err, size_t err_size) {
    /* jansson allocates through the same seam as the rest of the core, so
     * a failed allocation stops the server (util/oom.h) instead of making
     * json_dumps return NULL after a commit: an empty 200 for a write. Set
     * before the first value is made; setting it again is harmless. */
    json_set_alloc_funcs(ht_xmalloc, free);
    if (!ht_crypto_init()) {
        snprintf(err, err_size, "the cryptography library could not start");
        return NULL;
    }
    ht_store *store = ht_store_open(cfg->db_path, cfg->wal, err, err_size);
    if (!store) return NULL;
    if (cfg->wal && cfg->host_syncs && !ht_store_leave_syncs_to_host(store)) {
        snprintf(err, err_size, "cannot leave the syncs of %s to the host: %s", cfg->db_path,
                 ht_store_last_error(store));
        ht_store_close(store);
        return NULL;
    }
    ht_signing_key key;
    /* No key yet: this open makes the database's identity. */
    bool key_is_new = !ht_server_key_load(store, &key);
    if (!ht_server_key_ensure(store, err, err_size)) {
        ht_store_close(store);
        return NULL;
    }
    if (!ht_server_key_load(store, &key)) {
        snprintf(err, err_size, "the server's signing key in the database could not be read");
        ht_store_close(store);
        return NULL;
    }
    char name[256];
    if (!ht_server_name_settle(store, &key, cfg->name_from_key, key_is_new, cfg->server_name, name, sizeof name,
                               err, err_size)) {
        ht_signing_key_wipe(&key);
        ht_store_close(store);
        return NULL;
    }
    ht_core *core = ht_xmalloc(sizeof *core);
    memset(core, 0, sizeof *core);
    core->signing_key = key;
    ht_signing_key_wipe(&key);
    core->cfg = *cfg;
    core->server_name = ht_xstrdup(name);
    core->cfg.server_name = core->server_name;
    if (cfg->public_base_url) {
        core->public_base_url = ht_xstrdup(cfg->public_base_url);
        core->cfg.public_base_url = core->public_base_url;
    }
    core->cfg.db_path = NULL; /* the host's string; not needed after opening */
    core->env = (ht_env){.store = store, .arena = &core->arena, .server_name = core->server_name,
                         .cfg = &core->cfg, .signing_key = &core->signing_key, .outbox = &core->outbox,
                         .log = &core->log, .events = ht_event_cache_new(),
                         .thumbnail_misses = ht_recent_keys_new(THUMBNAIL_MISSES)};
    ht_store_watch_events(store, ht_event_cache_forget, core->env.events);
    core->stream_position = ht_store_stream_position(store);
    core->limits = ht_rate_limiter_new();
    ht_arena_init(&core->arena, ARENA_BLOCK);
    return core;
}

void ht_core_close(ht_core *core) {
    if (!core) return;
    group_clear(core);
    ht_store_close(core->env.store);
    ht_event_cache_free(core->env.events);
    ht_recent_keys_free(core->env.thumbnail_misses);
    ht_rate_limiter_free(core->limits);
    ht_replay_free(&core->replay);
    ht_fetch_memo_free(&core->memo);
    ht_outbox_free(&core->outbox);
    ht_arena_free(&core->arena);
    ht_buf_free(&core->out);
    free(core->server_name);
    free(core->public_base_url);
    ht_signing_key_wipe(&core->signing_key);
    ht_push_defaults_free(&core->env);
    free(core);
}

uint64_t ht_core_stream_position(const ht_core *core) { return core->stream_position; }

uint64_t ht_core_commits(const ht_core *core) { return ht_store_commits(core->env.store); }

const char *ht_core_server_name(const ht_core *core) { return core->server_name; }

uint64_t ht_core_outbox_waiting(ht_core *core) {
    int64_t n = ht_store_outbox_waiting(core->env.store);
    return n > 0 ? (uint64_t)n : 0;
}

void ht_core_signing_seed(const ht_core *core, unsigned char seed[32]) {
    memcpy(seed, core->signing_key.secret, 32); /* libsodium's secret key: the seed, then the public key */
}

/* Path parameter names point into the route template and end at '}'; give
 * the handlers ordinary strings. */
static ht_param *copy_params(ht_arena *arena, const ht_match *m) {
    ht_param *params = ht_arena_calloc(arena, m->param_count ? m->param_count : 1, sizeof *params);
    for (size_t i = 0; i < m->param_count; i++) {
        const char *name = m->params[i].name;
        params[i].name = ht_arena_strndup(arena, name, strcspn(name, "}"));
        params[i].value = m->params[i].value;
    }
    return params;
}

static void reply_release(ht_reply *reply) {
    json_decref(reply->json);
    json_decref(reply->error_extra);
    reply->json = reply->error_extra = NULL;
}

/* A stored file's bytes for the answer: read whole when small, else handed
 * to the host as a body to stream (*out). False if they cannot be read. */
static bool media_body(ht_core *core, const ht_reply *reply, ht_response *res, ht_result *out) {
    res->body_len = reply->raw_len;
    if (res->omit_body) return true; /* HEAD: the length is all it needs */
    if (reply->raw_len > HT_STREAM_ABOVE) {
        res->omit_body = true; /* the head now, the body as the client takes it */
        out->body = ht_body_of_media(reply->media_id, reply->raw_len);
        out->body_len = reply->raw_len;
        return true;
    }
    unsigned char *bytes = ht_arena_alloc(&core->arena, reply->raw_len + 1);
    res->body = bytes;
    return ht_store_media_read(core->env.store, reply->media_id, 0, bytes, reply->raw_len);
}

/* head: the request was a HEAD (the answer has no body). */
static void write_reply(ht_core *core, bool head, ht_reply *reply, bool close, ht_result *out) {
    ht_response res = {.status = reply->status ? reply->status : 200,
                       .extra_headers = reply->extra_headers,
                       .close = close,
                       .omit_body = head};
    char *text = NULL;
    if (reply->media_id && !reply->error.code && !media_body(core, reply, &res, out)) {
        reply_release(reply);
        *reply = ht_reply_error(HT_M_SERVER_ERROR, "The file could not be read.");
        res = (ht_response){.close = close, .omit_body = head};
    }
    if (reply->error.code) {
        json_t *body = ht_error_json(reply->error);
        if (reply->error_extra) json_object_update(body, reply->error_extra);
        text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(body);
        res.status = ht_error_status(reply->error);
    } else if (reply->media_id) {
        res.content_type = reply->content_type;
    } else if (reply->raw) {
        res.body = reply->raw;
        res.body_len = reply->raw_len;
        res.content_type = reply->content_type;
    } else if (reply->json) {
        text = json_dumps(reply->json, JSON_COMPACT | JSON_ENCODE_ANY);
    } else {
        text = ht_xstrdup("{}"); /* a reply with neither JSON nor bytes */
    }
    if (text) {
        res.body = (const unsigned char *)text;
        res.body_len = strlen(text);
        res.content_type = "application/json";
    }
    ht_http_write_response(&core->out, &res);
    free(text);
}

/* Takes a token from the buckets the route names (see the top of this
 * file). Returns false, with the 429 reply, when one is empty. Logins are
 * not charged here but where they cost: core/login_limit.c. */
static bool rate_limit_allows(ht_core *core, ht_ctx *ctx, const ht_route *route, ht_reply *reply) {
    if (!core->cfg.rate_limit) return true;
    int64_t retry_ms;
    if (route->flags & HT_ROUTE_RATE_REGISTER) {
        const char *address = ht_address_bucket(ctx->arena, "register", ctx->client_address);
        if ((address &&
             !ht_rate_limit_take(core->limits, address, core->cfg.rate_register_address, ctx->now_ms, &retry_ms)) ||
            !ht_rate_limit_take(core->limits, "register", core->cfg.rate_register, ctx->now_ms, &retry_ms)) {
            *reply = ht_reply_rate_limited(ctx, retry_ms);
            return false;
        }
        return true;
    }
    if ((route->flags & HT_ROUTE_FEDERATION) && ctx->origin) {
        if (ht_fetch_is_replay(ctx)) return true;
        const char *key = ht_arena_printf(ctx->arena, "origin %s", ctx->origin);
        if (ht_rate_limit_take(core->limits, key, core->cfg.rate_federation, ctx->now_ms, &retry_ms)) return true;
        *reply = ht_reply_rate_limited(ctx, retry_ms);
        return false;
    }
    if (!(route->flags & HT_ROUTE_RATE_LIMITED) || !ctx->authenticated || ht_fetch_is_replay(ctx)) return true;
    const char *key = ht_arena_printf(ctx->arena, "user %s", ctx->auth.user_id);
    if (ht_rate_limit_take(core->limits, key, core->cfg.rate_user, ctx->now_ms, &retry_ms)) return true;
    *reply = ht_reply_rate_limited(ctx, retry_ms);
    return false;
}

/* Adds what a request of the group moved the stream to, and the keys its
 * writes touched, to what the group's commit will wake. */
static void group_note_wake(ht_core *core, uint64_t position) {
    ht_group *g = &core->group;
    const uint64_t *keys;
    size_t n;
    if (!ht_store_scope_keys(core->env.store, position, &keys, &n)) g->wake_all = true;
    for (size_t i = 0; i < n && !g->wake_all; i++) {
        size_t k = 0;
        while (k < g->key_count && g->keys[k] != keys[i]) k++;
        if (k < g->key_count) continue;
        if (g->key_count == HT_GROUP_MAX_KEYS) {
            g->wake_all = true; /* more than fit: waking everyone is always safe */
            break;
        }
        g->keys[g->key_count++] = keys[i];
    }
    g->position = position;
}

/* Routes, authenticates and runs the handler inside a transaction.
 * operator: the call comes from the operator's command (meta.operator). */
static ht_reply dispatch(ht_core *core, ht_ctx *ctx, bool operator, bool *wrote, bool *committed, ht_result *out) {
    const ht_request *req = ctx->req;
    if (strcmp(req->method, "OPTIONS") == 0) return ht_reply_empty(); /* CORS preflight */

    ht_match match;
    switch (ht_route_match(ht_routes, req->method, req->segments, req->segment_count, &match)) {
    case HT_ROUTE_NO_PATH:
        return ht_reply_error(HT_M_UNRECOGNIZED, "Unrecognized request: no such endpoint.");
    case HT_ROUTE_NO_METHOD: {
        ht_reply reply = ht_reply_status_error(
            405, HT_M_UNRECOGNIZED, "Unrecognized request: this endpoint does not take that method.");
        reply.extra_headers = ht_arena_printf(ctx->arena, "Allow: %s\r\n", match.allow);
        return reply;
    }
    case HT_ROUTE_FOUND:
        break;
    }
    if ((match.route->flags & (HT_ROUTE_FEDERATION | HT_ROUTE_KEYS)) && !core->cfg.federation)
        return ht_reply_error(HT_M_UNRECOGNIZED, "Federation is off on this server.");
    ctx->params = copy_params(ctx->arena, &match);
    ctx->param_count = match.param_count;

    int64_t changes_before = ht_store_change_count(core->env.store);
    if (!ht_store_begin(core->env.store))
        return ht_reply_error(HT_M_SERVER_ERROR, "The database is not available.");
    /* Inside a group, the stream has moved on (uncommitted) from where
     * the host last saw it. */
    uint64_t base = core->group.open ? core->group.position : core->stream_position;
    ht_store_scope_begin(core->env.store, base);
    ht_reply reply = {0};
    if (match.route->flags & HT_ROUTE_ADMIN) {
        ht_error err = ht_admin_check(ctx, operator);
        if (err.code) reply.error = err;
    } else if (match.route->flags & (HT_ROUTE_AUTH | HT_ROUTE_AUTH_OPT)) {
        ht_error err = ht_auth_check(ctx, (match.route->flags & HT_ROUTE_AUTH) != 0);
        if (err.code) reply.error = err;
    }
    if (match.route->flags & HT_ROUTE_FEDERATION) {
        bool wait;
        ht_error err = ht_fed_authenticate(ctx, &wait);
        if (err.code) reply.error = err;
        if (wait) {
            ht_store_rollback(core->env.store);
            return (ht_reply){0};
        }
    }
    /* A replay after password work was counted on its first pass. */
    if (!reply.error.code && (ht_work_is_replay(ctx) || rate_limit_allows(core, ctx, match.route, &reply)))
        reply = match.route->handler(ctx);
    if (ctx->work || ctx->asked_count) {
        /* Handed out: nothing of this pass stays; the replay does it all.
         * Password work goes first; asks of the same pass are asked again. */
        if (ctx->work) ht_fetch_drop_pending(ctx);
        ht_store_rollback(core->env.store);
        reply_release(&reply);
        return (ht_reply){0};
    }
    /* Part of a long job done (ht_remote_resume): it commits as a success
     * would, and the request parks until now, to be called again once the
     * host has served others. */
    bool resume = ctx->resume && !reply.error.code;
    if (resume) {
        reply_release(&reply);
        reply = ht_reply_empty();
    }

    /* What a successful write moved the stream to is read before the
     * commit: a read after it could fail with the write already made. */
    bool changed = !reply.error.code && !reply.park && ht_store_change_count(core->env.store) != changes_before;
    /* Device-list and presence changes, wherever a write made them, go out
     * to other servers in the same transaction (federation/device_lists.c,
     * presence.c). */
    if (changed && core->cfg.federation) {
        ht_fed_device_lists_queue(&core->env);
        ht_fed_presence_queue(&core->env, (int64_t)base);
    }
    uint64_t position = changed ? ht_store_stream_position(core->env.store) : 0;
    if (ht_store_failed(core->env.store)) {
        ht_store_rollback(core->env.store);
        reply_release(&reply);
        return ht_reply_error(HT_M_SERVER_ERROR, "The database failed; nothing was changed.");
    }
    if (reply.error.code || reply.park) {
        ht_store_rollback(core->env.store);
        return reply;
    }
    if (!ht_store_commit(core->env.store)) {
        reply_release(&reply);
        return ht_reply_error(HT_M_SERVER_ERROR, "The database failed; nothing was changed.");
    }
    *committed = true;
    *wrote = changed;
    if (changed && core->group.open) {
        if (position != base) group_note_wake(core, position);
    } else if (changed) {
        if (position != core->stream_position)
            out->wake_all = !ht_store_scope_keys(core->env.store, position, &out->wake_keys, &out->wake_key_count);
        core->stream_position = position;
    }
    if (resume) {
        reply_release(&reply);
        return ht_reply_park(core->group.open ? core->group.position : core->stream_position, ctx->now_ms, NULL, 0);
    }
    return reply;
}

/* Inside a group a request's "committed" is only its savepoint released:
 * its lines noted on commit move to the group's, told after its COMMIT. */
static void group_keep_log(ht_core *core) {
    ht_group *g = &core->group;
    for (size_t i = 0; i < core->log.count; i++) {
        if (!core->log.on_commit[i]) continue;
        if (g->log_count == HT_GROUP_MAX_LOG) {
            g->log_dropped++;
            continue;
        }
        g->log[g->log_count++] = (ht_log_line){core->log.lines[i].level, ht_xstrdup(core->log.lines[i].text)};
    }
}

static void group_clear(ht_core *core) {
    ht_group *g = &core->group;
    for (size_t i = 0; i < g->log_count; i++) free((char *)g->log[i].text);
    memset(g, 0, sizeof *g);
}

/* Hands the request's log lines to the host: those that wait for a commit
 * only if it came (inside a group: they wait for the group's). */
static void hand_out_log(ht_core *core, bool committed, ht_result *out) {
    if (core->group.open && committed) {
        group_keep_log(core);
        committed = false; /* what is left to hand out now: the lines not noted on commit */
    }
    ht_log_settle(&core->log, committed);
    if (core->log.dropped && core->log.count == HT_LOG_MAX_LINES)
        core->log.lines[HT_LOG_MAX_LINES - 1] = (ht_log_line){
            HT_LOG_WARN, ht_arena_printf(&core->arena, "(and %zu more lines of this request)",
                                         core->log.dropped + 1)};
    out->log = core->log.lines;
    out->log_count = core->log.count;
}

/* One line per admin API call, once it is answered: who, what, the
 * outcome, and what it changed (ctx->admin_note). A refusal to a non-admin
 * was logged by the check itself. */
static void log_admin_call(ht_core *core, const ht_ctx *ctx, const ht_reply *reply, bool committed) {
    const ht_request *req = ctx->req;
    int status = reply->error.code ? ht_error_status(reply->error) : reply->status ? reply->status : 200;
    const char *detail = reply->error.code ? ht_errcode_name(reply->error.code) : ctx->admin_note;
    /* The path decoded (tools encode the ids in it), never the query:
     * an access token may ride there. */
    const char *path = "";
    for (size_t i = 0; i < req->segment_count; i++)
        path = ht_arena_printf(&core->arena, "%s/%s", path, req->segments[i]);
    /* A change that did not happen is worth a warning; a failed read is not. */
    bool read = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    /* Inside a group, what was done is said once the group committed. */
    bool on_commit = committed && core->group.open;
    ht_log(&core->env, committed || read ? HT_LOG_INFO : HT_LOG_WARN, on_commit, "admin %s: %s %.300s -> %d%s%s",
           ctx->admin, req->method, path, status, detail ? ": " : "", detail ? detail : "");
}

void ht_core_handle(ht_core *core, const unsigned char *bytes, size_t len, const ht_request_meta *meta,
                    ht_result *out) {
    memset(out, 0, sizeof *out);
    int64_t now_ms = meta->now_ms, received_ms = meta->received_ms;
    core->clock_ms = now_ms;
    ht_arena_reset(&core->arena);
    /* The previous answer is gone; a buffer a large one grew goes with it,
     * so the core does not keep its largest answer's size for ever. */
    if (core->out.cap > OUT_KEEP_BYTES) ht_buf_free(&core->out);
    ht_buf_clear(&core->out);
    core->log = (ht_request_log){0};

    ht_request req;
    ht_error perr = ht_http_parse(&core->arena, &core->cfg, bytes, len, &req);
    if (perr.code) {
        /* After a framing error the connection's byte stream cannot be
         * trusted any more, so it is closed. */
        ht_http_write_error(&core->out, perr, true);
        out->close_connection = true;
    } else {
        core->env.now_ms = now_ms;
        core->env.match_budget = HT_MATCH_BUDGET;
        core->env.outbound = false;
        core->env.received_ms = received_ms;
        ht_ctx ctx = {.env = &core->env, .arena = &core->arena, .replay = &core->replay, .memo = &core->memo,
                      .req = &req, .received_ms = received_ms, .now_ms = now_ms,
                      .client_address = meta->client_address, .peer_server = meta->peer_server,
                      .limits = core->cfg.rate_limit ? core->limits : NULL,
                      .req_bytes = bytes, .req_len = len};
        bool wrote = false, committed = false;
        ht_reply reply = dispatch(core, &ctx, meta->operator, &wrote, &committed, out);
        json_decref(ctx.body_json);
        if (ctx.work) {
            /* Nothing of this pass stays, its log lines neither: the
             * replay notes them again. */
            out->outcome = HT_WORK;
            out->work = ctx.work;
            return;
        }
        if (ctx.asked_count) {
            out->outcome = HT_FETCH;
            out->fetches = ht_fetch_pending(&ctx, &out->fetch_count);
            ht_fetch_hand_out(&ctx);
            return;
        }
        if (reply.park) {
            out->outcome = HT_PARK;
            out->park_position = reply.park_position;
            out->park_deadline_ms = reply.park_deadline_ms;
            out->park_keys = reply.park_keys;
            out->park_key_count = reply.park_key_count;
            reply_release(&reply);
            return;
        }
        if (ctx.admin) log_admin_call(core, &ctx, &reply, committed);
        hand_out_log(core, committed, out);
        write_reply(core, strcmp(req.method, "HEAD") == 0, &reply, !req.keep_alive, out);
        reply_release(&reply);
        ht_work_request_answered(&ctx);
        ht_fetch_request_answered(&ctx);
        out->wrote = wrote;
        out->outbound = wrote && core->env.outbound;
        if (core->group.open) {
            core->group.outbound |= out->outbound; /* kicked once the group is durable */
            out->outbound = false;
        }
        out->close_connection = !req.keep_alive;
    }
    out->outcome = HT_ANSWER;
    out->response = core->out.data;
    out->response_len = core->out.len;
}

/* ---- group commit (see hometab.h) ---------------------------------------- */

bool ht_core_group_begin(ht_core *core) {
    if (core->group.open) return false;
    group_clear(core); /* the previous group's log lines, handed out by now */
    if (!ht_store_group_begin(core->env.store)) return false;
    core->group.open = true;
    core->group.position = core->stream_position;
    ht_rate_limiter_note_taken(core->limits, true);
    return true;
}

void ht_core_group_commit(ht_core *core, ht_group_result *out) {
    memset(out, 0, sizeof *out);
    ht_group *g = &core->group;
    if (!g->open) {
        out->committed = true; /* no group: nothing to commit */
        return;
    }
    g->open = false;
    if (!ht_store_group_commit(core->env.store)) {
        /* Nothing of the group stays, nor anything it would have told:
         * the stream position never moved, nobody is woken, and the
         * tokens its requests took are given back. */
        ht_rate_limiter_give_back(core->limits);
        ht_rate_limiter_note_taken(core->limits, false);
        group_clear(core);
        ht_arena_reset(&core->arena);
        if (core->out.cap > OUT_KEEP_BYTES) ht_buf_free(&core->out);
        ht_buf_clear(&core->out);
        ht_reply reply = ht_reply_error(HT_M_SERVER_ERROR, "The database failed; nothing was changed.");
        write_reply(core, false, &reply, false, NULL);
        reply_release(&reply);
        out->failure = core->out.data;
        out->failure_len = core->out.len;
        return;
    }
    ht_rate_limiter_note_taken(core->limits, false);
    out->committed = true;
    if (g->position != core->stream_position) {
        core->stream_position = g->position;
        out->wake_keys = g->keys;
        out->wake_key_count = g->key_count;
        out->wake_all = g->wake_all;
    }
    out->outbound = g->outbound;
    if (g->log_dropped && g->log_count == HT_GROUP_MAX_LOG) {
        free((char *)g->log[HT_GROUP_MAX_LOG - 1].text);
        g->log[HT_GROUP_MAX_LOG - 1].text = ht_xstrdup("(and more lines of this group of requests)");
        g->log[HT_GROUP_MAX_LOG - 1].level = HT_LOG_WARN;
    }
    out->log = g->log;
    out->log_count = g->log_count;
}

void ht_core_summarize(ht_core *core, ht_core_summary *out) {
    memset(out, 0, sizeof *out);
    out->schema_version = ht_store_schema_version(core->env.store);
    ht_store_server_counts(core->env.store, &out->users, &out->admins, &out->rooms);
}

/* ---- other servers ------------------------------------------------------ */

void ht_core_fetch_done(ht_core *core, ht_fetch *f, int status, const unsigned char *body, size_t len,
                        const char *error) {
    core->memo.out--;
    ht_fetch_set_answer(f, status, body, len, error, core->clock_ms);
    if (ht_fetch_kind_of(f) == HT_FETCH_ASK) {
        ht_fetch_keep(&core->memo, f, core->clock_ms);
        return;
    }
    /* A transaction of the outbox: what became of it is written now. */
    ht_arena_reset(&core->arena);
    core->env.now_ms = core->clock_ms;
    if (ht_store_begin(core->env.store)) {
        ht_outbox_sent(&core->env, f);
        if (ht_store_failed(core->env.store) || !ht_store_commit(core->env.store)) ht_store_rollback(core->env.store);
    }
    ht_fetch_free(f);
}

void ht_core_fetch_done_bytes(ht_core *core, ht_fetch *f, const unsigned char *response, size_t len,
                              const char *error) {
    int status = 0;
    const unsigned char *body = NULL;
    size_t body_len = 0;
    ht_buf decoded = {0};
    const char *why = error;
    if (!why) ht_http_read_response(response, len, (size_t)64 * 1024 * 1024, &status, &body, &body_len, &decoded, &why);
    char type[256];
    if (!why && ht_http_response_content_type(response, len, type, sizeof type)) ht_fetch_set_content_type(f, type);
    ht_core_fetch_done(core, f, status, body, body_len, why);
    ht_buf_free(&decoded);
}

ht_fetch *ht_core_outbound_next(ht_core *core, int64_t now_ms, int64_t *next_ms) {
    *next_ms = 0;
    core->clock_ms = now_ms;
    ht_arena_reset(&core->arena);
    core->env.now_ms = now_ms;
    if (!ht_store_begin(core->env.store)) return NULL;
    ht_fetch *f = ht_outbox_next(&core->env, next_ms);
    if (ht_store_failed(core->env.store) || !ht_store_commit(core->env.store)) {
        ht_store_rollback(core->env.store);
        ht_fetch_free(f);
        return NULL;
    }
    if (f) core->memo.out++;
    return f;
}
