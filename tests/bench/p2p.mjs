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

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { insideNamespace, printResult, rerunInNamespace } from './lib/netns.mjs';
import { ROOT, cleanupAll, launchProfile, seedOf, startRelay, startSite } from '../p2p/lib/peers.mjs';

const N = Number(process.env.BENCH_P2P_N ?? 200);
const BUNDLE = process.env.HOMETAB_P2P_BUNDLE ?? join(ROOT, 'build/www/vendor/p2p.js');

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

if (insideNamespace()) {
  printResult(await measure({ webrtc: true }));
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
const direct = rerunInNamespace(import.meta.url, 300000);
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
