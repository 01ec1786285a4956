// fed_read.mjs -- what the server-server read endpoints cost on a native hometab (`make
// bench-fed-read`): a room of MEMBERS local members (default 200) and MESSAGES messages (default
// 1000), read by the fake remote server (tests/federation/lib), in the room through fed-seed-tool as
// in tests/federation/read_endpoints.test.mjs. Each endpoint is asked 20 times after one warm-up;
// the median and the slowest are printed, with the answer's size.

import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';

import { createRoom, join as joinRoom, register, sendMessage } from '../api/lib/matrix.mjs';
import { startServer } from '../api/lib/server.mjs';
import { startFakeServer } from '../federation/lib/fake-server.mjs';
import { RoomGraph } from '../federation/lib/room-graph.mjs';
import { b64 } from '../federation/lib/signing.mjs';

const MEMBERS = Number(process.env.MEMBERS ?? 200);
const MESSAGES = Number(process.env.MESSAGES ?? 1000);
const NAME = 'hometab.test';
const ARGS = ['--federation', '--server-name', NAME, '--no-rate-limit'];
const TOOL = join(dirname(process.env.HOMETAB_BIN), 'fed-seed-tool');

function seed(db, commands) {
  const input = `${commands.map((c) => JSON.stringify(c)).join('\n')}\n`;
  const r = spawnSync(TOOL, [db, NAME], { input, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`fed-seed-tool: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((line) => JSON.parse(line));
}

const fake = await startFakeServer();
const first = await startServer({ args: ARGS });
const alice = await register(first, 'alice');
const roomId = await createRoom(first, alice, { preset: 'public_chat' });
for (let i = 0; i < MEMBERS; i++) await joinRoom(first, await register(first, `u${i}`), roomId);
for (let i = 0; i < MESSAGES; i++) await sendMessage(first, alice, roomId, `message ${i}`);
await first.stop({ keepFiles: true });
const key = { server: fake.serverName, key_id: fake.key.keyId, key: b64(fake.key.publicKey) };
const [, listed] = seed(first.db, [{ key }, { events: roomId }]);
const graph = new RoomGraph(roomId, '10');
for (const { event_id: id, pdu } of listed.events) graph.add(id, pdu);
fake.rooms.set(roomId, graph);
const user = `@reader:${fake.serverName}`;
const joined = fake.makeEvent('10', { room_id: roomId, sender: user, type: 'm.room.member', state_key: user, content: { membership: 'join' } });
if (seed(first.db, [{ receive: joined.pdu }])[0].outcome !== 'timeline') throw new Error('the reader could not join');
const srv = await startServer({ args: ARGS, db: first.db });
fake.peers.set(NAME, srv.url);

const ids = listed.events.map((ev) => ev.event_id);
const last = ids.at(-1);
const middle = ids[Math.floor(ids.length / 2)];
async function time(label, ask) {
  await ask();
  const ms = [];
  let bytes = 0;
  for (let i = 0; i < 20; i++) {
    const start = process.hrtime.bigint();
    const r = await ask();
    ms.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (r.status !== 200) throw new Error(`${label}: ${r.status} ${JSON.stringify(r.json)}`);
    bytes = r.bytes.length;
  }
  ms.sort((a, b) => a - b);
  console.log(`${label.padEnd(40)} ${ms[10].toFixed(1).padStart(7)} ms median ${ms[19].toFixed(1).padStart(7)} ms max ${String(bytes).padStart(9)} bytes`);
}
console.log(`a room of ${MEMBERS + 1} members and ${listed.events.length} events, read over loopback by one remote server`);
await time('GET /event', () => fake.getEvent(NAME, middle));
await time('GET /state_ids (at the last event)', () => fake.stateIds(NAME, roomId, last));
await time('GET /state (at the last event)', () => fake.state(NAME, roomId, last));
await time('GET /event_auth', () => fake.eventAuth(NAME, roomId, last));
await time('POST /get_missing_events (20)', () => fake.getMissingEvents(NAME, roomId, { earliest_events: [], latest_events: [last], limit: 20 }));
await time('GET /backfill (100)', () => fake.backfill(NAME, roomId, [last], 100));
await srv.stop();
await fake.stop();
