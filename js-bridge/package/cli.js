#!/usr/bin/env node
// cli.js -- `npx hometab`: an in-memory homeserver on a loopback port, for
// clients in other languages and for browsers under test, with no native
// build. It prints the same line the native binary prints once it answers:
//   hometab: listening on http://127.0.0.1:PORT/ (server name localhost)
// and stops (exit 0) on SIGINT or SIGTERM. Nothing is written to disk.

import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createHomeserver } from './node.js';

const HELP = `hometab [options] -- an in-memory Matrix homeserver for tests (the wasm core, in node)
  --port N            port on the host (default 8008; 0 picks a free one, printed on stdout)
  --host ADDR         address to listen on (default 127.0.0.1; ::1 for IPv6)
  --server-name NAME  the server name in user and room ids (default localhost)
  --snapshot FILE     start from this .sqlite file (a snapshot(), or the native server's
                      database after it stopped); it is only read
  --help              this text`;

function fail(message) {
  process.stderr.write(`hometab: ${message}\n`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: 'string', default: '8008' },
      host: { type: 'string', default: '127.0.0.1' },
      'server-name': { type: 'string', default: 'localhost' },
      snapshot: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (e) {
  fail(`${e.message} (try --help)`);
}
if (args.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(0);
}
const port = Number(args.port);
if (!/^\d+$/.test(args.port) || port > 65535) fail(`--port wants a number from 0 to 65535, not '${args.port}'`);

let snapshot;
if (args.snapshot !== undefined) {
  try {
    snapshot = new Uint8Array(await readFile(args.snapshot));
  } catch (e) {
    fail(`cannot read --snapshot ${args.snapshot}: ${e.message}`);
  }
}

let hs;
try {
  hs = await createHomeserver({ serverName: args['server-name'], snapshot });
} catch (e) {
  process.stderr.write(`hometab: ${e.message}\n`);
  process.exit(4);
}
let url;
try {
  url = await hs.listen({ port, host: args.host });
} catch (e) {
  process.stderr.write(`hometab: cannot listen on ${args.host}:${port}: ${e.message}\n`);
  await hs.close();
  process.exit(3);
}
process.stdout.write(`hometab: listening on ${url}/ (server name ${hs.serverName})\n`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await hs.close();
  process.exit(0);
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
