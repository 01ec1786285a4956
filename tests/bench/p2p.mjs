// p2p.mjs -- figures for the browser peer-to-peer transport, printed by
// `make bench` (bench-p2p). Two Chromium profiles, each a browser server
// (the real bundle, the stub server of tests/p2p where the core will be),
// and the real relay; all on loopback, or inside a network namespace with a
// veth pair for the direct WebRTC figures (as tests/p2p/webrtc.test.mjs;
// printed as skipped, with the reason, where unshare -n is refused).
//
// Figures:
//   round trip, relayed (p50, p90): a small federation request A -> B and
//     its answer through the relay's circuit, sequential, after warm-up
//   round trip, direct WebRTC (p50, p90)
//   time to first request after both pages loaded: from both pages loaded
//     to A's first answer from B (both transports start, reserve on the
//     relay, dial, one request)
//   the bundle's size, minified and gzipped (-9)
// Environment: BENCH_P2P_N (round trips per path, default 200).

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { ROOT, cleanupAll, launchProfile, seedOf, startRelay, startSite } from '../p2p/lib/peers.mjs';

const N = Number(process.env.BENCH_P2P_N ?? 200);
const BUNDLE = process.env.HOMETAB_P2P_BUNDLE ?? join(ROOT, 'build/www/vendor/p2p.js');
const NETNS_SETUP = 'ip link set lo up && ip link add v0 type veth peer name v1 && ip addr add 198.18.0.1/24 dev v0 && ' +
  'ip addr add 198.18.0.2/24 dev v1 && ip link set v0 up && ip link set v1 up && ip route add default dev v0 && ' +
  'echo netns-ready && exec "$@"';

const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

async function measure({ webrtc }) {
  const args = webrtc ? ['--disable-features=WebRtcHideLocalIpsWithMdns'] : [];
  const [relay, site] = await Promise.all([startRelay({ args: ['--quiet'] }), startSite()]);
  const profiles = await Promise.all([launchProfile({ args }), launchProfile({ args })]);
  const pages = await Promise.all(profiles.map(async (profile) => {
    const page = await profile.context.newPage();
    await page.goto(`${site.url}/fixtures/peer-page.html`);
    await page.waitForFunction(() => window.t);
    return page;
  }));
  // Both pages are loaded: from here to A's first answer.
  const t0 = performance.now();
  const [nameA, nameB] = await Promise.all(pages.map((page, i) => page.evaluate((o) => window.t.start(o),
    { seed: seedOf(`bench-${i}`), relayAddr: relay.relay, webrtc })));
  const first = await pages[0].evaluate(([d]) => window.t.ask(d, { target: '/_matrix/federation/v1/version', origin: null }), [nameB]);
  if (!first.ok) throw new Error(first.error);
  const firstRequestMs = performance.now() - t0;
  const times = await pages[0].evaluate(async ([dest, n]) => {
    const out = [];
    for (let i = 0; i < n + 20; i++) {
      const r = await window.t.ask(dest, { method: 'PUT', target: `/_matrix/federation/v1/send/b${i}`, bodySize: 300 });
      if (!r.ok) throw new Error(r.error);
      if (i >= 20) out.push(r.ms);
    }
    return out;
  }, [nameB, N]);
  const via = (await pages[0].evaluate(() => window.t.peer.peers()))[0]?.via;
  await cleanupAll();
  return { via, nameA, firstRequestMs, p50: percentile(times, 0.5), p90: percentile(times, 0.9), n: times.length };
}

async function inNamespace() {
  const result = spawnSync('unshare', ['-n', 'sh', '-c', NETNS_SETUP, 'sh', process.execPath, fileURLToPath(import.meta.url)], {
    env: { ...process.env, HOMETAB_P2P_NETNS: '1' }, encoding: 'utf8', timeout: 300000,
  });
  if (!/^netns-ready$/m.test(result.stdout ?? '')) {
    return { skipped: `no network namespace (unshare -n, ip link; needs root): ${
      (result.error?.message ?? result.stderr ?? '').trim().split('\n').at(-1) || `exit ${result.status}`}` };
  }
  const line = result.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`the direct measurement failed:\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(line.slice(7));
}

if (process.env.HOMETAB_P2P_NETNS === '1') {
  const direct = await measure({ webrtc: true });
  console.log(`RESULT ${JSON.stringify(direct)}`);
  process.exit(0);
}

const rows = [];
const row = (figure, value, unit, command) => {
  rows.push({ figure, value, unit, command });
  console.log(`${figure.padEnd(58)} ${String(value).padStart(10)} ${unit}`);
};
const fmt = (ms) => ms.toFixed(1);
const bundle = readFileSync(BUNDLE);
console.log(`p2p figures (${N} round trips per path; node tests/bench/p2p.mjs)`);
row('p2p bundle (esbuild, minified)', (bundle.length / 1024).toFixed(0), 'KB', `esbuild --bundle --minify js-bridge/p2p/peer.js`);
row('p2p bundle gzipped (-9)', (gzipSync(bundle, { level: 9 }).length / 1024).toFixed(0), 'KB', 'gzip -9');
const relayed = await measure({ webrtc: false });
row('round trip A -> B relayed, p50', fmt(relayed.p50), 'ms', 'PUT /send with 300 bytes, answer ~300 bytes');
row('round trip A -> B relayed, p90', fmt(relayed.p90), 'ms', 'same');
row('first request after both pages loaded, relayed', fmt(relayed.firstRequestMs), 'ms', 'startPeer x2 + first GET');
const direct = await inNamespace();
if (direct.skipped) {
  console.log(`SKIP direct WebRTC figures: ${direct.skipped}`);
} else {
  if (direct.via !== 'webrtc') throw new Error(`the direct measurement went via ${direct.via}`);
  row('round trip A -> B direct WebRTC, p50', fmt(direct.p50), 'ms', 'same, in a netns with a veth pair');
  row('round trip A -> B direct WebRTC, p90', fmt(direct.p90), 'ms', 'same');
  row('first request after both pages loaded, WebRTC', fmt(direct.firstRequestMs), 'ms', 'startPeer x2 + WebRTC dial + GET');
}
mkdirSync(join(ROOT, 'build'), { recursive: true });
writeFileSync(join(ROOT, 'build/bench-p2p.json'), `${JSON.stringify(rows, null, 2)}\n`);
process.exit(0);
