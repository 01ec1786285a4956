// pair.mjs -- what every interop suite starts first: Synapse 1.67.0 and a federating hometab,
// on loopback TLS (hometab behind stunnel4), both trusting one test CA made for the run.
//
//   const pair = await startPair();   // pair.syn, pair.ht, pair.tls (to restart hometab with)
//   pair.ht = await startFederating({ tls: pair.tls, ... });   // a restarted hometab replaces it
//   await pair.stop();                // whichever hometab is there, then Synapse, then the CA
//
// SYNAPSE_SHOW_LOG=1 prints Synapse's log when the suite ends.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { startFederating } from '../../federation/lib/hometab.mjs';
import { makeTestCa } from './ca.mjs';
import { startSynapse } from './synapse.mjs';

export async function startPair() {
  const caDir = mkdtempSync(join(tmpdir(), 'interop-ca-'));
  const tls = makeTestCa(caDir);
  const pair = {
    tls,
    syn: null,
    ht: null,
    async stop() {
      try {
        await pair.ht?.stop();
      } finally {
        if (process.env.SYNAPSE_SHOW_LOG === '1') console.log(pair.syn?.log());
        await pair.syn?.stop();
        rmSync(caDir, { recursive: true, force: true });
      }
    },
  };
  try {
    // One after the other: each picks free ports first, and two picking at once can pick the same.
    pair.syn = await startSynapse({ tls });
    pair.ht = await startFederating({ tls });
  } catch (e) {
    await pair.stop();
    throw e;
  }
  return pair;
}

// Polls fn until it answers something truthy (both servers deliver asynchronously).
export async function eventually(fn, what, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
