// A webhook receiver on loopback for the worker's tests: it records every
// request and answers as each test tells it to.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface Received {
  id: string;
  type: string;
  occurredAt: string;
  data: { order: { id: string; status: string }; previousStatus?: string };
  headers: Record<string, string>;
  /** Whether the signature verified with the secret. */
  verified: boolean;
  at: number;
}

export type Answer = (
  request: Received,
  attempt: number,
) => number | 'hang' | { status: number; afterMs: number };

export interface Receiver {
  url: string;
  /** Every request, in arrival order, including the ones answered with an error. */
  requests: Received[];
  /** The requests answered 2xx. */
  accepted(): Received[];
  answer: Answer;
  /** Waits until `predicate` holds, or fails after `timeoutMs`. */
  waitFor(predicate: (r: Receiver) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export const webhookSecret = `whsec_${Buffer.from('keel-test-secret-0123456789').toString('base64')}`;

export async function startReceiver(answer: Answer = () => 200): Promise<Receiver> {
  const verifier = new Webhook(webhookSecret);
  const attempts = new Map<string, number>();
  const acceptedIds: Received[] = [];
  const hanging: ServerResponse[] = [];
  const receiver: Receiver = {
    url: '',
    requests: [],
    accepted: () => acceptedIds,
    answer,
    async waitFor(predicate, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(receiver)) {
        if (Date.now() > deadline)
          throw new Error(`receiver: condition not met in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    close: () =>
      new Promise((resolve) => {
        for (const response of hanging) response.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(req.headers).map(([k, v]) => [k, String(v)]),
      );
      let verified = true;
      try {
        verifier.verify(body, headers);
      } catch {
        verified = false;
      }
      const parsed = JSON.parse(body) as Omit<Received, 'headers' | 'verified' | 'at'>;
      const received: Received = { ...parsed, headers, verified, at: Date.now() };
      receiver.requests.push(received);
      const attempt = (attempts.get(received.id) ?? 0) + 1;
      attempts.set(received.id, attempt);
      const status = receiver.answer(received, attempt);
      if (status === 'hang') {
        hanging.push(res);
        return;
      }
      const { code, afterMs } =
        typeof status === 'number'
          ? { code: status, afterMs: 0 }
          : { code: status.status, afterMs: status.afterMs };
      setTimeout(() => {
        if (code >= 200 && code < 300) acceptedIds.push(received);
        res.writeHead(code).end();
      }, afterMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
  return receiver;
}
