// `pnpm test`: runs every package's tests through turbo, then prints one
// plain `N passed, N failed` line summed over all packages (CI reads it).
import '../runtime/require-node.mjs';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const groups = ['packages', 'apps', 'tooling', 'bench'];

function packagesWithTests() {
  const dirs = [];
  for (const group of groups) {
    const groupDir = join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const name of readdirSync(groupDir)) {
      const manifest = join(groupDir, name, 'package.json');
      if (!existsSync(manifest)) continue;
      const pkg = JSON.parse(readFileSync(manifest, 'utf8'));
      if (pkg.scripts?.test) dirs.push({ dir: join(groupDir, name), name: pkg.name });
    }
  }
  return dirs;
}

const packages = packagesWithTests();
for (const { dir } of packages) rmSync(join(dir, '.vitest-results.json'), { force: true });

const turbo = spawnSync(
  'pnpm',
  ['exec', 'turbo', 'run', 'test', '--ui=stream', '--continue', ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
  },
);

let passed = 0;
let failed = 0;
let skipped = 0;
for (const { dir, name } of packages) {
  const file = join(dir, '.vitest-results.json');
  if (!existsSync(file)) {
    // A package whose runner never reported (a crashed global setup, say)
    // counts as one failure so the total can never look green by omission.
    console.log(`${name}: no test results were written`);
    failed += 1;
    continue;
  }
  const result = JSON.parse(readFileSync(file, 'utf8'));
  passed += result.numPassedTests;
  failed += result.numFailedTests;
  skipped += result.numPendingTests + (result.numTodoTests ?? 0);
  if (result.numFailedTestSuites > 0 && result.numFailedTests === 0)
    failed += result.numFailedTestSuites;
  console.log(`${name}: ${result.numPassedTests} passed, ${result.numFailedTests} failed`);
}

const exitCode = turbo.status ?? 1;
if (exitCode !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(exitCode);
