/* sync_write.c -- writing /sync's text (see sync_write.h).
 *
 * The one design decision: most events are written without parsing them.
 * A stored event is its PDU's JSON text, written by this server or checked
 * when it arrived; the client format takes its "content" unchanged and the
 * other fields from the event's row. So the content's text is found by a
 * scan that only skips over values (util/json_scan.h) and copied as is.
 * Everything the scan cannot vouch for, and every event whose client form
 * needs more than its row (a previous state, a redaction, a thread
 * summary, a redaction's "redacts"), goes the one general way instead:
 * ht_room_event_json, dumped. Both give the same JSON value. */
#include "api/sync_write.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "room/room.h"
#include "store/relations.h"
#include "store/store.h"
#include "util/canonical.h"
#include "util/json.h"
#include "util/json_scan.h"

/* See sync_write.h. */
bool ht_sync_stored_content(const char *json, const char **start, size_t *len) {
    static const char *const keys[] = {"content", "redacts"};
    ht_json_span spans[2];
    if (!ht_json_top_members(json, keys, 2, spans) || !spans[0].start || spans[1].start) return false;
    *start = spans[0].start;
    *len = spans[0].len;
    return true;
}

/* ---- writing -------------------------------------------------------------- */

void ht_sync_write_string(ht_buf *out, const char *s) {
    size_t was = out->len;
    if (ht_canonical_write_string(out, s, strlen(s))) return;
    /* Not UTF-8: cannot come from the store, whose text jansson checked. */
    out->len = was;
    ht_buf_puts(out, "\"\"");
}

static int append_to_buf(const char *text, size_t size, void *data) {
    ht_buf_append(data, text, size);
    return 0;
}

/* Appends the value's compact text. */
static void write_value(ht_buf *out, json_t *value) {
    if (!value || json_dump_callback(value, append_to_buf, out, JSON_COMPACT | JSON_ENCODE_ANY) != 0)
        ht_buf_puts(out, "null");
}

void ht_sync_write_members(ht_buf *out, json_t *object) {
    const char *key;
    json_t *value;
    bool first = true;
    json_object_foreach(object, key, value) {
        if (!first) ht_buf_append(out, ",", 1);
        first = false;
        ht_sync_write_string(out, key);
        ht_buf_append(out, ":", 1);
        write_value(out, value);
    }
    json_decref(object);
}

/* `,"name":` then the value; names are ours and need no escaping. The
 * writers below append pieces rather than format them: vsnprintf, run
 * twice per call by ht_buf_printf, was a third of writing an event. */
static void write_name(ht_buf *out, const char *name) {
    ht_buf_append(out, ",\"", 2);
    ht_buf_puts(out, name);
    ht_buf_append(out, "\":", 2);
}

static void write_field(ht_buf *out, const char *name, const char *value) {
    write_name(out, name);
    ht_sync_write_string(out, value);
}

static void write_int(ht_buf *out, int64_t value) {
    char digits[24], *p = digits + sizeof digits;
    uint64_t v = value < 0 ? 0 - (uint64_t)value : (uint64_t)value;
    do *--p = (char)('0' + v % 10);
    while (v /= 10);
    if (value < 0) *--p = '-';
    ht_buf_append(out, p, (size_t)(digits + sizeof digits - p));
}

/* Whether the client form of ev is its row and stored content alone (see
 * the top of this file); if so, where the content's text is. */
static bool plain_event(ht_ctx *ctx, const ht_event_row *ev, bool room_has_threads, const char **content,
                        size_t *len) {
    if (ev->prev_state || ev->redacted_by || strcmp(ev->type, "m.room.redaction") == 0) return false;
    if (!ev->json || !ht_sync_stored_content(ev->json, content, len)) return false;
    ht_thread_summary thread;
    return !room_has_threads ||
           !ht_store_thread_summary(ctx->env->store, ev->room_id, ev->event_id, ctx->auth.user_id, &thread);
}

void ht_sync_write_event(ht_ctx *ctx, ht_buf *out, const ht_event_row *ev, bool room_has_threads,
                         bool with_room_id) {
    const char *content;
    size_t len;
    if (!plain_event(ctx, ev, room_has_threads, &content, &len)) {
        ht_viewer v = {ctx->auth.user_id, ctx->auth.device_id};
        json_t *event = ht_room_event_json(ctx->env, ev, &v, ctx->now_ms, with_room_id);
        write_value(out, event);
        json_decref(event);
        return;
    }
    ht_buf_puts(out, "{\"content\":");
    ht_buf_append(out, content, len);
    write_field(out, "event_id", ev->event_id);
    write_name(out, "origin_server_ts");
    write_int(out, ev->origin_ts);
    if (with_room_id) write_field(out, "room_id", ev->room_id);
    write_field(out, "sender", ev->sender);
    write_field(out, "type", ev->type);
    if (ev->state_key) write_field(out, "state_key", ev->state_key);
    int64_t age = ctx->now_ms > ev->origin_ts ? ctx->now_ms - ev->origin_ts : 0;
    ht_buf_puts(out, ",\"unsigned\":{\"age\":");
    write_int(out, age);
    /* The sender's own device learns its transaction id (spec: "unsigned"). */
    if (ev->txn_id && ctx->auth.device_id && strcmp(ctx->auth.user_id, ev->sender) == 0 && ev->device_id &&
        strcmp(ctx->auth.device_id, ev->device_id) == 0)
        write_field(out, "transaction_id", ev->txn_id);
    ht_buf_puts(out, "}}");
}

static void write_events(ht_ctx *ctx, ht_buf *out, const ht_event_row *events, size_t count, bool threads) {
    ht_buf_append(out, "[", 1);
    for (size_t i = 0; i < count; i++) {
        if (i) ht_buf_append(out, ",", 1);
        ht_sync_write_event(ctx, out, &events[i], threads, false);
    }
    ht_buf_append(out, "]", 1);
}

void ht_sync_write_rooms(ht_ctx *ctx, ht_buf *out, const ht_sync_room *rooms, size_t count) {
    for (size_t i = 0; i < count; i++) {
        const ht_sync_room *r = &rooms[i];
        bool threads = (r->timeline_count || r->state_count) && ht_store_room_has_threads(ctx->env->store, r->room_id);
        if (i) ht_buf_append(out, ",", 1);
        ht_sync_write_string(out, r->room_id);
        ht_buf_puts(out, ":{\"timeline\":{\"events\":");
        write_events(ctx, out, r->timeline, r->timeline_count, threads);
        ht_buf_puts(out, r->limited ? ",\"limited\":true,\"prev_batch\":" : ",\"limited\":false,\"prev_batch\":");
        ht_sync_write_string(out, r->prev_batch);
        ht_buf_puts(out, "},\"state\":{\"events\":");
        write_events(ctx, out, r->state, r->state_count, threads);
        ht_buf_append(out, "}", 1);
        if (json_object_size(r->rest)) ht_buf_append(out, ",", 1);
        ht_sync_write_members(out, r->rest);
        ht_buf_append(out, "}", 1);
    }
}
