// The runtime check every Keel entry point imports first: on an old Node it
// stops with one line instead of a stack from deep inside a library.
import { satisfies, tooOldMessage } from './node-version.mjs';

if (!satisfies(process.versions.node)) {
  process.stderr.write(`${tooOldMessage()}\n`);
  process.exit(1);
}
