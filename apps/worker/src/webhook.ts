import { Webhook } from 'standardwebhooks';

/** An order event as the outbox holds it. */
export interface OrderEvent {
  id: string;
  type: string;
  occurredAt: Date;
  data: unknown;
}

export type DeliveryOutcome = { ok: true } | { ok: false; error: string };

/** POSTs one event and says whether the receiver took it. */
export type WebhookSender = (event: OrderEvent) => Promise<DeliveryOutcome>;

/**
 * Sends events to `url` as JSON `{ id, type, occurredAt, data }`, signed per
 * the Standard Webhooks specification (`webhook-id` = the event's id, stable
 * across retries so receivers can deduplicate; `webhook-timestamp`;
 * `webhook-signature`). Only a 2xx answer within `timeoutMs` counts as
 * delivered; redirects are not followed.
 *
 * @example
 * ```ts
 * const send = createWebhookSender({ url: 'https://shop.example/hooks', secret: 'whsec_…', timeoutMs: 10_000 });
 * const outcome = await send(event);
 * ```
 */
export function createWebhookSender(options: {
  url: string;
  secret: string;
  timeoutMs: number;
}): WebhookSender {
  const signer = new Webhook(options.secret);
  return async (event) => {
    const body = JSON.stringify({
      id: event.id,
      type: event.type,
      occurredAt: event.occurredAt.toISOString(),
      data: event.data,
    });
    const sentAt = new Date();
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(options.timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Keel-Webhooks/1',
          'webhook-id': event.id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signer.sign(event.id, sentAt, body),
        },
        body,
      });
      // The answer's body is not read: only its status counts.
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300) return { ok: true };
      return { ok: false, error: `the receiver answered HTTP ${response.status}` };
    } catch (error) {
      const name = error instanceof Error ? error.name : '';
      if (name === 'TimeoutError') {
        return { ok: false, error: `no answer within ${options.timeoutMs} ms` };
      }
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
      return {
        ok: false,
        error: `could not reach the receiver: ${String((cause as Error)?.message ?? cause)}`,
      };
    }
  };
}

/**
 * The wait before try `attempt + 1`, after `attempt` failed tries:
 * exponential (base × 2^(attempt−1), capped at `maxMs`) with "equal jitter"
 * (half fixed, half random), so receivers that fail together are not hit
 * again together.
 */
export function retryDelayMs(
  attempt: number,
  options: { baseMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const exponential = Math.min(options.maxMs, options.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (exponential / 2) * random());
}
