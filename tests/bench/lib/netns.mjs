// netns.mjs -- the direct-WebRTC figures of the p2p benchmarks: the calling
// script runs again inside a network namespace with a veth pair (loopback
// alone gives WebRTC no candidates; as tests/p2p/browser-servers-webrtc.test.mjs
// does), and prints its figures there as one RESULT line.
//
//   if (insideNamespace()) { printResult(await measure(...)); process.exit(0); }
//   const direct = rerunInNamespace(import.meta.url);  // or { skipped: why }

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SETUP = 'ip link set lo up && ip link add v0 type veth peer name v1 && ip addr add 198.18.0.1/24 dev v0 && ' +
  'ip addr add 198.18.0.2/24 dev v1 && ip link set v0 up && ip link set v1 up && ip route add default dev v0 && ' +
  'echo netns-ready && exec "$@"';

export const insideNamespace = () => process.env.HOMETAB_P2P_NETNS === '1';

export function printResult(figures) {
  console.log(`RESULT ${JSON.stringify(figures)}`);
}

// Runs the script at scriptUrl again inside the namespace; its RESULT, or
// { skipped: why } where the namespace cannot be made (it needs root).
export function rerunInNamespace(scriptUrl, timeoutMs = 600000) {
  const result = spawnSync('unshare', ['-n', 'sh', '-c', SETUP, 'sh', process.execPath, fileURLToPath(scriptUrl)], {
    env: { ...process.env, HOMETAB_P2P_NETNS: '1' }, encoding: 'utf8', timeout: timeoutMs,
  });
  if (!/^netns-ready$/m.test(result.stdout ?? '')) {
    return { skipped: `no network namespace (unshare -n, ip link; needs root): ${
      (result.error?.message ?? result.stderr ?? '').trim().split('\n').at(-1) || `exit ${result.status}`}` };
  }
  const line = result.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`the direct measurement failed:\n${result.stdout}\n${result.stderr}`);
  return JSON.parse(line.slice(7));
}
