/* test_fed_media.c -- files across servers, between cores in one process
 * (federation_net.h): another server's file fetched for our clients on
 * both download paths and kept, our files served to other servers as
 * multipart (federation v1), the old path for servers without it, and
 * what is refused; thumbnails of another server's files, asked of it in a
 * few fixed sizes and kept, or made from its file when it gives none. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "federation_net.h"
#include "http/outbound.h"
#include "matrix/handler.h"
#include "store/media.h"
#include "util/arena.h"

static const char *const names[] = {"a.test", "b.test"};
enum { A, B };

typedef struct world {
    net n;
    char *alice, *bob; /* tokens: @alice:a.test, @bob:b.test */
    char *media_id;    /* a file alice uploaded to a.test */
} world;

static const char file_text[] = "{\"a file\":\"uploaded to a.test\"}";

static int setup(void **state) {
    world *w = calloc(1, sizeof *w);
    if (!net_open(&w->n, 2, names)) return -1;
    w->alice = net_register(&w->n, A, "alice");
    w->bob = net_register(&w->n, B, "bob");
    json_t *file = json_loads(file_text, 0, NULL);
    reply r = net_call(&w->n, A, "POST", "/_matrix/media/v3/upload?filename=note.json", w->alice, file);
    json_decref(file);
    assert_int_equal(r.status, 200);
    const char *uri = json_string_value(json_object_get(r.json, "content_uri"));
    assert_non_null(uri);
    assert_true(strncmp(uri, "mxc://a.test/", 13) == 0);
    w->media_id = strdup(uri + 13);
    reply_free(&r);
    *state = w;
    return 0;
}

static int teardown(void **state) {
    world *w = *state;
    net_close(&w->n);
    free(w->alice);
    free(w->bob);
    free(w->media_id);
    free(w);
    return 0;
}

/* bob's download of a.test's file on a path ("%s" for the media id). */
static reply bob_downloads(world *w, const char *path_format) {
    char path[512];
    snprintf(path, sizeof path, path_format, w->media_id);
    return net_call(&w->n, B, "GET", path, w->bob, NULL);
}

static void assert_the_file(const reply *r) {
    assert_int_equal(r->status, 200);
    assert_int_equal(r->body_len, strlen(file_text));
    assert_memory_equal(r->body, file_text, r->body_len);
    assert_string_equal(r->content_type, "application/json");
}

static void test_a_remote_file_is_fetched_once_and_served_on_both_paths(void **state) {
    world *w = *state;
    unsigned before = w->n.fetches;
    reply r = bob_downloads(w, "/_matrix/client/v1/media/download/a.test/%s");
    assert_the_file(&r);
    reply_free(&r);
    assert_true(w->n.fetches > before);
    /* Kept: with a.test down, both paths still serve it, asking no one. */
    w->n.down[A] = true;
    before = w->n.fetches;
    r = bob_downloads(w, "/_matrix/media/v3/download/a.test/%s");
    assert_the_file(&r);
    reply_free(&r);
    r = bob_downloads(w, "/_matrix/client/v1/media/download/a.test/%s/renamed.json");
    assert_the_file(&r);
    reply_free(&r);
    assert_int_equal(w->n.fetches, before);
    /* A file not kept, with its server down: 502. */
    r = net_call(&w->n, B, "GET", "/_matrix/client/v1/media/download/a.test/NotAFileOfA", w->bob, NULL);
    assert_int_equal(r.status, 502);
    reply_free(&r);
    w->n.down[A] = false;
    /* And with its server up: the server's 404. */
    r = net_call(&w->n, B, "GET", "/_matrix/client/v1/media/download/a.test/NotAFileOfA", w->bob, NULL);
    assert_int_equal(r.status, 404);
    assert_string_equal(json_string_value(json_object_get(r.json, "errcode")), "M_NOT_FOUND");
    reply_free(&r);
    /* The authenticated path needs a user. */
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v1/media/download/a.test/%s", w->media_id);
    r = net_call(&w->n, B, "GET", path, NULL, NULL);
    assert_int_equal(r.status, 401);
    reply_free(&r);
}

static void test_our_file_is_served_to_other_servers_as_multipart(void **state) {
    world *w = *state;
    char path[512];
    snprintf(path, sizeof path, "/_matrix/federation/v1/media/download/%s", w->media_id);
    reply r = net_fed_call(&w->n, B, A, "GET", path, NULL, NULL);
    assert_int_equal(r.status, 200);
    assert_true(strncmp(r.content_type, "multipart/mixed; boundary=", 26) == 0);
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    ht_http_part parts[4];
    size_t n = ht_http_multipart(&arena, r.content_type, (const unsigned char *)r.body, r.body_len, parts, 4);
    assert_int_equal(n, 2);
    assert_string_equal(parts[0].content_type, "application/json");
    assert_int_equal(parts[0].body_len, 2);
    assert_memory_equal(parts[0].body, "{}", 2);
    assert_string_equal(parts[1].content_type, "application/json");
    assert_non_null(strstr(parts[1].disposition, "note.json"));
    assert_int_equal(parts[1].body_len, strlen(file_text));
    assert_memory_equal(parts[1].body, file_text, parts[1].body_len);
    /* The same parts with the boundary taken from the body itself. */
    assert_int_equal(ht_http_multipart(&arena, NULL, (const unsigned char *)r.body, r.body_len, parts, 4), 2);
    ht_arena_free(&arena);
    reply_free(&r);
    /* Unsigned, or a file that is not there: refused. */
    r = net_fed_call(&w->n, B, A, "GET", path, NULL, "");
    assert_int_equal(r.status, 401);
    reply_free(&r);
    r = net_fed_call(&w->n, B, A, "GET", "/_matrix/federation/v1/media/download/NotThere", NULL, NULL);
    assert_int_equal(r.status, 404);
    reply_free(&r);
}

typedef struct lie {
    const char *path_part;
    int status;
    const char *body;
} lie;

static bool liar(void *arg, const char *destination, const char *target, int *status, char **body) {
    lie *l = arg;
    if (strcmp(destination, "a.test") != 0 || !strstr(target, l->path_part)) return false;
    *status = l->status;
    *body = strdup(l->body);
    return true;
}

static void test_a_server_without_the_federation_path_is_asked_on_the_old_one(void **state) {
    world *w = *state;
    /* As Synapse 1.67 answers a path it does not know. */
    lie l = {"/_matrix/federation/v1/media/", 404, "{\"errcode\":\"M_UNRECOGNIZED\",\"error\":\"Unrecognized\"}"};
    w->n.liar = liar;
    w->n.liar_arg = &l;
    reply r = bob_downloads(w, "/_matrix/media/v3/download/a.test/%s");
    assert_the_file(&r);
    reply_free(&r);
    w->n.liar = NULL;
}

static void test_what_a_server_sends_that_cannot_be_a_file_is_refused(void **state) {
    world *w = *state;
    lie l = {"/_matrix/federation/v1/media/", 200, "not multipart at all"};
    w->n.liar = liar;
    w->n.liar_arg = &l;
    reply r = bob_downloads(w, "/_matrix/client/v1/media/download/a.test/%s");
    assert_int_equal(r.status, 502);
    reply_free(&r);
    /* Not kept: once the server answers properly, the file comes. */
    w->n.liar = NULL;
    r = bob_downloads(w, "/_matrix/client/v1/media/download/a.test/%s");
    assert_the_file(&r);
    reply_free(&r);
}

/* ---- thumbnails ---- */

/* Bytes standing for a small PNG (no server here decodes them). */
static const char image_bytes[] = "\x89PNG\r\n\x1a\n a small image standing for a photo";
static const char scaled_bytes[] = "\xff\xd8\xff a thumbnail the other server scaled";

typedef struct stored_file {
    const char *id, *type, *bytes;
} stored_file;

static bool store_file(struct ht_ctx *ctx, void *arg) {
    stored_file *f = arg;
    assert_true(ht_store_media_insert(ctx->env->store, f->id, "@alice:a.test", ctx->now_ms, f->type, NULL,
                                      (const unsigned char *)f->bytes, strlen(f->bytes)));
    return true;
}

/* Records what b.test asks of a.test and lets a.test answer, unless
 * `answer` is set: then a thumbnail path is answered with it. */
typedef struct spy {
    char asked[16][256];
    int count;
    int status;
    const char *answer;
} spy;

static bool spying(void *arg, const char *destination, const char *target, int *status, char **body) {
    spy *s = arg;
    if (strcmp(destination, "a.test") != 0) return false;
    if (s->count < 16) snprintf(s->asked[s->count++], sizeof s->asked[0], "%s", target);
    if (!s->answer || !strstr(target, "/thumbnail/")) return false;
    *status = s->status;
    *body = strdup(s->answer);
    return true;
}

static reply bob_thumbnail(world *w, const char *id, const char *query) {
    char path[512];
    snprintf(path, sizeof path, "/_matrix/client/v1/media/thumbnail/a.test/%s?%s", id, query);
    return net_call(&w->n, B, "GET", path, w->bob, NULL);
}

/* How many of the asks recorded hold `part`. */
static int asked_with(const spy *s, const char *part) {
    int n = 0;
    for (int i = 0; i < s->count; i++) n += strstr(s->asked[i], part) != NULL;
    return n;
}

static void test_a_remote_thumbnail_is_asked_in_a_fixed_size_and_kept(void **state) {
    world *w = *state;
    stored_file f = {"SmallImage", "image/png", image_bytes};
    net_run(&w->n, A, store_file, &f);
    spy s = {0};
    w->n.liar = spying;
    w->n.liar_arg = &s;
    /* 50x50 crop is asked as 96x96 crop, on the federation path; a.test
     * serves the small image as its own thumbnail. */
    reply r = bob_thumbnail(w, "SmallImage", "width=50&height=50&method=crop");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "image/png");
    assert_int_equal(r.body_len, strlen(image_bytes));
    assert_memory_equal(r.body, image_bytes, r.body_len);
    reply_free(&r);
    assert_int_equal(s.count, 1);
    assert_non_null(strstr(s.asked[0], "/_matrix/federation/v1/media/thumbnail/SmallImage?"));
    assert_non_null(strstr(s.asked[0], "width=96&height=96&method=crop"));
    /* Another size within the same one is the kept thumbnail, even with
     * a.test down; a size beyond it is asked anew (a scale size). */
    w->n.down[A] = true;
    r = bob_thumbnail(w, "SmallImage", "width=90&height=80&method=crop");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, strlen(image_bytes));
    reply_free(&r);
    assert_int_equal(s.count, 1);
    w->n.down[A] = false;
    r = bob_thumbnail(w, "SmallImage", "width=100&height=100");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_int_equal(s.count, 2);
    assert_non_null(strstr(s.asked[1], "width=320&height=240&method=scale"));
    /* A small scale asks a scale size, not a crop of it. */
    r = bob_thumbnail(w, "SmallImage", "width=20&height=20&method=scale");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_int_equal(s.count, 2);
    /* Larger than every size: the largest, 800x600. */
    r = bob_thumbnail(w, "SmallImage", "width=4000&height=3000&method=scale");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_true(asked_with(&s, "width=800&height=600&method=scale"));
    w->n.liar = NULL;
}

/* A multipart answer whose boundary the body itself gives (the liar sends
 * no Content-Type). */
static char *multipart_of(const char *type, const char *bytes) {
    char *out = malloc(1024);
    snprintf(out, 1024,
             "--BoundaryBoundary\r\nContent-Type: application/json\r\n\r\n{}\r\n--BoundaryBoundary\r\n"
             "Content-Type: %s\r\n\r\n%s\r\n--BoundaryBoundary--\r\n",
             type, bytes);
    return out;
}

static void test_the_other_servers_scaled_thumbnail_is_served_not_its_file(void **state) {
    world *w = *state;
    char *jpeg = multipart_of("image/jpeg", scaled_bytes);
    spy s = {.status = 200, .answer = jpeg};
    w->n.liar = spying;
    w->n.liar_arg = &s;
    /* a.test's file is JSON, which this server would never serve as a
     * thumbnail; a.test's own thumbnail of it is what comes. */
    reply r = bob_thumbnail(w, w->media_id, "width=640&height=480&method=scale");
    assert_int_equal(r.status, 200);
    assert_string_equal(r.content_type, "image/jpeg");
    assert_int_equal(r.body_len, strlen(scaled_bytes));
    assert_memory_equal(r.body, scaled_bytes, r.body_len);
    reply_free(&r);
    assert_false(asked_with(&s, "/download/"));
    /* A "thumbnail" that is no image is not kept nor served as one: the
     * file's own rule answers (JSON is no image: 400). */
    char *html = multipart_of("text/html", "<script>alert(1)</script>");
    s.answer = html;
    r = bob_thumbnail(w, w->media_id, "width=32&height=32&method=crop");
    assert_int_equal(r.status, 400);
    assert_string_equal(json_string_value(json_object_get(r.json, "errcode")), "M_UNKNOWN");
    reply_free(&r);
    assert_true(asked_with(&s, "/download/"));
    w->n.liar = NULL;
    free(jpeg);
    free(html);
}

static void test_a_server_that_gives_no_thumbnail_has_its_file_used(void **state) {
    world *w = *state;
    stored_file f = {"OldImage", "image/png", image_bytes};
    net_run(&w->n, A, store_file, &f);
    /* As Synapse 1.67 answers the federation path, and as a server that
     * scales nothing answers the old one. */
    spy s = {.status = 404, .answer = "{\"errcode\":\"M_UNRECOGNIZED\",\"error\":\"Unrecognized\"}"};
    w->n.liar = spying;
    w->n.liar_arg = &s;
    reply r = bob_thumbnail(w, "OldImage", "width=32&height=32&method=crop");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, strlen(image_bytes));
    assert_memory_equal(r.body, image_bytes, r.body_len);
    reply_free(&r);
    assert_true(asked_with(&s, "/_matrix/federation/v1/media/thumbnail/OldImage?"));
    assert_true(asked_with(&s, "/_matrix/media/v3/thumbnail/a.test/OldImage?width=32&height=32&method=crop"
                               "&allow_remote=false"));
    assert_true(asked_with(&s, "/download/"));
    /* Asked again, the answer is remembered: nothing is asked of a.test
     * (the file is kept here) until its time is up (api/media.c,
     * THUMBNAIL_MISS_MS); then both paths are asked again. */
    int asked = s.count;
    r = bob_thumbnail(w, "OldImage", "width=32&height=32&method=crop");
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, strlen(image_bytes));
    reply_free(&r);
    assert_int_equal(s.count, asked);
    w->n.clock_ms += 10 * 60 * 1000;
    r = bob_thumbnail(w, "OldImage", "width=32&height=32&method=crop");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    assert_int_equal(s.count, asked + 2);
    /* With a.test down, the file kept answers; a file not kept is 502,
     * asked once (not again for the file). */
    w->n.liar = NULL;
    w->n.down[A] = true;
    r = bob_thumbnail(w, "OldImage", "width=320&height=240");
    assert_int_equal(r.status, 200);
    reply_free(&r);
    unsigned before = w->n.fetches;
    r = bob_thumbnail(w, "NeverSeen", "width=320&height=240");
    assert_int_equal(r.status, 502);
    reply_free(&r);
    assert_int_equal(w->n.fetches - before, 1);
    w->n.down[A] = false;
}

/* An answer that may change (a 503) is not remembered: the next request
 * asks again. */
static void test_a_server_busy_for_a_thumbnail_is_asked_again(void **state) {
    world *w = *state;
    stored_file f = {"BusyImage", "image/png", image_bytes};
    net_run(&w->n, A, store_file, &f);
    spy s = {.status = 503, .answer = "{\"errcode\":\"M_UNKNOWN\",\"error\":\"Busy\"}"};
    w->n.liar = spying;
    w->n.liar_arg = &s;
    for (int i = 0; i < 2; i++) {
        reply r = bob_thumbnail(w, "BusyImage", "width=32&height=32&method=crop");
        assert_int_equal(r.status, 200); /* the file, kept here: its own thumbnail */
        assert_int_equal(r.body_len, strlen(image_bytes));
        reply_free(&r);
    }
    assert_int_equal(asked_with(&s, "/thumbnail/BusyImage?"), 2);
    w->n.liar = NULL;
}

static void test_our_thumbnail_is_served_to_other_servers(void **state) {
    world *w = *state;
    stored_file f = {"OurImage", "image/png", image_bytes};
    net_run(&w->n, A, store_file, &f);
    reply r = net_fed_call(&w->n, B, A, "GET", "/_matrix/federation/v1/media/thumbnail/OurImage?width=96&height=96",
                           NULL, NULL);
    assert_int_equal(r.status, 200);
    ht_arena arena;
    ht_arena_init(&arena, 4096);
    ht_http_part parts[4];
    assert_int_equal(ht_http_multipart(&arena, r.content_type, (const unsigned char *)r.body, r.body_len, parts, 4),
                     2);
    assert_string_equal(parts[1].content_type, "image/png");
    assert_int_equal(parts[1].body_len, strlen(image_bytes));
    ht_arena_free(&arena);
    reply_free(&r);
    /* Not an image: the spec's 400; no size asked: 400; unsigned: 401. */
    char path[512];
    snprintf(path, sizeof path, "/_matrix/federation/v1/media/thumbnail/%s?width=96&height=96", w->media_id);
    r = net_fed_call(&w->n, B, A, "GET", path, NULL, NULL);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_string_value(json_object_get(r.json, "errcode")), "M_UNKNOWN");
    reply_free(&r);
    r = net_fed_call(&w->n, B, A, "GET", "/_matrix/federation/v1/media/thumbnail/OurImage", NULL, NULL);
    assert_int_equal(r.status, 400);
    assert_string_equal(json_string_value(json_object_get(r.json, "errcode")), "M_MISSING_PARAM");
    reply_free(&r);
    r = net_fed_call(&w->n, B, A, "GET", "/_matrix/federation/v1/media/thumbnail/OurImage?width=9&height=9", NULL,
                     "");
    assert_int_equal(r.status, 401);
    reply_free(&r);
}

int run_fed_media_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_remote_file_is_fetched_once_and_served_on_both_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_our_file_is_served_to_other_servers_as_multipart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_server_without_the_federation_path_is_asked_on_the_old_one, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_what_a_server_sends_that_cannot_be_a_file_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_remote_thumbnail_is_asked_in_a_fixed_size_and_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_other_servers_scaled_thumbnail_is_served_not_its_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_server_that_gives_no_thumbnail_has_its_file_used, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_server_busy_for_a_thumbnail_is_asked_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_our_thumbnail_is_served_to_other_servers, setup, teardown),
    };
    return cmocka_run_group_tests_name("federation: media across servers", tests, NULL, NULL);
}
