// fed_read.mjs -- what the server-server read endpoints cost on a native hometab (`make
// bench-fed-read`): a room of MEMBERS local members (default 200) and MESSAGES messages (default
// 1000), read by the fake remote server (tests/federation/lib), which joined it through hometab as
// in tests/federation/read_endpoints.test.mjs. Each endpoint is asked 20 times after one warm-up;
// the median and the slowest are printed, with the answer's size.

import { createRoom, join as joinRoom, register, sendMessage, sqlite } from '../api/lib/matrix.mjs';
import { startFakeServer } from '../federation/lib/fake-server.mjs';
import { startFederating } from '../federation/lib/hometab.mjs';

const MEMBERS = Number(process.env.MEMBERS ?? 200);
const MESSAGES = Number(process.env.MESSAGES ?? 1000);

const fake = await startFakeServer();
const srv = await startFederating();
const NAME = srv.serverName;
const alice = await register(srv, 'alice');
const roomId = await createRoom(srv, alice, { preset: 'public_chat' });
for (let i = 0; i < MEMBERS; i++) await joinRoom(srv, await register(srv, `u${i}`), roomId);
for (let i = 0; i < MESSAGES; i++) await sendMessage(srv, alice, roomId, `message ${i}`);
const user = `@reader:${fake.serverName}`;
await fake.joinRoom(NAME, roomId, user);
const listed = { events: (await sqlite(srv, `SELECT event_id FROM events WHERE room_id = '${roomId}' AND status = 0 ORDER BY stream`)).map((id) => ({ event_id: id })) };

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
