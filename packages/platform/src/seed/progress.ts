/** A progress bar on stderr: rows done, rows per second, time left. */
export interface Progress {
  advance(rows: number): void;
  finish(): { rows: number; seconds: number; rowsPerSecond: number };
}

/**
 * Draws `label ▕████░░░░▏ 600,000/1,000,000  85,000 rows/s  ETA 5s` on a
 * terminal (redrawn in place), or a line per 10 % when stderr is not one.
 */
export function createProgress(
  label: string,
  total: number,
  stream: Pick<NodeJS.WriteStream, 'isTTY' | 'write'> = process.stderr,
): Progress {
  const started = performance.now();
  let done = 0;
  let lastDraw = 0;
  let lastDecile = -1;
  const format = (n: number) => Math.round(n).toLocaleString('en-US');
  const line = () => {
    const seconds = (performance.now() - started) / 1000;
    const rate = done / Math.max(seconds, 0.001);
    const eta = rate > 0 ? (total - done) / rate : 0;
    const width = 24;
    const filled = total > 0 ? Math.round((done / total) * width) : width;
    const bar = `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
    return `${label.padEnd(12)} ▕${bar}▏ ${format(done)}/${format(total)}  ${format(rate)} rows/s  ETA ${eta.toFixed(0)}s`;
  };
  return {
    advance(rows) {
      done += rows;
      const now = performance.now();
      if (stream.isTTY) {
        if (now - lastDraw > 100 || done >= total) {
          stream.write(`\r${line()}`);
          lastDraw = now;
        }
      } else {
        const decile = Math.floor((done / Math.max(total, 1)) * 10);
        if (decile !== lastDecile) {
          stream.write(`${line()}\n`);
          lastDecile = decile;
        }
      }
    },
    finish() {
      const seconds = (performance.now() - started) / 1000;
      if (stream.isTTY) stream.write(`\r${line()}\n`);
      return { rows: done, seconds, rowsPerSecond: done / Math.max(seconds, 0.001) };
    },
  };
}
