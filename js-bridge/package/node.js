// node.js -- the package's entry point in node (>= 20): the wasm read from
// the package's own folder, compiled once per process, and listen() on
// node:http. The API itself is homeserver.js, shared with browsers.

import { readFile } from 'node:fs/promises';
import createHometabCore from '../../wasm/hometab-core.js';
import { createHomeserver as create } from './homeserver.js';
import { listen } from './listen.js';

let compiled = null; // Promise<WebAssembly.Module>

function compile() {
  compiled ??= readFile(new URL('../../wasm/hometab-core.wasm', import.meta.url))
    .then((bytes) => WebAssembly.compile(bytes));
  compiled.catch(() => { compiled = null; }); // a failed read is tried again next time
  return compiled;
}

export function createHomeserver(options) {
  return create(options, { createModule: createHometabCore, compile, listen });
}
