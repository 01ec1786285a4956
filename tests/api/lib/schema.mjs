// schema.mjs -- what later migrations made, as SQL that undoes it: tests that
// take a database back to an older schema (to prove a migration) run these
// first, newest first.

// Migration 11: the operator's (the admin flag, registration tokens, room
// deletions, media by uploader).
export const UNDO_OPERATOR = `DROP TABLE registration_tokens; DROP TABLE room_deletions; DROP INDEX users_admin;
  DROP INDEX media_uploader; ALTER TABLE users DROP COLUMN admin;`;

// Migration 10 (federation): other servers' keys, transactions, the outbox,
// the servers in each room, remote invites' state.
export const UNDO_FEDERATION_SCHEMA = `DROP TRIGGER room_servers_join_insert; DROP TRIGGER room_servers_join_update;
  DROP TRIGGER room_servers_join_delete; DROP TABLE server_keys; DROP TABLE federation_txns; DROP TABLE outbox;
  DROP TABLE destinations; DROP TABLE room_servers; DROP TABLE invite_room_state;`;

// Migration 9: media bytes in parts (the files here are empty of parts: the
// tests that rewind upload none).
export const UNDO_MEDIA_PARTS = 'DROP TABLE media_parts; ALTER TABLE media ADD COLUMN data BLOB;';

// Migration 8: the event graph.
export const UNDO_EVENT_GRAPH = `DROP TABLE event_edges; DROP TABLE event_auth_edges; DROP TABLE room_extremities;
  DROP TABLE room_state_log; DROP TABLE state_group_entries; DROP TABLE state_groups;
  ALTER TABLE events DROP COLUMN status; ALTER TABLE events DROP COLUMN state_group;`;
