// The hometab binary's federation flags: accepted, said in --help, and refused with a
// reason (exit code 2) when they cannot work. Nothing uses them yet beyond start-up.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runToExit, startServer } from '../api/lib/server.mjs';
import { makePki } from './lib/harness.mjs';

let dir;
let pki;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'fedhost-flags-'));
  pki = makePki(join(dir, 'ca'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('--help names the federation flags, but not the test-only DNS one', async () => {
  const { code, stdout } = await runToExit(['--help']);
  assert.equal(code, 0);
  for (const flag of ['--federation ', '--no-federation', '--federation-ca FILE', '--federation-insecure-http'])
    assert.ok(stdout.includes(flag), flag);
  assert.ok(!stdout.includes('--federation-dns'));
});

test('the server starts with every federation flag given', async () => {
  const srv = await startServer({ args: ['--federation', '--federation-ca', pki.caPath, '--federation-insecure-http',
    '--federation-dns', '127.0.0.1:5353'] });
  const res = await srv.fetch('/_matrix/client/versions');
  assert.equal(res.status, 200);
  await srv.stop();
  const off = await startServer({ args: ['--federation', '--no-federation'] });
  await off.stop();
});

test('the plain-HTTP test mode is refused with a listen address other machines can reach', async () => {
  for (const listen of ['0.0.0.0:0', '[::]:0']) {
    const { code, stderr } = await runToExit(['--federation-insecure-http', '--listen', listen, '--db', ':memory:']);
    assert.equal(code, 2, listen);
    assert.match(stderr, /--federation-insecure-http .* --listen must be a loopback address/);
  }
  const loopback = await startServer({ args: ['--federation-insecure-http'] }); // 127.0.0.1: accepted
  await loopback.stop();
});

test('a CA file that is missing or holds no certificate is refused at start', async () => {
  const notPem = join(dir, 'not.pem');
  writeFileSync(notPem, 'not a certificate\n');
  for (const [file, reason] of [[join(dir, 'missing.pem'), /cannot read the CA file/], [notPem, /holds no PEM certificate/]]) {
    const { code, stderr } = await runToExit(['--federation-ca', file, '--db', ':memory:']);
    assert.equal(code, 2);
    assert.match(stderr, /^hometab: --federation-ca: /);
    assert.match(stderr, reason);
  }
});

test('a DNS server that is not ADDRESS:PORT is refused at start', async () => {
  for (const bad of ['127.0.0.1', 'dns.example:53', '127.0.0.1:0', '[::1]53', '1.2.3:53']) {
    const { code, stderr } = await runToExit(['--federation-dns', bad, '--db', ':memory:']);
    assert.equal(code, 2, bad);
    assert.match(stderr, /--federation-dns: .* is not ADDRESS:PORT/, bad);
  }
});
