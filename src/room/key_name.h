/* key_name.h -- key names: a server whose name is its ed25519 public key.
 *
 * A browser server in peer-to-peer mode has no domain: its name is the
 * lowercase RFC 4648 base32 (no padding) of its public key, 52 characters,
 * one DNS label (js-bridge/p2p/names.js is the same encoding, and the tests
 * hold the two to the same vectors). Such a name is self-certifying: the
 * key that speaks for the server is in its name, so it is never fetched.
 * Only the canonical spelling counts (lowercase, the 4 bits past the key
 * zero): one key, one name. A domain after the key (<key>.p2p.example.org)
 * or a port does not change the key. */
#ifndef HT_ROOM_KEY_NAME_H
#define HT_ROOM_KEY_NAME_H

#include <stdbool.h>

enum { HT_KEY_NAME_LEN = 52 };

/* The key name of a 32-byte public key, NUL-terminated. */
void ht_key_name(const unsigned char public_key[32], char out[HT_KEY_NAME_LEN + 1]);

/* True when server_name is a key name, with the key it stands for in
 * public_key (may be NULL). */
bool ht_key_name_key(const char *server_name, unsigned char public_key[32]);

#endif
