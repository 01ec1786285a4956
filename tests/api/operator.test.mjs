// operator.test.mjs -- running hometab for real: the config file (every flag
// a key, flags over the file, unknown keys and bad values refused with the
// line named), the operator's commands (create-user, admin, check-config,
// restore's refusals), one server per database, and logs a person can read.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { runToExit, startServer } from './lib/server.mjs';
import { V3, register } from './lib/matrix.mjs';

const BIN = process.env.HOMETAB_BIN;
let dir;
before(() => { dir = mkdtempSync(join(tmpdir(), 'hometab-operator-')); });
after(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function configFile(text) {
  const path = join(dir, `hometab-${++fileCount}.conf`);
  writeFileSync(path, text);
  return path;
}

// Runs the binary to its end with stdin; returns {code, stdout, stderr}.
function run(args, input = '') {
  const r = spawnSync(BIN, args, { input, encoding: 'utf8', timeout: 60000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the config file', () => {
  test('is read: its settings apply, flags win over it, values may be quoted', async () => {
    const path = configFile([
      '# hometab for example.test',
      'server-name = "example.test"',
      'registration = closed        ; not for everyone',
      'max-body = 2M',
      'log-level = info',
      '',
      '[rate-limit]',
      'register = 0.5/20',
    ].join('\n'));
    const srv = await startServer({ args: ['--config', path] });
    try {
      const res = await srv.fetch(`${V3}/register`, { method: 'POST', body: {} });
      assert.equal(res.status, 403, 'registration = closed applies');
      assert.match(srv.stdout, /server name example\.test/);
      assert.match(srv.stderr, new RegExp(`settings from ${path.replace(/[.]/g, '\\.')}`));
      const big = await srv.fetch(`${V3}/register`, { method: 'POST', body: 'x'.repeat(2 * 1024 * 1024 + 1) });
      assert.equal(big.status, 413, 'max-body = 2M is 2 MiB');
    } finally {
      await srv.stop();
    }
    const over = await startServer({ args: ['--config', path, '--registration', 'open', '--server-name', 'flag.test'] });
    try {
      assert.match(over.stdout, /server name flag\.test/);
      assert.equal((await register(over, 'anna')).user_id, '@anna:flag.test');
    } finally {
      await over.stop();
    }
  });

  test('every flag has a key: a file with all of them is accepted', () => {
    const path = configFile([
      'listen = 127.0.0.1:0', `db = ${join(dir, 'all.sqlite')}`, 'server-name = all.test', `web-root = ${dir}`,
      'public-url = https://matrix.all.test', 'registration = token', 'max-body = 1000000', 'max-upload = 1000000',
      'request-timeout-ms = 30000', 'idle-timeout-ms = 75000', 'send-timeout-ms = 60000', 'max-buffered = 512M',
      'presence-offline-ms = 180000',
      'max-connections = 100', 'max-connections-per-ip = 10', 'max-parked = 50', 'max-parked-per-ip = 5',
      'no-rate-limit = false', 'log-level = debug', 'log-requests = yes', 'federation = false', 'no-federation = true',
      'federation-ca = /etc/ssl/certs/ca-certificates.crt', 'federation-insecure-http = false',
      'p2p-gateway = 127.0.0.1:8010',
      '[rate-limit]', 'user = 10/50', 'login = 1/30', 'login-address = 0.1/10', 'login-account = 0.2/20',
      'register = 0.5/20', 'register-address = 0.05/10', 'federation = 20/200', 'federation-keys = 0.05/5',
    ].join('\n'));
    const r = run(['--config', path, 'check-config']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /listen 127\.0\.0\.1:0, server name all\.test/);
    assert.match(r.stdout, /registration token\n/);
    assert.match(r.stdout, /public url https:\/\/matrix\.all\.test/);
    // --help's flags, each a key: check the table against the help text.
    const help = run(['--help']).stdout;
    const flags = [...help.matchAll(/^ {2}--([a-z0-9-]+)/gm)].map((m) => m[1]).filter((f) => !['config', 'help'].includes(f));
    const text = require_text(path);
    for (const f of flags) assert.ok(f === 'rate-limit' ? /\[rate-limit\]/.test(text) : new RegExp(`^${f} =`, 'm').test(text), f);
  });

  const refusals = [
    ['an unknown key', 'server-name = a.test\nlisten = 127.0.0.1:0\nlisten-adress = 0.0.0.0:8008\n', 3, /unknown key 'listen-adress'/],
    ['a bad number', 'max-body = lots\n', 1, /max-body wants a whole number/],
    ['a bad address', '# comment\n\nlisten = everywhere\n', 3, /listen wants ADDRESS:PORT/],
    ['a host name for an address', 'listen = localhost:8008\n', 1, /listen wants an IP address and a port/],
    ['a bad registration mode', 'registration = invite-only\n', 1, /registration wants open, closed or token, not 'invite-only'/],
    ['a bad boolean', 'log-requests = sometimes\n', 1, /log-requests wants true or false/],
    ['a bad log level', 'log-level = loud\n', 1, /log-level wants error, warn, info or debug/],
    ['a key set twice', 'db = a.sqlite\ndb = b.sqlite\n', 2, /db is set twice/],
    ['an unknown section', '[server]\nlisten = 127.0.0.1:0\n', 2, /unknown section \[server\]/],
    ['an unknown rate-limit action', '[rate-limit]\nsends = 1/5\n', 2, /unknown action 'sends'/],
    ['a bad rate', '[rate-limit]\nlogin = fast\n', 2, /login wants PER_SECOND\/BURST/],
    ['a flag-only key', 'help = true\n', 1, /unknown key 'help'/],
    ['rate-limit at the top', 'rate-limit = login=1/5\n', 1, /under \[rate-limit\]/],
    ['a line that is not key = value', 'server-name = a.test\njust some words\n', 2, /not a 'key = value' line/],
    ['a server name with a slash', 'server-name = a.test/x\n', 1, /server-name wants a host name/],
  ];
  for (const [what, text, line, why] of refusals) {
    test(`${what} is refused at start, naming the line, with exit 2`, async () => {
      const path = configFile(text);
      const r = await runToExit(['--config', path]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`${path.replace(/[.]/g, '\\.')} line ${line}: `));
      assert.match(r.stderr, why);
      assert.doesNotMatch(r.stdout, /listening/);
    });
  }

  test('an indented line is a key of its own, not a continuation of the line above', () => {
    const path = configFile('server-name = a.test\n    registration = token\n');
    const r = run(['--config', path, 'check-config']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /server name a\.test/);
    assert.match(r.stdout, /registration token\n/);
  });

  test('a missing file is refused with the reason', async () => {
    const r = await runToExit(['--config', join(dir, 'nowhere.conf')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /cannot read the config file .*nowhere\.conf: No such file/);
  });

  test('bad flags still say which flag', async () => {
    const r = await runToExit(['--registration', 'sometimes']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--registration wants open, closed or token/);
    const admin = await runToExit(['--admin']);
    assert.equal(admin.code, 2);
    assert.match(admin.stderr, /--admin is for hometab create-user only/);
  });
});

function require_text(path) {
  return spawnSync('cat', [path], { encoding: 'utf8' }).stdout;
}

describe('the operator commands', () => {
  test('create-user makes an account (admin or not) whose password works; admin grant, revoke, list', async () => {
    const db = join(dir, 'cmd.sqlite');
    const made = run(['--db', db, '--server-name', 'cmd.test', 'create-user', 'olga', '--admin'], 'olga password\n');
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /created @olga:cmd\.test, a server admin/);
    // Logged like any admin action, as the operator's.
    assert.match(made.stderr, /INFO +admin the operator: PUT \/_synapse\/admin\/v2\/users\/@olga:cmd\.test -> 201/);
    assert.doesNotMatch(made.stderr, /olga password/);
    assert.equal(run(['--db', db, '--server-name', 'cmd.test', 'create-user', 'pete'], 'pete password\n').code, 0);
    const again = run(['--db', db, '--server-name', 'cmd.test', 'create-user', 'pete'], 'x\n');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /exists already/);
    const noPassword = run(['--db', db, '--server-name', 'cmd.test', 'create-user', 'quinn'], '');
    assert.equal(noPassword.code, 1);
    assert.match(noPassword.stderr, /no password on stdin/);
    const badName = run(['--db', db, '--server-name', 'cmd.test', 'create-user', 'Quinn Smith'], 'pw\n');
    assert.equal(badName.code, 1);

    assert.equal(run(['--db', db, '--server-name', 'cmd.test', 'admin', 'list']).stdout, '@olga:cmd.test\n');
    assert.match(run(['--db', db, '--server-name', 'cmd.test', 'admin', 'grant', 'pete']).stdout, /@pete:cmd\.test is now a server admin/);
    assert.equal(run(['--db', db, '--server-name', 'cmd.test', 'admin', 'list']).stdout, '@olga:cmd.test\n@pete:cmd.test\n');
    assert.equal(run(['--db', db, '--server-name', 'cmd.test', 'admin', 'revoke', '@pete:cmd.test']).code, 0);
    assert.equal(run(['--db', db, '--server-name', 'cmd.test', 'admin', 'list']).stdout, '@olga:cmd.test\n');
    const nobody = run(['--db', db, '--server-name', 'cmd.test', 'admin', 'grant', 'nobody']);
    assert.equal(nobody.code, 1);
    assert.match(nobody.stderr, /no such user/i);
    assert.equal(run(['--db', db, 'admin', 'promote', 'x']).code, 2);
    assert.equal(run(['--db', db, 'frobnicate']).code, 2);

    // The accounts work on a server started on that database, while it runs too.
    const srv = await startServer({ db, args: ['--server-name', 'cmd.test'] });
    try {
      const login = await srv.fetch(`${V3}/login`, {
        method: 'POST', body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'olga' }, password: 'olga password' },
      });
      assert.equal(login.status, 200);
      const list = await srv.fetch('/_synapse/admin/v2/users', { token: login.json.access_token });
      assert.equal(list.status, 200);
      const live = run(['--db', db, '--server-name', 'cmd.test', 'create-user', 'rita'], 'rita password\n');
      assert.equal(live.code, 0, live.stderr);
      const rita = await srv.fetch(`${V3}/login`, {
        method: 'POST', body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'rita' }, password: 'rita password' },
      });
      assert.equal(rita.status, 200);
      assert.match(srv.stderr, /\(schema \d+; users: 2, admins: 1, rooms: 0\)/);
    } finally {
      await srv.stop();
    }
  });

  test('a second server on the same database is refused; so is restore while one runs', async () => {
    const srv = await startServer();
    try {
      const second = await runToExit(['--listen', '127.0.0.1:0', '--db', srv.db]);
      assert.equal(second.code, 4, second.stderr);
      assert.match(second.stderr, /is in use by another hometab/);
      const backup = join(dir, 'for-restore.sqlite');
      assert.equal(run(['--db', srv.db, 'backup', backup]).code, 0);
      const restore = run(['--db', srv.db, 'restore', backup, '--replace']);
      assert.equal(restore.code, 1);
      assert.match(restore.stderr, /nothing restored: .* is in use by another hometab/);
    } finally {
      await srv.stop();
    }
  });

  test('restore refuses to write over a database unless told to, and refuses what is not a backup', () => {
    const db = join(dir, 'live.sqlite');
    assert.equal(run(['--db', db, 'create-user', 'sam'], 'pw\n').code, 0);
    const backup = join(dir, 'live-backup.sqlite');
    assert.equal(run(['--db', db, 'backup', backup]).code, 0);
    const refused = run(['--db', db, 'restore', backup]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /exists: restore --replace writes over it/);
    const notDb = join(dir, 'notes.txt');
    writeFileSync(notDb, 'not a database\n'.repeat(100));
    const bad = run(['--db', join(dir, 'other.sqlite'), 'restore', notDb]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /nothing restored: .*not (a readable SQLite|a hometab) database/);
    const memory = run(['--db', ':memory:', 'backup', join(dir, 'm.sqlite')]);
    assert.equal(memory.code, 2);
  });
});

describe('logs', () => {
  test('one line per event with a time and a level; journald gets priorities instead', async () => {
    const srv = await startServer({ args: ['--log-requests'] });
    await srv.fetch(`${V3}/login`);
    await srv.stop();
    const lines = srv.stderr.trim().split('\n');
    for (const l of lines) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (ERROR|WARN |INFO |DEBUG) \S/, l);
    assert.ok(lines.some((l) => /INFO +hometab \d+\.\d+\.\d+ serving localhost at http:\/\/127\.0\.0\.1:\d+\/ with its data in \/.*hometab\.sqlite \(schema \d+; users: 0, admins: 0, rooms: 0\); admin API at \/_synapse\/admin\/; federation off; registration open/.test(l)));
    assert.ok(lines.some((l) => /INFO +127\.0\.0\.1 GET \/_matrix\/client\/v3\/login HTTP\/1\.1 -> 200$/.test(l)));
    assert.ok(lines.some((l) => /INFO +stopped after \d+ Matrix requests/.test(l)));

    // Under systemd, JOURNAL_STREAM names stderr's device and inode.
    const journal = await startServer({ wrap: ['bash', '-c', `export JOURNAL_STREAM=$(stat -L -c '%d:%i' /proc/self/fd/2); exec "$0" "$@"`] });
    await journal.stop();
    const jl = journal.stderr.trim().split('\n');
    assert.ok(jl.length >= 2);
    for (const l of jl) assert.match(l, /^<[3467]>\S/, l);
    assert.ok(jl.some((l) => /^<6>hometab \d+\.\d+\.\d+ serving localhost/.test(l)));
  });

  test('--log-level warn keeps only warnings and errors', async () => {
    const srv = await startServer({ args: ['--log-level', 'warn', '--log-requests'] });
    await srv.fetch(`${V3}/login`);
    await srv.stop();
    assert.equal(srv.stderr.trim(), '');
  });
});

describe('the examples in docs/operator', () => {
  const docs = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'operator');

  test('the example config file is valid and says what it means', () => {
    const r = run(['--config', join(docs, 'hometab.conf'), 'check-config']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /server name example\.org, database \/var\/lib\/hometab\/hometab\.sqlite/);
    assert.match(r.stdout, /registration token\n/);
  });

  test('the systemd unit passes systemd-analyze verify, with a dedicated user, its state directory and Restart=on-failure', () => {
    const unit = readFileSync(join(docs, 'hometab.service'), 'utf8');
    for (const line of ['User=hometab', 'StateDirectory=hometab', 'Restart=on-failure',
      'ExecStart=/usr/local/bin/hometab --config /etc/hometab/hometab.conf'])
      assert.ok(unit.split('\n').includes(line), line);
    // verify checks the binary exists: point it at the one under test.
    const copy = join(dir, 'hometab.service');
    writeFileSync(copy, unit.replaceAll('/usr/local/bin/hometab', BIN));
    const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.trim(), '');
  });
});
