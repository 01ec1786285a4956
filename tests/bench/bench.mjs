// bench.mjs -- the figures `make bench` prints: each one measured against the
// release binary on loopback, with a fresh database and --no-rate-limit.
//
// A figure is an async function in FIGURES below that gets the running
// server and returns rows {figure, value, unit, command}. To add one
// (whoami, messages/s, sync-wake latency, ...) write such a function and list
// it; the table and build/bench.json pick it up. Figures run in order on the
// same server, so a figure that needs data creates it itself.
//
// Environment: HOMETAB_BIN (default build/native/hometab), BENCH_DURATION
// (wrk's -d, default 10s; shorten it only to try the script out).

import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = process.env.HOMETAB_BIN ?? join(ROOT, 'build/native/hometab');
const DURATION = process.env.BENCH_DURATION ?? '10s';

// ---- figures ---------------------------------------------------------------

// Requests per second and latency for GET /_matrix/client/versions: the cost
// of the HTTP path, routing, one (read) transaction and JSON encoding.
async function versionsThroughput(server) {
  const url = `${server.url}/_matrix/client/versions`;
  const args = ['-t2', '-c16', `-d${DURATION}`, '--latency', url];
  const wrk = parseWrk(run('wrk', args));
  const command = `wrk ${args.join(' ')}`;
  return [
    { figure: 'versions requests/s', value: wrk.requestsPerSec, unit: 'req/s', command },
    { figure: 'versions latency p50', value: wrk.latency['50%'], unit: 'ms', command },
    { figure: 'versions latency p99', value: wrk.latency['99%'], unit: 'ms', command },
  ];
}

// Peak resident memory of the server process so far (VmHWM).
async function serverMemory(server) {
  const status = readFileSync(`/proc/${server.pid}/status`, 'utf8');
  const kb = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)[1]);
  return [{ figure: 'server peak RSS', value: kb / 1024, unit: 'MiB', command: `grep VmHWM /proc/${server.pid}/status` }];
}

// Size of the database and its WAL on disk.
async function databaseSize(server) {
  const size = (p) => { try { return statSync(p).size; } catch { return 0; } };
  const bytes = size(server.db) + size(`${server.db}-wal`);
  return [{ figure: 'database size', value: bytes / 1024, unit: 'KiB', command: `stat -c %s ${server.db}{,-wal}` }];
}

const FIGURES = [versionsThroughput, serverMemory, databaseSize];

// ---- plumbing --------------------------------------------------------------

function run(cmd, args) {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
}

const UNIT_MS = { us: 0.001, ms: 1, s: 1000 };

// wrk's text output to numbers; refuses a run that saw errors, since the
// throughput of error answers would be a meaningless figure.
export function parseWrk(text) {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  if (!rps) throw new Error(`wrk printed no Requests/sec:\n${text}`);
  const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(text);
  if (errors) throw new Error(`wrk saw errors (${errors[0]}):\n${text}`);
  const latency = {};
  for (const m of text.matchAll(/^\s+(\d+%)\s+([\d.]+)(us|ms|s)$/gm)) latency[m[1]] = Number(m[2]) * UNIT_MS[m[3]];
  return { requestsPerSec: Number(rps[1]), latency, text };
}

async function startServer(dir) {
  const db = join(dir, 'bench.sqlite');
  const proc = spawn(BIN, ['--listen', '127.0.0.1:0', '--db', db, '--no-rate-limit'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  const exited = new Promise((r) => proc.on('close', (code, signal) => r({ code, signal })));
  const port = await new Promise((ok, fail) => {
    proc.stdout.setEncoding('utf8').on('data', (d) => {
      stdout += d;
      const m = /listening on http:\/\/\S+?:(\d+)\//.exec(stdout);
      if (m) ok(Number(m[1]));
    });
    exited.then(({ code }) => fail(new Error(`hometab exited with ${code}:\n${stderr}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: proc.pid,
    db,
    async stop() {
      proc.kill('SIGTERM');
      const { code, signal } = await exited;
      if (code !== 0) throw new Error(`hometab stopped with ${code ?? signal}:\n${stderr}`);
    },
  };
}

function printTable(rows) {
  const fmt = (r) => `${r.value < 10 ? r.value.toFixed(3) : r.value.toFixed(1)} ${r.unit}`;
  const w0 = Math.max(6, ...rows.map((r) => r.figure.length));
  const w1 = Math.max(5, ...rows.map((r) => fmt(r).length));
  console.log(`${'figure'.padEnd(w0)}  ${'value'.padStart(w1)}  command`);
  console.log(`${'-'.repeat(w0)}  ${'-'.repeat(w1)}  -------`);
  for (const r of rows) console.log(`${r.figure.padEnd(w0)}  ${fmt(r).padStart(w1)}  ${r.command}`);
}

function gitCommit() {
  try { return run('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']).trim(); } catch { return null; }
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'hometab-bench-'));
  const server = await startServer(dir);
  const rows = [];
  try {
    for (const figure of FIGURES) rows.push(...(await figure(server)));
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(rows);
  const out = join(ROOT, 'build/bench.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({
    date: new Date().toISOString(),
    commit: gitCommit(),
    binary: BIN,
    machine: { cpus: cpus().length, cpu: cpus()[0]?.model, node: process.version },
    figures: rows,
  }, null, 2) + '\n');
  console.log(`\nwritten to ${out}`);
}

main().catch((e) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
