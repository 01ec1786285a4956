// schema.mjs -- what later migrations made, as SQL that undoes it: tests that
// take a database back to an older schema (to prove a migration) run these
// first, newest first.

// Migration 17: the streams' indexes by position (an incremental sync's
// rooms with news, device lists' membership changes), and the user's
// memberships index that replaced memberships_user.
export const UNDO_STREAM_INDEXES = `DROP INDEX receipts_stream; DROP INDEX typing_changes_stream;
  DROP INDEX room_state_log_stream; DROP INDEX memberships_stream; DROP INDEX memberships_user_stream;
  CREATE INDEX memberships_user ON memberships(user_id, membership);`;

// Migration 16: the keys a message's words look members up by, and the
// members' flag of rules of their own with the triggers that keep it.
export const UNDO_MEMBER_KEYS = `DROP TRIGGER push_rules_own_insert; DROP TRIGGER push_rule_defaults_own_insert;
  DROP TRIGGER push_rules_own_delete; DROP TRIGGER push_rule_defaults_own_delete;
  DROP INDEX memberships_name_key; DROP INDEX memberships_user_key; DROP INDEX memberships_own_rules;
  ALTER TABLE memberships DROP COLUMN name_key; ALTER TABLE memberships DROP COLUMN user_key;
  ALTER TABLE memberships DROP COLUMN own_rules;`;

// Migration 15: the word index replaced FTS5's event_search (which
// migration 3 made until then; the sqlite3 tool here has FTS5). Its rows are
// left empty: the migration, run again, refills the word index from events.
export const UNDO_WORD_INDEX = `DROP TABLE event_words;
  CREATE VIRTUAL TABLE event_search USING fts5(value, key UNINDEXED, room_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2');`;

// Migration 14: members' display names beside their memberships; counts
// shared by the members judged alike.
export const UNDO_MEMBER_NAMES = `ALTER TABLE memberships DROP COLUMN display_name; DROP TABLE unread_alike;
  DROP TABLE unread_alike_threads; ALTER TABLE unread_threads DROP COLUMN alike_seq;
  ALTER TABLE unread_rooms DROP COLUMN alike_seq; DROP INDEX memberships_room_stream;
  DROP INDEX events_room_timeline;`;

// Migration 13: kept unread counts.
export const UNDO_PUSH_ACTIONS = 'DROP TABLE unread_threads; DROP TABLE unread_rooms;';

// Migration 12: the operator's (the admin flag, registration tokens, room
// deletions, media by uploader).
export const UNDO_OPERATOR = `DROP TABLE registration_tokens; DROP TABLE room_deletions; DROP INDEX users_admin;
  DROP INDEX media_uploader; ALTER TABLE users DROP COLUMN admin;`;

// Migration 11: device lists across servers (a change's device, what was
// sent, other servers' users' keys, must-arrive EDUs in the outbox); the
// device-deleted trigger goes back to its older form.
export const UNDO_DEVICE_LISTS = `DROP TABLE e2e_remote_keys; DROP TABLE e2e_device_list_sent; DROP INDEX outbox_edus;
  ALTER TABLE outbox DROP COLUMN durable; DROP TRIGGER e2e_device_deleted;
  CREATE TRIGGER e2e_device_deleted AFTER DELETE ON devices BEGIN
    DELETE FROM e2e_signatures WHERE target_user = old.user_id AND target_key = old.device_id;
    UPDATE stream SET position = position + 1 WHERE id = 1;
    INSERT OR IGNORE INTO e2e_device_list_changes(user_id, stream)
      VALUES (old.user_id, (SELECT position FROM stream WHERE id = 1));
  END;
  ALTER TABLE e2e_device_list_changes DROP COLUMN device_id;`;

// Migration 10 (federation): other servers' keys, transactions, the outbox,
// the servers in each room, remote invites' state.
export const UNDO_FEDERATION_SCHEMA = `DROP TRIGGER room_servers_join_insert; DROP TRIGGER room_servers_join_update;
  DROP TRIGGER room_servers_join_delete; DROP TABLE server_keys; DROP TABLE federation_txns; DROP TABLE outbox;
  DROP TABLE destinations; DROP TABLE room_servers; DROP TABLE invite_room_state;`;

// Migration 9: media bytes in parts (the files here are empty of parts: the
// tests that rewind upload none).
export const UNDO_MEDIA_PARTS = 'DROP TABLE media_parts; ALTER TABLE media ADD COLUMN data BLOB;';

// Migration 8: the event graph.
export const UNDO_EVENT_GRAPH = `DROP TABLE event_edges; DROP TABLE room_extremities;
  DROP TABLE room_state_log; DROP TABLE state_group_entries; DROP TABLE state_groups;
  ALTER TABLE events DROP COLUMN status; ALTER TABLE events DROP COLUMN state_group;`;
