// relay.test.mjs -- the relay process on its own: its command line, its
// identity across restarts, and the per-peer limit on relayed connections.
// Its peers here are js-libp2p nodes in node (no browser needed).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import net from 'node:net';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, hostilePeer, seedOf, startRelay, tempDir } from './lib/harness.mjs';

const RELAY = join(ROOT, 'js-bridge/p2p/relay.mjs');
const run = (args) => spawnSync(process.execPath, [RELAY, ...args], { encoding: 'utf8', timeout: 20000 });

describe('the relay\'s command line', () => {
  test('--help, and bad flags exit 2 with the reason', () => {
    const help = run(['--help']);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /--gateway-insecure-http/);
    for (const [args, reason] of [[['--bogus'], /unknown option --bogus/], [['--listen', 'nowhere'], /--listen wants ADDR:PORT/],
      [['--gateway', '0.0.0.0:0'], /loopback address only/], [['--gateway-insecure-http'], /needs --gateway/],
      [['--max-circuits-per-peer', '0'], /positive number/]]) {
      const r = run(args);
      assert.equal(r.status, 2, args.join(' '));
      assert.match(r.stderr, reason);
    }
  });

  test('a listen port in use exits 3', async () => {
    const blocker = net.createServer();
    await new Promise((r) => blocker.listen(0, '127.0.0.1', r));
    const r = run(['--listen', `127.0.0.1:${blocker.address().port}`]);
    blocker.close();
    assert.equal(r.status, 3, r.stderr);
    assert.match(r.stderr, /cannot start/);
  });

  test('--key-file keeps the relay\'s peer id (its address) across restarts; SIGTERM exits 0', async () => {
    const keyFile = join(tempDir(), 'relay.key');
    const first = await startRelay({ args: ['--key-file', keyFile] });
    assert.match(first.relay, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\/12D3KooW/);
    assert.equal(await first.stop(), 0);
    const second = await startRelay({ args: ['--key-file', keyFile] });
    assert.equal(second.peerId, first.peerId);
    await second.stop();
  });
});

describe('relayed connections per peer', () => {
  test('past --max-circuits-per-peer a peer\'s new circuits are refused, and logged', async () => {
    const relay = await startRelay({ args: ['--max-circuits-per-peer', '2'] });
    const target = await hostilePeer({ relayAddr: relay.relay, seed: seedOf('circuit-target'), listen: true });
    const source = await hostilePeer({ relayAddr: relay.relay, seed: seedOf('circuit-source') });
    const outcomes = [];
    for (let i = 0; i < 4; i++) {
      try {
        await source.connect(target.name);
        outcomes.push('open');
      } catch (error) {
        outcomes.push(/PERMISSION_DENIED/.test(error.message) ? 'refused' : error.message);
      }
    }
    assert.deepEqual(outcomes, ['open', 'open', 'refused', 'refused']);
    assert.match(relay.log, /circuit refused .* per-peer limit/);
    assert.match(relay.log, /reservation for /);
  });
});
