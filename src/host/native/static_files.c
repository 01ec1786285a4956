/* static_files.c -- serving web/, sw/ and the wasm build from a folder.
 *
 * Uses the core's parser (one place turns bytes into a request) and response
 * writer. A path is served only if, once resolved, it is still inside the
 * web root: ".." and symlinks out of the root give 404. Everything is sent
 * with Cache-Control: no-cache so a rebuilt worker or .wasm is picked up. */
#include "host/native/static_files.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http/request.h"
#include "http/response.h"
#include "util/arena.h"

static const struct {
    const char *ext;
    const char *type;
} mime_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".wasm", "application/wasm"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".webmanifest", "application/manifest+json"},
};

const char *ht_static_mime_type(const char *path) {
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/')) {
        for (size_t i = 0; i < sizeof mime_types / sizeof *mime_types; i++)
            if (strcmp(dot, mime_types[i].ext) == 0) return mime_types[i].type;
    }
    return "application/octet-stream";
}

static void plain(ht_buf *out, int status, const char *text, bool close, const char *extra) {
    ht_response res = {.status = status,
                       .content_type = "text/plain; charset=utf-8",
                       .body = (const unsigned char *)text,
                       .body_len = strlen(text),
                       .close = close,
                       .extra_headers = extra};
    ht_http_write_response(out, &res);
}

/* Reads the whole file; NULL if it is missing, not a regular file or
 * outside the root. */
static unsigned char *read_inside(const char *root_real, const char *path, size_t *len) {
    char real[PATH_MAX];
    if (!realpath(path, real)) return NULL;
    size_t root_len = strlen(root_real);
    if (strncmp(real, root_real, root_len) != 0 || (real[root_len] != '/' && real[root_len] != 0))
        return NULL;
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISREG(st.st_mode)) return NULL;
    FILE *f = fopen(real, "rb");
    if (!f) return NULL;
    unsigned char *data = malloc((size_t)st.st_size + 1);
    size_t got = data ? fread(data, 1, (size_t)st.st_size, f) : 0;
    fclose(f);
    if (!data || got != (size_t)st.st_size) {
        free(data);
        return NULL;
    }
    *len = got;
    return data;
}

bool ht_static_serve(const ht_config *cfg, const char *web_root, const unsigned char *bytes,
                     size_t len, ht_buf *out) {
    ht_arena arena;
    ht_arena_init(&arena, 16 * 1024);
    ht_request req;
    ht_error err = ht_http_parse(&arena, cfg, bytes, len, &req);
    bool close = false;
    if (err.code) {
        char status_line[64];
        snprintf(status_line, sizeof status_line, "%s\n", ht_http_reason(ht_error_status(err)));
        plain(out, ht_error_status(err), status_line, true, NULL);
        ht_arena_free(&arena);
        return true;
    }
    close = !req.keep_alive;
    bool head = strcmp(req.method, "HEAD") == 0;
    if (strcmp(req.method, "GET") != 0 && !head) {
        plain(out, 405, "Method Not Allowed\n", close, "Allow: GET, HEAD\r\n");
        ht_arena_free(&arena);
        return close;
    }

    /* Join the decoded segments; refuse dot segments outright. */
    ht_buf path = {0};
    ht_buf_puts(&path, web_root);
    bool bad = false;
    for (size_t i = 0; i < req.segment_count; i++) {
        const char *seg = req.segments[i];
        if (strcmp(seg, "..") == 0 || strcmp(seg, ".") == 0 || strchr(seg, '/')) bad = true;
        ht_buf_puts(&path, "/");
        ht_buf_puts(&path, seg);
    }
    if (req.segment_count == 0 || (req.segment_count > 0 && req.segments[req.segment_count - 1][0] == 0))
        ht_buf_puts(&path, req.segment_count == 0 ? "/index.html" : "index.html");
    ht_buf_append(&path, "", 1);

    char root_real[PATH_MAX];
    size_t file_len = 0;
    unsigned char *file = NULL;
    if (!bad && realpath(web_root, root_real)) file = read_inside(root_real, (char *)path.data, &file_len);
    if (!file) {
        plain(out, 404, "Not Found\n", close, NULL);
    } else {
        /* Service-Worker-Allowed lets a worker script served from /sw/ control
         * the whole origin. */
        ht_response res = {.status = 200,
                           .content_type = ht_static_mime_type((char *)path.data),
                           .body = file,
                           .body_len = file_len,
                           .close = close,
                           .omit_body = head,
                           .extra_headers = "Service-Worker-Allowed: /\r\n"
                                            "X-Content-Type-Options: nosniff\r\n"};
        ht_http_write_response(out, &res);
        free(file);
    }
    ht_buf_free(&path);
    ht_arena_free(&arena);
    return close;
}
