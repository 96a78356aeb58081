// docs/other-languages.md shows curl for every REST route. Its shell blocks
// run here, in order, against the real server: each command must succeed and
// each answer written under a command (`# {…}`, where … stands for anything)
// must be what the server printed.
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTestDatabase } from '@keel/platform/testing';
import { afterAll, expect, test } from 'vitest';
import { restOperations } from '../src/rest/operations';
import { startApp } from './harness';

const page = readFileSync(
  join(import.meta.dirname, '..', '..', '..', 'docs', 'other-languages.md'),
  'utf8',
);
const blocks = [...page.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1] ?? '');

const testDb = await createTestDatabase();
await testDb.db
  .insertInto('products')
  .values(
    Array.from({ length: 5 }, (_, i) => ({
      sku: `CURL-${i}`,
      name: `Curl ${i}`,
      price_cents: 100 + i,
      stock_quantity: 10,
    })),
  )
  .execute();
const app = await startApp(testDb.db);
afterAll(async () => {
  await app.close();
  await testDb.destroy();
});

test('the page has a curl command for every REST route', () => {
  const commands = blocks
    .join('\n')
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .filter((line) => line.includes('curl '));
  for (const operation of restOperations) {
    const method = operation.method.toUpperCase();
    const path = new RegExp(
      `"\\$KEEL${operation.path.replace(/\{\w+\}/g, '\\$[A-Z]+')}(\\?[^"]*)?"`,
    );
    const used = commands.some(
      (command) => path.test(command) && command.includes('-X POST') === (method === 'POST'),
    );
    expect(used, `${method} ${operation.path}`).toBe(true);
    expect(page).toContain(`\`${method} ${operation.path}\``);
  }
});

test('its commands run in order against the server and print the answers the page shows', async () => {
  for (const tool of ['curl', 'jq']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      throw new Error(`${tool} is needed to run the page's examples (apt-get install -y ${tool})`);
    }
  }
  const script = [
    'set -euo pipefail',
    // One answer per line, as the page writes them.
    'curl() { command curl "$@"; echo; }',
    ...blocks,
  ]
    .join('\n')
    .replace('KEEL=http://127.0.0.1:3000', `KEEL=${app.url}`);
  // Asynchronously: the server answering curl runs in this process.
  const { stdout } = await promisify(execFile)('bash', ['-c', script], { encoding: 'utf8' });
  const printed = stdout.split('\n');

  const shown = blocks.flatMap((block) =>
    block
      .split('\n')
      .filter((line) => line.startsWith('# '))
      .map((line) => line.slice(2)),
  );
  expect(shown.length).toBeGreaterThanOrEqual(6);
  for (const answer of shown) {
    const pattern = new RegExp(
      `^${answer
        .split('…')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
    );
    expect(
      printed.some((line) => pattern.test(line)),
      `${answer}\nnot among:\n${printed.join('\n')}`,
    ).toBe(true);
  }
});
