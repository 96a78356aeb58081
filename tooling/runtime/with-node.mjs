#!/usr/bin/env node
// keel-node <command> [args…]: runs a command under a Node.js that Keel
// supports, the way Gradle's wrapper provides its JVM. The root scripts
// (`pnpm dev`, `pnpm test`, …) all go through it.
//
// - The machine's Node is new enough: the command runs under it, untouched.
// - It is too old: the Node pinned in `.node-version` is fetched once from the
//   npm registry (Node's official binaries, published as the `node` package)
//   into a cache, one line says so, and the command runs with that Node first
//   on PATH, so every `#!/usr/bin/env node` below it (pnpm, turbo's tasks,
//   vitest, tsx) runs on it.
// - The workspace's dependencies are missing or older than the lockfile:
//   `pnpm install` runs first (under the same Node), so a fresh clone needs
//   nothing but `pnpm dev` or `pnpm test`.
// - With `--dotenv` first (`pnpm dev`, `pnpm start`, `pnpm start:local`,
//   `pnpm db:*`), the repository's `.env` (or `KEEL_ENV_FILE`) is read
//   into the environment; a variable already set in the real environment
//   wins over the file. `pnpm test` does not read it, so a developer's
//   settings never change what the tests see.
//
// Plain JavaScript without dependencies: it must run on the old Node it replaces.
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { constants, homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as util from 'node:util';
import { MINIMUM_NODE, satisfies } from './node-version.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const windows = process.platform === 'win32';

/** The variables keel-node itself reads (it runs before any dependency is installed, so no schema library). */
export const runtimeVariables = ['KEEL_NODE_CACHE', 'KEEL_SKIP_INSTALL', 'KEEL_ENV_FILE'];

/**
 * The machine's own network settings, which no Keel schema reads but npm and
 * Node inside the tasks need to reach the registry (a TLS proxy's CA file,
 * proxies, npm's config files): turbo passes them through too.
 */
export const networkVariables = [
  'NODE_EXTRA_CA_CERTS',
  'SSL_CERT_FILE',
  'SSL_CERT_DIR',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'npm_config_registry',
  'npm_config_cafile',
  'npm_config_userconfig',
  'npm_config_globalconfig',
  'npm_config_proxy',
  'npm_config_https_proxy',
  'npm_config_strict_ssl',
  'NPM_CONFIG_REGISTRY',
  'NPM_CONFIG_CAFILE',
  'NPM_CONFIG_USERCONFIG',
  'NPM_CONFIG_GLOBALCONFIG',
];

/**
 * A dotenv file's `NAME=value` lines (`#` comments, `export ` prefixes,
 * single, double or back quotes, `\n` in double quotes), for a Node older
 * than 20.12, which has no `util.parseEnv`. Where Node has it, Node's own
 * parser is used instead.
 */
export function parseDotenv(text) {
  const values = {};
  const line =
    /^[ \t]*(?:export[ \t]+)?([\w.-]+)[ \t]*=[ \t]*("(?:\\.|[^"\\])*"|'[^']*'|`[^`]*`|[^#\r\n]*)[ \t]*(?:#.*)?$/gm;
  for (const [, name, raw] of text.matchAll(line)) {
    const value = raw.trim();
    const quote = value[0];
    values[name] =
      quote === '"'
        ? value.slice(1, -1).replace(/\\n/g, '\n')
        : quote === "'" || quote === '`'
          ? value.slice(1, -1)
          : value;
  }
  return values;
}

/**
 * Reads `file` (a dotenv file: `NAME=value` lines, `#` comments, quotes)
 * into `env` for every name `env` does not already have: the real
 * environment wins. Returns the names taken from the file; none when the
 * file does not exist.
 */
export function loadEnvFile(file, env = process.env) {
  if (!existsSync(file)) return [];
  const parse = typeof util.parseEnv === 'function' ? util.parseEnv : parseDotenv;
  const taken = [];
  for (const [name, value] of Object.entries(parse(readFileSync(file, 'utf8')))) {
    if (env[name] !== undefined) continue;
    env[name] = value;
    taken.push(name);
  }
  return taken;
}

/** The pinned version in `.node-version` (e.g. `24.21.0`). */
export function pinnedNodeVersion() {
  return readFileSync(join(root, '.node-version'), 'utf8').trim().replace(/^v/, '');
}

/** Where fetched Node versions live: `KEEL_NODE_CACHE`, else the user's cache folder. */
export function nodeCacheDir(env = process.env) {
  if (env.KEEL_NODE_CACHE) return env.KEEL_NODE_CACHE;
  if (windows && env.LOCALAPPDATA) return join(env.LOCALAPPDATA, 'keel', 'node');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'keel', 'node');
}

function nodeBinary(prefix) {
  return windows
    ? join(prefix, 'node_modules', 'node', 'bin', 'node.exe')
    : join(prefix, 'node_modules', 'node', 'bin', 'node');
}

function versionOf(binary) {
  const run = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return run.status === 0 ? run.stdout.trim().replace(/^v/, '') : undefined;
}

/**
 * The directory of a suitable `node` binary: undefined when the running Node
 * is suitable, else the cached pinned Node, fetched first when missing.
 */
export function ensureNode() {
  if (satisfies(process.versions.node)) return undefined;
  const version = pinnedNodeVersion();
  // Keyed by platform too: a cache shared between machines holds one Node each.
  const prefix = join(nodeCacheDir(), `${version}-${process.platform}-${process.arch}`);
  const binary = nodeBinary(prefix);
  if (versionOf(binary) === version) return dirname(binary);

  console.error(
    `keel: Node.js ${process.versions.node} is older than Keel needs (>= ${MINIMUM_NODE}); fetching Node.js ${version} from the npm registry into ${prefix} (once)`,
  );
  // Install beside the target and rename it into place, so an interrupted or
  // concurrent fetch never leaves a half-written Node where the next run looks.
  const staging = `${prefix}.partial-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  const npm = spawnSync(
    windows ? 'npm.cmd' : 'npm',
    [
      'install',
      '--prefix',
      staging,
      '--no-save',
      '--no-package-lock',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      `node@${version}`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], shell: windows },
  );
  const fetched = versionOf(nodeBinary(staging));
  if (npm.status !== 0 || fetched !== version) {
    rmSync(staging, { recursive: true, force: true });
    console.error(
      `keel: could not fetch Node.js ${version} (npm install node@${version} ${npm.status === 0 ? `gave ${fetched ?? 'no working binary'}` : 'failed'}); install Node.js ${version} or newer yourself`,
    );
    process.exit(1);
  }
  // A folder whose Node does not run (half copied by hand, say) is replaced.
  if (existsSync(prefix) && versionOf(binary) !== version) {
    rmSync(prefix, { recursive: true, force: true });
  }
  try {
    renameSync(staging, prefix);
  } catch (error) {
    // Another run finished first: keep its copy.
    rmSync(staging, { recursive: true, force: true });
    if (versionOf(binary) !== version) {
      console.error(`keel: could not put Node.js ${version} into ${prefix}: ${error.message}`);
      process.exit(1);
    }
  }
  return dirname(binary);
}

function mtime(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

/** True when `node_modules` is missing or older than the lockfile or the workspace manifest. */
export function installNeeded() {
  const installed = mtime(join(root, 'node_modules', '.modules.yaml'));
  return (
    installed === 0 ||
    installed < mtime(join(root, 'pnpm-lock.yaml')) ||
    installed < mtime(join(root, 'pnpm-workspace.yaml'))
  );
}

function run(command, args, env) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', env, shell: windows });
    // The terminal sends Ctrl-C to the whole process group; the child decides
    // how to stop (the dev supervisor stops the server, then PostgreSQL) and
    // this wrapper waits for it. Termination signals sent to the wrapper alone
    // are passed on.
    const forward = (signal) => () => child.kill(signal);
    const handlers = { SIGINT: () => {}, SIGTERM: forward('SIGTERM'), SIGHUP: forward('SIGHUP') };
    for (const [signal, handler] of Object.entries(handlers)) process.on(signal, handler);
    child.on('exit', (code, signal) => {
      for (const [name, handler] of Object.entries(handlers)) process.off(name, handler);
      resolve(code ?? (signal ? 128 + (constants.signals[signal] ?? 15) : 1));
    });
    child.on('error', (error) => {
      console.error(`keel: cannot run ${command}: ${error.message}`);
      resolve(127);
    });
  });
}

async function main() {
  const argv = process.argv.slice(2);
  const readEnvFile = argv[0] === '--dotenv';
  const [command, ...args] = readEnvFile ? argv.slice(1) : argv;
  if (!command) {
    console.error('usage: keel-node [--dotenv] <command> [args…]');
    process.exit(2);
  }
  if (readEnvFile) {
    const file = process.env.KEEL_ENV_FILE || join(root, '.env');
    const taken = loadEnvFile(file);
    if (taken.length > 0) console.error(`keel: from ${file}: ${taken.join(', ')}`);
  }
  const nodeDir = ensureNode();
  const env = { ...process.env };
  if (nodeDir) {
    const pathKey = Object.keys(env).find((key) => key.toUpperCase() === 'PATH') ?? 'PATH';
    env[pathKey] = `${nodeDir}${delimiter}${env[pathKey] ?? ''}`;
    // pnpm and npm record the Node that runs scripts here; point them at ours.
    env.npm_node_execpath = join(nodeDir, windows ? 'node.exe' : 'node');
    env.NODE = env.npm_node_execpath;
  }
  if (installNeeded() && process.env.KEEL_SKIP_INSTALL !== '1') {
    console.error('keel: installing the workspace dependencies (pnpm install)');
    const code = await run('pnpm', ['install'], env);
    if (code !== 0) process.exit(code);
  }
  process.exit(await run(command, args, env));
}

if (process.argv[1] && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url))
  await main();
