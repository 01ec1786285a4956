// p2p-chat.mjs -- the peer-to-peer figures with the real core on both ends,
// printed by `make bench` (bench-p2p): two Chromium profiles with the demo
// in p2p mode, each its own wasm homeserver, sharing a room through the real
// relay; then the same over a direct WebRTC connection, inside a network
// namespace with a veth pair (this script again, under unshare -n, as
// tests/p2p/browser-servers-webrtc.test.mjs; where the namespace cannot be
// made, the reason is printed instead of the direct figures). The same
// set-up as tests/p2p/browser-servers.test.mjs.
//
// Figures:
//   message A -> B's client, relayed (p50, p90): from alice's PUT /send in
//     browser A to the /sync long-poll of bob's client in browser B returning
//     it (A's outbox -> A's page -> relay -> B's page -> B's worker -> B's
//     core, saved, woken), one message at a time; both pages read Date.now()
//     of the same machine
//   message A -> B's client, direct WebRTC (p50, p90): the same, timed once
//     A's page reports B as a WebRTC peer (the relay only signalled)
//   first message after both pages loaded: both browsers reopened (a room
//     already shared), from both pages loaded and carrying their transport
//     to the message in B's client; relayed, and with WebRTC allowed
// Environment: BENCH_P2P_CHAT_N (messages, default 40); HOMETAB_BIN and
// HOMETAB_WEB_ROOT (the Makefile sets them).

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { insideNamespace, printResult, rerunInNamespace } from './lib/netns.mjs';
import { ROOT, cleanupAll, startRelay } from '../p2p/lib/peers.mjs';
import {
  launchBrowser, openP2p, register, say, shareRoom, startNative, statusOf, until,
} from '../p2p/lib/servers.mjs';

const N = Number(process.env.BENCH_P2P_CHAT_N ?? 40);
const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

// Bob's client in page B: a /sync loop that notes when each message body
// first arrives (Date.now() in the page).
function followRoom(page, token, roomId) {
  return page.evaluate(async ({ token, roomId }) => {
    const auth = { authorization: `Bearer ${token}` };
    let since = (await (await fetch('/_matrix/client/v3/sync?timeout=0', { headers: auth })).json()).next_batch;
    globalThis.arrivals = {};
    (async () => {
      for (;;) {
        const r = await fetch(`/_matrix/client/v3/sync?since=${encodeURIComponent(since)}&timeout=20000`, { headers: auth });
        const j = await r.json();
        since = j.next_batch ?? since;
        for (const e of j.rooms?.join?.[roomId]?.timeline?.events ?? []) {
          if (e.type === 'm.room.message') globalThis.arrivals[e.content.body] ??= Date.now();
        }
      }
    })();
  }, { token, roomId });
}

async function arrival(page, body, timeoutMs = 60000) {
  const handle = await page.waitForFunction((b) => globalThis.arrivals?.[b], body, { timeout: timeoutMs, polling: 5 });
  return handle.jsonValue();
}

// Sends from page A; resolves with the send's start (Date.now() in page A).
function sendAt(page, token, roomId, body) {
  return page.evaluate(async ({ token, roomId, body }) => {
    const t0 = Date.now();
    const r = await fetch(`/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${body}`, {
      method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ msgtype: 'm.text', body }) });
    if (r.status !== 200) throw new Error(`send: ${r.status} ${await r.text()}`);
    return t0;
  }, { token, roomId, body });
}

// One run: two browsers share a room, N messages A -> B one at a time, then
// both reopen and the first message is timed. webrtc: the pages may upgrade
// to a direct connection, and the timed messages wait until they have (run
// inside the network namespace, where WebRTC has candidates).
async function measure({ webrtc }) {
  const args = webrtc ? ['--disable-features=WebRtcHideLocalIpsWithMdns'] : [];
  const relay = await startRelay({ args: ['--quiet'] });
  const native = await startNative({ relay });
  let [browserA, browserB] = [await launchBrowser({ args }), await launchBrowser({ args })];
  let [pageA, pageB] = [await openP2p(browserA, native, { webrtc }), await openP2p(browserB, native, { webrtc })];
  const alice = await register(pageA, 'alice');
  const bob = await register(pageB, 'bob');
  const roomId = await shareRoom(pageA, alice, pageB, bob);
  await followRoom(pageB, bob.access_token, roomId);
  for (let i = 0; i < 5; i++) { // warm-up: connections, the first transactions
    await sendAt(pageA, alice.access_token, roomId, `warm${i}`);
    await arrival(pageB, `warm${i}`);
  }
  const nameB = (await statusOf(pageB)).serverName;
  const via = async () => ((await statusOf(pageA)).transport?.peers ?? []).find((p) => p.name === nameB)?.via;
  const expected = webrtc ? 'webrtc' : 'relay';
  await until(`A's page lists B as a peer (${expected})`, async () => (await via()) === expected, 60000);
  const times = [];
  let viaAfter = expected; // as seen between the messages (the page's list may omit an idle one)
  for (let i = 0; i < N; i++) {
    const t0 = await sendAt(pageA, alice.access_token, roomId, `m${i}`);
    times.push(await arrival(pageB, `m${i}`) - t0);
    viaAfter = (await via()) ?? viaAfter;
  }

  // Both browsers close and reopen; from both pages ready to the first message.
  await Promise.all([browserA.close(), browserB.close()]);
  [browserA, browserB] = [await launchBrowser({ userDataDir: browserA.userDataDir, args }),
    await launchBrowser({ userDataDir: browserB.userDataDir, args })];
  [pageA, pageB] = await Promise.all([openP2p(browserA, native, { webrtc }), openP2p(browserB, native, { webrtc })]);
  const loaded = Date.now();
  await followRoom(pageB, bob.access_token, roomId);
  await say(pageA, alice.access_token, roomId, 'first after reopening');
  const firstMs = await arrival(pageB, 'first after reopening', 120000) - loaded;
  await cleanupAll();
  return { via: viaAfter, p50: percentile(times, 0.5), p90: percentile(times, 0.9), firstMs };
}

if (insideNamespace()) {
  printResult(await measure({ webrtc: true }));
  process.exit(0);
}

const relayed = await measure({ webrtc: false });
if (relayed.via !== 'relay') throw new Error(`the relayed measurement went via ${relayed.via}`);
const direct = rerunInNamespace(import.meta.url, 600000);
if (!direct.skipped && direct.via !== 'webrtc') throw new Error(`the direct measurement went via ${direct.via}`);

const rows = [
  { figure: 'message A -> B\'s client, browser servers, relayed, p50', value: relayed.p50, unit: 'ms' },
  { figure: 'message A -> B\'s client, browser servers, relayed, p90', value: relayed.p90, unit: 'ms' },
  { figure: 'first message after both pages loaded (reopened), relayed', value: relayed.firstMs, unit: 'ms' },
  ...(direct.skipped ? [] : [
    { figure: 'message A -> B\'s client, browser servers, direct WebRTC, p50', value: direct.p50, unit: 'ms' },
    { figure: 'message A -> B\'s client, browser servers, direct WebRTC, p90', value: direct.p90, unit: 'ms' },
    { figure: 'first message after both pages loaded (reopened), WebRTC', value: direct.firstMs, unit: 'ms' },
  ]),
].map((r) => ({ ...r, command: `node tests/bench/p2p-chat.mjs (${N} messages, one at a time)` }));
console.log(`p2p chat figures (${N} messages; node tests/bench/p2p-chat.mjs)`);
for (const r of rows) console.log(`${r.figure.padEnd(66)} ${String(r.value).padStart(8)} ${r.unit}`);
if (direct.skipped) console.log(`SKIP direct WebRTC figures: ${direct.skipped}`);
mkdirSync(join(ROOT, 'build'), { recursive: true });
const file = join(ROOT, 'build/bench-p2p.json');
let previous = [];
try {
  previous = JSON.parse(readFileSync(file, 'utf8')).filter((r) => !rows.some((n) => n.figure === r.figure));
} catch { /* none yet */ }
writeFileSync(file, `${JSON.stringify([...previous, ...rows], null, 2)}\n`);
process.exit(0);
