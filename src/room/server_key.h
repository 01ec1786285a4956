/* server_key.h -- this server's ed25519 signing key, and the key objects
 * servers publish at GET /_matrix/key/v2/server (server-server "Publishing
 * Keys").
 *
 * The key is the server's identity in federation: every event it makes and
 * every request it sends is signed with it. Its seed is kept in the
 * database's meta table, created at the first open, so an exported database
 * (native or from the browser) takes the identity along. Nothing but
 * ht_server_key_load reads the seed, and no answer ever carries it: the key
 * object has the public half only. */
#ifndef HT_ROOM_SERVER_KEY_H
#define HT_ROOM_SERVER_KEY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/arena.h"
#include "util/signing.h"

/* How far ahead a published key object says it is valid, and the most a
 * received one is trusted for (the spec caps valid_until_ts at 7 days). */
#define HT_SERVER_KEY_VALID_MS (INT64_C(7) * 24 * 60 * 60 * 1000)

/* Creates the signing key at the first open (a random seed in meta); a later
 * open finds it and checks that it loads. False, with a sentence in err, if
 * the store would not keep it or what it keeps is damaged. */
bool ht_server_key_ensure(ht_store *store, char *err, size_t err_size);

/* The signing key: key pair and key id ("ed25519:" and 8 hex digits of the
 * public key, so the id names this key and needs nothing stored beside the
 * seed). False if there is none or it is damaged. Wipe it after use
 * (ht_signing_key_wipe) if it is not kept. */
bool ht_server_key_load(ht_store *store, ht_signing_key *key);

/* The server's name, settled at each open and kept in meta so that it
 * stays with the database (an export carries it, like the seed). With
 * name_from_key (peer-to-peer mode): the name the database already holds;
 * else, for a database made by this open (key_is_new), the key name of
 * `key`; else -- an older database that recorded no name -- `configured`.
 * Without name_from_key: `configured`, as the host says, unless the
 * database is named by its key (a browser server's export): a key name is
 * kept in any mode. Writes the name
 * into out (at most out_size bytes with the NUL); false, with a sentence in
 * err, if the store failed or the name does not fit. */
bool ht_server_name_settle(ht_store *store, const ht_signing_key *key, bool name_from_key, bool key_is_new,
                           const char *configured, char *out, size_t out_size, char *err, size_t err_size);

/* The self-signed key object: server_name, verify_keys with this key,
 * old_verify_keys (empty: keys are never rotated yet), valid_until_ts
 * HT_SERVER_KEY_VALID_MS after now_ms, signatures. New reference. */
json_t *ht_server_key_object(const ht_signing_key *key, const char *server_name, int64_t now_ms);

/* Checks a key object that server_name published (fetched directly from
 * it): its server_name, at least one ed25519 verify key, every signature of
 * server_name by one of those keys verifies (at least one), and
 * valid_until_ts is still ahead of now_ms. NULL if it passes, with
 * *usable_until (may be NULL) set to valid_until_ts capped at 7 days after
 * now_ms; else a sentence in the arena. */
const char *ht_server_key_object_check(ht_arena *arena, json_t *obj, const char *server_name, int64_t now_ms,
                                       int64_t *usable_until);

#endif
