import fc from 'fast-check';
import pg from 'pg';
import { expect, test } from 'vitest';
import { parseTimestamptz } from '../src/create-db';

const pgParser = pg.types.getTypeParser(1184, 'text') as (value: string) => Date;

function pgText(date: Date, micros: number, offset: string): string {
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const fraction = (date.getUTCMilliseconds() * 1000 + micros)
    .toString()
    .padStart(6, '0')
    .replace(/0+$/, '');
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}${fraction ? `.${fraction}` : ''}${offset}`;
}

test('the fast timestamptz parser agrees with pg’s parser on every UTC and offset form', () => {
  fc.assert(
    fc.property(
      fc.date({
        min: new Date('0100-01-01T00:00:00Z'),
        max: new Date('9999-12-31T23:59:59Z'),
        noInvalidDate: true,
      }),
      fc.integer({ min: 0, max: 999 }),
      fc.constantFrom('+00', '+05:30', '-08', '+00:00'),
      (date, micros, offset) => {
        const text = pgText(date, micros, offset);
        expect(parseTimestamptz(text).getTime()).toBe(pgParser(text).getTime());
      },
    ),
    { numRuns: 2000 },
  );
});

test.each(['infinity', '-infinity', '2020-01-01 00:00:00+00 BC', '0099-12-31 23:59:59+00'])(
  '%s goes to pg’s parser',
  (text) => {
    expect(String(parseTimestamptz(text))).toBe(String(pgParser(text)));
  },
);
