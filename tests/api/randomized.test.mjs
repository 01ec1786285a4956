// randomized.test.mjs -- several users doing random things for a while
// (issue 9): the bounds hold at their edges and past them, and nobody ever
// reads what history visibility hides from them, whatever door they use.
//
// Five users join, leave, and get banned from rooms whose history is
// visible only while joined; they send messages, thread replies and
// redactions, set state, tags, account data, push rules, device names and
// filters with sizes drawn around each bound; they read through /sync,
// /messages, /context, /event, /relations, /threads, /search and
// /notifications. A model keeps who was in which room when each message
// was sent; every message carries a unique word, and every answer a user
// gets is searched for the words of messages sent while they were away.
// Invariants: never a 500; past a bound a 400 or 413; at the bound no
// refusal for size; no hidden word in any answer; search counts no hidden
// hit; a canonical alias never names another room's alias.
//
// The run is seeded (RANDOMIZED_SEED=n repeats one) and stops after
// RANDOMIZED_OPS operations or RANDOMIZED_SECONDS, whichever comes first.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { SANITIZED, startServer } from './lib/server.mjs';
import { V3, register, seg } from './lib/matrix.mjs';

const SEED = Number(process.env.RANDOMIZED_SEED ?? Date.now() % 1e9);
const OPS = Number(process.env.RANDOMIZED_OPS ?? 3000);
const SECONDS = Number(process.env.RANDOMIZED_SECONDS ?? (SANITIZED ? 45 : 25));

// mulberry32: small, seedable, good enough to pick operations.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = rng(SEED);
const pick = (list) => list[Math.floor(random() * list.length)];
const chance = (p) => random() < p;
// A length around a bound: below, at, or just past it.
const around = (bound) => bound - 3 + Math.floor(random() * 7);

let srv;
const users = [];
const rooms = []; // { id, creator, members: Set<user_id>, banned: Set, messages: [{id, word, root}] , alias }
const hidden = new Map(); // user_id -> Set of words sent while they were not joined
let wordCounter = 0;
const stats = { requests: 0, refusedForSize: 0, leaksChecked: 0, statuses: {} };

before(async () => {
  srv = await startServer({ args: ['--no-rate-limit'] });
  for (const name of ['ann', 'ben', 'cat', 'dan', 'eve']) {
    const u = await register(srv, name);
    users.push(u);
    hidden.set(u.user_id, new Set());
  }
});
after(() => srv.stop());

// Every request goes through here: the invariants that hold for any answer.
async function call(who, method, path, body) {
  const res = await srv.fetch(path, { method, body, token: who?.token });
  stats.requests++;
  stats.statuses[res.status] = (stats.statuses[res.status] ?? 0) + 1;
  assert.notEqual(res.status, 500, `${method} ${path} answered 500 (seed ${SEED}): ${res.text}`);
  if (res.status >= 400) {
    assert.equal(typeof res.json?.errcode, 'string', `${method} ${path}: ${res.text}`);
  }
  if (who) {
    const secret = hidden.get(who.user_id);
    const asked = `${path} ${JSON.stringify(body ?? '')}`; // a search's highlights echo its own term
    for (const [, word] of res.text.matchAll(/\b(zq[0-9]+z)\b/g)) {
      if (asked.includes(word)) continue;
      stats.leaksChecked++;
      assert.ok(!secret.has(word),
        `${who.user_id} read "${word}", sent while they were away, through ${method} ${path} (seed ${SEED})`);
    }
  }
  return res;
}

// A call whose size is past a bound (over) must be refused for it; one at
// or under the bound must not be refused at all.
function sized(res, over, what) {
  if (over) {
    assert.ok(res.status === 400 || res.status === 413, `${what} past its bound answered ${res.status}: ${res.text}`);
    stats.refusedForSize++;
  } else {
    assert.equal(res.status, 200, `${what} within its bound answered ${res.status}: ${res.text}`);
  }
}

const joinedRoom = (who) => rooms.filter((r) => r.members.has(who.user_id));

async function createRoom(who) {
  const alias = chance(0.5) ? `r${rooms.length}x${SEED % 1000}` : undefined;
  const res = await call(who, 'POST', `${V3}/createRoom`, {
    preset: 'public_chat', room_alias_name: alias,
    initial_state: [{ type: 'm.room.history_visibility', content: { history_visibility: 'joined' } }],
  });
  assert.equal(res.status, 200, res.text);
  rooms.push({ id: res.json.room_id, creator: who.user_id, members: new Set([who.user_id]), banned: new Set(),
    messages: [], alias: alias && `#${alias}:localhost` });
}

async function stealAlias(who) {
  const victim = rooms.find((r) => r.alias);
  if (!victim) return;
  const res = await call(who, 'POST', `${V3}/createRoom`, {
    initial_state: [{ type: 'm.room.canonical_alias', content: chance(0.5) ? { alias: victim.alias } : { alt_aliases: [victim.alias] } }],
  });
  assert.equal(res.status, 400, `createRoom claiming ${victim.alias}: ${res.text}`);
  assert.equal(res.json.errcode, 'M_BAD_ALIAS');
  const own = joinedRoom(who).find((r) => r.creator === who.user_id && r !== victim);
  if (own) {
    const put = await call(who, 'PUT', `${V3}/rooms/${seg(own.id)}/state/m.room.canonical_alias`, { alias: victim.alias });
    assert.equal(put.status, 400, put.text);
  }
}

async function joinOrLeave(who) {
  const room = pick(rooms);
  if (room.members.has(who.user_id)) {
    if (room.creator === who.user_id) return; // the creator stays, to keep the room alive
    const res = await call(who, 'POST', `${V3}/rooms/${seg(room.id)}/leave`, {});
    assert.equal(res.status, 200, res.text);
    room.members.delete(who.user_id);
  } else {
    const res = await call(who, 'POST', `${V3}/join/${seg(room.id)}`, {});
    if (room.banned.has(who.user_id)) {
      assert.equal(res.status, 403, `a banned user joined: ${res.text}`);
      return;
    }
    assert.equal(res.status, 200, res.text);
    room.members.add(who.user_id);
  }
}

async function ban(who) {
  const room = joinedRoom(who).find((r) => r.creator === who.user_id);
  if (!room) return;
  const target = pick(users.filter((u) => u !== who));
  const res = await call(who, 'POST', `${V3}/rooms/${seg(room.id)}/ban`, { user_id: target.user_id, reason: 'random' });
  assert.equal(res.status, 200, res.text);
  room.members.delete(target.user_id);
  room.banned.add(target.user_id);
}

async function sendMessage(who) {
  const room = pick(joinedRoom(who));
  if (!room) return;
  const word = `zq${++wordCounter}z`;
  const content = { msgtype: 'm.text', body: `${word} ${'x'.repeat(Math.floor(random() * 200))}` };
  const root = room.messages.length && chance(0.3) ? pick(room.messages) : null;
  if (root) content['m.relates_to'] = { rel_type: 'm.thread', event_id: root.id };
  if (chance(0.05)) content.url = 'mxc://localhost/file';
  const res = await call(who, 'PUT', `${V3}/rooms/${seg(room.id)}/send/m.room.message/${wordCounter}`, content);
  assert.equal(res.status, 200, res.text);
  room.messages.push({ id: res.json.event_id, word });
  for (const u of users) if (!room.members.has(u.user_id)) hidden.get(u.user_id).add(word);
}

async function redact(who) {
  const room = joinedRoom(who).find((r) => r.creator === who.user_id && r.messages.length);
  if (!room) return;
  const target = pick(room.messages);
  const res = await call(who, 'PUT', `${V3}/rooms/${seg(room.id)}/redact/${seg(target.id)}/r${++wordCounter}`, {});
  assert.equal(res.status, 200, res.text);
}

async function sizedState(who) {
  const room = joinedRoom(who).find((r) => r.creator === who.user_id);
  if (!room) return;
  const typeLen = around(255);
  const keyLen = around(255);
  const res = await call(who, 'PUT', `${V3}/rooms/${seg(room.id)}/state/${'t'.repeat(typeLen)}/${'k'.repeat(keyLen)}`, { v: 1 });
  sized(res, typeLen > 255 || keyLen > 255, `state type ${typeLen} / key ${keyLen}`);
}

async function sizedEventType(who) {
  const room = pick(joinedRoom(who));
  if (!room) return;
  const len = around(255);
  const res = await call(who, 'PUT', `${V3}/rooms/${seg(room.id)}/send/${'e'.repeat(len)}/s${++wordCounter}`, { v: 1 });
  sized(res, len > 255, `event type of ${len} bytes`);
}

async function sizedTag(who) {
  const room = pick(rooms);
  const nameLen = around(255);
  const noteLen = around(1024 - 24);
  const res = await call(who, 'PUT', `${V3}/user/${seg(who.user_id)}/rooms/${seg(room.id)}/tags/${'g'.repeat(nameLen)}`,
    { order: 0.5, note: 'n'.repeat(noteLen) });
  const contentLen = JSON.stringify({ order: 0.5, note: 'n'.repeat(noteLen) }).length;
  if (res.status === 400 && res.text.includes('100 tags')) return; // the room's tag count, another bound
  sized(res, nameLen > 255 || contentLen > 1024, `tag ${nameLen} / content ${contentLen}`);
}

async function sizedDeviceName(who) {
  const len = around(100);
  const res = await call(who, 'PUT', `${V3}/devices/${seg(who.device_id)}`, { display_name: 'é'.repeat(len) });
  sized(res, len > 100, `device name of ${len} characters`);
}

async function sizedPushRule(who) {
  const len = around(255);
  const wild = chance(0.5);
  const pattern = wild ? `*${'?'.repeat(len - 2)}*` : 'p'.repeat(len);
  const res = await call(who, 'PUT', `${V3}/pushrules/global/override/r${++wordCounter}`, {
    conditions: [{ kind: 'event_match', key: 'content.body', pattern }], actions: ['notify'],
  });
  if (res.status === 400 && res.text.includes('500 push rules')) return;
  sized(res, len > 255, `push pattern of ${len} bytes`);
}

async function sizedFilter(who) {
  const len = around(255);
  const res = await call(who, 'POST', `${V3}/user/${seg(who.user_id)}/filter`,
    { room: { timeline: { types: [`*${'f'.repeat(len - 1)}`, 'm.room.*'] } } });
  sized(res, len > 255, `filter entry of ${len} bytes`);
}

async function sizedToDevice(who) {
  const len = around(65536 - 8); // {"b":"..."} adds 8 bytes
  const content = { b: 'd'.repeat(len) };
  const res = await call(who, 'PUT', `${V3}/sendToDevice/org.example/${++wordCounter}`,
    { messages: { [pick(users).user_id]: { '*': content } } });
  sized(res, JSON.stringify(content).length > 65536, `to-device message of ${JSON.stringify(content).length} bytes`);
}

// ---- reading ---------------------------------------------------------------

async function readSomething(who) {
  const room = pick(rooms);
  const path = `${V3}/rooms/${seg(room.id)}`;
  const event = room.messages.length ? pick(room.messages) : null;
  switch (Math.floor(random() * 8)) {
    case 0: await call(who, 'GET', `${V3}/sync?filter=${encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 50 } } }))}`); break;
    case 1: await call(who, 'GET', `${path}/messages?dir=b&limit=100`); break;
    case 2: if (event) await call(who, 'GET', `${path}/context/${seg(event.id)}?limit=20`); break;
    case 3: if (event) await call(who, 'GET', `${path}/event/${seg(event.id)}`); break;
    case 4: if (event) await call(who, 'GET', `/_matrix/client/v1/rooms/${seg(room.id)}/relations/${seg(event.id)}?recurse=true`); break;
    case 5: await call(who, 'GET', `/_matrix/client/v1/rooms/${seg(room.id)}/threads`); break;
    case 6: await call(who, 'GET', `${V3}/notifications`); break;
    default: await searchWord(who, room); break;
  }
}

// A word the user may not see is not counted; one they may see, at most once.
async function searchWord(who, room) {
  if (!room.messages.length) return;
  const { word } = pick(room.messages);
  const res = await call(who, 'POST', `${V3}/search`, { search_categories: { room_events: { search_term: word } } });
  assert.equal(res.status, 200, res.text);
  const { count, results } = res.json.search_categories.room_events;
  if (hidden.get(who.user_id).has(word)) assert.equal(count, 0, `search counted ${word}, hidden from ${who.user_id}`);
  assert.ok(count <= 1 && results.length <= count, `search for ${word}: count ${count}, ${results.length} results`);
}

const actions = [
  [joinOrLeave, 12], [sendMessage, 25], [readSomething, 30], [redact, 2], [ban, 1], [stealAlias, 2],
  [sizedState, 4], [sizedEventType, 4], [sizedTag, 4], [sizedDeviceName, 3], [sizedPushRule, 3],
  [sizedFilter, 3], [sizedToDevice, 2], [createRoom, 1],
];
const totalWeight = actions.reduce((s, [, w]) => s + w, 0);
function pickAction() {
  let r = random() * totalWeight;
  for (const [fn, w] of actions) if ((r -= w) < 0) return fn;
  return actions[0][0];
}

test(`random users keep within every bound and never read what is hidden from them (seed ${SEED})`, async (t) => {
  for (const u of users.slice(0, 3)) await createRoom(u);
  const deadline = Date.now() + SECONDS * 1000;
  let ops = 0;
  for (; ops < OPS && Date.now() < deadline; ops++) await pickAction()(pick(users));
  // A final read by everyone of everything.
  for (const u of users) for (const room of rooms) await searchWord(u, room);
  t.diagnostic(`seed ${SEED}: ${ops} operations, ${stats.requests} requests, ${stats.refusedForSize} refused for size, ` +
    `${stats.leaksChecked} words checked against visibility, ${rooms.length} rooms, ${wordCounter} words; ` +
    `statuses ${JSON.stringify(stats.statuses)}`);
  assert.ok(ops >= 200, `only ${ops} operations ran`);
  assert.ok(stats.refusedForSize > 0 && stats.leaksChecked > 0);
});
