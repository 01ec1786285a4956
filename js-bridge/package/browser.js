// browser.js -- the package's entry point in browsers (a page, a worker, a
// browser test runner): the wasm fetched from beside this file and compiled
// once per realm. There is no listen() here: clients take hs.fetch.
//
// `new URL('…', import.meta.url)` is the pattern bundlers (Vite, webpack,
// esbuild) recognise and copy the .wasm for; a bundler that pre-bundles
// dependencies must leave this package out of it (Vite: optimizeDeps.exclude).

import createHometabCore from '../../wasm/hometab-core.js';
import { createHomeserver as create } from './homeserver.js';

const WASM_URL = new URL('../../wasm/hometab-core.wasm', import.meta.url);
let compiled = null; // Promise<WebAssembly.Module>

async function fetchAndCompile() {
  const response = await fetch(WASM_URL);
  if (!response.ok) throw new Error(`hometab: ${WASM_URL} answered ${response.status}`);
  // Streaming compilation needs the application/wasm type; not every dev
  // server sends it, so fall back to the bytes.
  if (response.headers.get('content-type')?.startsWith('application/wasm')) {
    return WebAssembly.compileStreaming(response);
  }
  return WebAssembly.compile(await response.arrayBuffer());
}

function compile() {
  compiled ??= fetchAndCompile();
  compiled.catch(() => { compiled = null; });
  return compiled;
}

export function createHomeserver(options) {
  return create(options, { createModule: createHometabCore, compile, listen: null });
}
