// cpu_ab.mjs -- the server's own CPU time per request, for comparing two
// builds on a busy machine, where wall-clock figures mostly measure the
// neighbours: node tests/bench/cpu_ab.mjs BIN [BIN...] prints, for each
// binary, the CPU time (user + system, from /proc/<pid>/stat) the server
// spent per request in the cases of issue 15: an incremental /sync with
// one new event for a reader with 2,000 unread, a PUT /send into a
// 32-member room, an initial and an incremental /sync of a user in 300
// rooms, and a room of LARGE_ROOM members (default 5,000) beside a room of
// two: PUT /send, a member's incremental /sync after it, and an initial
// /sync with lazy-loaded members in each. The binaries take turns (ROUNDS,
// default 3) so that both see the same machine; CASES=name,name measures
// only those (the large room's set-up, thousands of users, is skipped when
// none of its cases is asked for).
import { readFileSync } from 'node:fs';

import { startServer } from '../api/lib/server.mjs';
import { V3, createRoom, join, register, seg, sendMessage } from '../api/lib/matrix.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
const LARGE_ROOM = Number(process.env.LARGE_ROOM ?? 5000);
const ALL_CASES = ['sync2000', 'send32', 'initial300', 'incremental300', 'send2', 'sendLarge', 'sync2', 'syncLarge',
  'lazy2', 'lazyLarge'];
const CASES = process.env.CASES ? process.env.CASES.split(',') : ALL_CASES;
const wanted = (...names) => names.some((n) => CASES.includes(n));
const TICK_MS = 10; // USER_HZ 100

const cpuMs = (pid) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
};

// CPU per call of measured(i), each after an unmeasured prepare(i). The
// clock ticks every 10 ms: summed over many calls, the ticks that fall in
// the measured parts give their share.
async function perRequest(srv, n, measured, prepare = async () => {}) {
  let spent = 0;
  for (let i = 0; i < n; i++) {
    await prepare(i);
    const before = cpuMs(srv.proc.pid);
    await measured(i);
    spent += cpuMs(srv.proc.pid) - before;
  }
  return spent / n;
}

async function ok(res) {
  if (res.status !== 200) throw new Error(`${res.status} ${res.text}`);
  return res.json;
}

async function measure(bin) {
  process.env.HOMETAB_BIN = bin;
  const srv = await startServer({ args: ['--no-rate-limit', '--weak-password-hashing'] });
  try {
    const out = {};
    if (wanted('sync2000')) await unreadBacklog(srv, out);
    if (wanted('send32')) await room32(srv, out);
    if (wanted('initial300', 'incremental300')) await manyRooms(srv, out);
    if (wanted('send2', 'sendLarge', 'sync2', 'syncLarge', 'lazy2', 'lazyLarge')) await largeRoom(srv, out);
    return out;
  } finally {
    await srv.stop();
  }
}

// A reader with 2,000 unread who never sends a receipt: one new event, then their incremental sync.
async function unreadBacklog(srv, out) {
  const writer = await register(srv, 'writer');
  const reader = await register(srv, 'reader');
  const room = await createRoom(srv, writer, { preset: 'public_chat' });
  await join(srv, reader, room);
  for (let i = 0; i < 2000; i++) await sendMessage(srv, writer, room, `unread ${i}`);
  let since = (await ok(await srv.fetch(`${V3}/sync`, { token: reader.token }))).next_batch;
  out.sync2000 = await perRequest(srv, 400, async () => {
    since = (await ok(await srv.fetch(`${V3}/sync?since=${since}&timeout=0`, { token: reader.token }))).next_batch;
  }, (i) => sendMessage(srv, writer, room, `one more ${i}`));
}

// PUT /send into a room of 32.
async function room32(srv, out) {
  const people = [];
  for (let i = 0; i < 32; i++) people.push(await register(srv, `p${i}`));
  const big = await createRoom(srv, people[0], { preset: 'public_chat' });
  for (const p of people.slice(1)) await join(srv, p, big);
  out.send32 = await perRequest(srv, 600, (i) => sendMessage(srv, people[0], big, `to 32, ${i}`));
}

// A user in 300 rooms: initial syncs, then incremental ones with one new message.
async function manyRooms(srv, out) {
  const many = await register(srv, 'many');
  const other = await register(srv, 'other');
  for (let i = 0; i < 300; i++) {
    const r = await createRoom(srv, many, { preset: 'public_chat', name: `room ${i}`, topic: `topic ${i}` });
    await join(srv, other, r);
    for (let k = 0; k < 3; k++) await sendMessage(srv, k % 2 ? many : other, r, `message ${k}`);
  }
  await ok(await srv.fetch(`${V3}/sync`, { token: many.token })); // the first judges what is stale
  out.initial300 = await perRequest(srv, 20, () => srv.fetch(`${V3}/sync`, { token: many.token }).then(ok));
  const some = (await ok(await srv.fetch(`${V3}/joined_rooms`, { token: other.token }))).joined_rooms[0];
  let since = (await ok(await srv.fetch(`${V3}/sync`, { token: many.token }))).next_batch;
  out.incremental300 = await perRequest(srv, 200, async () => {
    since = (await ok(await srv.fetch(`${V3}/sync?since=${since}&timeout=0`, { token: many.token }))).next_batch;
  }, (i) => sendMessage(srv, other, some, `new ${i}`));
}

// Runs f(0..n-1), `width` at a time.
async function inParallel(n, width, f) {
  let next = 0;
  const out = [];
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await f(i);
    }
  }));
  return out;
}

// A room of LARGE_ROOM members and a room of two, the same owner and reader in both.
async function largeRoom(srv, out) {
  const users = await inParallel(LARGE_ROOM, 8, (i) => register(srv, `member${i}`));
  const [owner, reader] = users;
  const small = await createRoom(srv, owner, { preset: 'public_chat' });
  await join(srv, reader, small);
  const large = await createRoom(srv, owner, { preset: 'public_chat' });
  await inParallel(LARGE_ROOM - 1, 8, (i) => join(srv, users[i + 1], large));
  const filter = (room, lazy) => encodeURIComponent(JSON.stringify({
    room: { rooms: [room], timeline: { limit: lazy ? 10 : 5 }, ...(lazy ? { state: { lazy_load_members: true } } : {}) },
  }));
  for (const [name, room] of [['2', small], ['Large', large]]) {
    out[`send${name}`] = await perRequest(srv, 200, (i) => sendMessage(srv, owner, room, `to ${name}, ${i}`));
    const f = filter(room, false);
    let since = (await ok(await srv.fetch(`${V3}/sync?filter=${f}`, { token: reader.token }))).next_batch;
    out[`sync${name}`] = await perRequest(srv, 200, async () => {
      since = (await ok(await srv.fetch(`${V3}/sync?since=${since}&timeout=0&filter=${f}`, { token: reader.token })))
        .next_batch;
    }, (i) => sendMessage(srv, owner, room, `for the reader, ${i}`));
    const lazy = filter(room, true);
    out[`lazy${name}`] = await perRequest(srv, 40,
      () => srv.fetch(`${V3}/sync?filter=${lazy}`, { token: reader.token }).then(ok));
  }
}

const bins = process.argv.slice(2);
const results = Object.fromEntries(bins.map((b) => [b, []]));
for (let r = 0; r < ROUNDS; r++)
  for (const bin of bins) results[bin].push(await measure(bin));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const bin of bins) {
  const rows = results[bin];
  console.log(bin);
  for (const key of CASES.filter((c) => rows[0][c] !== undefined))
    console.log(`  ${key.padEnd(11)} CPU ms/request: median ${median(rows.map((x) => x[key])).toFixed(3)}  (${rows.map((x) => x[key].toFixed(3)).join(', ')})`);
}
