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

    /* 3: media, end-to-end encryption (keys, to-device messages), relations
     * and full-text search. */
    /* Media bytes live in the database itself, so an exported .sqlite file
     * carries them. uploaded_ms is NULL for an id handed out by
     * /media/v1/create whose bytes have not arrived yet; the blob is the
     * last column so reading the other columns never touches it. */
    "CREATE TABLE media ("
    "  media_id TEXT PRIMARY KEY,"
    "  uploader TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  expires_ms INTEGER,"
    "  content_type TEXT,"
    "  filename TEXT,"
    "  size INTEGER,"
    "  uploaded_ms INTEGER,"
    "  data BLOB) STRICT;"
    "CREATE INDEX media_pending ON media(uploader) WHERE uploaded_ms IS NULL;"
    /* Keys are stored as the JSON the device signed, verbatim: the server
     * never decrypts and never rewrites what a signature covers. Everything
     * of a device goes with it (ON DELETE CASCADE). */
    "CREATE TABLE e2e_device_keys ("
    "  user_id TEXT NOT NULL,"
    "  device_id TEXT NOT NULL,"
    "  json TEXT NOT NULL,"
    "  PRIMARY KEY (user_id, device_id),"
    "  FOREIGN KEY (user_id, device_id) REFERENCES devices(user_id, device_id) ON DELETE CASCADE)"
    "  STRICT;"
    "CREATE TABLE e2e_one_time_keys ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id TEXT NOT NULL,"
    "  device_id TEXT NOT NULL,"
    "  algorithm TEXT NOT NULL,"
    "  key_id TEXT NOT NULL," /* "algorithm:id" as uploaded */
    "  json TEXT NOT NULL,"
    "  UNIQUE (user_id, device_id, key_id),"
    "  FOREIGN KEY (user_id, device_id) REFERENCES devices(user_id, device_id) ON DELETE CASCADE)"
    "  STRICT;"
    "CREATE INDEX e2e_one_time_keys_claim ON e2e_one_time_keys(user_id, device_id, algorithm, id);"
    "CREATE TABLE e2e_fallback_keys ("
    "  user_id TEXT NOT NULL,"
    "  device_id TEXT NOT NULL,"
    "  algorithm TEXT NOT NULL,"
    "  key_id TEXT NOT NULL,"
    "  json TEXT NOT NULL,"
    "  used INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (user_id, device_id, algorithm),"
    "  FOREIGN KEY (user_id, device_id) REFERENCES devices(user_id, device_id) ON DELETE CASCADE)"
    "  STRICT;"
    /* When a device's one-time keys were last taken by someone else: its
     * /sync must wake to report the lower count. */
    "CREATE TABLE e2e_one_time_keys_taken ("
    "  user_id TEXT NOT NULL,"
    "  device_id TEXT NOT NULL,"
    "  stream INTEGER NOT NULL,"
    "  PRIMARY KEY (user_id, device_id),"
    "  FOREIGN KEY (user_id, device_id) REFERENCES devices(user_id, device_id) ON DELETE CASCADE)"
    "  STRICT;"
    /* key_type: master, self_signing, user_signing. */
    "CREATE TABLE e2e_cross_signing_keys ("
    "  user_id TEXT NOT NULL,"
    "  key_type TEXT NOT NULL,"
    "  public_key TEXT NOT NULL,"
    "  json TEXT NOT NULL,"
    "  PRIMARY KEY (user_id, key_type)) STRICT;"
    /* Signatures uploaded later (/keys/signatures/upload), kept apart from
     * the signed JSON so a device re-uploading its keys does not lose them.
     * target_key is a device id or a cross-signing public key. */
    "CREATE TABLE e2e_signatures ("
    "  target_user TEXT NOT NULL,"
    "  target_key TEXT NOT NULL,"
    "  signer_user TEXT NOT NULL,"
    "  signer_key_id TEXT NOT NULL,"
    "  signature TEXT NOT NULL,"
    "  PRIMARY KEY (target_user, target_key, signer_user, signer_key_id)) STRICT, WITHOUT ROWID;"
    /* A user's device list (devices, their keys, cross-signing keys, the
     * signatures on them) changed at this stream position: /sync
     * device_lists.changed. only_for: '' tells everyone who shares a room
     * with the user; a user id tells only that user (a signature they made
     * with their user-signing key, which only they can see). */
    "CREATE TABLE e2e_device_list_changes ("
    "  user_id TEXT NOT NULL,"
    "  stream INTEGER NOT NULL,"
    "  only_for TEXT NOT NULL DEFAULT '',"
    "  PRIMARY KEY (user_id, stream, only_for)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX e2e_device_list_changes_stream ON e2e_device_list_changes(stream);"
    /* Whoever deletes a device (logout, /devices, password change) also
     * removes what was signed about it and tells the user's contacts, by
     * moving the one stream: one trigger, instead of a call at each site. */
    "CREATE TRIGGER e2e_device_deleted AFTER DELETE ON devices BEGIN"
    "  DELETE FROM e2e_signatures WHERE target_user = old.user_id AND target_key = old.device_id;"
    "  UPDATE stream SET position = position + 1 WHERE id = 1;"
    "  INSERT OR IGNORE INTO e2e_device_list_changes(user_id, stream)"
    "    VALUES (old.user_id, (SELECT position FROM stream WHERE id = 1));"
    "END;"
    /* Server-side room key backups (the client encrypts; we store). */
    "CREATE TABLE e2e_backup_versions ("
    "  user_id TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  algorithm TEXT NOT NULL,"
    "  auth_data TEXT NOT NULL,"
    "  etag INTEGER NOT NULL DEFAULT 0,"
    "  deleted INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (user_id, version)) STRICT;"
    "CREATE TABLE e2e_backup_keys ("
    "  user_id TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  room_id TEXT NOT NULL,"
    "  session_id TEXT NOT NULL,"
    "  first_message_index INTEGER NOT NULL,"
    "  forwarded_count INTEGER NOT NULL,"
    "  is_verified INTEGER NOT NULL,"
    "  json TEXT NOT NULL,"
    "  PRIMARY KEY (user_id, version, room_id, session_id)) STRICT, WITHOUT ROWID;"
    /* To-device messages wait here until the device's next /sync
     * acknowledges them (its since token passes their stream position). */
    "CREATE TABLE to_device ("
    "  id INTEGER PRIMARY KEY,"
    "  user_id TEXT NOT NULL,"
    "  device_id TEXT NOT NULL,"
    "  sender TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  content TEXT NOT NULL,"
    "  stream INTEGER NOT NULL,"
    "  FOREIGN KEY (user_id, device_id) REFERENCES devices(user_id, device_id) ON DELETE CASCADE)"
    "  STRICT;"
    "CREATE INDEX to_device_inbox ON to_device(user_id, device_id, stream);"
    "CREATE TABLE to_device_txns ("
    "  user_id TEXT NOT NULL,"
    "  device_id TEXT NOT NULL,"
    "  txn_id TEXT NOT NULL,"
    "  PRIMARY KEY (user_id, device_id, txn_id),"
    "  FOREIGN KEY (user_id, device_id) REFERENCES devices(user_id, device_id) ON DELETE CASCADE)"
    "  STRICT, WITHOUT ROWID;"
    /* content.m.relates_to of stored events, for /relations. */
    "CREATE TABLE event_relations ("
    "  stream INTEGER PRIMARY KEY REFERENCES events(stream),"
    "  room_id TEXT NOT NULL,"
    "  relates_to TEXT NOT NULL,"
    "  rel_type TEXT NOT NULL,"
    "  type TEXT NOT NULL) STRICT;"
    "CREATE INDEX event_relations_parent ON event_relations(relates_to, stream);"
    /* (Until migration 15 this also made an FTS5 table, event_search: the
     * one edit of a released migration, because the wasm build no longer
     * has FTS5 and every new database runs this step. Databases past it
     * keep their table until migration 15 replaces it.) */
    /* Events stored before this migration are indexed too. */
    "INSERT INTO event_relations(stream, room_id, relates_to, rel_type, type)"
    "  SELECT stream, room_id, json ->> '$.content.\"m.relates_to\".event_id',"
    "         json ->> '$.content.\"m.relates_to\".rel_type', type FROM events"
    "  WHERE redacted_by IS NULL"
    "    AND json_type(json, '$.content.\"m.relates_to\".event_id') = 'text'"
    "    AND json_type(json, '$.content.\"m.relates_to\".rel_type') = 'text';",

    /* 4: what clients keep besides rooms: presence, typing, receipts,
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

    /* 5: the thread list (GET /rooms/{roomId}/threads) walks a room's
     * m.thread relations newest first; the parent index above answers "is
     * there a later reply to this root" and the thread summaries. */
    "CREATE INDEX event_relations_room_type ON event_relations(room_id, rel_type, stream);",

    /* 6: /timestamp_to_event finds the event closest to a time in a room
     * without reading the room's whole history. */
    "CREATE INDEX events_room_ts ON events(room_id, origin_ts, stream);",

    /* 7: users whose clients fell silent are shown offline; finding them
     * must not read every user's presence on each sync. */
    "CREATE INDEX presence_active ON presence(last_active_ms) WHERE presence != 'offline';",

    /* 8: the event graph, so that a room many servers write can be held.
     * An event now has prev and auth edges (by event id: the other end may
     * not have arrived yet) and a status: 0 in the timeline; 1 an outlier
     * (fetched to check others, or the state given at a remote join: its
     * own state is unknown); 2 soft-failed (accepted into the graph but
     * never shown, nor referenced by our new events); 3 rejected (kept only
     * so that it is not fetched again). Reads of the timeline see status 0.
     *
     * The room's state is no longer "the newest state event": a later event
     * from another server may lose state resolution. room_state_log records
     * every change of a room's current state at the stream position where it
     * happened (event_stream NULL: the key went away); every "state at a
     * position" read uses it, and room_state stays the current state.
     *
     * The state after an event: for an event that was the room's only
     * forward extremity when it was stored (every event of a room only this
     * server writes), it is the log at the event's position, so nothing more
     * is written (state_group NULL). Otherwise state_groups holds it, as the
     * log at base_stream overridden by state_group_entries (event_stream
     * NULL: absent). Existing events keep their ids and become log-based. */
    "ALTER TABLE events ADD COLUMN status INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE events ADD COLUMN state_group INTEGER;"
    "CREATE TABLE event_edges ("
    "  stream INTEGER NOT NULL REFERENCES events(stream),"
    "  prev_event_id TEXT NOT NULL,"
    "  PRIMARY KEY (stream, prev_event_id)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX event_edges_prev ON event_edges(prev_event_id);"
    "CREATE TABLE event_auth_edges ("
    "  stream INTEGER NOT NULL REFERENCES events(stream),"
    "  auth_event_id TEXT NOT NULL,"
    "  PRIMARY KEY (stream, auth_event_id)) STRICT, WITHOUT ROWID;"
    /* The events nothing references yet: what our next event points at. */
    "CREATE TABLE room_extremities ("
    "  room_id TEXT NOT NULL,"
    "  event_id TEXT NOT NULL,"
    "  PRIMARY KEY (room_id, event_id)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE room_state_log ("
    "  room_id TEXT NOT NULL,"
    "  type TEXT NOT NULL,"
    "  state_key TEXT NOT NULL,"
    "  stream INTEGER NOT NULL,"
    "  event_stream INTEGER,"
    "  PRIMARY KEY (room_id, type, state_key, stream)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX room_state_log_position ON room_state_log(room_id, stream);"
    "CREATE TABLE state_groups ("
    "  id INTEGER PRIMARY KEY,"
    "  room_id TEXT NOT NULL,"
    "  base_stream INTEGER NOT NULL) STRICT;"
    "CREATE TABLE state_group_entries ("
    "  group_id INTEGER NOT NULL REFERENCES state_groups(id),"
    "  type TEXT NOT NULL,"
    "  state_key TEXT NOT NULL,"
    "  event_stream INTEGER,"
    "  PRIMARY KEY (group_id, type, state_key)) STRICT, WITHOUT ROWID;"
    "INSERT INTO event_edges(stream, prev_event_id)"
    "  SELECT e.stream, p.value FROM events e, json_each(e.json, '$.prev_events') p"
    "  WHERE p.type = 'text';"
    "INSERT OR IGNORE INTO event_auth_edges(stream, auth_event_id)"
    "  SELECT e.stream, a.value FROM events e, json_each(e.json, '$.auth_events') a"
    "  WHERE a.type = 'text';"
    "INSERT INTO room_extremities(room_id, event_id)"
    "  SELECT room_id, event_id FROM events e WHERE stream = (SELECT max(stream) FROM events x"
    "  WHERE x.room_id = e.room_id);"
    "INSERT INTO room_state_log(room_id, type, state_key, stream, event_stream)"
    "  SELECT room_id, type, state_key, stream, stream FROM events WHERE state_key IS NOT NULL;",

    /* 9: a media file's bytes in parts of 64 KiB (HT_MEDIA_PART_BYTES), so a
     * download streams them part by part: one blob of 50 MB is a chain of
     * overflow pages that every read at an offset must walk from its start.
     * Files stored whole until now are cut into parts. */
    "CREATE TABLE media_parts ("
    "  media_id TEXT NOT NULL,"
    "  part INTEGER NOT NULL,"
    "  bytes BLOB NOT NULL,"
    "  PRIMARY KEY (media_id, part)) STRICT;"
    "WITH RECURSIVE n(part) AS (SELECT 0 UNION ALL SELECT part + 1 FROM n "
    "  WHERE part < (SELECT coalesce(max(length(data)), 0) / 65536 FROM media)) "
    "INSERT INTO media_parts(media_id, part, bytes) "
    "  SELECT m.media_id, n.part, substr(m.data, n.part * 65536 + 1, 65536) FROM media m "
    "  JOIN n ON n.part * 65536 < length(m.data) WHERE m.data IS NOT NULL;"
    "ALTER TABLE media DROP COLUMN data;",

    /* 10: federation. Other servers' signing keys, as fetched (a request or
     * an event signed by an unknown key fetches it once). */
    "CREATE TABLE server_keys ("
    "  server_name TEXT NOT NULL,"
    "  key_id TEXT NOT NULL,"
    "  public_key TEXT NOT NULL,"
    "  valid_until_ms INTEGER NOT NULL,"
    "  fetched_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (server_name, key_id)) STRICT, WITHOUT ROWID;"
    /* Transactions received (origin, txnId): a sender retries, and the
     * retry gets the first answer again, processing nothing twice. */
    "CREATE TABLE federation_txns ("
    "  origin TEXT NOT NULL,"
    "  txn_id TEXT NOT NULL,"
    "  response TEXT NOT NULL,"
    "  received_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (origin, txn_id)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX federation_txns_age ON federation_txns(received_ms);"
    /* What waits to be sent to other servers, durable: a PDU (an event by
     * its stream) or an EDU (its JSON), per destination, in order. Ids are
     * never reused (AUTOINCREMENT): a transaction is named by the ids it
     * carries, and a receiver answers a name it saw before from memory. */
    "CREATE TABLE outbox ("
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  destination TEXT NOT NULL,"
    "  event_stream INTEGER,"
    "  edu TEXT,"
    "  created_ms INTEGER NOT NULL,"
    "  CHECK ((event_stream IS NULL) != (edu IS NULL))) STRICT;"
    "CREATE INDEX outbox_destination ON outbox(destination, id);"
    /* Each destination's state: when to try again after failures. */
    "CREATE TABLE destinations ("
    "  server_name TEXT PRIMARY KEY,"
    "  failures INTEGER NOT NULL DEFAULT 0,"
    "  retry_at_ms INTEGER NOT NULL DEFAULT 0,"
    "  last_ok_ms INTEGER) STRICT, WITHOUT ROWID;"
    /* How many joined members each server has in each room, kept by the
     * memberships table's triggers: whom a new event goes to. */
    "CREATE TABLE room_servers ("
    "  room_id TEXT NOT NULL,"
    "  server_name TEXT NOT NULL,"
    "  joined INTEGER NOT NULL,"
    "  PRIMARY KEY (room_id, server_name)) STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER room_servers_join_insert AFTER INSERT ON memberships WHEN new.membership = 'join' BEGIN"
    "  INSERT INTO room_servers(room_id, server_name, joined)"
    "    VALUES (new.room_id, substr(new.user_id, instr(new.user_id, ':') + 1), 1)"
    "    ON CONFLICT DO UPDATE SET joined = joined + 1;"
    "END;"
    "CREATE TRIGGER room_servers_join_update AFTER UPDATE OF membership ON memberships"
    "  WHEN (old.membership = 'join') != (new.membership = 'join') BEGIN"
    "  INSERT INTO room_servers(room_id, server_name, joined)"
    "    VALUES (new.room_id, substr(new.user_id, instr(new.user_id, ':') + 1),"
    "            CASE WHEN new.membership = 'join' THEN 1 ELSE 0 END)"
    "    ON CONFLICT DO UPDATE SET joined = joined + CASE WHEN new.membership = 'join' THEN 1 ELSE -1 END;"
    "END;"
    "CREATE TRIGGER room_servers_join_delete AFTER DELETE ON memberships WHEN old.membership = 'join' BEGIN"
    "  UPDATE room_servers SET joined = joined - 1"
    "    WHERE room_id = old.room_id AND server_name = substr(old.user_id, instr(old.user_id, ':') + 1);"
    "END;"
    "INSERT INTO room_servers(room_id, server_name, joined)"
    "  SELECT room_id, substr(user_id, instr(user_id, ':') + 1), count(*) FROM memberships"
    "  WHERE membership = 'join' GROUP BY 1, 2;"
    /* A remote room's invite: the room state its invite carried (stripped
     * state), for the invitee's sync, until they answer. */
    "CREATE TABLE invite_room_state ("
    "  room_id TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  json TEXT NOT NULL,"
    "  PRIMARY KEY (room_id, user_id)) STRICT, WITHOUT ROWID;",
    /* 11: device lists across servers. A change names its device (NULL: a
     * cross-signing key changed), so that other servers are told what
     * changed (m.device_list_update, m.signing_key_update); the changes up
     * to e2e_device_list_sent's position were queued for them. Other
     * servers' users' keys, as their server last gave them (a /keys/query
     * answer per user) at a stream position, kept while that server tells
     * us of changes. */
    "ALTER TABLE e2e_device_list_changes ADD COLUMN device_id TEXT;"
    "DROP TRIGGER e2e_device_deleted;"
    "CREATE TRIGGER e2e_device_deleted AFTER DELETE ON devices BEGIN"
    "  DELETE FROM e2e_signatures WHERE target_user = old.user_id AND target_key = old.device_id;"
    "  UPDATE stream SET position = position + 1 WHERE id = 1;"
    "  INSERT OR IGNORE INTO e2e_device_list_changes(user_id, stream, device_id)"
    "    VALUES (old.user_id, (SELECT position FROM stream WHERE id = 1), old.device_id);"
    "END;"
    "CREATE TABLE e2e_device_list_sent ("
    "  id INTEGER PRIMARY KEY CHECK (id = 1),"
    "  stream INTEGER NOT NULL) STRICT;"
    "INSERT INTO e2e_device_list_sent(id, stream) SELECT 1, position FROM stream WHERE id = 1;"
    /* An EDU that must arrive (a to-device message, a device list
     * update) is kept apart from those where only the newest matter
     * (typing, receipts), which a destination that is down has trimmed. */
    "ALTER TABLE outbox ADD COLUMN durable INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX outbox_edus ON outbox(destination, durable, id) WHERE edu IS NOT NULL;"
    "CREATE TABLE e2e_remote_keys ("
    "  user_id TEXT PRIMARY KEY,"
    "  json TEXT NOT NULL,"
    "  stream INTEGER NOT NULL) STRICT, WITHOUT ROWID;",

    /* 12: running a server for others (operator): server admins, and the
     * tokens that let someone register when registration needs one
     * (m.login.registration_token). A token's uses are counted when a
     * registration completes; uses_allowed and expiry_ms NULL mean no
     * limit. pending is kept for the admin API's shape: a registration
     * here completes in the request that presents the token, so nothing
     * is ever pending between requests. */
    "ALTER TABLE users ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX users_admin ON users(user_id) WHERE admin != 0;"
    /* The admin API lists a user's media. */
    "CREATE INDEX media_uploader ON media(uploader, created_ms);"
    "CREATE TABLE registration_tokens ("
    "  token TEXT PRIMARY KEY,"
    "  uses_allowed INTEGER,"
    "  pending INTEGER NOT NULL DEFAULT 0,"
    "  completed INTEGER NOT NULL DEFAULT 0,"
    "  expiry_ms INTEGER,"
    "  created_ms INTEGER NOT NULL) STRICT;"
    /* What deleting a room did, for the admin API's delete status (kept a
     * day, as Synapse keeps it). */
    "CREATE TABLE room_deletions ("
    "  delete_id TEXT PRIMARY KEY,"
    "  room_id TEXT NOT NULL,"
    "  result TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL) STRICT;"
    "CREATE INDEX room_deletions_room ON room_deletions(room_id, created_ms);",

    /* 13: push actions decided once, when an event joins the timeline, and
     * unread counts kept as they change (store/unread.h), so that a /sync
     * reads counts instead of judging a user's unread backlog again.
     * unread_threads: per room, member and thread, the notifications and
     * highlights after the member's read marks, and the member's own latest
     * event there (which reads everything before it). Keyed by room first:
     * one event moves the counts of many members of one room, and their rows
     * then share a page or two. unread_rooms: the counts of a member in a
     * room are known (judged) or stale: a receipt moved their marks, an
     * event was redacted, or their push rules, their name in the room, the
     * power levels or the member count changed; stale counts are judged
     * again on the next read. A room with no row (every room, right after
     * this migration) is judged on its first read. */
    "CREATE TABLE unread_threads ("
    "  room_id TEXT NOT NULL,"
    "  user_id TEXT NOT NULL,"
    "  thread_id TEXT NOT NULL,"
    "  notifications INTEGER NOT NULL DEFAULT 0,"
    "  highlights INTEGER NOT NULL DEFAULT 0,"
    "  own_upto INTEGER NOT NULL DEFAULT 0,"
    "  PRIMARY KEY (room_id, user_id, thread_id)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE unread_rooms ("
    "  user_id TEXT NOT NULL,"
    "  room_id TEXT NOT NULL,"
    "  stale INTEGER NOT NULL,"
    "  PRIMARY KEY (user_id, room_id)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX unread_rooms_room ON unread_rooms(room_id);",

    /* 14: large rooms. A member's display name in the room, kept beside
     * their membership: judging an event with a body for a room's members
     * reads every joined member's name (room/push_actions.c), from this
     * column one index range, where it was a JSON parse of each member's
     * event -- 5,000 of them per message in a room of 5,000. NULL when the
     * member event has no string displayname (or the member left).
     * And counts shared by the members an event cannot tell apart: most
     * events notify every member who kept the default rules alike, so
     * unread_alike counts them once per room and thread, cumulatively, one
     * row per such event numbered by seq (the room's count of them);
     * unread_alike_threads holds each thread's latest. A member's count is
     * then their own row's difference from that judgment (unread_threads,
     * for the few judged apart) plus the shared count since their row's
     * alike_seq -- or, for a thread where they have no row, since their
     * room's (unread_rooms.alike_seq: their join or last judging). A send
     * into a room of thousands writes two shared rows, not one per member.
     * And the members of a room by position (memberships_room_stream), a
     * room's timeline positions (events_room_timeline). */
    "ALTER TABLE memberships ADD COLUMN display_name TEXT;"
    "UPDATE memberships SET display_name = ("
    "  SELECT CASE json_type(e.json, '$.content.displayname') "
    "  WHEN 'text' THEN json_extract(e.json, '$.content.displayname') END "
    "  FROM room_state s JOIN events e ON e.stream = s.stream "
    "  WHERE s.room_id = memberships.room_id AND s.type = 'm.room.member' "
    "  AND s.state_key = memberships.user_id);"
    "CREATE TABLE unread_alike ("
    "  room_id TEXT NOT NULL,"
    "  thread_id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  notifications INTEGER NOT NULL,"
    "  highlights INTEGER NOT NULL,"
    "  PRIMARY KEY (room_id, thread_id, seq)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE unread_alike_threads ("
    "  room_id TEXT NOT NULL,"
    "  thread_id TEXT NOT NULL,"
    "  seq INTEGER NOT NULL,"
    "  notifications INTEGER NOT NULL,"
    "  highlights INTEGER NOT NULL,"
    "  PRIMARY KEY (room_id, thread_id)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX unread_alike_threads_seq ON unread_alike_threads(room_id, seq);"
    "ALTER TABLE unread_threads ADD COLUMN alike_seq INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE unread_rooms ADD COLUMN alike_seq INTEGER NOT NULL DEFAULT 0;"
    /* A sync's device-list changes look for the members of the user's rooms
     * whose membership moved since their last sync: by room and position,
     * not by reading every member of a room of thousands. */
    "CREATE INDEX memberships_room_stream ON memberships(room_id, stream);"
    /* An incremental sync asks each of the user's rooms for its newest
     * timeline position (ROOM_MAX_STREAM_BELOW): from this index alone,
     * without reading an event row -- 300 rooms' rows outgrow SQLite's page
     * cache, and every sync then read them from the file again. */
    "CREATE INDEX events_room_timeline ON events(room_id, status, stream);",

    /* 15: the full-text index becomes a plain table of word -> event
     * (store/search.h), filled from the events stored so far; FTS5's
     * table goes. The wasm build has no FTS5 any more (51 KB of the
     * gzipped .wasm), so the virtual table cannot be dropped through its
     * module there: its shadow tables are dropped as the plain tables they
     * are, and its own schema row is deleted under writable_schema, then
     * the schema is read again (RESET). A database made since migration 3
     * stopped making it has none of these, hence IF EXISTS. */
    "CREATE TABLE event_words ("
    "  word TEXT NOT NULL,"
    "  stream INTEGER NOT NULL REFERENCES events(stream),"
    "  hits INTEGER NOT NULL," /* how often the event says the word */
    "  PRIMARY KEY (word, stream)) STRICT, WITHOUT ROWID;"
    "CREATE INDEX event_words_stream ON event_words(stream);"
    "INSERT INTO event_words(word, stream, hits)"
    "  SELECT w.value, e.stream, count(*) FROM events e, json_each(words(CASE e.type"
    "    WHEN 'm.room.message' THEN e.json ->> '$.content.body'"
    "    WHEN 'm.room.name' THEN e.json ->> '$.content.name'"
    "    ELSE e.json ->> '$.content.topic' END)) w"
    "  WHERE e.type IN ('m.room.message', 'm.room.name', 'm.room.topic') AND e.status = 0"
    "    AND e.redacted_by IS NULL"
    "  GROUP BY e.stream, w.value;"
    "DROP TABLE IF EXISTS event_search_data;"
    "DROP TABLE IF EXISTS event_search_idx;"
    "DROP TABLE IF EXISTS event_search_content;"
    "DROP TABLE IF EXISTS event_search_docsize;"
    "DROP TABLE IF EXISTS event_search_config;"
    "PRAGMA writable_schema = ON;"
    "DELETE FROM sqlite_schema WHERE type = 'table' AND name = 'event_search';"
    "PRAGMA writable_schema = RESET;",

    /* 16: what a send needs to find the few members it judges apart
     * (push_actions.c), not read every member of the room: the words a
     * message must say to name each member (store/member_keys.c), and
     * whether the member changed any push rule, kept by triggers as the
     * user's rules change (own_rules). */
    "ALTER TABLE memberships ADD COLUMN name_key TEXT;"
    "ALTER TABLE memberships ADD COLUMN user_key TEXT;"
    "ALTER TABLE memberships ADD COLUMN own_rules INTEGER NOT NULL DEFAULT 0;"
    "UPDATE memberships SET name_key = name_key(display_name), user_key = user_key(user_id),"
    "  own_rules = EXISTS (SELECT 1 FROM push_rules p WHERE p.user_id = memberships.user_id)"
    "  OR EXISTS (SELECT 1 FROM push_rule_defaults d WHERE d.user_id = memberships.user_id);"
    "CREATE INDEX memberships_name_key ON memberships(room_id, name_key) WHERE membership = 'join';"
    "CREATE INDEX memberships_user_key ON memberships(room_id, user_key) WHERE membership = 'join';"
    "CREATE INDEX memberships_own_rules ON memberships(room_id) WHERE membership = 'join' AND own_rules = 1;"
    "CREATE TRIGGER push_rules_own_insert AFTER INSERT ON push_rules BEGIN"
    "  UPDATE memberships SET own_rules = 1 WHERE user_id = new.user_id AND own_rules = 0;"
    "END;"
    "CREATE TRIGGER push_rule_defaults_own_insert AFTER INSERT ON push_rule_defaults BEGIN"
    "  UPDATE memberships SET own_rules = 1 WHERE user_id = new.user_id AND own_rules = 0;"
    "END;"
    "CREATE TRIGGER push_rules_own_delete AFTER DELETE ON push_rules BEGIN"
    "  UPDATE memberships SET own_rules = EXISTS (SELECT 1 FROM push_rules WHERE user_id = old.user_id)"
    "    OR EXISTS (SELECT 1 FROM push_rule_defaults WHERE user_id = old.user_id)"
    "  WHERE user_id = old.user_id;"
    "END;"
    "CREATE TRIGGER push_rule_defaults_own_delete AFTER DELETE ON push_rule_defaults BEGIN"
    "  UPDATE memberships SET own_rules = EXISTS (SELECT 1 FROM push_rules WHERE user_id = old.user_id)"
    "    OR EXISTS (SELECT 1 FROM push_rule_defaults WHERE user_id = old.user_id)"
    "  WHERE user_id = old.user_id;"
    "END;",

    /* 17: an incremental sync asks "which rooms have anything after since"
     * of the streams it reports (store/room_news.h) by position, not room by
     * room: events are ordered by position already (their key); receipts,
     * typing changes, state changes and memberships (whose changes move
     * device lists) get an index by position here. A user's memberships
     * are read from their index alone (memberships_user_stream replaces
     * memberships_user, its prefix): a sync of a user in 300 rooms read
     * 300 rows of the table for their positions. IF NOT EXISTS: a test
     * that rewinds a database to an older version without undoing this one
     * still opens. */
    "CREATE INDEX IF NOT EXISTS receipts_stream ON receipts(stream);"
    "CREATE INDEX IF NOT EXISTS typing_changes_stream ON typing_changes(stream);"
    "CREATE INDEX IF NOT EXISTS room_state_log_stream ON room_state_log(stream);"
    "CREATE INDEX IF NOT EXISTS memberships_stream ON memberships(stream);"
    "CREATE INDEX IF NOT EXISTS memberships_user_stream ON memberships(user_id, membership, stream, forgotten);"
    "DROP INDEX IF EXISTS memberships_user;",

    /* 18: event_edges_prev (prev event id -> the events that name it) goes.
     * No read uses it, and its keys are hashes: every event written put
     * its prev ids on a random leaf, one page more for each event of a
     * commit (a sixth of the pages a group of sends wrote). */
    "DROP INDEX IF EXISTS event_edges_prev;",

    /* 19: a client's transactions are remembered by a 16-byte key
     * (store/txn_keys.c) and the event's position, not by their parts and
     * the event's id: a sixth of the bytes, so far fewer leaf splits under
     * a group of sends. The rows already there are converted. IF NOT
     * EXISTS, and an empty txn_ids made where there is none: a test that
     * rewinds a database to an older version without undoing this one
     * still opens, keeping the transactions it remembered. */
    "CREATE TABLE IF NOT EXISTS txn_ids (user_id TEXT NOT NULL, device_id TEXT NOT NULL, txn_id TEXT NOT NULL,"
    "  event_id TEXT NOT NULL, PRIMARY KEY (user_id, device_id, txn_id)) STRICT, WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS txn_keys ("
    "  key BLOB PRIMARY KEY,"
    "  stream INTEGER NOT NULL) STRICT, WITHOUT ROWID;"
    "INSERT OR IGNORE INTO txn_keys(key, stream)"
    "  SELECT txn_key(t.user_id, t.device_id, t.txn_id), e.stream FROM txn_ids t JOIN events e USING (event_id);"
    "DROP TABLE txn_ids;",

    /* 20: a redaction from another server that came before its target
     * (history fetched newest first, a page at a time) waits for it here,
     * and is applied when the target is stored. */
    "CREATE TABLE IF NOT EXISTS redactions_waiting ("
    "  target TEXT PRIMARY KEY,"
    "  room_id TEXT NOT NULL,"
    "  stream INTEGER NOT NULL) STRICT, WITHOUT ROWID;",

    /* 21: a room's invited members are counted (every /sync's room
     * summary) from an index of the invites alone, not by reading every
     * member of the room: 5,000 rows on each sync of a room of 5,000. */
    "CREATE INDEX IF NOT EXISTS memberships_invited ON memberships(room_id) WHERE membership = 'invite';",

    /* 22: event_auth_edges goes. Nothing read it (an auth chain is walked
     * over the events' own auth_events), and every event wrote a row per
     * auth event: three INSERTs a message, 5% of a send's instructions. */
    "DROP TABLE IF EXISTS event_auth_edges;",

    /* 23: two indexes every message wrote and no statement needs. An
     * event's words are found again by the text they came from
     * (HT_SEARCHED_TEXT: redaction and purge), so event_words needs no
     * index by event; no statement's plan used events_room(room_id,
     * stream): events_room_timeline serves the same. event_words' foreign
     * key goes with its index (a deleted event's children would be looked
     * for by a scan of every word): a constraint is not on disk, so the
     * table's schema text is edited, as SQLite's ALTER TABLE page
     * describes for removing one, rather than every row copied. */
    "DROP INDEX IF EXISTS event_words_stream;"
    "DROP INDEX IF EXISTS events_room;"
    "PRAGMA writable_schema = ON;"
    "UPDATE sqlite_schema SET sql = replace(sql, ' REFERENCES events(stream)', '')"
    "  WHERE type = 'table' AND name = 'event_words';"
    "PRAGMA writable_schema = RESET;",
};

int ht_schema_version_count(void) { return (int)(sizeof migrations / sizeof *migrations); }

const char *ht_schema_migration(int from_version) {
    if (from_version < 0 || from_version >= ht_schema_version_count()) return 0;
    return migrations[from_version];
}
