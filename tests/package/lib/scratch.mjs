// scratch.mjs -- the scratch project the package was installed into
// (install.sh, run by `make test-package`), and running commands there.

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export const SCRATCH = process.env.HOMETAB_PACKAGE_DIR;
if (!SCRATCH) throw new Error('HOMETAB_PACKAGE_DIR is not set: run these tests through `make test-package`');
export const PACKAGE_DIR = join(SCRATCH, 'node_modules/hometab');

// The package as the scratch project imports it: resolved through its
// package.json "exports" (the "node" condition), not by a path of ours.
export const entryPath = createRequire(join(SCRATCH, 'index.js')).resolve('hometab');
export const { createHomeserver } = await import(pathToFileURL(entryPath));

// Runs `command args` in the scratch folder; resolves with { code, signal,
// stdout, stderr }, killing it (and failing) after `timeoutMs`.
export function run(command, args, { timeoutMs = 120000, env = {}, input } = {}) {
  return new Promise((resolve, reject) => {
    // NODE_TEST_CONTEXT would make a node --test inside think it is nested in ours.
    const { NODE_TEST_CONTEXT, ...inherited } = process.env;
    const child = spawn(command, args, { cwd: SCRATCH, env: { ...inherited, ...env }, detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
    if (input !== undefined) child.stdin.end(input);
    const timer = setTimeout(() => {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      reject(new Error(`${command} ${args.join(' ')} ran past ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      // Anything it left running in the background (a failed example's
      // server) goes with it.
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* none left */ }
      resolve({ code, signal, stdout, stderr });
    });
  });
}
