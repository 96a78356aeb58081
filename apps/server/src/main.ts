// The process entry: with WEB_CONCURRENCY=1 (the default) this process is the
// server; with more, it is the cluster's primary, which forks that many
// server processes sharing the port and supervises them (src/cluster.ts).
import '@keel/runtime/require-node';
import cluster from 'node:cluster';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';

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
// Each side loads only its own code: the primary never imports the app.
if (cluster.isPrimary && config.WEB_CONCURRENCY > 1) {
  const { runPrimary } = await import('./cluster');
  await runPrimary(config, logger);
} else {
  const { serve } = await import('./serve');
  await serve(config, logger);
}
