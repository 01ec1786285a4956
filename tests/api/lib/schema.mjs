// schema.mjs -- what later migrations made, as SQL that undoes it: tests that
// take a database back to an older schema (to prove a migration) drop these
// first, newest first.

// Migration 9 (federation): other servers' keys, transactions, the outbox,
// the servers in each room, remote invites' state.
export const UNDO_FEDERATION_SCHEMA = `DROP TRIGGER room_servers_join_insert; DROP TRIGGER room_servers_join_update;
  DROP TRIGGER room_servers_join_delete; DROP TABLE server_keys; DROP TABLE federation_txns; DROP TABLE outbox;
  DROP TABLE destinations; DROP TABLE room_servers; DROP TABLE invite_room_state;`;
