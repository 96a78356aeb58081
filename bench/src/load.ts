import autocannon from 'autocannon';

/** One measured round. */
export interface Round {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}

/** What to send: each request gets the next path (and body, headers) from `next`. */
export interface LoadSpec {
  url: string;
  connections: number;
  seconds: number;
  method?: 'GET' | 'POST';
  next: () => { path: string; body?: string; headers?: Record<string, string> };
}

/** Runs autocannon for `seconds` and returns throughput and latency. */
export async function runLoad(spec: LoadSpec): Promise<Round> {
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    duration: spec.seconds,
    method: spec.method ?? 'GET',
    requests: [
      {
        setupRequest: (request) => {
          const next = spec.next();
          return {
            ...request,
            path: next.path,
            ...(next.body !== undefined ? { body: next.body } : {}),
            headers: { ...request.headers, 'content-type': 'application/json', ...next.headers },
          };
        },
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total,
  };
}

/** Median and spread of a list of numbers. */
export function summarize(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
  return { median, min: sorted[0] ?? 0, max: sorted.at(-1) ?? 0 };
}
