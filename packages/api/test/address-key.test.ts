import { describe, expect, test } from 'vitest';
import { addressKey } from '../src/address-key';

describe('addressKey', () => {
  test('an IPv4 address is its own key', () => {
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('192.0.2.2')).not.toBe(addressKey('192.0.2.1'));
  });

  test('every address of one IPv6 /64 shares a key, however it is written', () => {
    const key = addressKey('2001:db8:1:2::1');
    expect(key).toBe('2001:db8:1:2::/64');
    for (const same of [
      '2001:db8:1:2:ffff:ffff:ffff:ffff',
      '2001:0DB8:0001:0002:0:0:0:9',
      '2001:db8:1:2:a::b',
      '2001:db8:1:2::1%eth0',
      '2001:db8:1:2::192.0.2.1',
    ]) {
      expect(addressKey(same), same).toBe(key);
    }
  });

  test('neighbouring /64 networks do not share a key', () => {
    expect(addressKey('2001:db8:1:3::1')).toBe('2001:db8:1:3::/64');
    expect(addressKey('2001:db8:1::1')).toBe('2001:db8:1:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1')).toBe('fe80:0:0:0::/64');
  });

  test('an IPv4-mapped IPv6 address counts as its IPv4 address', () => {
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('::FFFF:c000:0201')).toBe('192.0.2.1');
    expect(addressKey('::ffff:192.0.2.2')).not.toBe(addressKey('::ffff:192.0.2.1'));
  });

  test('no address, or one that is not an IP, is the one shared key "unknown"', () => {
    expect(addressKey(null)).toBe('unknown');
    expect(addressKey('')).toBe('unknown');
    expect(addressKey('not-an-ip')).toBe('unknown');
    expect(addressKey('2001:db8::1::2')).toBe('unknown');
  });
});
