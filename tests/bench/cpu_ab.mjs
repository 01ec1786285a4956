// cpu_ab.mjs -- the server's own CPU time per request, for comparing two
// builds on a busy machine, where wall-clock figures mostly measure the
// neighbours: node tests/bench/cpu_ab.mjs BIN [BIN...] prints, for each
// binary, the CPU time (user + system, from /proc/<pid>/stat) the server
// spent per request in three cases of issue 15: an incremental /sync with
// one new event for a reader with 2,000 unread, a PUT /send into a
// 32-member room, an initial /sync of a user in 300 rooms. The binaries
// take turns (ROUNDS, default 3) so that both see the same machine.
import { readFileSync } from 'node:fs';

import { startServer } from '../api/lib/server.mjs';
import { V3, createRoom, join, register, seg, sendMessage } from '../api/lib/matrix.mjs';

const ROUNDS = Number(process.env.ROUNDS ?? 3);
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
    // A reader with 2,000 unread who never sends a receipt: one new event, then their incremental sync.
    const writer = await register(srv, 'writer');
    const reader = await register(srv, 'reader');
    const room = await createRoom(srv, writer, { preset: 'public_chat' });
    await join(srv, reader, room);
    for (let i = 0; i < 2000; i++) await sendMessage(srv, writer, room, `unread ${i}`);
    let since = (await ok(await srv.fetch(`${V3}/sync`, { token: reader.token }))).next_batch;
    out.sync2000 = await perRequest(srv, 400, async () => {
      since = (await ok(await srv.fetch(`${V3}/sync?since=${since}&timeout=0`, { token: reader.token }))).next_batch;
    }, (i) => sendMessage(srv, writer, room, `one more ${i}`));
    // PUT /send into a room of 32.
    const people = [];
    for (let i = 0; i < 32; i++) people.push(await register(srv, `p${i}`));
    const big = await createRoom(srv, people[0], { preset: 'public_chat' });
    for (const p of people.slice(1)) await join(srv, p, big);
    out.send32 = await perRequest(srv, 600, (i) => sendMessage(srv, people[0], big, `to 32, ${i}`));
    // A user in 300 rooms: initial syncs.
    const many = await register(srv, 'many');
    const other = await register(srv, 'other');
    for (let i = 0; i < 300; i++) {
      const r = await createRoom(srv, many, { preset: 'public_chat', name: `room ${i}`, topic: `topic ${i}` });
      await join(srv, other, r);
      for (let k = 0; k < 3; k++) await sendMessage(srv, k % 2 ? many : other, r, `message ${k}`);
    }
    await ok(await srv.fetch(`${V3}/sync`, { token: many.token })); // the first judges what is stale
    out.initial300 = await perRequest(srv, 20, () => srv.fetch(`${V3}/sync`, { token: many.token }).then(ok));
    return out;
  } finally {
    await srv.stop();
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
  for (const key of ['sync2000', 'send32', 'initial300'])
    console.log(`  ${key.padEnd(11)} CPU ms/request: median ${median(rows.map((x) => x[key])).toFixed(3)}  (${rows.map((x) => x[key].toFixed(3)).join(', ')})`);
}
