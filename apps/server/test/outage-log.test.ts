import { Writable } from 'node:stream';
import pino from 'pino';
import { expect, test } from 'vitest';
import { createOutageLog } from '../src/http/outage-log';

test('an outage is logged at warn once when it starts and once when it ends', () => {
  const lines: { level: number; msg: string }[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const outage = createOutageLog(pino({ level: 'info' }, sink));
  outage.answered();
  for (let i = 0; i < 50; i += 1) outage.unavailable(new Error('connect ECONNREFUSED'));
  expect(outage.down).toBe(true);
  for (let i = 0; i < 50; i += 1) outage.answered();
  outage.unavailable(new Error('terminating connection'));
  expect(lines.map((l) => [l.level, l.msg])).toEqual([
    [40, 'database unavailable: answering SERVICE_UNAVAILABLE'],
    [40, 'database available again'],
    [40, 'database unavailable: answering SERVICE_UNAVAILABLE'],
  ]);
});
