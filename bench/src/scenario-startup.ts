import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '@keel/platform';
import { repositoryRoot } from './bench-database';

export interface StartupResult {
  freshSeconds: number;
  existingSeconds: number;
}

/** Runs `pnpm dev` on its own data directory and ports; resolves with the seconds to the first 200 on /readyz. */
async function timeDev(dataDir: string): Promise<number> {
  const port = await findFreePort();
  const pgPort = await findFreePort();
  const started = performance.now();
  const child = spawn('pnpm', ['dev'], {
    cwd: repositoryRoot,
    env: {
      ...process.env,
      KEEL_DATA_DIR: dataDir,
      KEEL_PG_PORT: String(pgPort),
      PORT: String(port),
    },
    stdio: 'ignore',
    detached: true,
  });
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/readyz`);
        if (response.status === 200) return (performance.now() - started) / 1000;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error('pnpm dev did not become ready within 120 s');
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.pid) process.kill(-child.pid, 'SIGINT');
    await exited;
    // Let the supervisor's database stop finish before the next start.
    await new Promise((r) => setTimeout(r, 1_500));
  }
}

/** Scenario F: from `pnpm dev` to the first 200 on /readyz, on a fresh and on an existing data directory. */
export async function startupTime(): Promise<StartupResult> {
  const root = await mkdtemp(join(tmpdir(), 'keel-startup-'));
  const dataDir = join(root, 'postgres');
  try {
    const freshSeconds = await timeDev(dataDir);
    const existingSeconds = await timeDev(dataDir);
    return { freshSeconds, existingSeconds };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
