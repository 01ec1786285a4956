/* schema.c -- the database schema, as an ordered list of migrations.
 *
 * migrations[i] takes a database from user_version i to i + 1. A migration is
 * never edited once released: a change to the schema is a new entry at the
 * end. A file whose user_version is larger than this build knows was written
 * by a newer hometab; we refuse to open it rather than guess. */
#include "store/schema.h"

static const char *const migrations[] = {
    /* 1: the foundation. */
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"
    /* One monotonic position orders everything a /sync reports. */
    "CREATE TABLE stream (id INTEGER PRIMARY KEY CHECK (id = 1), position INTEGER NOT NULL) STRICT;"
    "INSERT INTO stream(id, position) VALUES (1, 0);",

    /* 2: accounts, rooms, events. */
    "CREATE TABLE users ("
    "  user_id TEXT PRIMARY KEY,"
    "  password_hash TEXT,"
    "  created_ms INTEGER NOT NULL,"
    "  deactivated INTEGER NOT NULL DEFAULT 0,"
    "  displayname TEXT,"
    "  avatar_url TEXT) STRICT;"
    "CREATE TABLE devices ("
    "  user_id TEXT NOT NULL REFERENCES users(user_id),"
    "  device_id TEXT NOT NULL,"
    "  display_name TEXT,"
    "  last_seen_ms INTEGER,"
    "  PRIMARY KEY (user_id, device_id)) STRICT;"
    /* Tokens are stored as their SHA-256: a copied database file does not
     * hand out sessions. */
    "CREATE TABLE access_tokens ("
    "  id INTEGER PRIMARY KEY,"
    "  token_hash BLOB NOT NULL UNIQUE,"
    "  user_id TEXT NOT NULL,"
    "  device_id TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  FOREIGN KEY (user_id, device_id) REFERENCES devices(user_id, device_id) ON DELETE CASCADE)"
    "  STRICT;"
    "CREATE TABLE uia_sessions ("
    "  session TEXT PRIMARY KEY,"
    "  user_id TEXT,"          /* NULL while registering */
    "  created_ms INTEGER NOT NULL) STRICT;"
    "CREATE TABLE rooms ("
    "  room_id TEXT PRIMARY KEY,"
    "  version TEXT NOT NULL,"
    "  creator TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  published INTEGER NOT NULL DEFAULT 0) STRICT;"
    "CREATE TABLE room_aliases ("
    "  alias TEXT PRIMARY KEY,"
    "  room_id TEXT NOT NULL REFERENCES rooms(room_id),"
    "  creator TEXT NOT NULL) STRICT;"
    "CREATE INDEX room_aliases_room ON room_aliases(room_id);"
    /* Every event, in the order of the one stream. json is the event as
     * stored (federation form, without event_id and unsigned); after a
     * redaction it holds the redacted form only. */
    "CREATE TABLE events ("
    "  stream INTEGER PRIMARY KEY,"
    "  event_id TEXT NOT NULL UNIQUE,"
    "  room_id TEXT NOT NULL REFERENCES rooms(room_id),"
    "  type TEXT NOT NULL,"
    "  state_key TEXT,"
    "  sender TEXT NOT NULL,"
    "  origin_ts INTEGER NOT NULL,"
    "  depth INTEGER NOT NULL,"
    "  json TEXT NOT NULL,"
    "  redacted_by TEXT,"
    "  txn_id TEXT,"
    "  device_id TEXT,"
    "  prev_state INTEGER) STRICT;" /* stream of the state event this one replaced */
    "CREATE INDEX events_room ON events(room_id, stream);"
    "CREATE INDEX events_room_state ON events(room_id, type, state_key, stream) "
    "  WHERE state_key IS NOT NULL;"
    "CREATE TABLE room_state ("
    "  room_id TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  state_key TEXT NOT NULL,"
    "  stream INTEGER NOT NULL REFERENCES events(stream),"
    "  PRIMARY KEY (room_id, type, state_key)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE memberships ("
    "  room_id TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  membership TEXT NOT NULL,"
    "  stream INTEGER NOT NULL,"
    "  forgotten INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (room_id, user_id)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX memberships_user ON memberships(user_id, membership);"
    "CREATE TABLE txn_ids ("
    "  user_id TEXT NOT NULL,"
    "  device_id TEXT NOT NULL,"
    "  txn_id TEXT NOT NULL,"
    "  event_id TEXT NOT NULL,"
    "  PRIMARY KEY (user_id, device_id, txn_id)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE filters ("
    "  filter_id INTEGER PRIMARY KEY,"
    "  user_id TEXT NOT NULL,"
    "  json TEXT NOT NULL) STRICT;",
};

int ht_schema_version_count(void) { return (int)(sizeof migrations / sizeof *migrations); }

const char *ht_schema_migration(int from_version) {
    if (from_version < 0 || from_version >= ht_schema_version_count()) return 0;
    return migrations[from_version];
}
