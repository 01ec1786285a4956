// readme.test.mjs -- every example in the package's README, run from the
// scratch project the tarball was installed into, as a user would run it:
// node's test runner for *.test.mjs, bash for *.sh, Vitest's browser mode in
// Debian's Chromium for *.browser.test.js. An example this file does not
// know how to run fails, so a new README example cannot go untested.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeExamples } from './lib/readme.mjs';
import { PACKAGE_DIR, SCRATCH, run } from './lib/scratch.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const names = writeExamples(join(PACKAGE_DIR, 'README.md'), SCRATCH);

// How many test() calls a file holds: the runner must report that many passed.
const testCount = (name) => (readFileSync(join(SCRATCH, name), 'utf8').match(/^test\(/gm) ?? []).length;

function explain(result) {
  return `exit ${result.code ?? result.signal}\n--- stdout\n${result.stdout.slice(-6000)}\n--- stderr\n${result.stderr.slice(-4000)}`;
}

test('the README has the examples the issue asks for', () => {
  for (const name of ['sdk.test.mjs', 'clock.test.mjs', 'servers.test.mjs', 'listen.test.mjs', 'cli.sh',
    'vitest.config.js', 'sdk.browser.test.js']) {
    assert.ok(names.includes(name), `README example ${name} is missing (found: ${names.join(', ')})`);
  }
});

for (const name of names) {
  if (name.endsWith('.test.mjs')) {
    test(`README example ${name} passes under node --test`, async () => {
      const expected = testCount(name);
      assert.ok(expected > 0, `${name} holds no test`);
      const result = await run('node', ['--test', '--test-force-exit', name]);
      assert.equal(result.code, 0, explain(result));
      assert.match(result.stdout, new RegExp(`^# pass ${expected}$`, 'm'), explain(result));
      assert.match(result.stdout, /^# fail 0$/m, explain(result));
    });
  } else if (name === 'cli.sh') {
    test('README example cli.sh: npx hometab answers curl and stops cleanly', async () => {
      const result = await run('bash', [name], { timeoutMs: 60000 });
      assert.equal(result.code, 0, explain(result));
      assert.match(result.stdout, /"versions":\["r0\.6\.1"/, explain(result));
      assert.match(result.stdout, /"user_id":"@alice:localhost"/, explain(result));
      assert.match(readFileSync(join(SCRATCH, 'hometab.log'), 'utf8'),
        /^hometab: listening on http:\/\/127\.0\.0\.1:\d+\/ \(server name localhost\)$/m);
    });
  } else if (name.endsWith('.browser.test.js')) {
    test(`README example ${name} passes in Chromium under Vitest's browser mode`, async () => {
      const result = await run('npx', ['vitest', 'run', name], { timeoutMs: 300000,
        env: { CHROMIUM_PATH: CHROMIUM, CI: '1', NO_COLOR: '1' } });
      assert.equal(result.code, 0, explain(result));
      assert.match(result.stdout, /Tests\s+1 passed \(1\)/, explain(result));
      assert.match(result.stdout, /chromium/, explain(result));
    });
  } else if (name !== 'vitest.config.js') { // the browser example's configuration
    test(`README example ${name}`, () => assert.fail(`readme.test.mjs does not know how to run ${name}`));
  }
}
