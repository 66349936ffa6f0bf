// Checks that package-lock.json lists every optional dependency of every locked
// package (npm leaves out other platforms' optional packages when it resolves
// over an existing node_modules, and `npm ci` then rejects the lock).
// Usage: node scripts/check-lock.mjs package-lock.json
import { readFileSync } from 'node:fs';

const lock = JSON.parse(readFileSync(process.argv[2] ?? 'package-lock.json', 'utf8'));
const packages = lock.packages ?? {};
const problems = [];

/** Where node would find `name` from the package at `at` (walking up node_modules folders). */
function resolves(at, name) {
  let dir = at;
  for (;;) {
    if (packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true;
    if (!dir) return false;
    const cut = dir.lastIndexOf('/node_modules/');
    dir = cut < 0 ? '' : dir.slice(0, cut);
  }
}

if (lock.lockfileVersion !== 3) problems.push(`lockfileVersion is ${lock.lockfileVersion}, expected 3`);
for (const [at, entry] of Object.entries(packages)) {
  for (const name of Object.keys(entry.optionalDependencies ?? {})) {
    if (!resolves(at, name)) problems.push(`${at || '(root)'}: optional dependency ${name} is not in the lock`);
  }
}
if (problems.length > 0) {
  console.error(
    `aoinb: package-lock.json is incomplete (run bash scripts/update-lock.sh):\n  ${problems.join('\n  ')}`,
  );
  process.exit(1);
}
console.error(`aoinb: package-lock.json lists all optional dependencies (${Object.keys(packages).length} entries)`);
