// The process entry: with WEB_CONCURRENCY=1 (the default) this process is the
// server; with more, it is the cluster's primary, which forks that many
// server processes sharing the port and supervises them (src/cluster.ts).
import '@keel/runtime/require-node';
import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
// Imported statically so that the server's code stays in dist/main.mjs
// itself, where the paths it finds beside it (the storefront build, the
// Redoc copy) are resolved from; only the primary's code is a chunk.
import { serve } from './serve';

function configOrExit() {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(2);
    }
    throw error;
  }
}

const config = configOrExit();
const logger = createLogger(config.LOG_LEVEL, { sharedStdout: cluster.isWorker });
if (cluster.isPrimary && config.WEB_CONCURRENCY > 1) {
  const { runPrimary } = await import('./cluster');
  await runPrimary(config, logger);
} else {
  await serve(config, logger);
}
