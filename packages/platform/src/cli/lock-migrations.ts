// `pnpm --filter @keel/db db:lock-migrations`: adds new migration files to the
// checksum manifest. It never rewrites an existing entry.
import '@keel/runtime/require-node';
import { writeFileSync } from 'node:fs';
import { currentChecksums, lockedChecksums, manifestFile } from '@keel/db';

let locked: Record<string, string> = {};
try {
  locked = lockedChecksums();
} catch {
  locked = {};
}
const current = currentChecksums();
const changed = Object.keys(locked).filter((f) => f in current && current[f] !== locked[f]);
if (changed.length > 0) {
  console.error(`refusing to re-lock changed migrations: ${changed.join(', ')}`);
  process.exit(1);
}
const added = Object.keys(current).filter((f) => !(f in locked));
writeFileSync(
  manifestFile,
  `${JSON.stringify({ ...locked, ...Object.fromEntries(added.map((f) => [f, current[f]])) }, null, 2)}\n`,
);
console.log(added.length ? `locked ${added.join(', ')}` : 'nothing new to lock');
