// schema.mjs -- what later migrations made, as SQL that undoes it: tests that
// take a database back to an older schema (to prove a migration) run these
// first, newest first.

// Migration 10: kept unread counts.
export const UNDO_PUSH_ACTIONS = 'DROP TABLE unread_threads; DROP TABLE unread_rooms;';

// Migration 9: media bytes in parts (the files here are empty of parts: the
// tests that rewind upload none).
export const UNDO_MEDIA_PARTS = 'DROP TABLE media_parts; ALTER TABLE media ADD COLUMN data BLOB;';

// Migration 8: the event graph.
export const UNDO_EVENT_GRAPH = `DROP TABLE event_edges; DROP TABLE event_auth_edges; DROP TABLE room_extremities;
  DROP TABLE room_state_log; DROP TABLE state_group_entries; DROP TABLE state_groups;
  ALTER TABLE events DROP COLUMN status; ALTER TABLE events DROP COLUMN state_group;`;
