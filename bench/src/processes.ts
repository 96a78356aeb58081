import { type ChildProcess, spawn } from 'node:child_process';
import { findFreePort } from '@keel/platform';
import { type ContenderResult, interleavedRounds, type LoadSpec } from './load';

/** A server process the benchmark started. */
export interface RunningServer {
  name: string;
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `node <script>` with env, on a free port, and waits for `readyPath` to answer 200. */
export async function startServer(
  name: string,
  script: string,
  env: Record<string, string>,
  readyPath: string,
  nodeArgs: string[] = [],
): Promise<RunningServer> {
  const port = await findFreePort();
  // Instrumentation is on only where a scenario asks for it.
  const inherited = { ...process.env };
  delete inherited.METRICS_PORT;
  delete inherited.OTEL_EXPORTER_OTLP_ENDPOINT;
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: { ...inherited, ...env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors += chunk.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited: ${errors}`);
    try {
      const response = await fetch(`${url}${readyPath}`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${name} did not become ready: ${errors}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    name,
    url,
    child,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/**
 * `interleavedRounds` over servers a scenario started, each sent what
 * `nextFor` gives it; the servers are stopped afterwards, whatever happens.
 */
export async function roundsOnServers(
  label: string,
  servers: RunningServer[],
  nextFor: (server: RunningServer) => LoadSpec['next'],
  options: Parameters<typeof interleavedRounds>[2],
  log: (line: string) => void,
): Promise<Record<string, ContenderResult>> {
  try {
    return await interleavedRounds(
      label,
      servers.map((server) => ({
        name: server.name,
        url: server.url,
        pid: server.child.pid,
        next: nextFor(server),
      })),
      options,
      log,
    );
  } finally {
    for (const server of servers) await server.stop();
  }
}
