/* key_name.c -- a server name that is its public key (see key_name.h).
 *
 * The decoder accepts exactly what the encoder writes, so a name and its
 * key are one-to-one: that is what lets a peer's name stand for its key. */
#include "room/key_name.h"

#include <string.h>

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

void ht_key_name(const unsigned char public_key[32], char out[HT_KEY_NAME_LEN + 1]) {
    unsigned buffer = 0, bits = 0;
    size_t at = 0;
    for (size_t i = 0; i < 32; i++) {
        buffer = (buffer << 8) | public_key[i];
        bits += 8;
        while (bits >= 5) {
            out[at++] = alphabet[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
        buffer &= (1u << bits) - 1;
    }
    out[at++] = alphabet[(buffer << (5 - bits)) & 31]; /* 256 = 51 * 5 + 1: one bit left */
    out[at] = '\0';
}

/* A DNS name after the key: labels of [a-z0-9-], none empty. */
static bool domain_ok(const char *s, size_t len) {
    if (len == 0) return true;
    if (s[0] != '.') return false;
    size_t label = 0;
    for (size_t i = 1; i < len; i++) {
        char c = s[i];
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
        } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') {
            label++;
        } else {
            return false;
        }
    }
    return label > 0;
}

bool ht_key_name_key(const char *server_name, unsigned char public_key[32]) {
    if (!server_name) return false;
    size_t len = strlen(server_name);
    /* A port (1 to 5 digits after the last ':') is not part of the name. */
    const char *colon = strrchr(server_name, ':');
    if (colon) {
        size_t digits = len - (size_t)(colon + 1 - server_name);
        if (digits < 1 || digits > 5 || strspn(colon + 1, "0123456789") != digits) return false;
        len = (size_t)(colon - server_name);
    }
    if (len < HT_KEY_NAME_LEN || !domain_ok(server_name + HT_KEY_NAME_LEN, len - HT_KEY_NAME_LEN)) return false;
    unsigned char key[32];
    unsigned buffer = 0, bits = 0;
    size_t at = 0;
    for (size_t i = 0; i < HT_KEY_NAME_LEN; i++) {
        const char *p = server_name[i] ? strchr(alphabet, server_name[i]) : NULL;
        if (!p) return false;
        buffer = ((buffer << 5) | (unsigned)(p - alphabet)) & 0xffff;
        bits += 5;
        if (bits >= 8) {
            key[at++] = (unsigned char)(buffer >> (bits - 8));
            bits -= 8;
        }
    }
    if (at != 32 || (buffer & ((1u << bits) - 1)) != 0) return false;
    if (public_key) memcpy(public_key, key, sizeof key);
    return true;
}
