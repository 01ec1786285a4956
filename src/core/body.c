/* body.c -- a large answer body read as the client takes it (hometab.h).
 *
 * A media download answers with its head only, and a handle; the host pulls
 * the body a piece at a time as its socket drains, each piece read from the
 * file's stored parts (store/media.c). So a client that asks for a 50 MB
 * file and reads slowly (or never) costs the server one piece, not the
 * file: the bytes held per download do not grow with the file. */
#include <stdlib.h>

#include "core/core.h"
#include "store/media.h"
#include "util/oom.h"

struct ht_body {
    char *media_id;
    uint64_t offset; /* how far the host has read */
    uint64_t length;
};

ht_body *ht_body_of_media(const char *media_id, uint64_t length) {
    ht_body *body = ht_xmalloc(sizeof *body);
    *body = (ht_body){.media_id = ht_xstrdup(media_id), .length = length};
    return body;
}

long ht_core_body_read(ht_core *core, ht_body *body, unsigned char *buf, size_t cap) {
    uint64_t left = body->length - body->offset;
    if (left == 0) return 0;
    size_t n = cap < left ? cap : (size_t)left;
    if (n > HT_BODY_MAX_PIECE) n = HT_BODY_MAX_PIECE;
    if (!ht_store_media_read(core->env.store, body->media_id, body->offset, buf, n)) return -1;
    body->offset += n;
    return (long)n;
}

void ht_core_body_close(ht_core *core, ht_body *body) {
    (void)core;
    free(body->media_id);
    free(body);
}
