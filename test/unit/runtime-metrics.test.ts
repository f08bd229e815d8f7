import { describe, it, expect } from 'vitest';
import {
  constructorNames,
  countByName,
  heapSpaceLabel,
  parseCgroupMemoryLimit,
  parseMaxOpenFiles,
  parseProcStatus,
} from '../../src/metrics/runtime-readings';

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

describe('parseProcStatus', () => {
  const STATUS = [
    'Name:\tnode',
    'VmPeak:\t 1262644 kB',
    'VmSize:\t 1196084 kB',
    'VmRSS:\t   58412 kB',
    'VmData:\t  101560 kB',
    'VmStk:\t     132 kB',
    'Threads:\t7',
  ].join('\n');

  it('reads VmSize and VmData in kB as bytes', () => {
    expect(parseProcStatus(STATUS)).toEqual({ virtual: 1196084 * 1024, data: 101560 * 1024 });
  });

  it('does not take VmPeak for VmSize or a field of another name', () => {
    expect(parseProcStatus('VmPeak:\t 9 kB\nVmDataX:\t 7 kB\n')).toEqual({ virtual: undefined, data: undefined });
  });

  it('gives nothing for an empty or foreign text', () => {
    expect(parseProcStatus('')).toEqual({ virtual: undefined, data: undefined });
    expect(parseProcStatus('VmSize: lots')).toEqual({ virtual: undefined, data: undefined });
  });
});

describe('parseMaxOpenFiles', () => {
  const LIMITS = [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max cpu time              unlimited            unlimited            seconds   ',
    'Max open files            1024                 524288               files     ',
    'Max locked memory         8388608              8388608              bytes     ',
  ].join('\n');

  it('reads the soft limit', () => {
    expect(parseMaxOpenFiles(LIMITS)).toBe(1024);
  });

  it('an unlimited or missing line gives no value', () => {
    expect(parseMaxOpenFiles(LIMITS.replace('1024  ', 'unlimited'))).toBeUndefined();
    expect(parseMaxOpenFiles('Max cpu time  unlimited  unlimited  seconds')).toBeUndefined();
  });
});

describe('heapSpaceLabel', () => {
  it.each([
    ['new_space', 'new'],
    ['old_space', 'old'],
    ['code_large_object_space', 'code_large_object'],
    ['read_only_space', 'read_only'],
    ['spaceless', 'spaceless'],
  ])('%s is %s', (space, label) => {
    expect(heapSpaceLabel(space)).toBe(label);
  });
});

describe('per-type counts', () => {
  it('counts names in first-seen order', () => {
    expect([...countByName(['Timeout', 'TCPSocketWrap', 'Timeout', 'FSReqCallback'])]).toEqual([
      ['Timeout', 2],
      ['TCPSocketWrap', 1],
      ['FSReqCallback', 1],
    ]);
    expect(countByName([]).size).toBe(0);
  });

  it('names objects by their class and skips what has none', () => {
    class Socket {}
    const bare = Object.create(null) as object;
    expect(constructorNames([new Socket(), new Socket(), null, undefined, bare, { constructor: undefined }, new Map()])).toEqual([
      'Socket',
      'Socket',
      'Map',
    ]);
  });
});
