// harness.mjs -- the p2p test files' entry to lib/peers.mjs: the same tools,
// with everything they started stopped after the file's last test.

import { after } from 'node:test';
import { cleanupAll } from './peers.mjs';

export * from './peers.mjs';

after(cleanupAll);
