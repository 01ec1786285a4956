// admin.test.mjs -- the admin API under /_synapse/admin/, in the shapes
// Synapse's admin tools read (synadm, Synapse-Admin): every endpoint, the
// refusals (no token 401, a non-admin 403 M_FORBIDDEN, bad input 400), and
// the log line each admin call leaves.

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';

import { startServer } from './lib/server.mjs';
import { V3, createRoom, join, register, sendMessage, seg } from './lib/matrix.mjs';

const A1 = '/_synapse/admin/v1';
const A2 = '/_synapse/admin/v2';

let srv;
let root; // an admin's token
let bob; // an ordinary user
let carol;

async function loginAs(name, password) {
  const res = await srv.fetch(`${V3}/login`, {
    method: 'POST', body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: name }, password },
  });
  return res;
}

const admin = (path, opts = {}) => srv.fetch(path, { token: root, ...opts });

before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
  execFileSync(process.env.HOMETAB_BIN, ['--db', srv.db, 'create-user', 'root', '--admin'], { input: 'root password\n' });
  root = (await loginAs('root', 'root password')).json.access_token;
  bob = await register(srv, 'bob');
  carol = await register(srv, 'carol');
});
after(() => srv.stop());

describe('who may call it', () => {
  const every = [
    ['GET', `${A1}/server_version`], ['GET', `${A2}/users`], ['GET', `${A2}/users/@bob:localhost`],
    ['PUT', `${A2}/users/@bob:localhost`], ['POST', `${A1}/deactivate/@bob:localhost`],
    ['POST', `${A1}/reset_password/@bob:localhost`], ['GET', `${A1}/users/@bob:localhost/admin`],
    ['PUT', `${A1}/users/@bob:localhost/admin`], ['GET', `${A1}/users/@bob:localhost/joined_rooms`],
    ['GET', `${A2}/users/@bob:localhost/devices`], ['POST', `${A2}/users/@bob:localhost/delete_devices`],
    ['GET', `${A2}/users/@bob:localhost/devices/X`], ['PUT', `${A2}/users/@bob:localhost/devices/X`],
    ['DELETE', `${A2}/users/@bob:localhost/devices/X`], ['GET', `${A1}/users/@bob:localhost/media`],
    ['DELETE', `${A1}/users/@bob:localhost/media`], ['DELETE', `${A1}/media/localhost/abc`],
    ['GET', `${A1}/rooms`], ['GET', `${A1}/rooms/!r:localhost`], ['DELETE', `${A1}/rooms/!r:localhost`],
    ['GET', `${A1}/rooms/!r:localhost/members`], ['GET', `${A1}/rooms/!r:localhost/state`],
    ['DELETE', `${A2}/rooms/!r:localhost`], ['GET', `${A2}/rooms/!r:localhost/delete_status`],
    ['GET', `${A2}/rooms/delete_status/abc`], ['GET', `${A1}/registration_tokens`],
    ['POST', `${A1}/registration_tokens/new`], ['GET', `${A1}/registration_tokens/abc`],
    ['PUT', `${A1}/registration_tokens/abc`], ['DELETE', `${A1}/registration_tokens/abc`],
  ];

  test('without a token every endpoint answers 401 M_MISSING_TOKEN', async () => {
    for (const [method, path] of every) {
      const res = await srv.fetch(path, { method, body: method === 'GET' ? undefined : {} });
      assert.equal(res.status, 401, `${method} ${path}`);
      assert.equal(res.json.errcode, 'M_MISSING_TOKEN', `${method} ${path}`);
    }
  });

  test('a non-admin gets 403 M_FORBIDDEN everywhere, changes nothing, and is logged', async () => {
    for (const [method, path] of every) {
      const res = await srv.fetch(path, { method, body: method === 'GET' ? undefined : { admin: true }, token: bob.token });
      assert.equal(res.status, 403, `${method} ${path}`);
      assert.equal(res.json.errcode, 'M_FORBIDDEN', `${method} ${path}`);
    }
    assert.equal((await admin(`${A1}/users/@bob:localhost/admin`)).json.admin, false);
    assert.match(srv.stderr, /WARN +admin API refused to @bob:localhost \(not a server admin\): PUT \/_synapse\/admin\/v1\/users\/@bob:localhost\/admin/);
  });

  test('an unknown token is 401 M_UNKNOWN_TOKEN', async () => {
    const res = await srv.fetch(`${A2}/users`, { token: 'nonsense' });
    assert.equal(res.status, 401);
    assert.equal(res.json.errcode, 'M_UNKNOWN_TOKEN');
  });
});

describe('the server and its users', () => {
  test('server_version names hometab', async () => {
    const res = await admin(`${A1}/server_version`);
    assert.equal(res.status, 200);
    assert.match(res.json.server_version, /^hometab \d+\.\d+\.\d+$/);
  });

  test('the user list pages, filters and sorts as Synapse documents', async () => {
    const all = await admin(`${A2}/users`);
    assert.equal(all.status, 200);
    assert.deepEqual(all.json.users.map((u) => u.name), ['@bob:localhost', '@carol:localhost', '@root:localhost']);
    assert.equal(all.json.total, 3);
    assert.equal(all.json.next_token, undefined);
    const u = all.json.users.find((x) => x.name === '@root:localhost');
    assert.equal(u.admin, true);
    assert.equal(u.deactivated, false);
    assert.equal(u.is_guest, false);
    assert.equal(u.displayname, 'root');
    assert.equal(typeof u.creation_ts, 'number');
    assert.ok(Math.abs(u.creation_ts - Date.now()) < 600000, 'creation_ts is in milliseconds');

    const page = await admin(`${A2}/users?limit=2`);
    assert.deepEqual(page.json.users.map((x) => x.name), ['@bob:localhost', '@carol:localhost']);
    assert.equal(page.json.next_token, '2');
    const next = await admin(`${A2}/users?limit=2&from=2`);
    assert.deepEqual(next.json.users.map((x) => x.name), ['@root:localhost']);
    assert.equal(next.json.next_token, undefined);

    const back = await admin(`${A2}/users?dir=b`);
    assert.deepEqual(back.json.users.map((x) => x.name), ['@root:localhost', '@carol:localhost', '@bob:localhost']);
    const byName = await admin(`${A2}/users?name=CAR`);
    assert.deepEqual(byName.json.users.map((x) => x.name), ['@carol:localhost']);
    const byId = await admin(`${A2}/users?user_id=${seg('@bo')}`);
    assert.deepEqual(byId.json.users.map((x) => x.name), ['@bob:localhost']);
    const admins = await admin(`${A2}/users?admins=true`);
    assert.deepEqual(admins.json.users.map((x) => x.name), ['@root:localhost']);
    const adminFirst = await admin(`${A2}/users?order_by=admin&dir=b`);
    assert.equal(adminFirst.json.users[0].name, '@root:localhost');
  });

  test('bad list parameters are 400 M_INVALID_PARAM', async () => {
    for (const q of ['from=-1', 'limit=ten', 'dir=sideways', 'order_by=password', 'deactivated=maybe']) {
      const res = await admin(`${A2}/users?${q}`);
      assert.equal(res.status, 400, q);
      assert.equal(res.json.errcode, 'M_INVALID_PARAM', q);
    }
  });

  test('query a user; unknown users are 404 and remote ones 400', async () => {
    const res = await admin(`${A2}/users/${seg('@bob:localhost')}`);
    assert.equal(res.status, 200);
    assert.equal(res.json.name, '@bob:localhost');
    assert.deepEqual(res.json.threepids, []);
    assert.equal(res.json.password_set, true);
    assert.equal((await admin(`${A2}/users/@nobody:localhost`)).status, 404);
    const remote = await admin(`${A2}/users/@bob:elsewhere.org`);
    assert.equal(remote.status, 400);
    assert.equal(remote.json.errcode, 'M_INVALID_PARAM');
    assert.equal((await admin(`${A2}/users/not-a-user-id`)).status, 400);
  });

  test('PUT creates (201) an account that can log in, then modifies it (200)', async () => {
    const made = await admin(`${A2}/users/@dave:localhost`, {
      method: 'PUT', body: { password: 'dave password', displayname: 'Dave', admin: false, threepids: [], external_ids: [] },
    });
    assert.equal(made.status, 201, made.text);
    assert.equal(made.json.name, '@dave:localhost');
    assert.equal(made.json.displayname, 'Dave');
    const login = await loginAs('dave', 'dave password');
    assert.equal(login.status, 200);

    const changed = await admin(`${A2}/users/@dave:localhost`, {
      method: 'PUT', body: { displayname: 'David', avatar_url: 'mxc://localhost/abc', admin: true },
    });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.json.displayname, 'David');
    assert.equal(changed.json.avatar_url, 'mxc://localhost/abc');
    assert.equal(changed.json.admin, true);
    // The profile change reached the profile API.
    const profile = await srv.fetch(`${V3}/profile/${seg('@dave:localhost')}`);
    assert.equal(profile.json.displayname, 'David');
    // A new password logs the user out unless told not to.
    const pw = await admin(`${A2}/users/@dave:localhost`, { method: 'PUT', body: { password: 'new dave password' } });
    assert.equal(pw.status, 200);
    const whoami = await srv.fetch(`${V3}/account/whoami`, { token: login.json.access_token });
    assert.equal(whoami.status, 401);
    assert.equal((await loginAs('dave', 'new dave password')).status, 200);
    assert.match(srv.stderr, /INFO +admin @root:localhost: PUT \/_synapse\/admin\/v2\/users\/@dave:localhost -> 201: created @dave:localhost/);
  });

  test('PUT refuses what it cannot keep, names it, and changes nothing', async () => {
    const cases = [
      [{ password: 5 }, 'M_BAD_JSON'], [{ admin: 'yes' }, 'M_BAD_JSON'], [{ deactivated: 1 }, 'M_BAD_JSON'],
      [{ avatar_url: 'https://example.org/a.png' }, 'M_INVALID_PARAM'], [{ displayname: 'x'.repeat(300) }, 'M_INVALID_PARAM'],
      [{ threepids: [{ medium: 'email', address: 'a@b.c' }] }, 'M_INVALID_PARAM'], [{ user_type: 'bot' }, 'M_INVALID_PARAM'],
      [{ password: 'p'.repeat(1025) }, 'M_INVALID_PARAM'],
    ];
    for (const [body, errcode] of cases) {
      const res = await admin(`${A2}/users/@erin:localhost`, { method: 'PUT', body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.json.errcode, errcode, JSON.stringify(body));
    }
    assert.equal((await admin(`${A2}/users/@erin:localhost`)).status, 404);
    const badName = await admin(`${A2}/users/${seg('@Erin Smith:localhost')}`, { method: 'PUT', body: {} });
    assert.equal(badName.status, 400);
    const notJson = await admin(`${A2}/users/@erin:localhost`, { method: 'PUT', body: 'not json' });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.json.errcode, 'M_NOT_JSON');
  });

  test('an admin may not demote themselves', async () => {
    for (const [method, path, body] of [['PUT', `${A2}/users/@root:localhost`, { admin: false }],
      ['PUT', `${A1}/users/@root:localhost/admin`, { admin: false }]]) {
      const res = await admin(path, { method, body });
      assert.equal(res.status, 400);
    }
    assert.equal((await admin(`${A1}/users/@root:localhost/admin`)).json.admin, true);
  });

  test('the admin flag is read and set', async () => {
    assert.deepEqual((await admin(`${A1}/users/@carol:localhost/admin`)).json, { admin: false });
    const set = await admin(`${A1}/users/@carol:localhost/admin`, { method: 'PUT', body: { admin: true } });
    assert.equal(set.status, 200);
    assert.deepEqual((await admin(`${A1}/users/@carol:localhost/admin`)).json, { admin: true });
    // Carol may now call the admin API herself.
    assert.equal((await srv.fetch(`${A2}/users`, { token: carol.token })).status, 200);
    await admin(`${A1}/users/@carol:localhost/admin`, { method: 'PUT', body: { admin: false } });
    assert.equal((await srv.fetch(`${A2}/users`, { token: carol.token })).status, 403);
    for (const body of [{}, { admin: 'true' }]) {
      const bad = await admin(`${A1}/users/@carol:localhost/admin`, { method: 'PUT', body });
      assert.equal(bad.status, 400, JSON.stringify(body));
    }
  });

  test('reset_password sets a new password and logs the user out', async () => {
    const gus = await register(srv, 'gus');
    const res = await admin(`${A1}/reset_password/@gus:localhost`, { method: 'POST', body: { new_password: 'gus new password' } });
    assert.equal(res.status, 200, res.text);
    assert.equal((await srv.fetch(`${V3}/account/whoami`, { token: gus.token })).status, 401);
    assert.equal((await loginAs('gus', 'gus new password')).status, 200);
    assert.equal((await loginAs('gus', gus.password)).status, 403);
    const kept = await loginAs('gus', 'gus new password');
    await admin(`${A1}/reset_password/@gus:localhost`, { method: 'POST', body: { new_password: 'third', logout_devices: false } });
    assert.equal((await srv.fetch(`${V3}/account/whoami`, { token: kept.json.access_token })).status, 200);
    for (const body of [{}, { new_password: 7 }, { new_password: 'x', logout_devices: 'no' }]) {
      const bad = await admin(`${A1}/reset_password/@gus:localhost`, { method: 'POST', body });
      assert.equal(bad.status, 400, JSON.stringify(body));
    }
    assert.equal((await admin(`${A1}/reset_password/@nobody:localhost`, { method: 'POST', body: { new_password: 'x' } })).status, 404);
  });

  test('deactivate leaves rooms, ends sessions and keeps the name taken; PUT can reactivate', async () => {
    const hal = await register(srv, 'hal');
    const roomId = await createRoom(srv, bob, { preset: 'public_chat' });
    await join(srv, hal, roomId);
    const res = await admin(`${A1}/deactivate/@hal:localhost`, { method: 'POST', body: { erase: true } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json, { id_server_unbind_result: 'success' });
    assert.equal((await srv.fetch(`${V3}/account/whoami`, { token: hal.token })).status, 401);
    const login = await loginAs('hal', hal.password);
    assert.equal(login.status, 403);
    assert.equal(login.json.errcode, 'M_USER_DEACTIVATED');
    const members = await admin(`${A1}/rooms/${seg(roomId)}/members`);
    assert.deepEqual(members.json.members, ['@bob:localhost']);
    const q = await admin(`${A2}/users/@hal:localhost`);
    assert.equal(q.json.deactivated, true);
    assert.equal(q.json.displayname, null);
    const listed = await admin(`${A2}/users?deactivated=true&name=hal`);
    assert.equal(listed.json.total, 1);
    assert.equal((await admin(`${A2}/users?name=hal`)).json.total, 0);
    const bad = await admin(`${A1}/deactivate/@hal:localhost`, { method: 'POST', body: { erase: 'yes' } });
    assert.equal(bad.status, 400);

    // Back, but only with a new password.
    const noPassword = await admin(`${A2}/users/@hal:localhost`, { method: 'PUT', body: { deactivated: false } });
    assert.equal(noPassword.status, 400);
    const back = await admin(`${A2}/users/@hal:localhost`, { method: 'PUT', body: { deactivated: false, password: 'hal again' } });
    assert.equal(back.status, 200, back.text);
    assert.equal(back.json.deactivated, false);
    assert.equal((await loginAs('hal', 'hal again')).status, 200);
  });

  test('joined_rooms lists the rooms a user is joined to', async () => {
    const ivy = await register(srv, 'ivy');
    const r1 = await createRoom(srv, ivy);
    const r2 = await createRoom(srv, ivy);
    const res = await admin(`${A1}/users/@ivy:localhost/joined_rooms`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.json.joined_rooms.sort(), [r1, r2].sort());
    assert.equal(res.json.total, 2);
  });
});

describe("a user's devices", () => {
  test('list, show, rename and delete one or several; the sessions end', async () => {
    const jo = await register(srv, 'jo', { device_id: 'PHONE', initial_device_display_name: 'phone' });
    const laptop = await loginAs('jo', jo.password);
    const tablet = await loginAs('jo', jo.password);
    const list = await admin(`${A2}/users/@jo:localhost/devices`);
    assert.equal(list.status, 200);
    assert.equal(list.json.total, 3);
    const phone = list.json.devices.find((d) => d.device_id === 'PHONE');
    assert.equal(phone.display_name, 'phone');
    assert.equal(phone.user_id, '@jo:localhost');
    assert.equal(typeof phone.last_seen_ts, 'number');

    const one = await admin(`${A2}/users/@jo:localhost/devices/PHONE`);
    assert.equal(one.json.device_id, 'PHONE');
    const renamed = await admin(`${A2}/users/@jo:localhost/devices/PHONE`, { method: 'PUT', body: { display_name: 'old phone' } });
    assert.equal(renamed.status, 200);
    assert.equal((await admin(`${A2}/users/@jo:localhost/devices/PHONE`)).json.display_name, 'old phone');
    assert.equal((await admin(`${A2}/users/@jo:localhost/devices/PHONE`, { method: 'PUT', body: { display_name: 3 } })).status, 400);

    const gone = await admin(`${A2}/users/@jo:localhost/devices/PHONE`, { method: 'DELETE' });
    assert.equal(gone.status, 200);
    assert.equal((await srv.fetch(`${V3}/account/whoami`, { token: jo.token })).status, 401);
    assert.equal((await admin(`${A2}/users/@jo:localhost/devices/PHONE`)).status, 404);

    const many = await admin(`${A2}/users/@jo:localhost/delete_devices`, {
      method: 'POST', body: { devices: [laptop.json.device_id, tablet.json.device_id] },
    });
    assert.equal(many.status, 200);
    assert.equal((await admin(`${A2}/users/@jo:localhost/devices`)).json.total, 0);
    assert.equal((await srv.fetch(`${V3}/account/whoami`, { token: laptop.json.access_token })).status, 401);
    for (const body of [{}, { devices: 'all' }, { devices: [1] }, { devices: Array(1001).fill('X') }]) {
      const bad = await admin(`${A2}/users/@jo:localhost/delete_devices`, { method: 'POST', body });
      assert.equal(bad.status, 400, JSON.stringify(body).slice(0, 40));
    }
    assert.equal((await admin(`${A2}/users/@nobody:localhost/devices`)).status, 404);
  });
});

describe('rooms', () => {
  let roomId;
  before(async () => {
    roomId = await createRoom(srv, bob, { name: 'Tea Room', topic: 'about tea', room_alias_name: 'tea', preset: 'public_chat' });
    await join(srv, carol, roomId);
    await sendMessage(srv, bob, roomId, 'hello tea');
  });

  test('the list shows each room as Synapse does, searches, sorts and pages', async () => {
    const res = await admin(`${A1}/rooms`);
    assert.equal(res.status, 200);
    const tea = res.json.rooms.find((r) => r.room_id === roomId);
    assert.equal(tea.name, 'Tea Room');
    assert.equal(tea.canonical_alias, '#tea:localhost');
    assert.equal(tea.joined_members, 2);
    assert.equal(tea.joined_local_members, 2);
    assert.equal(tea.creator, '@bob:localhost');
    assert.equal(tea.join_rules, 'public');
    assert.equal(tea.history_visibility, 'shared');
    assert.equal(tea.encryption, null);
    assert.equal(tea.federatable, true);
    assert.equal(tea.room_type, null);
    assert.ok(tea.state_events >= 6);
    assert.equal(typeof tea.version, 'string');
    assert.equal(res.json.offset, 0);
    assert.equal(res.json.total_rooms, res.json.rooms.length);

    const found = await admin(`${A1}/rooms?search_term=tea`);
    assert.deepEqual(found.json.rooms.map((r) => r.room_id), [roomId]);
    const bySize = await admin(`${A1}/rooms?order_by=joined_members`);
    assert.equal(bySize.json.rooms[0].room_id, roomId);
    const first = await admin(`${A1}/rooms?limit=1`);
    assert.equal(first.json.rooms.length, 1);
    assert.equal(first.json.next_batch, 1);
    const second = await admin(`${A1}/rooms?limit=1&from=1`);
    assert.equal(second.json.prev_batch, 0);
    assert.notEqual(second.json.rooms[0].room_id, first.json.rooms[0].room_id);
    for (const q of ['order_by=secret', 'dir=up', 'limit=-3', `search_term=${'x'.repeat(300)}`]) {
      assert.equal((await admin(`${A1}/rooms?${q}`)).status, 400, q);
    }
  });

  test('details, members and state', async () => {
    const details = await admin(`${A1}/rooms/${seg(roomId)}`);
    assert.equal(details.status, 200);
    assert.equal(details.json.topic, 'about tea');
    assert.equal(details.json.forgotten, false);
    assert.ok(details.json.joined_local_devices >= 2);
    const members = await admin(`${A1}/rooms/${seg(roomId)}/members`);
    assert.deepEqual(members.json, { members: ['@bob:localhost', '@carol:localhost'], total: 2 });
    const state = await admin(`${A1}/rooms/${seg(roomId)}/state`);
    assert.ok(state.json.state.some((e) => e.type === 'm.room.create' && e.room_id === roomId));
    assert.ok(state.json.state.some((e) => e.type === 'm.room.name' && e.content.name === 'Tea Room'));
    assert.equal((await admin(`${A1}/rooms/${seg('!none:localhost')}`)).status, 404);
    assert.equal((await admin(`${A1}/rooms/not-a-room/members`)).status, 400);
  });

  test('delete (v1) without purge: everyone leaves, the aliases go, the room stays readable to admins', async () => {
    const r = await createRoom(srv, bob, { room_alias_name: 'coffee', preset: 'public_chat' });
    await join(srv, carol, r);
    const res = await admin(`${A1}/rooms/${seg(r)}`, { method: 'DELETE', body: { purge: false } });
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.json.kicked_users.sort(), ['@bob:localhost', '@carol:localhost']);
    assert.deepEqual(res.json.local_aliases, ['#coffee:localhost']);
    assert.equal(res.json.new_room_id, null);
    assert.equal((await srv.fetch(`${V3}/directory/room/${seg('#coffee:localhost')}`)).status, 404);
    assert.deepEqual((await admin(`${A1}/rooms/${seg(r)}/members`)).json.members, []);
    const joined = await srv.fetch(`${V3}/joined_rooms`, { token: carol.token });
    assert.ok(!joined.json.joined_rooms.includes(r));
  });

  test('delete (v2) with purge removes every trace; its status reads complete', async () => {
    const r = await createRoom(srv, bob, { room_alias_name: 'juice', name: 'Juice' });
    const eventId = await sendMessage(srv, bob, r, 'gone soon');
    const res = await admin(`${A2}/rooms/${seg(r)}`, { method: 'DELETE', body: {} });
    assert.equal(res.status, 200, res.text);
    assert.ok(res.json.delete_id);
    assert.equal((await admin(`${A1}/rooms/${seg(r)}`)).status, 404);
    assert.ok(!(await admin(`${A1}/rooms`)).json.rooms.some((x) => x.room_id === r));
    const ev = await srv.fetch(`${V3}/rooms/${seg(r)}/event/${seg(eventId)}`, { token: bob.token });
    assert.notEqual(ev.status, 200);
    const byId = await admin(`${A2}/rooms/delete_status/${res.json.delete_id}`);
    assert.equal(byId.status, 200);
    assert.equal(byId.json.status, 'complete');
    assert.deepEqual(byId.json.shutdown_room.kicked_users, ['@bob:localhost']);
    assert.deepEqual(byId.json.shutdown_room.local_aliases, ['#juice:localhost']);
    const byRoom = await admin(`${A2}/rooms/${seg(r)}/delete_status`);
    assert.deepEqual(byRoom.json.results.map((x) => x.delete_id), [res.json.delete_id]);
    assert.equal((await admin(`${A2}/rooms/delete_status/unknown`)).status, 404);
    // No table keeps a row of the room, but the deletion's own record (and
    // people's encrypted key backups, which are theirs, not the room's).
    const tables = execFileSync('sqlite3', [srv.db, `SELECT m.name FROM sqlite_master m, pragma_table_info(m.name) p
      WHERE m.type = 'table' AND p.name = 'room_id' AND m.name NOT IN ('room_deletions', 'e2e_backup_keys')`], { encoding: 'utf8' })
      .trim().split('\n');
    assert.ok(tables.includes('events') && tables.includes('room_servers'), tables.join(' '));
    for (const table of tables) {
      const left = execFileSync('sqlite3', [srv.db, `SELECT count(*) FROM "${table}" WHERE room_id = '${r}'`], { encoding: 'utf8' });
      assert.equal(left.trim(), '0', `${table} keeps rows of the purged room`);
    }
    // Nor does the word index (it has no room id, nor a foreign key).
    const words = execFileSync('sqlite3', [srv.db, 'SELECT count(*) FROM event_words WHERE stream NOT IN (SELECT stream FROM events)'],
      { encoding: 'utf8' });
    assert.equal(words.trim(), '0', 'the word index keeps rows of the purged room');
    // The database is whole after the purge (foreign keys and all).
    const check = execFileSync('sqlite3', [srv.db, 'PRAGMA foreign_key_check; PRAGMA integrity_check;'], { encoding: 'utf8' });
    assert.equal(check.trim(), 'ok');
    assert.match(srv.stderr, new RegExp(`admin @root:localhost: DELETE /_synapse/admin/v2/rooms/${r.replace(/[!.]/g, '\\$&')} -> 200: deleted room`));
  });

  test('what hometab does not do in a deletion is refused, not skipped', async () => {
    const r = await createRoom(srv, bob);
    for (const body of [{ block: true }, { new_room_user_id: '@root:localhost' }, { purge: 'yes' }, 'not json']) {
      const res = await admin(`${A1}/rooms/${seg(r)}`, { method: 'DELETE', body });
      assert.equal(res.status, 400, JSON.stringify(body));
    }
    assert.equal((await admin(`${A1}/rooms/${seg(r)}`)).status, 200);
    assert.equal((await admin(`${A1}/rooms/${seg('!nothing:localhost')}`, { method: 'DELETE', body: {} })).status, 404);
  });
});

describe('media', () => {
  test("a user's files are listed newest first, paged, and deleted", async () => {
    const ids = [];
    for (const [i, type] of ['text/plain', 'image/png', 'application/pdf'].entries()) {
      const res = await srv.fetch(`/_matrix/media/v3/upload?filename=f${i}`, {
        method: 'POST', body: Buffer.from(`file ${i}`.repeat(i + 1)), token: carol.token, headers: { 'content-type': type },
      });
      assert.equal(res.status, 200, res.text);
      ids.push(res.json.content_uri.split('/').pop());
      await new Promise((r) => setTimeout(r, 5));
    }
    const list = await admin(`${A1}/users/@carol:localhost/media`);
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.media.map((m) => m.media_id), [...ids].reverse());
    assert.equal(list.json.total, 3);
    const m = list.json.media.at(-1);
    assert.equal(m.media_type, 'text/plain');
    assert.equal(m.upload_name, 'f0');
    assert.equal(m.media_length, 6);
    const bySize = await admin(`${A1}/users/@carol:localhost/media?order_by=media_length&dir=b&limit=1`);
    assert.deepEqual(bySize.json.media.map((x) => x.media_id), [ids[2]]);
    assert.equal(bySize.json.next_token, 1);
    assert.equal((await admin(`${A1}/users/@carol:localhost/media?order_by=colour`)).status, 400);

    const one = await admin(`${A1}/media/localhost/${ids[0]}`, { method: 'DELETE' });
    assert.deepEqual(one.json, { deleted_media: [ids[0]], total: 1 });
    const dl = await srv.fetch(`/_matrix/client/v1/media/download/localhost/${ids[0]}`, { token: carol.token });
    assert.equal(dl.status, 404);
    assert.equal((await admin(`${A1}/media/localhost/${ids[0]}`, { method: 'DELETE' })).status, 404);
    assert.equal((await admin(`${A1}/media/elsewhere.org/${ids[1]}`, { method: 'DELETE' })).status, 400);

    const rest = await admin(`${A1}/users/@carol:localhost/media`, { method: 'DELETE' });
    assert.deepEqual(rest.json.deleted_media.sort(), [ids[1], ids[2]].sort());
    assert.equal(rest.json.total, 2);
    assert.equal((await admin(`${A1}/users/@carol:localhost/media`)).json.total, 0);
  });
});

describe('registration tokens', () => {
  test('create (given or random), list by validity, read, update and delete', async () => {
    const made = await admin(`${A1}/registration_tokens/new`, { method: 'POST', body: { token: 'abc-1', uses_allowed: 2 } });
    assert.deepEqual(made.json, { token: 'abc-1', uses_allowed: 2, pending: 0, completed: 0, expiry_time: null });
    const random = await admin(`${A1}/registration_tokens/new`, { method: 'POST', body: { length: 30 } });
    assert.match(random.json.token, /^[A-Za-z0-9._~-]{30}$/);
    const spent = await admin(`${A1}/registration_tokens/new`, { method: 'POST', body: { uses_allowed: 0 } });

    const all = await admin(`${A1}/registration_tokens`);
    assert.equal(all.json.registration_tokens.length, 3);
    const valid = await admin(`${A1}/registration_tokens?valid=true`);
    assert.deepEqual(valid.json.registration_tokens.map((t) => t.token).sort(), ['abc-1', random.json.token].sort());
    const invalid = await admin(`${A1}/registration_tokens?valid=false`);
    assert.deepEqual(invalid.json.registration_tokens.map((t) => t.token), [spent.json.token]);

    const expiry = Date.now() + 3600000;
    const updated = await admin(`${A1}/registration_tokens/abc-1`, { method: 'PUT', body: { expiry_time: expiry } });
    assert.deepEqual(updated.json, { token: 'abc-1', uses_allowed: 2, pending: 0, completed: 0, expiry_time: expiry });
    const unlimited = await admin(`${A1}/registration_tokens/abc-1`, { method: 'PUT', body: { uses_allowed: null } });
    assert.equal(unlimited.json.uses_allowed, null);
    assert.equal(unlimited.json.expiry_time, expiry);
    assert.deepEqual((await admin(`${A1}/registration_tokens/abc-1`)).json, unlimited.json);

    assert.deepEqual((await admin(`${A1}/registration_tokens/abc-1`, { method: 'DELETE' })).json, {});
    const missing = await admin(`${A1}/registration_tokens/abc-1`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.errcode, 'M_NOT_FOUND');
    assert.equal((await admin(`${A1}/registration_tokens/abc-1`, { method: 'DELETE' })).status, 404);
    assert.equal((await admin(`${A1}/registration_tokens/abc-1`, { method: 'PUT', body: {} })).status, 404);
  });

  test('bad tokens, counts, times and lengths are 400 M_INVALID_PARAM; duplicates too', async () => {
    await admin(`${A1}/registration_tokens/new`, { method: 'POST', body: { token: 'taken' } });
    const cases = [{ token: 'has space' }, { token: 'x'.repeat(65) }, { token: '' }, { uses_allowed: -1 },
      { uses_allowed: 1.5 }, { expiry_time: Date.now() - 1000 }, { length: 0 }, { length: 65 }, { token: 'taken' }];
    for (const body of cases) {
      const res = await admin(`${A1}/registration_tokens/new`, { method: 'POST', body });
      assert.equal(res.status, 400, JSON.stringify(body));
      assert.equal(res.json.errcode, 'M_INVALID_PARAM', JSON.stringify(body));
    }
    assert.equal((await admin(`${A1}/registration_tokens?valid=perhaps`)).status, 400);
    assert.equal((await admin(`${A1}/registration_tokens/taken`, { method: 'PUT', body: { uses_allowed: 'many' } })).status, 400);
  });
});

test('every admin action is logged once, with who did what; rolled-back work is logged as failed', () => {
  const lines = srv.stderr.split('\n').filter((l) => / admin @root:localhost: /.test(l));
  assert.ok(lines.length > 50, `${lines.length} admin lines`);
  for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN ) admin @root:localhost: (GET|PUT|POST|DELETE) \/_synapse\/admin\/v[12]\/.* -> \d{3}/);
  // A change that was refused is a warning; a refused read is not.
  assert.ok(lines.some((l) => /WARN +admin @root:localhost: PUT \/_synapse\/admin\/v2\/users\/@erin:localhost -> 400: M_BAD_JSON/.test(l)));
  assert.ok(lines.some((l) => /INFO +admin @root:localhost: GET \/_synapse\/admin\/v2\/users\/@nobody:localhost -> 404: M_NOT_FOUND/.test(l)));
  // Password work is handed to the thread pool and replayed: still one line.
  const created = lines.filter((l) => /PUT \/_synapse\/admin\/v2\/users\/@dave:localhost -> 201/.test(l));
  assert.equal(created.length, 1);
  // No access token ever reaches the log.
  assert.doesNotMatch(srv.stderr, new RegExp(root));
});
