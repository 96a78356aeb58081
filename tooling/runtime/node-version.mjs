// Which Node.js Keel runs on. Plain JavaScript that parses on any old Node,
// because it is what tells an old Node to stop.

/** The oldest Node.js Keel runs on; `engines.node` in package.json says the same (tested). */
export const MINIMUM_NODE = '24.11.0';

/** True when `version` ("24.11.0" or "v24.11.0") is at least `minimum`. */
export function satisfies(version, minimum = MINIMUM_NODE) {
  const have = version.replace(/^v/, '').split('.').map(Number);
  const need = minimum.split('.').map(Number);
  for (let i = 0; i < 3; i += 1) {
    const a = have[i] ?? 0;
    const b = need[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/** The one line an old runtime gets. */
export function tooOldMessage(version = process.versions.node) {
  return `Keel needs Node.js >= ${MINIMUM_NODE}; this is Node.js ${version}. Run it through pnpm (pnpm dev, pnpm test, …), which fetches the pinned Node, or install Node 24 LTS.`;
}
