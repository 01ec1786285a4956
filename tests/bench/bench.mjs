// bench.mjs -- the figures `make bench` prints: each one measured against the
// release binary on loopback, with a fresh database and --no-rate-limit.
//
// A figure is an async function in FIGURES below that gets the running
// server and the shared set-up (32 users in one room) and returns rows
// {figure, value, unit, command}; the table and build/bench.json pick them
// up. Figures run in order on the same server: idle memory is taken before
// anything else, the 100,000-message fill comes last.
//
// Environment: HOMETAB_BIN (default build/native/hometab), BENCH_DURATION
// (wrk's -d, default 10s), BENCH_SEQUENTIAL / BENCH_CONCURRENT /
// BENCH_LATENCY_SAMPLES / BENCH_BULK (message counts; shorten them only to
// try the script out).

import { execFileSync, spawn } from 'node:child_process';
import {
  closeSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync, writeSync,
} from 'node:fs';
import http from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { V3, api, newAgent } from './lib/client.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.HOMETAB_BIN ?? join(ROOT, 'build/native/hometab');
const DURATION = process.env.BENCH_DURATION ?? '10s';

// ---- figures ---------------------------------------------------------------

// Requests per second and latency for GET /_matrix/client/versions: the cost
// of the HTTP path, routing, one (read) transaction and JSON encoding.
async function versionsThroughput(server) {
  const url = `${server.url}/_matrix/client/versions`;
  const args = ['-t2', '-c16', `-d${DURATION}`, '--latency', url];
  const wrk = parseWrk(run('wrk', args));
  const command = `wrk ${args.join(' ')}`;
  return [
    { figure: 'versions requests/s', value: wrk.requestsPerSec, unit: 'req/s', command },
    { figure: 'versions latency p50', value: wrk.latency['50%'], unit: 'ms', command },
    { figure: 'versions latency p99', value: wrk.latency['99%'], unit: 'ms', command },
  ];
}

// The same, for an authenticated call: GET /account/whoami looks the token
// up in the database on every request. wrk sets the header from a Lua script.
async function whoamiThroughput(server, ctx) {
  const script = join(ctx.dir, 'whoami.lua');
  writeFileSync(script, `wrk.headers["Authorization"] = "Bearer ${ctx.alice.token}"\n`);
  const url = `${server.url}${V3}/account/whoami`;
  const args = ['-t2', '-c16', `-d${DURATION}`, '--latency', '-s', script, url];
  const wrk = parseWrk(run('wrk', args));
  const command = `wrk ${args.join(' ').replace(script, 'whoami.lua')}  (whoami.lua sets Authorization: Bearer <token>)`;
  return [
    { figure: 'whoami requests/s', value: wrk.requestsPerSec, unit: 'req/s', command },
    { figure: 'whoami latency p99', value: wrk.latency['99%'], unit: 'ms', command },
  ];
}

// GET /versions while 8 clients try to log in over and over with a wrong
// password, each attempt an Argon2 hash (~30 ms): natively the hashing runs
// on libuv's thread pool, so a read should not wait behind it.
async function versionsDuringLoginFlood(server) {
  let flooding = true;
  let attempts = 0;
  const body = JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: 'user0' },
    password: 'not the password' });
  const flood = Array.from({ length: 8 }, async () => {
    const agent = newAgent();
    while (flooding) {
      const status = await postStatus(server, agent, '/login', body);
      if (status !== 403) throw new Error(`a wrong password answered ${status}`);
      attempts++;
    }
    agent.destroy();
  });
  const started = performance.now();
  const args = ['-t1', '-c4', `-d${FLOOD_DURATION}`, '--latency', `${server.url}/_matrix/client/versions`];
  const wrk = parseWrk(await runAsync('wrk', args));
  flooding = false;
  await Promise.all(flood);
  const seconds = (performance.now() - started) / 1000;
  const command = `wrk ${args.join(' ')}  while bench.mjs runs 8 clients POSTing /login with a wrong password`;
  return [
    { figure: 'versions latency p50 during a login flood', value: wrk.latency['50%'], unit: 'ms', command },
    { figure: 'versions latency p99 during a login flood', value: wrk.latency['99%'], unit: 'ms', command },
    { figure: 'failed logins/s during that flood', value: attempts / seconds, unit: 'login/s', command },
  ];
}

// The floor under a durable send: what this disk takes to make one small
// write durable (a write of 8 KiB, about a commit's WAL frames, then
// fdatasync, as SQLite's COMMIT does), in a file beside the database. A
// sequential send waits for one such sync whatever the server does.
async function diskSyncFloor(_server, ctx) {
  const path = join(ctx.dir, 'sync-floor');
  const fd = openSync(path, 'w');
  const page = Buffer.alloc(8192, 1);
  const times = [];
  try {
    for (let i = 0; i < SYNC_SAMPLES; i++) {
      const start = process.hrtime.bigint();
      writeSync(fd, page, 0, page.length, (i % 256) * page.length);
      fdatasyncSync(fd);
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
  } finally {
    closeSync(fd);
    rmSync(path, { force: true });
  }
  const command = `bench.mjs: ${SYNC_SAMPLES} times, 8 KiB written then fdatasync, in the database's directory`;
  return [
    { figure: 'disk: write + fdatasync, median', value: percentile(times, 50), unit: 'ms', command },
    { figure: 'disk: write + fdatasync, p99', value: percentile(times, 99), unit: 'ms', command },
  ];
}

// Messages per second: one client sending one after another, then 16
// clients at once (each its own user and keep-alive connection, one room).
async function messageThroughput(server, ctx) {
  const latencies = [];
  let cpu = serverCpuMs(server);
  const sequential = await timedSends(server, [ctx.alice], ctx.roomId, SEQUENTIAL_MESSAGES, latencies);
  const sequentialCpu = (serverCpuMs(server) - cpu) / SEQUENTIAL_MESSAGES;
  const clients = ctx.people.slice(0, 16);
  cpu = serverCpuMs(server);
  const concurrent = await timedSends(server, clients, ctx.roomId, CONCURRENT_MESSAGES);
  const concurrentCpu = (serverCpuMs(server) - cpu) / CONCURRENT_MESSAGES;
  const one = `bench.mjs: ${SEQUENTIAL_MESSAGES} PUT /rooms/{id}/send, one after another, one keep-alive connection`;
  const many = `bench.mjs: ${CONCURRENT_MESSAGES} PUT /rooms/{id}/send by 16 users at once, a keep-alive connection each`;
  // The server's own CPU time (user + system, /proc/<pid>/stat) per
  // message: what a send costs whatever else the machine is doing, where
  // the wall-clock figures also measure the load and the disk.
  const cpuNote = '; server CPU time (user + system) over the sends / messages';
  return [
    { figure: 'PUT /send, server CPU per message, 1 client', value: sequentialCpu, unit: 'ms', command: one + cpuNote },
    { figure: 'PUT /send, server CPU per message, 16 clients', value: concurrentCpu, unit: 'ms', command: many + cpuNote },
    { figure: 'messages/s, 1 client sequential', value: sequential, unit: 'msg/s', command: one },
    { figure: 'PUT /send, 1 client sequential, median', value: percentile(latencies, 50), unit: 'ms',
      command: `${one}; each request timed` },
    { figure: 'PUT /send, 1 client sequential, p99', value: percentile(latencies, 99), unit: 'ms',
      command: `${one}; each request timed` },
    { figure: 'messages/s, 16 clients', value: concurrent, unit: 'msg/s',
      command: `bench.mjs: ${CONCURRENT_MESSAGES} PUT /rooms/{id}/send by 16 users at once, a keep-alive connection each` },
  ];
}

// The same 16 senders driven by wrk instead of node: node's HTTP client
// spends more CPU per request than the server does (about 0.4 ms against
// 0.25), so on two cores the node figure measures the client as much as
// the server. wrk's Lua script (sends.lua) gives each request the next of
// the 16 users' tokens and a transaction id of its own; a fresh room, so
// the figures after this one see the shared room as before.
// wrk's Lua script for PUT /send: each request the next of `senders`'
// tokens and a transaction id of its own.
function wrkSendScript(dir, senders, roomId, name = 'sends.lua') {
  const script = join(dir, name);
  writeFileSync(script, `
local tokens = { ${senders.map((p) => `"${p.token}"`).join(', ')} }
local path = "${V3}/rooms/${encodeURIComponent(roomId)}/send/m.room.message/"
local body = '{"msgtype":"m.text","body":"benchmark message"}'
local next_id = 0
function setup(thread) next_id = next_id + 1; thread:set("id", next_id) end
local sent = 0
function request()
  sent = sent + 1
  return wrk.format("PUT", path .. "w" .. id .. "-" .. sent,
    { ["Authorization"] = "Bearer " .. tokens[sent % #tokens + 1], ["Content-Type"] = "application/json" }, body)
end
`);
  return script;
}

async function messageThroughputWrk(server, ctx) {
  const senders = ctx.people.slice(0, 16);
  const roomId = await createRoom(server, senders[0], { preset: 'public_chat' });
  for (const p of senders.slice(1)) await api(server, p, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
  const script = wrkSendScript(ctx.dir, senders, roomId);
  const args = ['-t2', '-c16', `-d${DURATION}`, '--latency', '-s', script, server.url];
  const cpu = serverCpuMs(server);
  const writes = serverWrites(server);
  const wrk = parseWrk(run('wrk', args));
  const requests = Number(/^\s*(\d+) requests in/m.exec(wrk.text)[1]);
  const written = serverWrites(server);
  const writesPerMessage = (written.calls - writes.calls) / requests;
  const kibPerMessage = (written.bytes - writes.bytes) / requests / 1024;
  const command = `wrk ${args.join(' ').replace(script, 'sends.lua')}  (sends.lua: PUT /send, 16 users' tokens in turn)`;
  // One connection, one request at a time: what a lone send waits for,
  // without node's HTTP client (about 0.3 ms of the figure above it).
  const oneScript = wrkSendScript(ctx.dir, senders.slice(0, 1), roomId, 'one.lua');
  const oneArgs = ['-t1', '-c1', '-d5s', '--latency', '-s', oneScript, server.url];
  const one = parseWrk(run('wrk', oneArgs));
  const oneCommand = `wrk ${oneArgs.join(' ').replace(oneScript, 'one.lua')}  (one.lua: PUT /send, one user)`;
  return [
    { figure: 'messages/s, 16 connections (wrk)', value: wrk.requestsPerSec, unit: 'msg/s', command },
    { figure: 'PUT /send, server CPU per message, 16 connections (wrk)', value: (serverCpuMs(server) - cpu) / requests,
      unit: 'ms', command: `${command}; server CPU time (user + system) over the run / messages` },
    { figure: 'PUT /send, 16 connections (wrk), p50', value: wrk.latency['50%'], unit: 'ms', command },
    { figure: 'write system calls per message, 16 connections (wrk)', value: writesPerMessage, unit: 'calls',
      command: `${command}; syscw of /proc/<server>/io over the run / messages (the answer's own write, the WAL's and the checkpoint's)` },
    { figure: 'bytes written per message, 16 connections (wrk)', value: Number(kibPerMessage.toFixed(1)), unit: 'KiB',
      command: `${command}; wchar of /proc/<server>/io over the run / messages (the WAL's pages, the checkpoint's, the answer)` },
    { figure: 'PUT /send, 1 connection (wrk), p50', value: one.latency['50%'], unit: 'ms', command: oneCommand },
    { figure: 'PUT /send, 1 connection (wrk), p99', value: one.latency['99%'], unit: 'ms', command: oneCommand },
  ];
}

// The same 16 wrk senders on a server whose every WAL sync takes SLOW_DISK_MS
// longer (build/test-shims/slow_sync.so under it: a cloud volume's fsync
// rather than this machine's). The server syncs off its loop and goes on
// running requests meanwhile (src/host/native/wal_sync.c).
const SLOW_DISK_MS = 1;
async function messageThroughputSlowDisk() {
  const dir = mkdtempSync(join(tmpdir(), 'hometab-bench-slow-'));
  const shim = join(ROOT, 'build/test-shims/slow_sync.so');
  const server = await startServer(dir, ['--weak-password-hashing'], { LD_PRELOAD: shim, SLOW_SYNC_MS: String(SLOW_DISK_MS) });
  try {
    const senders = [];
    for (let i = 0; i < 16; i++) senders.push(await register(server, `slow${i}`));
    const roomId = await createRoom(server, senders[0], { preset: 'public_chat' });
    for (const p of senders.slice(1)) await api(server, p, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
    const script = wrkSendScript(dir, senders, roomId);
    const args = ['-t2', '-c16', '-d5s', '--latency', '-s', script, server.url];
    const wrk = parseWrk(run('wrk', args));
    const command = `wrk ${args.join(' ').replace(script, 'sends.lua')}  with LD_PRELOAD=slow_sync.so SLOW_SYNC_MS=${SLOW_DISK_MS} under the server`;
    for (const p of senders) p.agent.destroy();
    return [
      { figure: `messages/s, 16 connections (wrk), WAL syncs ${SLOW_DISK_MS} ms slower`, value: wrk.requestsPerSec, unit: 'msg/s', command },
      { figure: `PUT /send, 16 connections (wrk), WAL syncs ${SLOW_DISK_MS} ms slower, p50`, value: wrk.latency['50%'], unit: 'ms', command },
    ];
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// How long a trivial read waits while 16 connections send: what one slow
// turn of the server's loop costs everyone else (the WAL's checkpoint was
// one, about every 4,000 pages written, until a thread took it over:
// src/host/native/checkpoints.c). One wrk connection
// asks GET /versions one request after another, from a second after the
// senders start until a second before they stop.
async function readsDuringWrites(server, ctx) {
  const senders = ctx.people.slice(0, 16);
  const roomId = await createRoom(server, senders[0], { preset: 'public_chat' });
  for (const p of senders.slice(1)) await api(server, p, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
  const script = wrkSendScript(ctx.dir, senders, roomId, 'writes.lua');
  const seconds = Number.parseInt(DURATION, 10);
  const sendArgs = ['-t1', '-c16', `-d${seconds}s`, '-s', script, server.url];
  const readArgs = ['-t1', '-c1', `-d${seconds - 2}s`, '--latency', `${server.url}/_matrix/client/versions`];
  const sends = runAsync('wrk', sendArgs);
  await new Promise((r) => setTimeout(r, 1000));
  const reads = parseWrk(await runAsync('wrk', readArgs));
  parseWrk(await sends);
  const command = `wrk ${readArgs.join(' ')}  while  wrk ${sendArgs.join(' ').replace(script, 'writes.lua')}` +
    '  (writes.lua: PUT /send, 16 users\' tokens in turn)';
  return [
    { figure: 'GET /versions while 16 connections send (wrk), p99', value: reads.latency['99%'], unit: 'ms', command },
    { figure: 'GET /versions while 16 connections send (wrk), max', value: reads.maxLatency, unit: 'ms', command },
  ];
}

// Send-to-sync-wake latency: B long-polls /sync; A sends; the time from A's
// send returning to B's sync returning with the message (both arrive in the
// same turn of the server's loop, so this can be slightly negative), and from
// A's send starting.
async function syncWakeLatency(server, ctx) {
  const [a, b] = [ctx.people[0], ctx.people[1]];
  const room = await createRoom(server, a, { preset: 'public_chat' });
  await api(server, b, 'POST', `/join/${encodeURIComponent(room)}`, {});
  const { fromReturn, fromStart } = await wakeSamples(server, a, b, room, LATENCY_SAMPLES);
  const command = `bench.mjs: ${LATENCY_SAMPLES} samples; B long-polls GET /sync?timeout=30000, A sends PUT /send`;
  return [
    { figure: 'sync wake after send returns, median', value: percentile(fromReturn, 50), unit: 'ms', command },
    { figure: 'sync wake after send returns, p99', value: percentile(fromReturn, 99), unit: 'ms', command },
    { figure: 'sync wake after send starts, median', value: percentile(fromStart, 50), unit: 'ms', command },
    { figure: 'sync wake after send starts, p99', value: percentile(fromStart, 99), unit: 'ms', command },
  ];
}

// `samples` times: b long-polls a /sync of `room` alone, a sends into it.
async function wakeSamples(server, a, b, room, samples) {
  const filter = encodeURIComponent(JSON.stringify({ room: { rooms: [room], timeline: { limit: 5 } } }));
  let since = (await api(server, b, 'GET', `/sync?filter=${filter}`)).next_batch;
  const fromReturn = [];
  const fromStart = [];
  for (let i = 0; i < samples; i++) {
    const body = `wake ${i}`;
    let syncDone;
    const polled = (async () => {
      for (;;) {
        const s = await api(server, b, 'GET', `/sync?since=${since}&timeout=30000&filter=${filter}`);
        syncDone = performance.now();
        since = s.next_batch;
        const events = s.rooms?.join?.[room]?.timeline?.events ?? [];
        if (events.some((e) => e.content?.body === body)) return;
      }
    })();
    await sleep(2); // let the sync park
    const started = performance.now();
    await api(server, a, 'PUT', `/rooms/${encodeURIComponent(room)}/send/m.room.message/w${++txn}`, { msgtype: 'm.text', body });
    const sent = performance.now();
    await polled;
    fromReturn.push(syncDone - sent);
    fromStart.push(syncDone - started);
  }
  return { fromReturn, fromStart };
}

// A reader who never sends a read receipt (a muted busy room) with
// UNREAD_BACKLOG messages unread: what one more message costs their
// incremental /sync, and how soon their parked /sync returns it. Neither
// should grow with the backlog.
async function unreadBacklog(server, ctx) {
  const [writer, reader] = [ctx.people[2], ctx.people[3]];
  const room = await createRoom(server, writer, { preset: 'public_chat' });
  await api(server, reader, 'POST', `/join/${encodeURIComponent(room)}`, {});
  const path = `/rooms/${encodeURIComponent(room)}/send/m.room.message`;
  for (let i = 0; i < UNREAD_BACKLOG; i++) await api(server, writer, 'PUT', `${path}/u${++txn}`, { msgtype: 'm.text', body: `unread ${i}` });
  const filter = encodeURIComponent(JSON.stringify({ room: { rooms: [room], timeline: { limit: 5 } } }));
  let since = (await api(server, reader, 'GET', `/sync?filter=${filter}`)).next_batch;
  const times = [];
  let count;
  for (let i = 0; i < UNREAD_SAMPLES; i++) {
    await api(server, writer, 'PUT', `${path}/u${++txn}`, { msgtype: 'm.text', body: `one more ${i}` });
    const started = performance.now();
    const s = await api(server, reader, 'GET', `/sync?since=${since}&timeout=0&filter=${filter}`);
    times.push(performance.now() - started);
    since = s.next_batch;
    count = s.rooms.join[room].unread_notifications.notification_count;
  }
  const { fromReturn } = await wakeSamples(server, writer, reader, room, LATENCY_SAMPLES);
  const what = `the reader has ${UNREAD_BACKLOG}+ unread (their last count: ${count})`;
  const syncCommand = `bench.mjs: ${UNREAD_SAMPLES} times, the writer sends one message, then the reader's GET /sync?since=...&timeout=0 is timed; ${what}`;
  const wakeCommand = `bench.mjs: ${LATENCY_SAMPLES} samples; the reader long-polls GET /sync?timeout=30000, the writer sends PUT /send; ${what}`;
  return [
    { figure: `incremental /sync, 1 new event, ${UNREAD_BACKLOG} unread, median`, value: percentile(times, 50), unit: 'ms', command: syncCommand },
    { figure: `incremental /sync, 1 new event, ${UNREAD_BACKLOG} unread, p99`, value: percentile(times, 99), unit: 'ms', command: syncCommand },
    { figure: `sync wake after send returns, ${UNREAD_BACKLOG} unread, median`, value: percentile(fromReturn, 50), unit: 'ms', command: wakeCommand },
    { figure: `sync wake after send returns, ${UNREAD_BACKLOG} unread, p99`, value: percentile(fromReturn, 99), unit: 'ms', command: wakeCommand },
  ];
}

// What one write costs the server's one thread while other people wait:
// the time of a PUT /account_data (which concerns only its own user) with
// nobody's long-poll parked, then with PARKED_POLLS /sync long-polls of the
// other users parked beside it. A write should wake only the long-polls it
// concerns, so the two figures should be close (the goal: within 2x).
async function writeCostWithParkedPolls(server, ctx) {
  const alice = ctx.alice;
  const path = `/user/${encodeURIComponent(alice.userId)}/account_data/org.bench.counter`;
  let n = 0;
  const timed = async () => {
    const started = performance.now();
    for (let i = 0; i < ACCOUNT_DATA_WRITES; i++) await api(server, alice, 'PUT', path, { n: ++n });
    return (performance.now() - started) / ACCOUNT_DATA_WRITES;
  };
  await timed(); // warm up
  const alone = await timed();

  // Each long-poll on its own keep-alive connection, as many clients have.
  const others = ctx.people.slice(1);
  const polls = [];
  for (let i = 0; i < PARKED_POLLS; i++) {
    const who = others[i % others.length];
    const agent = newAgent();
    const since = (await api(server, { ...who, agent }, 'GET', '/sync?timeout=0')).next_batch;
    polls.push({ who: { ...who, agent }, since });
  }
  // The position moves with every write; each poll starts from the latest.
  const latest = (await api(server, alice, 'GET', '/sync?timeout=0')).next_batch;
  const pending = polls.map(({ who }) =>
    api(server, who, 'GET', `/sync?since=${latest}&timeout=60000`).catch(() => null));
  await sleep(1500); // the server answers nothing while they wait: give them time to arrive and park
  const beside = await timed();
  for (const { who } of polls) who.agent.destroy();
  await Promise.all(pending);
  const command = `bench.mjs: ${ACCOUNT_DATA_WRITES} PUT /user/{alice}/account_data/{type} one after another, ` +
    `time per request`;
  return [
    { figure: 'PUT /account_data, no long-poll parked', value: alone, unit: 'ms', command },
    { figure: `PUT /account_data, ${PARKED_POLLS} long-polls of other users parked`, value: beside, unit: 'ms',
      command: `${command}, while ${PARKED_POLLS} GET /sync?timeout=60000 of ${others.length} other users wait` },
  ];
}

// A room of LARGE_ROOM members beside a room of two, on a server of their
// own (passwords hashed cheaply: --weak-password-hashing, so that thousands
// of users can register): a message sent into each, one after another, and
// a member's incremental /sync of it; an initial /sync of that room alone
// with lazy-loaded members (the member list a client needs: the senders of
// its timeline). The goal: the large room within a few times the small one.
async function largeRoom() {
  const dir = mkdtempSync(join(tmpdir(), 'hometab-bench-large-'));
  const server = await startServer(dir, ['--weak-password-hashing']);
  try {
    const pool = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const users = await inParallel(LARGE_ROOM, 16, (i) => register(server, `member${i}`, pool));
    const [owner, reader] = [users[0], users[1]];
    owner.agent = newAgent();
    reader.agent = newAgent();
    const small = await createRoom(server, owner, { preset: 'public_chat' });
    await api(server, reader, 'POST', `/join/${encodeURIComponent(small)}`, {});
    const large = await createRoom(server, owner, { preset: 'public_chat' });
    const joinStarted = performance.now();
    await inParallel(LARGE_ROOM - 1, 16, (i) =>
      api(server, { ...users[i + 1], agent: pool }, 'POST', `/join/${encodeURIComponent(large)}`, {}));
    const joinSeconds = (performance.now() - joinStarted) / 1000;
    const measure = async (room) => {
      const filter = encodeURIComponent(JSON.stringify({ room: { rooms: [room], timeline: { limit: 5 } } }));
      let since = (await api(server, reader, 'GET', `/sync?filter=${filter}`)).next_batch;
      const send = [], sync = [], initial = [];
      for (let i = 0; i < ROOM_SAMPLES; i++) {
        let t = performance.now();
        await api(server, owner, 'PUT', `/rooms/${encodeURIComponent(room)}/send/m.room.message/l${++txn}`,
          { msgtype: 'm.text', body: `a message to many ${i}` });
        send.push(performance.now() - t);
        t = performance.now();
        since = (await api(server, reader, 'GET', `/sync?since=${since}&timeout=0&filter=${filter}`)).next_batch;
        sync.push(performance.now() - t);
      }
      const lazy = encodeURIComponent(JSON.stringify({
        room: { rooms: [room], timeline: { limit: 10 }, state: { lazy_load_members: true } } }));
      for (let i = 0; i < INITIAL_SAMPLES; i++) {
        const t = performance.now();
        const s = await api(server, reader, 'GET', `/sync?filter=${lazy}`);
        initial.push(performance.now() - t);
        if (!s.rooms.join[room]) throw new Error('the room is missing from an initial sync');
      }
      // The member list as a lazy-loading client asks for it (at its sync's token), and the
      // joined members' names: the room's whole membership in one answer.
      const members = [], joined = [];
      for (let i = 0; i < INITIAL_SAMPLES; i++) {
        let t = performance.now();
        const m = await api(server, reader, 'GET', `/rooms/${encodeURIComponent(room)}/members?at=${since}&not_membership=leave`);
        members.push(performance.now() - t);
        t = performance.now();
        const j = await api(server, reader, 'GET', `/rooms/${encodeURIComponent(room)}/joined_members`);
        joined.push(performance.now() - t);
        if (m.chunk.length !== Object.keys(j.joined).length) throw new Error('the member lists differ');
      }
      return { send: percentile(send, 50), sync: percentile(sync, 50), initial: percentile(initial, 50),
        members: percentile(members, 50), joined: percentile(joined, 50) };
    };
    const a = await measure(small);
    const b = await measure(large);
    const cmd = (what) => `bench.mjs: a server with --weak-password-hashing; ${LARGE_ROOM} users joined one room ` +
      `(${(LARGE_ROOM / joinSeconds).toFixed(0)} joins/s), 2 another; ${what}`;
    const sends = cmd(`${ROOM_SAMPLES} PUT /send into each, one after another, median`);
    const syncs = cmd(`after each send, a member's GET /sync?since=...&timeout=0 of that room, median`);
    const initials = cmd(`${INITIAL_SAMPLES} initial GET /sync of that room, lazy_load_members, timeline limit 10, median`);
    return [
      { figure: 'PUT /send, 2-member room', value: a.send, unit: 'ms', command: sends },
      { figure: `PUT /send, ${LARGE_ROOM}-member room`, value: b.send, unit: 'ms', command: sends },
      { figure: `PUT /send, ${LARGE_ROOM}-member / 2-member room`, value: b.send / a.send, unit: 'x', command: sends },
      { figure: 'incremental /sync, 2-member room', value: a.sync, unit: 'ms', command: syncs },
      { figure: `incremental /sync, ${LARGE_ROOM}-member room`, value: b.sync, unit: 'ms', command: syncs },
      { figure: `incremental /sync, ${LARGE_ROOM}-member / 2-member room`, value: b.sync / a.sync, unit: 'x', command: syncs },
      { figure: 'initial /sync (lazy members), 2-member room', value: a.initial, unit: 'ms', command: initials },
      { figure: `initial /sync (lazy members), ${LARGE_ROOM}-member room`, value: b.initial, unit: 'ms', command: initials },
      { figure: `initial /sync (lazy members), ${LARGE_ROOM}-member / 2-member room`, value: b.initial / a.initial, unit: 'x',
        command: initials },
      { figure: `GET /members?at=&not_membership=leave, ${LARGE_ROOM}-member room`, value: b.members, unit: 'ms',
        command: cmd(`${INITIAL_SAMPLES} GET /members at the member's sync token, median (2-member room: ${a.members.toFixed(3)} ms)`) },
      { figure: `GET /joined_members, ${LARGE_ROOM}-member room`, value: b.joined, unit: 'ms',
        command: cmd(`${INITIAL_SAMPLES} GET /joined_members, median (2-member room: ${a.joined.toFixed(3)} ms)`) },
    ];
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// A user in MANY_ROOMS rooms (each with a second member and a few messages):
// their initial /sync, and an incremental one with one new message.
async function manyRooms() {
  const dir = mkdtempSync(join(tmpdir(), 'hometab-bench-many-'));
  const server = await startServer(dir, ['--weak-password-hashing']);
  try {
    const user = await register(server, 'many');
    const other = await register(server, 'other');
    const rooms = [];
    for (let i = 0; i < MANY_ROOMS; i++) {
      const room = await createRoom(server, user, { preset: 'public_chat', name: `room ${i}`, topic: `the topic of room ${i}` });
      await api(server, other, 'POST', `/join/${encodeURIComponent(room)}`, {});
      for (let k = 0; k < 3; k++)
        await api(server, k % 2 ? user : other, 'PUT', `/rooms/${encodeURIComponent(room)}/send/m.room.message/m${++txn}`,
          { msgtype: 'm.text', body: `message ${k} in room ${i}` });
      rooms.push(room);
    }
    const initial = [];
    let since;
    for (let i = 0; i < INITIAL_SAMPLES; i++) {
      const t = performance.now();
      const s = await api(server, user, 'GET', '/sync');
      initial.push(performance.now() - t);
      if (Object.keys(s.rooms.join).length !== MANY_ROOMS) throw new Error('an initial sync misses rooms');
      since = s.next_batch;
    }
    const incremental = [];
    for (let i = 0; i < ROOM_SAMPLES; i++) {
      await api(server, other, 'PUT', `/rooms/${encodeURIComponent(rooms[i % MANY_ROOMS])}/send/m.room.message/n${++txn}`,
        { msgtype: 'm.text', body: `news ${i}` });
      const t = performance.now();
      since = (await api(server, user, 'GET', `/sync?since=${since}&timeout=0`)).next_batch;
      incremental.push(performance.now() - t);
    }
    const what = `a user in ${MANY_ROOMS} rooms (each: a name, a topic, a second member, 3 messages)`;
    return [
      { figure: `initial /sync, user in ${MANY_ROOMS} rooms, median`, value: percentile(initial, 50), unit: 'ms',
        command: `bench.mjs: ${INITIAL_SAMPLES} GET /sync without since (timeline limit 10); ${what}` },
      { figure: `incremental /sync, user in ${MANY_ROOMS} rooms, 1 new event, median`, value: percentile(incremental, 50),
        unit: 'ms', command: `bench.mjs: ${ROOM_SAMPLES} times one message, then GET /sync?since=...&timeout=0; ${what}` },
    ];
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Runs make(i) for i in [0, count), `width` at a time; results in order.
async function inParallel(count, width, make) {
  const out = new Array(count);
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      out[i] = await make(i);
    }
  }));
  return out;
}

// Resident memory now (VmRSS), and the peak so far (VmHWM).
function memoryRows(server, when) {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status)[1]);
  const command = `grep -E 'VmRSS|VmHWM' /proc/${server.pid}/status`;
  return [
    { figure: `server RSS ${when}`, value: kb('VmRSS') / 1024, unit: 'MiB', command },
    { figure: `server peak RSS ${when}`, value: kb('VmHWM') / 1024, unit: 'MiB', command },
  ];
}

// Fills the database to BULK_MESSAGES messages (including those sent by the
// figures before) from BULK_CLIENTS clients at once, spread over 16 rooms,
// then reports memory and the size on disk.
async function bulkFill(server, ctx) {
  const already = SEQUENTIAL_MESSAGES + CONCURRENT_MESSAGES + LATENCY_SAMPLES;
  const rooms = [ctx.roomId];
  for (let i = 1; i < 16; i++) {
    const room = await createRoom(server, ctx.people[0], { preset: 'public_chat' });
    for (const p of ctx.people.slice(1)) await api(server, p, 'POST', `/join/${encodeURIComponent(room)}`, {});
    rooms.push(room);
  }
  const clients = ctx.people.slice(0, BULK_CLIENTS);
  const started = performance.now();
  const total = BULK_MESSAGES - already;
  let next = 0;
  await Promise.all(clients.map(async (who, k) => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const room = rooms[(i + k) % rooms.length];
      await api(server, who, 'PUT', `/rooms/${encodeURIComponent(room)}/send/m.room.message/bulk${i}`,
        { msgtype: 'm.text', body: `bulk message number ${i}, about the length of a short chat line` });
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  const size = (p) => { try { return statSync(p).size; } catch { return 0; } };
  const db = size(server.db);
  const wal = size(`${server.db}-wal`);
  const what = `after ${BULK_MESSAGES} messages`;
  return [
    { figure: `messages/s, ${BULK_CLIENTS} clients (bulk fill)`, value: total / seconds, unit: 'msg/s',
      command: `bench.mjs: ${total} PUT /send by ${BULK_CLIENTS} users at once over 16 rooms (${seconds.toFixed(1)} s)` },
    ...memoryRows(server, what),
    { figure: `database file ${what}`, value: db / 1048576, unit: 'MiB', command: `stat -c %s ${server.db}` },
    { figure: `WAL file ${what}`, value: wal / 1048576, unit: 'MiB', command: `stat -c %s ${server.db}-wal` },
  ];
}

const ALL_FIGURES = [versionsThroughput, whoamiThroughput, versionsDuringLoginFlood, diskSyncFloor, messageThroughput,
  messageThroughputWrk, messageThroughputSlowDisk, readsDuringWrites, syncWakeLatency,
  unreadBacklog, writeCostWithParkedPolls, largeRoom, manyRooms, bulkFill];
// BENCH_ONLY=name,name runs only those figures (to measure one change quickly).
const FIGURES = process.env.BENCH_ONLY
  ? ALL_FIGURES.filter((f) => process.env.BENCH_ONLY.split(',').includes(f.name))
  : ALL_FIGURES;
const FLOOD_DURATION = process.env.BENCH_FLOOD_DURATION ?? '5s';

const SEQUENTIAL_MESSAGES = Number(process.env.BENCH_SEQUENTIAL ?? 2000);
const CONCURRENT_MESSAGES = Number(process.env.BENCH_CONCURRENT ?? 8000);
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 200);
const SYNC_SAMPLES = 2000;
const BULK_MESSAGES = Number(process.env.BENCH_BULK ?? 100000);
const BULK_CLIENTS = 32;
const PARKED_POLLS = Number(process.env.BENCH_PARKED_POLLS ?? 300);
const ACCOUNT_DATA_WRITES = Number(process.env.BENCH_ACCOUNT_DATA_WRITES ?? 200);
const UNREAD_BACKLOG = Number(process.env.BENCH_UNREAD ?? 2000);
const UNREAD_SAMPLES = Number(process.env.BENCH_UNREAD_SAMPLES ?? 200);
const LARGE_ROOM = Number(process.env.BENCH_LARGE_ROOM ?? 5000);
const MANY_ROOMS = Number(process.env.BENCH_MANY_ROOMS ?? 300);
const ROOM_SAMPLES = Number(process.env.BENCH_ROOM_SAMPLES ?? 200);
const INITIAL_SAMPLES = Number(process.env.BENCH_INITIAL_SAMPLES ?? 20);

// ---- a small Matrix client with keep-alive connections ----------------------

// The status of a POST that may well be refused.
function postStatus(server, agent, path, payload) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}${V3}${path}`, {
      method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

async function register(server, name, agent = newAgent()) {
  const r = await api(server, { agent }, 'POST', '/register', {
    username: name, password: `pw-${name}`, auth: { type: 'm.login.dummy' },
  });
  return { userId: r.user_id, token: r.access_token, agent };
}

async function createRoom(server, who, body) {
  return (await api(server, who, 'POST', '/createRoom', body)).room_id;
}

let txn = 0;
// Sends `count` messages split evenly over `clients` running at once;
// returns messages per second.
async function timedSends(server, clients, roomId, count, latencies) {
  const per = Math.ceil(count / clients.length);
  const started = performance.now();
  await Promise.all(clients.map(async (who) => {
    for (let i = 0; i < per; i++) {
      const t = performance.now();
      await api(server, who, 'PUT', `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/b${++txn}`,
        { msgtype: 'm.text', body: `benchmark message ${txn}` });
      latencies?.push(performance.now() - t);
    }
  }));
  return (per * clients.length) / ((performance.now() - started) / 1000);
}

// The server process's CPU time so far (user + system, all threads), in ms.
function serverCpuMs(server) {
  const fields = readFileSync(`/proc/${server.pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 1000 / CLOCK_TICKS;
}
// Write-like system calls the server made so far (write, pwrite, writev...),
// and the bytes they wrote: unlike CPU time, counts that do not vary with how
// busy the machine is.
function serverWrites(server) {
  const io = readFileSync(`/proc/${server.pid}/io`, 'utf8');
  return { calls: Number(/^syscw: (\d+)$/m.exec(io)[1]), bytes: Number(/^wchar: (\d+)$/m.exec(io)[1]) };
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

function percentile(values, p) {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Users and a room the figures share: alice plus BULK_CLIENTS people, all in
// one public room.
async function setUp(server, dir) {
  const people = [];
  for (let i = 0; i < BULK_CLIENTS; i++) people.push(await register(server, `user${i}`));
  const roomId = await createRoom(server, people[0], { preset: 'public_chat' });
  for (const p of people.slice(1)) await api(server, p, 'POST', `/join/${encodeURIComponent(roomId)}`, {});
  return { dir, people, alice: people[0], roomId };
}

// ---- plumbing --------------------------------------------------------------

function run(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

// The same without blocking node's loop, for a load running beside it.
function runAsync(cmd, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}`))));
  });
}

const UNIT_MS = { us: 0.001, ms: 1, s: 1000 };

// wrk's text output to numbers; refuses a run that saw errors, since the
// throughput of error answers would be a meaningless figure.
export function parseWrk(text) {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  if (!rps) throw new Error(`wrk printed no Requests/sec:\n${text}`);
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(text);
  if (errors) throw new Error(`wrk saw errors (${errors[0]}):\n${text}`);
  const latency = {};
  for (const m of text.matchAll(/^\s+(\d+%)\s+([\d.]+)(us|ms|s)$/gm)) latency[m[1]] = Number(m[2]) * UNIT_MS[m[3]];
  // The thread statistics' line: "Latency  avg  stdev  max  +/- stdev".
  const max = /^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)\s/m.exec(text);
  return { requestsPerSec: Number(rps[1]), latency, maxLatency: max ? Number(max[1]) * UNIT_MS[max[2]] : NaN, text };
}

async function startServer(dir, extra = [], env = {}) {
  const db = join(dir, 'bench.sqlite');
  const proc = spawn(BIN, ['--listen', '127.0.0.1:0', '--db', db, '--no-rate-limit', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env },
  });
  let stdout = '';
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise((r) => proc.on('close', (code, signal) => r({ code, signal })));
  const port = await new Promise((ok, fail) => {
    proc.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
      const m = /listening on http:\/\/\S+?:(\d+)\//.exec(stdout);
      if (m) ok(Number(m[1]));
    });
    exited.then(({ code }) => fail(new Error(`hometab exited with ${code}:\n${stderr}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid,
    db,
    async stop() {
      proc.kill('SIGTERM');
      const { code, signal } = await exited;
      if (code !== 0) throw new Error(`hometab stopped with ${code ?? signal}:\n${stderr}`);
    },
  };
}

function printTable(rows) {
  const fmt = (r) => `${r.value < 10 ? r.value.toFixed(3) : r.value.toFixed(1)} ${r.unit}`;
  const w0 = Math.max(6, ...rows.map((r) => r.figure.length));
  const w1 = Math.max(5, ...rows.map((r) => fmt(r).length));
  console.log(`${'figure'.padEnd(w0)}  ${'value'.padStart(w1)}  command`);
  console.log(`${'-'.repeat(w0)}  ${'-'.repeat(w1)}  -------`);
  for (const r of rows) console.log(`${r.figure.padEnd(w0)}  ${fmt(r).padStart(w1)}  ${r.command}`);
}

function gitCommit() {
  try { return run('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']).trim(); } catch { return null; }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'hometab-bench-'));
  const server = await startServer(dir);
  const rows = [];
  try {
    rows.push(...memoryRows(server, 'idle (started, empty database)'));
    const ctx = await setUp(server, dir);
    for (const figure of FIGURES) {
      const t = performance.now();
      const got = await figure(server, ctx);
      console.error(`bench: ${figure.name} took ${((performance.now() - t) / 1000).toFixed(1)} s`);
      rows.push(...got);
    }
    for (const p of ctx.people) p.agent.destroy();
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(rows);
  const out = join(ROOT, 'build/bench.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({
    date: new Date().toISOString(),
    commit: gitCommit(),
    binary: BIN,
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    figures: rows,
  }, null, 2) + '\n');
  console.log(`\nwritten to ${out}`);
}

main().catch((e) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
