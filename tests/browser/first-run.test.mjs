// first-run.test.mjs -- what a new user's first `make run` says: the Node
// check, the URLs printed only once the server listens (and which of the
// two homeservers at that address is which), and a port already in use.
// In tests/browser because `make run` needs the web root built.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { tempDir } from './lib/harness.mjs';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const BIN = process.env.HOMETAB_BIN;
const dir = tempDir('hometab-first-run-');

// Found once, so that a test may hide node by narrowing PATH.
const MAKE = spawnSync('sh', ['-c', 'command -v make'], { encoding: 'utf8' }).stdout.trim();

// A make of its own, not a part of the make that runs the tests (whose
// flags and job server would leak in through the environment).
function make(args, env = {}) {
  const clean = { ...process.env, ...env };
  for (const name of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES']) delete clean[name];
  return spawnSync(MAKE, ['--no-print-directory', ...args], { cwd: REPO, encoding: 'utf8', env: clean,
    timeout: 120000 });
}

// A port someone else holds.
const blocker = net.createServer();
await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
const busyPort = blocker.address().port;
after(() => blocker.close());

test('make checks for Node.js 20 or newer and says what to do', () => {
  assert.equal(make(['check-node']).status, 0, 'the node on PATH is recent enough');

  const old = join(dir, 'old-node');
  mkdirSync(old);
  writeFileSync(join(old, 'node'), '#!/bin/sh\necho v18.19.0\n');
  chmodSync(join(old, 'node'), 0o755);
  const tooOld = make(['check-node'], { PATH: `${old}:${process.env.PATH}` });
  assert.notEqual(tooOld.status, 0);
  assert.match(tooOld.stderr, /needs Node\.js 20 or newer; .*old-node\/node is v18\.19\.0/);
  assert.match(tooOld.stderr, /nodejs\.org|nvm/);

  const none = join(dir, 'no-node');
  mkdirSync(none);
  symlinkSync('/usr/bin/sed', join(none, 'sed'));
  const missing = make(['check-node'], { PATH: none });
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /needs Node\.js 20 or newer, and finds no node on PATH/);
});

test('the server prints its URL once it listens, and which server is which', async () => {
  const proc = spawn(BIN, ['--listen', '127.0.0.1:0', '--db', ':memory:', '--server-name', 'localhost',
    '--web-root', process.env.HOMETAB_WEB_ROOT], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => (out += d));
  const deadline = Date.now() + 20000;
  while (!/its accounts and rooms|database in/.test(out) || !out.includes('database in')) {
    assert.ok(Date.now() < deadline, `no banner: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /listening on (http:\/\/127\.0\.0\.1:(\d+))\//.exec(out);
  assert.ok(url, out);
  // The URL is live when printed.
  const answer = await fetch(`${url[1]}/_matrix/client/versions`);
  assert.equal(answer.status, 200);
  assert.equal(out.split('\n')[0], `hometab: listening on ${url[1]}/ (server name localhost)`);
  assert.match(out, new RegExp(`in a browser: the demo page runs its own homeserver inside that browser,\\s+` +
    `named after the page's address \\(127\\.0\\.0\\.1:${url[2]}\\)`));
  assert.match(out, /Matrix clients and curl at .* reach this native server, named localhost,\s+with its database in :memory:/);
  proc.kill('SIGTERM');
  await new Promise((r) => proc.on('close', r));
});

test('a port in use prints no URL, says why and what to do, and exits 3', () => {
  const r = spawnSync(BIN, ['--listen', `127.0.0.1:${busyPort}`, '--db', ':memory:', '--web-root',
    process.env.HOMETAB_WEB_ROOT], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 3);
  assert.doesNotMatch(r.stdout, /http:\/\//);
  assert.match(r.stderr, /cannot listen on 127\.0\.0\.1:\d+: the address is already in use/);
  assert.match(r.stderr, /choose another port with --listen \(make run LISTEN=/);
});

test('make run on a port in use prints no URL either', () => {
  const r = make(['run', `LISTEN=127.0.0.1:${busyPort}`, `DB=${join(dir, 'run.sqlite')}`]);
  assert.notEqual(r.status, 0);
  const said = r.stdout + r.stderr;
  assert.doesNotMatch(said, new RegExp(`http://127\\.0\\.0\\.1:${busyPort}`), said);
  assert.match(said, /already in use/);
});
