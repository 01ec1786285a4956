// readme.mjs -- the examples of the package's README, as files.
//
// An example is a fenced code block whose first line is a comment naming
// its file (`// sdk.test.mjs -- run: ...` or `# cli.sh -- run: ...`); blocks
// without such a line (install commands) are prose. The tests write every
// example into the scratch project and run it as the README says.

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FENCE = /^```(\w*)\n([\s\S]*?)^```$/gm;
const NAMED = /^(?:\/\/|#) ([\w.-]+\.(?:mjs|js|sh))\b/;

// Returns [{ name, code }] in the README's order.
export function readmeExamples(readmePath) {
  const text = readFileSync(readmePath, 'utf8');
  const examples = [];
  for (const [, , code] of text.matchAll(FENCE)) {
    const name = NAMED.exec(code)?.[1];
    if (name) examples.push({ name, code });
  }
  return examples;
}

// Writes every example into `dir`; returns their names.
export function writeExamples(readmePath, dir) {
  const examples = readmeExamples(readmePath);
  for (const { name, code } of examples) writeFileSync(join(dir, name), code);
  return examples.map((e) => e.name);
}
