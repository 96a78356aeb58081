// A client that trickles its request cannot hold a socket for long.

import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { createTestDatabase } from '@keel/platform/testing';
import pino from 'pino';
import { afterAll, expect, test } from 'vitest';
import { createRequestListener } from '../src/app';
import { createKeelServer } from '../src/http/server';

const testDb = await createTestDatabase();
const server = createKeelServer(
  createRequestListener({ db: testDb.db, logger: pino({ level: 'silent' }) }),
  { requestTimeoutMs: 1_000, checkIntervalMs: 100 },
).listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const port = (server.address() as AddressInfo).port;
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await testDb.destroy();
});

/** Sends `head`, then one byte every 200 ms; resolves with what came back and when the socket closed. */
function trickle(head: string): Promise<{ answer: string; closedAfterMs: number }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.write(head);
    const drip = setInterval(() => socket.write('x'), 200);
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    socket.on('close', () => {
      clearInterval(drip);
      resolve({ answer, closedAfterMs: Date.now() - started });
    });
    socket.on('error', () => {});
    // Bounded: the test itself gives up after 10 s.
    setTimeout(() => socket.destroy(), 10_000);
  });
}

test('a body trickled a byte at a time is answered 408 and the socket closed within the request timeout', async () => {
  const { answer, closedAfterMs } = await trickle(
    'POST /trpc/auth.login?batch=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n',
  );
  expect(answer).toMatch(/^HTTP\/1\.1 408/);
  expect(closedAfterMs).toBeLessThan(3_000);
});

test('headers trickled a byte at a time are cut off too', async () => {
  const { closedAfterMs } = await trickle('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
  expect(closedAfterMs).toBeLessThan(3_000);
});
