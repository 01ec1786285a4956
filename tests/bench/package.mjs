// package.mjs -- the package's figures for `make bench`: the npm tarball as a
// test author installs it (tests/package/install.sh into HOMETAB_PACKAGE_DIR),
// in node.
//
// - createHomeserver() to its first answer (GET /versions): cold, in a new
//   node process (import, compile, instantiate, create the schema), and warm,
//   in a process that already made one (the module is compiled once per process);
// - reset() and restore() of a snapshot, and snapshot() itself;
// - one matrix-js-sdk scenario (register two users, create a room, the second
//   joins, 20 messages, the second syncs them all) in-process through hs.fetch,
//   and the same against the native binary on loopback.
//
// Medians of several runs, with min and max, in wall-clock time and in this
// process's CPU time (user + system, all its threads): on a shared machine
// the wall clock also counts the time other processes had the cores, the
// CPU time does not. Writes build/bench-package.json.

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const SCRATCH = process.env.HOMETAB_PACKAGE_DIR;
const BIN = process.env.HOMETAB_BIN ?? join(ROOT, 'build/native/hometab');
if (!SCRATCH) throw new Error('HOMETAB_PACKAGE_DIR is not set: run through `make bench-package`');
const scratchRequire = createRequire(join(SCRATCH, 'index.js'));
const ENTRY = scratchRequire.resolve('hometab');

// A child process measures a cold start: nothing loaded, nothing compiled.
if (process.argv[2] === '--cold') {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const { createHomeserver } = await import(pathToFileURL(ENTRY));
  const imported = performance.now();
  const c1 = process.cpuUsage();
  const hs = await createHomeserver();
  const created = performance.now();
  const c2 = process.cpuUsage();
  await (await hs.fetch('/_matrix/client/versions')).json();
  const answered = performance.now();
  const c3 = process.cpuUsage();
  const cpu = (a, b) => (b.user + b.system - a.user - a.system) / 1000;
  process.stdout.write(JSON.stringify({ import: imported - t0, create: created - imported, total: answered - t0,
    createCpu: cpu(c1, c2), totalCpu: cpu(c0, c3) }));
  await hs.close();
  process.exit(0);
}

const { createHomeserver } = await import(pathToFileURL(ENTRY));

function summary(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  return { median: sorted[sorted.length >> 1], min: sorted[0], max: sorted.at(-1) };
}

function stats(wall, cpu) {
  return { n: wall.length, wall: summary(wall), cpu: cpu ? summary(cpu) : null };
}

// Runs fn n times; fn returns the wall time of what it measures, or
// { wall, cpu } when it measures its own CPU time (around set-up it excludes).
async function repeat(n, fn) {
  const wall = [];
  const cpu = [];
  for (let i = 0; i < n; i++) {
    const c0 = process.cpuUsage();
    const r = await fn(i);
    const c1 = process.cpuUsage();
    wall.push(typeof r === 'number' ? r : r.wall);
    cpu.push(typeof r === 'number' ? (c1.user + c1.system - c0.user - c0.system) / 1000 : r.cpu);
  }
  return stats(wall, cpu);
}

// Wall and CPU time of `fn` alone.
async function timed(fn) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const c1 = process.cpuUsage();
  return { wall, cpu: (c1.user + c1.system - c0.user - c0.system) / 1000 };
}

const rows = [];
function row(figure, s, command) {
  rows.push({ figure, ...s, unit: 'ms', command });
}

// ---- createHomeserver() ----------------------------------------------------

async function cold() {
  const out = await new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--cold'], { env: process.env });
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.on('exit', (code) => (code === 0 ? resolvePromise(JSON.parse(text)) : reject(new Error(`cold run exited ${code}`))));
  });
  return out;
}

const colds = [];
for (let i = 0; i < 5; i++) colds.push(await cold());
row('cold: import to first answer', stats(colds.map((c) => c.total), colds.map((c) => c.totalCpu)),
  'new node process: import, createHomeserver(), GET /versions');
row('cold: createHomeserver() alone', stats(colds.map((c) => c.create), colds.map((c) => c.createCpu)),
  'the same runs: compile + instantiate + new database');

const first = await createHomeserver(); // this process's compile
await first.close();
row('warm: createHomeserver() to first answer', await repeat(20, async () => {
  let hs;
  const t = await timed(async () => {
    hs = await createHomeserver();
    await (await hs.fetch('/_matrix/client/versions')).json();
  });
  await hs.close();
  return t;
}), 'same process after the first: instantiate + new database + GET /versions');

// ---- reset, restore, snapshot ------------------------------------------------

const hs = await createHomeserver();
const alice = await hs.registerUser('alice');
const bob = await hs.registerUser('bob');
const roomId = await hs.createRoom(alice, { join: [bob] });
const populated = await hs.snapshot();
row('reset() (2 users, 1 room)', await repeat(30, async () => {
  await hs.restore(populated); // so that every reset undoes the same
  return timed(() => hs.reset());
}), 'hs.reset() to the empty database');

await hs.restore(await createSnapshotWithMessages());
const big = await hs.snapshot();
row(`snapshot() (${(big.length / 1024).toFixed(0)} KB)`, await repeat(30, () => timed(() => hs.snapshot())), 'hs.snapshot(): the database as .sqlite bytes');
row(`restore() (${(big.length / 1024).toFixed(0)} KB)`, await repeat(30, () => timed(() => hs.restore(big))), 'hs.restore(snapshot) of 2 users, 1 room, 500 messages');
await hs.close();

async function createSnapshotWithMessages() {
  const s = await createHomeserver();
  const a = await s.registerUser('alice');
  const b = await s.registerUser('bob');
  const r = await s.createRoom(a, { join: [b] });
  for (let i = 0; i < 500; i++) {
    await s.fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(r)}/send/m.room.message/m${i}`, {
      method: 'PUT', headers: { authorization: `Bearer ${a.accessToken}` },
      body: JSON.stringify({ msgtype: 'm.text', body: `message ${i} with a little text in it` }) });
  }
  const bytes = await s.snapshot();
  await s.close();
  return bytes;
}
void roomId;

// ---- one matrix-js-sdk scenario --------------------------------------------

if (!Promise.withResolvers) {
  Promise.withResolvers = function withResolvers() {
    let res;
    let rej;
    const promise = new this((a, b) => { res = a; rej = b; });
    return { promise, resolve: res, reject: rej };
  };
}
// The SDK's own logger (push rules, call sessions) prints at info level: keep
// its errors only, set before the rest of the SDK loads (as tests/sdk does).
const sdkRoot = dirname(scratchRequire.resolve('matrix-js-sdk/package.json'));
const { logger: sdkLogger } = await import(pathToFileURL(join(sdkRoot, 'lib/logger.js')));
sdkLogger.methodFactory = (method) => (method === 'error' ? console.error : () => {});
sdkLogger.rebuild();
const sdk = await import(pathToFileURL(scratchRequire.resolve('matrix-js-sdk')));
const logger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, getChild: () => logger };

// Register two users, create a room, the second joins, 20 messages, the
// second starts its client and syncs until PREPARED with all 20.
async function scenario(baseUrl, fetchFn, tag) {
  const anon = sdk.createClient({ baseUrl, fetchFn, logger });
  const users = [];
  for (const name of [`alice${tag}`, `bob${tag}`]) {
    const r = await anon.registerRequest({ username: name, password: `${name}-password`, auth: { type: 'm.login.dummy' } });
    users.push(sdk.createClient({ baseUrl, fetchFn, logger, userId: r.user_id, accessToken: r.access_token, deviceId: r.device_id }));
  }
  const [a, b] = users;
  const { room_id: room } = await a.createRoom({ invite: [b.getUserId()] });
  await b.joinRoom(room);
  for (let i = 0; i < 20; i++) await a.sendTextMessage(room, `message ${i}`);
  const prepared = new Promise((res, rej) => b.on(sdk.ClientEvent.Sync, (state) => {
    if (state === 'PREPARED') res();
    if (state === 'ERROR') rej(new Error('sync failed'));
  }));
  await b.startClient({ initialSyncLimit: 30 });
  await prepared;
  const got = b.getRoom(room).getLiveTimeline().getEvents().filter((e) => e.getType() === 'm.room.message').length;
  b.stopClient();
  if (got !== 20) throw new Error(`bob synced ${got} messages, not 20`);
}

const RUNS = 5;
for (const passwordHashing of ['fast', 'strong']) {
  row(`matrix-js-sdk scenario, in-process (passwordHashing ${passwordHashing})`, await repeat(RUNS, async (i) => {
    const s = await createHomeserver({ passwordHashing });
    const t = await timed(() => scenario(s.baseUrl, s.fetch, i));
    await s.close();
    return t;
  }), 'register 2, createRoom, join, 20 messages, startClient to PREPARED; hs.fetch');
}

async function startNative(args) {
  const child = spawn(BIN, ['--listen', '127.0.0.1:0', '--no-rate-limit', ...args]);
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  for (const end = Date.now() + 15000; !/listening on (http:\/\/[^/\s]+)\//.test(out);) {
    if (Date.now() > end) throw new Error(`the native server did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return { child, url: /listening on (http:\/\/[^/\s]+)\//.exec(out)[1] };
}

const dbDir = mkdtempSync(join(tmpdir(), 'hometab-bench-package-'));
for (const [label, db] of [[':memory:', ':memory:'], ['file (WAL, synchronous=FULL)', join(dbDir, 'native.sqlite')]]) {
  const native = await startNative(['--db', db]);
  try {
    // CPU time here is the client's alone (the server is another process): wall time compares.
    row(`matrix-js-sdk scenario, native binary on loopback (--db ${label})`, await repeat(RUNS, (i) =>
      timed(() => scenario(native.url, globalThis.fetch, i))), `same scenario against ${BIN.replace(ROOT + '/', '')} over HTTP`);
  } finally { // a failed run must not leave the server behind
    const exited = new Promise((r) => native.child.on('exit', r));
    native.child.kill('SIGTERM');
    await exited;
  }
}

rmSync(dbDir, { recursive: true, force: true });

// ---- the table -----------------------------------------------------------------

const fmt = (s) => (s ? `${s.median.toFixed(1)} (${s.min.toFixed(1)}-${s.max.toFixed(1)})` : '-');
const w0 = Math.max(...rows.map((r) => r.figure.length));
const w1 = Math.max(...rows.map((r) => fmt(r.wall).length), 'wall ms median (min-max)'.length);
const w2 = Math.max(...rows.map((r) => fmt(r.cpu).length), 'cpu ms median (min-max)'.length);
console.log(`\npackage figures (node ${process.version}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')})`);
console.log(`${'figure'.padEnd(w0)}  ${'wall ms median (min-max)'.padStart(w1)}  ${'cpu ms median (min-max)'.padStart(w2)}  n   command`);
for (const r of rows) {
  console.log(`${r.figure.padEnd(w0)}  ${fmt(r.wall).padStart(w1)}  ${fmt(r.cpu).padStart(w2)}  ${String(r.n).padEnd(3)} ${r.command}`);
}
const out = join(ROOT, 'build/bench-package.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify({ node: process.version, loadavg: loadavg(), rows }, null, 2)}\n`);
console.log(`\nwritten to ${out}`);
process.exit(0); // matrix-js-sdk leaves request timers armed
