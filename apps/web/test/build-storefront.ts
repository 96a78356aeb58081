// The browser suite tests the built storefront (apps/web/dist). `pnpm test`
// builds it first through turbo; run on its own (`pnpm --filter @keel/web
// test`, or vitest in this directory), the suite builds it here when the
// build is missing or older than anything it is built from.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'vite';

const web = join(import.meta.dirname, '..');
/** What the storefront's build is made of: its own sources and config, and the client it imports. */
const inputs = [
  join(web, 'src'),
  join(web, 'index.html'),
  join(web, 'vite.config.ts'),
  join(web, 'env.ts'),
  join(web, '..', '..', 'packages', 'client', 'src'),
];

/** The newest modification time under `path` (a file or a directory), in ms. */
function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let latest = stat.mtimeMs;
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)));
  return latest;
}

/** True when `dist/index.html` is missing or older than any input. */
function storefrontIsStale(): boolean {
  const built = join(web, 'dist', 'index.html');
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  return inputs.some((input) => newest(input) > builtAt);
}

export default async function setup(): Promise<void> {
  if (!storefrontIsStale()) return;
  console.log('apps/web/dist is missing or older than its sources: building the storefront');
  await build({ root: web, logLevel: 'warn' });
}
