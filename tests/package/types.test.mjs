// types.test.mjs -- index.d.ts as a TypeScript user meets it: TypeScript
// (pinned in package.json) type-checks, in the scratch project, a file that
// uses the whole API through the package's "exports" (which must pass) and
// one that misuses it (which must fail at exactly the misuses, proving the
// declarations are the ones applied and are not `any`).

import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { SCRATCH, run } from './lib/scratch.mjs';

const TSC = ['--noEmit', '--strict', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
  '--lib', 'es2022,dom', '--skipLibCheck', 'false'];

const GOOD = `import { createHomeserver, type Homeserver, type TestUser, type HomeserverOptions } from 'hometab';

const options: HomeserverOptions = { serverName: 'types.test', clock: 'manual', startTime: new Date(0),
  passwordHashing: 'fast', rateLimit: false, maxBodyBytes: 1024 };
const hs: Homeserver = await createHomeserver(options);
const alice: TestUser = await hs.registerUser('alice', { displayName: 'Alice', password: 'pw-123456' });
const roomId: string = await hs.createRoom(alice, { join: [], invite: [], name: 'typed', preset: 'private_chat' });
const response: Response = await hs.fetch('/_matrix/client/versions', { method: 'GET' });
const url: string = await hs.listen({ port: 0, host: '127.0.0.1' });
const same: string | null = hs.url;
const snapshot: Uint8Array = await hs.snapshot();
await hs.restore(snapshot);
await hs.reset();
await hs.clock.advance(1000);
const now: number = hs.clock.now();
const parked: number = hs.status().parked;
await hs.close();
export { roomId, response, url, same, now, parked };
`;

const BAD = `import { createHomeserver } from 'hometab';

const hs = await createHomeserver({ clock: 'fake' });
await hs.registerUser(42);
const n: number = await hs.snapshot();
export { n };
`;

test('the declarations type-check a program that uses the whole API', async () => {
  writeFileSync(join(SCRATCH, 'types-good.ts'), GOOD);
  const result = await run('node_modules/.bin/tsc', [...TSC, 'types-good.ts']);
  assert.equal(result.code, 0, result.stdout + result.stderr);
});

test('and reject its misuses, each where it is', async () => {
  writeFileSync(join(SCRATCH, 'types-bad.ts'), BAD);
  const result = await run('node_modules/.bin/tsc', [...TSC, 'types-bad.ts']);
  assert.notEqual(result.code, 0);
  const lines = [...result.stdout.matchAll(/^types-bad\.ts\((\d+),\d+\): error (TS\d+)/gm)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(lines, ['3 TS2322', '4 TS2345', '5 TS2322'], result.stdout);
});
