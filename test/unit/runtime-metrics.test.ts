import { describe, it, expect } from 'vitest';
import { parseCgroupMemoryLimit } from '../../src/metrics/runtime-metrics';

describe('parseCgroupMemoryLimit', () => {
  it('reads a cgroup v2 memory.max limit in bytes', () => {
    expect(parseCgroupMemoryLimit('536870912\n')).toBe(536_870_912);
    expect(parseCgroupMemoryLimit('1073741824')).toBe(1_073_741_824);
    expect(parseCgroupMemoryLimit('  4096  ')).toBe(4096);
  });

  it('cgroup v2 "max" means no limit', () => {
    expect(parseCgroupMemoryLimit('max')).toBeUndefined();
    expect(parseCgroupMemoryLimit('max\n')).toBeUndefined();
  });

  it('the cgroup v1 "unlimited" value near 2^63 means no limit', () => {
    expect(parseCgroupMemoryLimit('9223372036854771712\n')).toBeUndefined();
    expect(parseCgroupMemoryLimit('9223372036854775807')).toBeUndefined();
    expect(parseCgroupMemoryLimit(String(2 ** 60))).toBeUndefined();
  });

  it('keeps a large but real limit', () => {
    expect(parseCgroupMemoryLimit(String(256 * 1024 ** 3))).toBe(256 * 1024 ** 3);
  });

  it.each([undefined, '', '   ', '\n', '0', '-1', 'abc', 'NaN', 'Infinity', '12abc'])('%j gives no limit', (text) => {
    expect(parseCgroupMemoryLimit(text)).toBeUndefined();
  });
});
