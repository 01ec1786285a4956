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

    /* 3: what clients keep besides rooms: presence, typing, receipts,
     * account data, push rules, pushers, reports. Profiles live in the
     * users table (migration 2). Every row a /sync reports carries the
     * stream position of its last change, so sync can ask "what changed
     * after since". */
    "CREATE TABLE presence ("
    "  user_id TEXT PRIMARY KEY,"
    "  presence TEXT NOT NULL,"        /* online, unavailable, offline */
    "  status_msg TEXT,"
    "  last_active_ms INTEGER NOT NULL,"
    "  stream INTEGER NOT NULL) STRICT;"
    "CREATE INDEX presence_stream ON presence(stream);"
    /* Who is typing, until when. Expired rows are removed lazily by the
     * next /sync, which then advances the stream. */
    "CREATE TABLE typing ("
    "  room_id TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  expires_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (room_id, user_id)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX typing_expiry ON typing(expires_ms);"
    /* The position of the last change to each room's set of typing users. */
    "CREATE TABLE typing_changes ("
    "  room_id TEXT PRIMARY KEY,"
    "  stream INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
    /* One receipt per (room, user, type, thread); thread_id '' is unthreaded.
     * event_stream orders receipts against the timeline. */
    "CREATE TABLE receipts ("
    "  room_id TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  thread_id TEXT NOT NULL,"
    "  event_id TEXT NOT NULL,"
    "  event_stream INTEGER NOT NULL,"
    "  ts INTEGER NOT NULL,"
    "  stream INTEGER NOT NULL,"
    "  PRIMARY KEY (room_id, user_id, type, thread_id)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX receipts_room_stream ON receipts(room_id, stream);"
    /* Global account data has room_id ''. */
    "CREATE TABLE account_data ("
    "  user_id TEXT NOT NULL,"
    "  room_id TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  content TEXT NOT NULL,"
    "  stream INTEGER NOT NULL,"
    "  PRIMARY KEY (user_id, room_id, type)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX account_data_stream ON account_data(user_id, stream);"
    /* A user's own push rules; higher priority first within a kind. */
    "CREATE TABLE push_rules ("
    "  user_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  rule_id TEXT NOT NULL,"
    "  priority INTEGER NOT NULL,"
    "  enabled INTEGER NOT NULL,"
    "  actions TEXT NOT NULL,"
    "  conditions TEXT,"
    "  pattern TEXT,"
    "  PRIMARY KEY (user_id, kind, rule_id)) STRICT, WITHOUT ROWID;"
    /* What a user changed of a server-default rule (NULL: unchanged). */
    "CREATE TABLE push_rule_defaults ("
    "  user_id TEXT NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  rule_id TEXT NOT NULL,"
    "  enabled INTEGER,"
    "  actions TEXT,"
    "  PRIMARY KEY (user_id, kind, rule_id)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE pushers ("
    "  app_id TEXT NOT NULL,"
    "  pushkey TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  json TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (app_id, pushkey, user_id)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX pushers_user ON pushers(user_id);"
    "CREATE TABLE event_reports ("
    "  id INTEGER PRIMARY KEY,"
    "  room_id TEXT NOT NULL,"
    "  event_id TEXT NOT NULL,"
    "  reporter TEXT NOT NULL,"
    "  reason TEXT,"
    "  score INTEGER,"
    "  created_ms INTEGER NOT NULL) STRICT;",
};

int ht_schema_version_count(void) { return (int)(sizeof migrations / sizeof *migrations); }

const char *ht_schema_migration(int from_version) {
    if (from_version < 0 || from_version >= ht_schema_version_count()) return 0;
    return migrations[from_version];
}
