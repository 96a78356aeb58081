import { isIPv4, isIPv6 } from 'node:net';

/**
 * The key the per-address limits count a caller against. An IPv4 address is
 * its own key. An IPv6 address counts as its /64 network: one home or one
 * server is usually given a whole /64, so keying by the full address would
 * let one client take 2^64 fresh addresses and dodge every limit. An
 * IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a dual-stack socket
 * reports for an IPv4 peer) counts as its IPv4 address. Anything else (no
 * address, a value that is not an IP) is `unknown`, one shared key.
 *
 * @example
 * ```ts
 * addressKey('2001:db8:1:2:aaaa::1'); // '2001:db8:1:2::/64'
 * addressKey('::ffff:192.0.2.1'); // '192.0.2.1'
 * ```
 */
export function addressKey(address: string | null): string {
  if (address === null) return 'unknown';
  if (isIPv4(address)) return address;
  const bare = address.split('%', 1)[0] ?? '';
  if (!isIPv6(bare)) return 'unknown';
  const groups = hextets(bare.toLowerCase());
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`;
}

/** The eight 16-bit groups of a valid IPv6 address (`::` and a dotted IPv4 tail expanded). */
function hextets(address: string): number[] {
  const [head = '', tail] = address.split('::');
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const left = parse(head);
  if (tail === undefined) return left;
  const right = parse(tail);
  return [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
}
