// One variant of the request log, hand-written or the ecosystem's, in a bare
// node:http server (run by run-middleware.ts under tsx): Keel's
// startRequestLog or pino-http. Each answers a small JSON body; logs go to
// stdout, which the bench discards. (CORS was compared the same way, Keel's
// own against the cors package, at the same cost: Keel now uses cors.)
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { startRequestLog } from '@keel/server/http/request-log';
import { createLogger } from '@keel/server/logger';
import { pinoHttp } from 'pino-http';

const variant = process.env.MIDDLEWARE_VARIANT;
const logger = createLogger('info');
const body = JSON.stringify({ status: 'ok', items: [1, 2, 3] });
const answer = (res: ServerResponse) => {
  res.setHeader('content-type', 'application/json');
  res.end(body);
};
const validRequestId = /^[A-Za-z0-9._-]{1,128}$/;
const pinoLog = pinoHttp({
  logger,
  // The same id rule as Keel's: a sane incoming x-request-id, else a UUID.
  genReqId: (req, res) => {
    const incoming = req.headers['x-request-id'];
    const id =
      typeof incoming === 'string' && validRequestId.test(incoming) ? incoming : randomUUID();
    res.setHeader('x-request-id', id);
    return id;
  },
  // One line per request with method, path, status and duration, as Keel's.
  serializers: {
    req: (req: { method: string; url: string }) => ({
      method: req.method,
      path: req.url.split('?')[0],
    }),
    res: (res: { statusCode: number }) => ({ status: res.statusCode }),
  },
});
const handlers: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  'keel request log': (req, res) => {
    startRequestLog(logger, req, res, req.socket.remoteAddress ?? null);
    answer(res);
  },
  'pino-http': (req, res) => {
    pinoLog(req, res);
    answer(res);
  },
};
const handler = handlers[variant ?? ''];
if (!handler)
  throw new Error(`MIDDLEWARE_VARIANT must be one of ${Object.keys(handlers).join(', ')}`);
createServer(handler).listen(Number(process.env.PORT), '127.0.0.1');
