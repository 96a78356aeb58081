import { createHash } from 'node:crypto';

/** A small, fast, seedable PRNG (mulberry32): the same seed gives the same data. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An integer in [min, max]. */
export function randomInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** A stable UUID (version 8, RFC 9562 "custom") derived from a name. */
export function stableUuid(name: string): string {
  const bytes = createHash('sha256').update(name).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const adjectives = [
  'Aero',
  'Brisk',
  'Cedar',
  'Dusk',
  'Ember',
  'Fjord',
  'Granite',
  'Harbor',
  'Indigo',
  'Juniper',
  'Kite',
  'Lumen',
  'Maple',
  'Nimbus',
  'Onyx',
  'Pebble',
  'Quartz',
  'Ridge',
  'Sable',
  'Tidal',
];
const nouns = [
  'Backpack',
  'Bottle',
  'Chair',
  'Desk Lamp',
  'Headphones',
  'Jacket',
  'Kettle',
  'Keyboard',
  'Mug',
  'Notebook',
  'Pen',
  'Scarf',
  'Sneakers',
  'Speaker',
  'Tent',
  'Umbrella',
  'Wallet',
  'Watch',
  'Blanket',
  'Candle',
];

/** A plausible product name for the n-th product. */
export function productName(n: number): string {
  const adjective = adjectives[n % adjectives.length] ?? 'Plain';
  const noun = nouns[Math.floor(n / adjectives.length) % nouns.length] ?? 'Thing';
  return `${adjective} ${noun} ${n}`;
}
