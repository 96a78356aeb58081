// The Debian tools some suites drive (PgBouncer, HAProxy): found on the
// machine, or installed from Debian's packages when this process is root (CI).
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { userInfo } from 'node:os';
import { delimiter, join } from 'node:path';

/** The executable `name` on PATH or in /usr/sbin or /usr/local/sbin, if there is one. */
export function findExecutable(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/**
 * The executable `name`. When it is missing and this process is root,
 * installs Debian's package of the same name (`apt-get install -y <name>`,
 * after an `apt-get update` if the first attempt fails); otherwise throws an
 * Error that ends with `installHint` (how to install it by hand, or skip).
 */
export async function ensureDebianPackage(
  name: string,
  installHint: string,
  log: (line: string) => void = () => {},
): Promise<string> {
  const found = findExecutable(name);
  if (found) return found;
  if (userInfo().uid !== 0) {
    throw new Error(`${name} is not installed and this process is not root; ${installHint}`);
  }
  log(`${name} not found: apt-get install -y ${name}`);
  let output = '';
  try {
    output += await apt(['install', '-y', name]);
  } catch (first) {
    log('apt-get install failed; running apt-get update and trying again');
    try {
      output += await apt(['update']);
      output += await apt(['install', '-y', name]);
    } catch (second) {
      throw new Error(
        `${name} is not installed and \`apt-get install -y ${name}\` failed; ${installHint}\n` +
          `first attempt: ${(first as Error).message}\nafter apt-get update: ${(second as Error).message}`,
      );
    }
  }
  const installed = findExecutable(name);
  if (!installed) {
    throw new Error(
      `apt-get install -y ${name} succeeded but no ${name} executable was found; ${installHint}\n${output}`,
    );
  }
  return installed;
}

function apt(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('apt-get', args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve(output)
        : reject(
            new Error(`apt-get ${args.join(' ')} exited with ${code}: ${output.slice(-2_000)}`),
          ),
    );
  });
}

/**
 * Stops a tool started by a suite: SIGTERM (both PgBouncer and HAProxy stop
 * at once on it, without waiting for their clients), SIGKILL after 5 s.
 */
export function terminateTool(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const escalate = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(escalate);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
