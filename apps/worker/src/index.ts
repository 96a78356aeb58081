// The public surface of @keel/worker: what its tests, the bench and the dev
// supervisor use.

export { loadWorkerConfig, type WorkerConfig, workerVariables } from './config';
export { type DeliveryRun, deliverOrderEvents } from './deliver';
export { queueConstructionSql, queueSchema } from './queue/schema';
export {
  createWebhookSender,
  type DeliveryOutcome,
  type OrderEvent,
  retryDelayMs,
  type WebhookSender,
} from './webhook';
export { queues, type RunningWorker, startWorker, type WorkerOptions } from './worker';
