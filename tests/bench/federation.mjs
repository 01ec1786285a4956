// federation.mjs -- the federation figures `make bench` prints (make bench-federation): two
// release hometabs on loopback, named 127.0.0.1:<port>, federating in the plain-HTTP loopback
// mode, each with a fresh database and --no-rate-limit.
//
//   - send on A -> a client of B receives it in a parked /sync: p50 and p99;
//   - 1,000 messages sent on A (16 senders at once) all reach B's client: time and rate;
//   - a 500-member room on A joined by a user of B: the time of the join, and the longest any other
//     request waited on A and on B meanwhile (each builds or takes the room's whole state in one
//     call into its core, which serves nobody else until it returns).
//
// Environment: HOMETAB_BIN (default build/native/hometab), BENCH_FED_SAMPLES (200),
// BENCH_FED_MESSAGES (1000), BENCH_FED_MEMBERS (500): shorten them only to try the script.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { api, newAgent } from './lib/client.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.HOMETAB_BIN ?? join(ROOT, 'build/native/hometab');
const SAMPLES = Number(process.env.BENCH_FED_SAMPLES ?? 200);
const MESSAGES = Number(process.env.BENCH_FED_MESSAGES ?? 1000);
const MEMBERS = Number(process.env.BENCH_FED_MEMBERS ?? 500);
const SENDERS = 16;
const enc = encodeURIComponent;

// ---- two servers ------------------------------------------------------------

function freePort() {
  return new Promise((ok, fail) => {
    const s = net.createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function startServer(dir, label) {
  const port = await freePort();
  const name = `127.0.0.1:${port}`;
  const proc = spawn(BIN, ['--listen', name, '--server-name', name, '--db', join(dir, `${label}.sqlite`),
    '--federation', '--federation-insecure-http', '--no-rate-limit'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise((r) => proc.on('close', (code, signal) => r({ code, signal })));
  await new Promise((ok, fail) => {
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (/listening on/.test(out)) ok();
    });
    exited.then(({ code }) => fail(new Error(`hometab ${label} exited with ${code}:\n${stderr}`)));
  });
  return {
    url: `http://${name}`,
    name,
    async stop() {
      proc.kill('SIGTERM');
      const { code, signal } = await exited;
      if (code !== 0) throw new Error(`hometab ${label} stopped with ${code ?? signal}:\n${stderr}`);
    },
  };
}

async function register(server, name) {
  const agent = newAgent();
  const r = await api(server, { agent }, 'POST', '/register', { username: name, password: `pw-${name}`, auth: { type: 'm.login.dummy' } });
  return { userId: r.user_id, token: r.access_token, agent };
}

async function joinOver(server, who, roomId, via) {
  await api(server, who, 'POST', `/join/${enc(roomId)}?server_name=${enc(via)}`, {});
}

let txn = 0;
const send = (server, who, roomId, body) =>
  api(server, who, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/f${++txn}`, { msgtype: 'm.text', body });

function percentile(values, p) {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const onlyRoom = (roomId, limit) => enc(JSON.stringify({ room: { rooms: [roomId], timeline: { limit } } }));

// ---- figures ----------------------------------------------------------------

// B long-polls /sync; A sends; the time from A's send starting to B's sync returning with it.
async function crossServerWake(a, b, alice, bob) {
  const roomId = (await api(a, alice, 'POST', '/createRoom', { preset: 'public_chat' })).room_id;
  await joinOver(b, bob, roomId, a.name);
  let since = (await api(b, bob, 'GET', `/sync?filter=${onlyRoom(roomId, 1)}`)).next_batch;
  const times = [];
  for (let i = 0; i < SAMPLES; i++) {
    const body = `wake ${i}`;
    let done;
    const polled = (async () => {
      for (;;) {
        const s = await api(b, bob, 'GET', `/sync?since=${since}&timeout=30000&filter=${onlyRoom(roomId, 5)}`);
        done = performance.now();
        since = s.next_batch;
        if ((s.rooms?.join?.[roomId]?.timeline?.events ?? []).some((e) => e.content?.body === body)) return;
      }
    })();
    await new Promise((r) => setTimeout(r, 2)); // let the sync park
    const started = performance.now();
    await send(a, alice, roomId, body);
    await polled;
    times.push(done - started);
  }
  const command = `federation.mjs: ${SAMPLES} samples; B's client long-polls /sync, A's sends`;
  return [
    { figure: 'send on A -> parked /sync on B returns, p50', value: percentile(times, 50), unit: 'ms', command },
    { figure: 'send on A -> parked /sync on B returns, p99', value: percentile(times, 99), unit: 'ms', command },
  ];
}

// SENDERS users of A send MESSAGES messages at once; B's client counts them arriving.
async function bulkDelivery(a, b, alice, bob, senders) {
  const roomId = (await api(a, alice, 'POST', '/createRoom', { preset: 'public_chat' })).room_id;
  for (const s of senders) await api(a, s, 'POST', `/join/${enc(roomId)}`, {});
  await joinOver(b, bob, roomId, a.name);
  let since = (await api(b, bob, 'GET', `/sync?filter=${onlyRoom(roomId, 1)}`)).next_batch;
  const per = Math.ceil(MESSAGES / senders.length);
  const total = per * senders.length;
  const started = performance.now();
  let sentAt;
  const sending = Promise.all(senders.map(async (who, k) => {
    for (let i = 0; i < per; i++) await send(a, who, roomId, `bulk ${k}.${i}`);
  })).then(() => (sentAt = performance.now()));
  let seen = 0;
  while (seen < total) {
    const s = await api(b, bob, 'GET', `/sync?since=${since}&timeout=30000&filter=${onlyRoom(roomId, 1000)}`);
    since = s.next_batch;
    const room = s.rooms?.join?.[roomId];
    seen += (room?.timeline?.events ?? []).filter((e) => e.content?.body?.startsWith('bulk ')).length;
    if (room?.timeline?.limited) throw new Error('a limited timeline: the count would be wrong');
  }
  const arrived = performance.now();
  await sending;
  const command = `federation.mjs: ${total} messages from ${senders.length} senders on A, counted in B's /sync`;
  return [
    { figure: `${total} messages sent on A: all on B after`, value: (arrived - started) / 1000, unit: 's', command },
    { figure: `${total} messages sent on A: rate reaching B`, value: total / ((arrived - started) / 1000), unit: 'msg/s', command },
    { figure: `${total} messages sent on A: sending alone took`, value: (sentAt - started) / 1000, unit: 's', command },
  ];
}

// A room on A with MEMBERS members; a user of B joins it: the time of the join request.
async function bigRoomJoin(a, b, alice, bob) {
  const roomId = (await api(a, alice, 'POST', '/createRoom', { preset: 'public_chat' })).room_id;
  const batch = 8; // registrations hash passwords: a few at a time keep the thread pool busy
  for (let i = 1; i < MEMBERS; i += batch) {
    await Promise.all(Array.from({ length: Math.min(batch, MEMBERS - i) }, async (_, k) => {
      const m = await register(a, `member${i + k}`);
      await api(a, m, 'POST', `/join/${enc(roomId)}`, {});
      m.agent.destroy();
    }));
  }
  const joined = { done: false };
  const waits = [longestWait(a, joined), longestWait(b, joined)];
  const started = performance.now();
  await joinOver(b, bob, roomId, a.name);
  const took = performance.now() - started;
  joined.done = true;
  const [onA, onB] = await Promise.all(waits);
  const members = await api(b, bob, 'GET', `/rooms/${enc(roomId)}/joined_members`);
  const count = Object.keys(members.joined).length;
  if (count !== MEMBERS + 1) throw new Error(`B sees ${count} members, not ${MEMBERS + 1}`);
  const probe = (server, probes) => `federation.mjs: GET /versions on ${server}, one after another ` +
    `(${probes} answered), while a user of B joins the ${MEMBERS}-member room`;
  return [
    { figure: `join over federation, ${MEMBERS}-member room`, value: took, unit: 'ms',
      command: `federation.mjs: POST /join?server_name=A by a user of B (B then lists ${count} members)` },
    { figure: 'longest other request during the join, on A', value: onA.longest, unit: 'ms',
      command: probe('A', onA.probes) },
    { figure: 'longest other request during the join, on B', value: onB.longest, unit: 'ms',
      command: probe('B', onB.probes) },
  ];
}

// The longest a trivial request waits on `server` until `until.done`: how long the server served
// nobody else. One at a time, 2 ms apart, on a keep-alive connection.
async function longestWait(server, until) {
  let longest = 0;
  let probes = 0;
  while (!until.done) {
    const t = performance.now();
    const res = await fetch(`${server.url}/_matrix/client/versions`);
    await res.text();
    if (!res.ok) throw new Error(`GET /versions on ${server.name}: ${res.status}`);
    longest = Math.max(longest, performance.now() - t);
    probes++;
    await new Promise((r) => setTimeout(r, 2));
  }
  return { longest, probes };
}

// ---- main -------------------------------------------------------------------

function printTable(rows) {
  const fmt = (r) => `${r.value < 10 ? r.value.toFixed(3) : r.value.toFixed(1)} ${r.unit}`;
  const w0 = Math.max(6, ...rows.map((r) => r.figure.length));
  const w1 = Math.max(5, ...rows.map((r) => fmt(r).length));
  console.log(`${'figure'.padEnd(w0)}  ${'value'.padStart(w1)}  command`);
  console.log(`${'-'.repeat(w0)}  ${'-'.repeat(w1)}  -------`);
  for (const r of rows) console.log(`${r.figure.padEnd(w0)}  ${fmt(r).padStart(w1)}  ${r.command}`);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'hometab-bench-fed-'));
  const a = await startServer(dir, 'a');
  const b = await startServer(dir, 'b');
  const rows = [];
  try {
    const alice = await register(a, 'alice');
    const bob = await register(b, 'bob');
    const senders = [];
    for (let i = 0; i < SENDERS; i++) senders.push(await register(a, `sender${i}`));
    rows.push(...await crossServerWake(a, b, alice, bob));
    rows.push(...await bulkDelivery(a, b, alice, bob, senders));
    rows.push(...await bigRoomJoin(a, b, alice, bob));
    for (const p of [alice, bob, ...senders]) p.agent.destroy();
  } finally {
    await a.stop();
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(rows);
}

main().catch((e) => {
  console.error(`bench-federation: ${e.message}`);
  process.exit(1);
});
