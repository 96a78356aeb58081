import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

/**
 * The headers helmet sets on every response, captured once by running
 * helmet itself, so the pipeline sends exactly helmet's set on every
 * response without running the middleware per request.
 */
export function captureHelmetHeaders(): [string, string][] {
  const headers: [string, string][] = [];
  const response = {
    setHeader: (name: string, value: unknown) => headers.push([name, String(value)]),
    removeHeader: () => {},
    getHeader: () => undefined,
  };
  let ran = false;
  helmet()({ headers: {} } as IncomingMessage, response as unknown as ServerResponse, () => {
    ran = true;
  });
  if (!ran) throw new Error('helmet did not run synchronously; its headers cannot be captured');
  return headers;
}
