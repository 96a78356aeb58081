// HAProxy for tests: Debian's package (found on the machine, or installed
// when this process is root), started in front of several server processes
// on a free port: round-robin, each instance health-checked on /healthz, a
// request that cannot reach an instance retried on another.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '@keel/platform';
import { ensureDebianPackage, terminateTool } from './debian-package';

/** How to install HAProxy by hand, for error messages. */
export const haproxyInstallHint =
  'install it with `sudo apt-get install -y haproxy` (Debian/Ubuntu), `brew install haproxy` (macOS) ' +
  'or your distribution’s package, or set KEEL_SKIP_HAPROXY=1 to skip the many-instances suite';

/** One instance behind the proxy: a name (answered in `x-keel-instance`) and its base URL. */
export interface Backend {
  name: string;
  base: string;
}

/** A running HAProxy. */
export interface RunningHaproxy {
  /** The proxy's base URL (`http://127.0.0.1:<port>`). */
  url: string;
  /** `HAProxy version 2.6.12-1+deb12u4 …` (the first line of `haproxy -v`). */
  version: string;
  /** Stops HAProxy and waits for it to exit. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts HAProxy in front of `backends`: round-robin; each instance checked
 * with `GET /healthz` every 250 ms and taken out after one failed check; a
 * connection an instance refuses is retried on another (`retries`,
 * `option redispatch`); `X-Forwarded-For` appended (`option forwardfor`), so
 * instances with `TRUST_PROXY=1` see the client's address. Each response
 * names the instance that served it in `x-keel-instance`.
 *
 * @example
 * ```ts
 * const proxy = await startHaproxy([{ name: 'one', base: 'http://127.0.0.1:4001' }]);
 * await fetch(`${proxy.url}/healthz`);
 * await proxy.stop();
 * ```
 */
export async function startHaproxy(
  backends: Backend[],
  log: (line: string) => void = () => {},
): Promise<RunningHaproxy> {
  const binary = await ensureDebianPackage('haproxy', haproxyInstallHint, log);
  const version = spawnSync(binary, ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0] ?? '';
  const dir = await mkdtemp(join(tmpdir(), 'keel-haproxy-'));
  const configFile = join(dir, 'haproxy.cfg');
  let lastError: unknown;
  // A port found free may be taken before HAProxy binds it: try another.
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const port = await findFreePort();
    await writeFile(configFile, haproxyConfig(port, backends));
    // -db: stay in the foreground, so the child is HAProxy itself.
    const child = spawn(binary, ['-db', '-f', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntilServing(child, url);
    } catch (error) {
      lastError = error;
      await terminateTool(child);
      continue;
    }
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);
    let stopping: Promise<void> | undefined;
    return {
      url,
      version,
      stop() {
        stopping ??= (async () => {
          process.off('exit', killOnExit);
          await terminateTool(child);
          await rm(dir, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

function haproxyConfig(port: number, backends: Backend[]): string {
  return `# Written by apps/server/test/haproxy.ts
global
  maxconn 1024

defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  timeout check 1s
  # a connection an instance refuses is tried again, on another instance
  retries 3
  option redispatch
  option forwardfor

frontend keel
  bind 127.0.0.1:${port}
  default_backend instances

backend instances
  balance roundrobin
  option httpchk
  http-check send meth GET uri /healthz
  http-check expect status 200
  default-server inter 250ms fall 1 rise 1
  http-response set-header x-keel-instance %[srv_name]
${backends.map((b) => `  server ${b.name} ${new URL(b.base).host} check`).join('\n')}
`;
}

/** Resolves once /healthz answers 200 through the proxy; rejects if HAProxy exits or within 15 s. */
async function waitUntilServing(child: ChildProcess, url: string): Promise<void> {
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`haproxy exited during start (code ${child.exitCode}):\n${output}`);
    }
    const status = await fetch(`${url}/healthz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) {
      throw new Error(
        `haproxy did not serve /healthz within 15 s (last status ${status}):\n${output}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
