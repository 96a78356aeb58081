// Configuration that arrives: every variable an app or tool reads is in its
// schema, turbo lets exactly the union of the schemas (and the machine's
// network settings, which npm needs in the tasks) through to its tasks
// (a variable turbo drops would be silently ignored under `pnpm dev`), and
// `.env.example` lists each one.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchVariables } from '@keel/bench/env';
import { toolingVariables } from '@keel/platform';
import { loadEnvFile, networkVariables, runtimeVariables } from '@keel/runtime/with-node';
import { loadConfig, serverVariables } from '@keel/server/config';
import { webVariables } from '@keel/web/env';
import { workerVariables } from '@keel/worker';
import { describe, expect, test } from 'vitest';

const root = join(import.meta.dirname, '..', '..', '..');
const turbo = JSON.parse(readFileSync(join(root, 'turbo.json'), 'utf8')) as {
  globalPassThroughEnv: string[];
};
const schemas = {
  server: serverVariables,
  'database tooling': toolingVariables,
  storefront: webVariables,
  worker: workerVariables,
  bench: benchVariables,
  'keel-node': runtimeVariables,
};
const union = new Set(Object.values(schemas).flat());

describe('turbo passes through exactly the variables the schemas read', () => {
  test.each(Object.entries(schemas))('every variable of the %s schema', (_name, variables) => {
    const dropped = variables.filter((v) => !turbo.globalPassThroughEnv.includes(v));
    expect(dropped, 'add these to globalPassThroughEnv in turbo.json').toEqual([]);
  });

  test("the machine's network settings, so npm in a task reaches the registry as outside it", () => {
    const dropped = networkVariables.filter((v) => !turbo.globalPassThroughEnv.includes(v));
    expect(dropped, 'add these to globalPassThroughEnv in turbo.json').toEqual([]);
  });

  test('and nothing else: no wildcard, no variable outside the schemas and the network list', () => {
    const known = new Set([...union, ...networkVariables]);
    const extra = turbo.globalPassThroughEnv.filter((v) => !known.has(v));
    expect(
      extra,
      'neither a schema nor networkVariables names these; remove them or add them to one',
    ).toEqual([]);
  });

  test('the server schema has the variables the README and operators rely on', () => {
    for (const name of ['CORS_ORIGINS', 'MAX_BATCH_SIZE', 'NODE_ENV', 'TRUST_PROXY'])
      expect(serverVariables).toContain(name);
  });
});

test('.env.example lists every variable of every schema', () => {
  const example = readFileSync(join(root, '.env.example'), 'utf8');
  const listed = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]));
  expect([...union].filter((name) => !listed.has(name))).toEqual([]);
});

describe('.env', () => {
  test('fills what the environment lacks; the real environment wins', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'keel-env-'));
    try {
      const file = join(dir, '.env');
      await writeFile(
        file,
        '# a comment\nMAX_BATCH_SIZE=3\nCORS_ORIGINS="https://file.example"\nLOG_LEVEL=warn\n',
      );
      const env: Record<string, string | undefined> = { CORS_ORIGINS: 'https://real.example' };
      expect(loadEnvFile(file, env).sort()).toEqual(['LOG_LEVEL', 'MAX_BATCH_SIZE']);
      expect(env).toEqual({
        CORS_ORIGINS: 'https://real.example',
        MAX_BATCH_SIZE: '3',
        LOG_LEVEL: 'warn',
      });
      // What the server then reads.
      const config = loadConfig({ ...env, DATABASE_URL: 'postgres://keel_app:pw@127.0.0.1/keel' });
      expect(config.MAX_BATCH_SIZE).toBe(3);
      expect(config.CORS_ORIGINS).toEqual(['https://real.example']);
      expect(loadEnvFile(join(dir, 'missing.env'), env)).toEqual([]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
