// tls-front.mjs -- stunnel4 in front of a plain-HTTP server: the TLS a
// reverse proxy gives a real deployment, on loopback.
//
//   const front = await startTlsFront({ port: 8448, target: 8008, tls });  // tls: ca.mjs's makeTestCa
//   await front.stop();
//
// stunnel runs in the foreground as a child of the test, with its own
// config in a temporary folder; it is ready once its port takes a TCP
// connection.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

const running = new Set();
after(async () => {
  for (const front of [...running]) await front.stop();
});

function connects(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

export async function startTlsFront({ port, target, tls }) {
  const dir = mkdtempSync(join(tmpdir(), 'hometab-tls-'));
  const config = join(dir, 'stunnel.conf');
  writeFileSync(config, [
    'foreground = yes',
    'pid =',
    'debug = 3',
    '[federation]',
    `accept = 127.0.0.1:${port}`,
    `connect = 127.0.0.1:${target}`,
    `cert = ${tls.certPath}`,
    `key = ${tls.keyPath}`,
    '',
  ].join('\n'));
  let log = '';
  const proc = spawn('stunnel4', [config], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.on('error', (e) => { log += `cannot run stunnel4: ${e.message}\n`; });
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const exited = new Promise((resolve) => proc.on('close', resolve));
  let gone = false;
  exited.then(() => (gone = true));
  const deadline = Date.now() + 10000;
  while (!(await connects(port))) {
    if (gone || Date.now() > deadline) {
      proc.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`stunnel4 did not start on port ${port}:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const front = {
    port,
    get log() { return log; },
    async stop() {
      running.delete(front);
      if (!gone) proc.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  running.add(front);
  return front;
}
