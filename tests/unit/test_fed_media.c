/* test_fed_media.c -- files across servers, between cores in one process
 * (federation_net.h): another server's file fetched for our clients on
 * both download paths and kept, our files served to other servers as
 * multipart (federation v1), the old path for servers without it, and
 * what is refused. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>

#include "federation_net.h"
#include "http/outbound.h"
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

int run_fed_media_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_remote_file_is_fetched_once_and_served_on_both_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_our_file_is_served_to_other_servers_as_multipart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_server_without_the_federation_path_is_asked_on_the_old_one, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_what_a_server_sends_that_cannot_be_a_file_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests_name("federation: media across servers", tests, NULL, NULL);
}
