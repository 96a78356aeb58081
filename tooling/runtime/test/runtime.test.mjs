import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MINIMUM_NODE, satisfies } from '../node-version.mjs';

const runtimeDir = new URL('..', import.meta.url).pathname;
const root = new URL('../../..', import.meta.url).pathname;
const pinned = readFileSync(join(root, '.node-version'), 'utf8').trim();
const temporary = [];
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}

describe('the supported runtime', () => {
  it('states one minimum in engines, the pin and the check', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(manifest.engines.node).toBe(`>=${MINIMUM_NODE}`);
    expect(satisfies(pinned)).toBe(true);
    expect(pinned.split('.')[0]).toBe(MINIMUM_NODE.split('.')[0]);
    expect(satisfies(process.versions.node)).toBe(true);
  });

  it('compares versions part by part', () => {
    expect(satisfies('v24.11.0', '24.11.0')).toBe(true);
    expect(satisfies('24.10.9', '24.11.0')).toBe(false);
    expect(satisfies('26.0.0', '24.11.0')).toBe(true);
    expect(satisfies('20.20.2', '24.11.0')).toBe(false);
    expect(satisfies('24.9.0', '24.11.0')).toBe(false);
  });

  it('stops an old Node at once with one line naming the version needed', () => {
    // Pretend to be Node 20 before the check loads.
    const pretend = `Object.defineProperty(process.versions, 'node', { value: '20.20.2' });`;
    const run = spawnSync(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(pretend)}`, 'require-node.mjs'],
      { cwd: runtimeDir, encoding: 'utf8' },
    );
    expect(run.status).toBe(1);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`Node.js >= ${MINIMUM_NODE}`);
    expect(lines[0]).toContain('this is Node.js 20.20.2');
  });
});

/** A real Node older than Keel's minimum: the machine's, or one fetched for the test. */
function oldNode() {
  for (const candidate of ['/usr/bin/node', '/usr/local/bin/node']) {
    if (!existsSync(candidate)) continue;
    const version = execFileSync(candidate, ['--version'], { encoding: 'utf8' }).trim();
    if (!satisfies(version)) return candidate;
  }
  const prefix = tempDir('keel-old-node-');
  execFileSync('npm', ['install', '--prefix', prefix, '--no-save', '--loglevel=error', 'node@20'], {
    stdio: 'ignore',
  });
  return join(prefix, 'node_modules', 'node', 'bin', 'node');
}

describe('keel-node on an old Node', () => {
  it('fetches the pinned Node once, says so in one line, and runs the command under it', () => {
    const old = oldNode();
    const cache = tempDir('keel-node-cache-');
    const env = { ...process.env, KEEL_NODE_CACHE: cache, KEEL_SKIP_INSTALL: '1' };
    // Drop this run's own (new) Node from PATH, so only the old one is left to find.
    const first = spawnSync(old, ['with-node.mjs', 'node', '-p', 'process.version'], {
      cwd: runtimeDir,
      env,
      encoding: 'utf8',
      timeout: 300_000,
    });
    expect(first.stderr).toMatch(
      new RegExp(`^keel: Node.js \\S+ is older than Keel needs .*fetching Node.js ${pinned}`),
    );
    expect(first.stderr.trim().split('\n')).toHaveLength(1);
    expect(first.stdout.trim()).toBe(`v${pinned}`);
    expect(first.status).toBe(0);
    expect(
      existsSync(
        join(
          cache,
          `${pinned}-${process.platform}-${process.arch}`,
          'node_modules',
          'node',
          'bin',
          'node',
        ),
      ),
    ).toBe(true);

    const second = spawnSync(old, ['with-node.mjs', 'node', '-p', 'process.version'], {
      cwd: runtimeDir,
      env,
      encoding: 'utf8',
    });
    expect(second.stderr).toBe('');
    expect(second.stdout.trim()).toBe(`v${pinned}`);
  });

  it('passes the exit code of the command through', () => {
    const run = spawnSync(process.execPath, ['with-node.mjs', 'node', '-e', 'process.exit(7)'], {
      cwd: runtimeDir,
      env: { ...process.env, KEEL_SKIP_INSTALL: '1' },
    });
    expect(run.status).toBe(7);
  });
});

describe('.env for a Node without util.parseEnv (older than 20.12)', () => {
  it('the fallback parser reads what Node 24 parseEnv reads', async () => {
    const { parseDotenv } = await import('../with-node.mjs');
    const { parseEnv } = await import('node:util');
    const text = [
      '# a comment',
      'PLAIN=value',
      'SPACED = spaced value  ',
      'export EXPORTED=1',
      'DOUBLE="a # not a comment"',
      "SINGLE='single # quoted'",
      'NEWLINE="one\\ntwo"',
      'TRAILING=kept # dropped',
      'EMPTY=',
      'URL=postgres://u:p@h:5432/db?sslmode=verify-full',
    ].join('\n');
    expect(parseDotenv(text)).toEqual(parseEnv(text));
    expect(parseDotenv(text).NEWLINE).toBe('one\ntwo');
  });

  it('keel-node loads and reads .env on a Node whose util has no parseEnv', () => {
    // Simulate the old Node: no util.parseEnv, for require and import alike.
    const pretend =
      "import util from 'node:util'; import { syncBuiltinESMExports } from 'node:module'; util.parseEnv = undefined; syncBuiltinESMExports();";
    const file = join(tempDir('keel-env-'), '.env');
    writeFileSync(file, 'FROM_FILE="yes"\nALREADY=file\n');
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        `data:text/javascript,${encodeURIComponent(pretend)}`,
        '--input-type=module',
        '-e',
        "const util = await import('node:util'); if (util.parseEnv) throw new Error('parseEnv still there'); const m = await import(process.env.WITH_NODE); const env = { ALREADY: 'env' }; m.loadEnvFile(process.env.ENV_FILE, env); console.log(JSON.stringify(env));",
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, WITH_NODE: join(runtimeDir, 'with-node.mjs'), ENV_FILE: file },
      },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ ALREADY: 'env', FROM_FILE: 'yes' });
  });
});
