import { describe, it, expect } from 'vitest';
import { classifyReply, isCacheRead } from '../../src/instrumentations/redis-common/replies';

const ok = [{ result: 'ok', count: 1 }];
const hit = (count = 1) => ({ result: 'hit', count });
const miss = (count = 1) => ({ result: 'miss', count });

describe('isCacheRead', () => {
  it.each(['GET', 'GETEX', 'GETDEL', 'HGET', 'HGETALL', 'MGET', 'HMGET', 'EXISTS', 'HEXISTS', 'SISMEMBER', 'SMEMBERS', 'ZSCORE', 'LINDEX'])(
    '%s is a read',
    (command) => {
      expect(isCacheRead(command)).toBe(true);
    },
  );
  it.each(['SET', 'DEL', 'INCR', 'EXPIRE', 'PING', 'MULTI', 'EXEC', 'PUBLISH', 'get'])('%s is not a read', (command) => {
    expect(isCacheRead(command)).toBe(false);
  });
});

describe('classifyReply', () => {
  describe('single-key reads', () => {
    it('GET with a value is a hit', () => {
      expect(classifyReply('GET', ['k'], 'value', false)).toEqual([hit()]);
    });
    it('GET of a missing key (null) is a miss', () => {
      expect(classifyReply('GET', ['k'], null, false)).toEqual([miss()]);
    });
    it('GET of an empty string is a hit', () => {
      expect(classifyReply('GET', ['k'], '', false)).toEqual([hit()]);
    });
    it('a Buffer reply is a hit', () => {
      expect(classifyReply('GET', ['k'], Buffer.from('v'), false)).toEqual([hit()]);
    });
    it('HGET null is a miss, a field value a hit', () => {
      expect(classifyReply('HGET', ['h', 'f'], null, false)).toEqual([miss()]);
      expect(classifyReply('HGET', ['h', 'f'], '0', false)).toEqual([hit()]);
    });
    it('HGETALL of a missing hash (empty array) is a miss, of a hash a hit', () => {
      expect(classifyReply('HGETALL', ['h'], [], false)).toEqual([miss()]);
      expect(classifyReply('HGETALL', ['h'], ['f', 'v'], false)).toEqual([hit()]);
    });
    it('HGETALL as a RESP3 map (node-redis with RESP 3): empty is a miss, whichever type mapping', () => {
      expect(classifyReply('HGETALL', ['h'], {}, false)).toEqual([miss()]);
      expect(classifyReply('HGETALL', ['h'], new Map(), false)).toEqual([miss()]);
      expect(classifyReply('HGETALL', ['h'], { f: 'v' }, false)).toEqual([hit()]);
      expect(classifyReply('HGETALL', ['h'], new Map([['f', 'v']]), false)).toEqual([hit()]);
    });
    it('SMEMBERS of an empty set is a miss', () => {
      expect(classifyReply('SMEMBERS', ['s'], [], false)).toEqual([miss()]);
      expect(classifyReply('SMEMBERS', ['s'], ['a'], false)).toEqual([hit()]);
    });
    it('ZSCORE and LINDEX null are misses', () => {
      expect(classifyReply('ZSCORE', ['z', 'm'], null, false)).toEqual([miss()]);
      expect(classifyReply('LINDEX', ['l', '0'], null, false)).toEqual([miss()]);
      expect(classifyReply('ZSCORE', ['z', 'm'], '0', false)).toEqual([hit()]);
    });
  });

  describe('multi-key reads count per key', () => {
    it('MGET of 3 keys with one found is 1 hit and 2 misses', () => {
      expect(classifyReply('MGET', ['a', 'b', 'c'], ['v', null, null], false)).toEqual([hit(1), miss(2)]);
    });
    it('MGET all found is only hits, none found only misses', () => {
      expect(classifyReply('MGET', ['a', 'b'], ['1', ''], false)).toEqual([hit(2)]);
      expect(classifyReply('MGET', ['a', 'b', 'c'], [null, null, null], false)).toEqual([miss(3)]);
    });
    it('HMGET counts per field', () => {
      expect(classifyReply('HMGET', ['h', 'f1', 'f2', 'f3', 'f4'], ['x', null, 'y', null], false)).toEqual([hit(2), miss(2)]);
    });
    it('a non-array reply to MGET is just ok', () => {
      expect(classifyReply('MGET', ['a'], 'weird', false)).toEqual(ok);
    });
  });

  describe('existence checks', () => {
    it('EXISTS with several keys counts the found ones as hits and the rest as misses', () => {
      expect(classifyReply('EXISTS', ['a', 'b', 'c'], 2, false)).toEqual([hit(2), miss(1)]);
      expect(classifyReply('EXISTS', ['a', 'b', 'c'], 0, false)).toEqual([miss(3)]);
      expect(classifyReply('EXISTS', ['a', 'b'], 2, false)).toEqual([hit(2)]);
    });
    it('EXISTS of one key: 1 is a hit, 0 a miss', () => {
      expect(classifyReply('EXISTS', ['a'], 1, false)).toEqual([hit()]);
      expect(classifyReply('EXISTS', ['a'], 0, false)).toEqual([miss()]);
    });
    it('an out-of-range or non-numeric EXISTS reply stays within the number of keys asked', () => {
      expect(classifyReply('EXISTS', ['a', 'b'], 5, false)).toEqual([hit(2)]);
      expect(classifyReply('EXISTS', ['a', 'b'], -1, false)).toEqual([miss(2)]);
      expect(classifyReply('EXISTS', ['a'], 'nope', false)).toEqual([miss()]);
    });
    it('HEXISTS answers one flag whatever the number of arguments', () => {
      expect(classifyReply('HEXISTS', ['h', 'field'], 1, false)).toEqual([hit()]);
      expect(classifyReply('HEXISTS', ['h', 'field'], 0, false)).toEqual([miss()]);
    });
    it('SISMEMBER answers one flag', () => {
      expect(classifyReply('SISMEMBER', ['s', 'm'], 1, false)).toEqual([hit()]);
      expect(classifyReply('SISMEMBER', ['s', 'm'], 0, false)).toEqual([miss()]);
    });
  });

  describe('inside MULTI', () => {
    it('a QUEUED reply is not classified as a hit or miss', () => {
      expect(classifyReply('GET', ['k'], 'QUEUED', false)).toEqual(ok);
      expect(classifyReply('MGET', ['a', 'b'], 'QUEUED', false)).toEqual(ok);
      expect(classifyReply('EXISTS', ['a', 'b'], 'QUEUED', false)).toEqual(ok);
    });
  });

  describe('errors and other commands', () => {
    it('a failed command is one error, whatever the command', () => {
      expect(classifyReply('GET', ['k'], undefined, true)).toEqual([{ result: 'error', count: 1 }]);
      expect(classifyReply('MGET', ['a', 'b', 'c'], undefined, true)).toEqual([{ result: 'error', count: 1 }]);
      expect(classifyReply('SET', ['k', 'v'], undefined, true)).toEqual([{ result: 'error', count: 1 }]);
    });
    it.each([
      ['SET', ['k', 'v'], 'OK'],
      ['DEL', ['k'], 1],
      ['INCR', ['k'], 2],
      ['EXPIRE', ['k', '10'], 1],
      ['PING', [], 'PONG'],
      ['EXEC', [], [[null, 'v']]],
    ])('%s is ok', (command, args, reply) => {
      expect(classifyReply(command, args, reply, false)).toEqual(ok);
    });
    it('a null reply to a non-read (SET NX not set) is ok, not a miss', () => {
      expect(classifyReply('SET', ['k', 'v', 'NX'], null, false)).toEqual(ok);
    });
  });

  it('every outcome has a positive count', () => {
    const cases: Array<[string, unknown[], unknown]> = [
      ['MGET', ['a', 'b'], ['1', null]],
      ['EXISTS', ['a', 'b', 'c'], 1],
      ['HMGET', ['h', 'f'], [null]],
    ];
    for (const [command, args, reply] of cases) {
      for (const outcome of classifyReply(command, args, reply, false)) expect(outcome.count).toBeGreaterThan(0);
    }
  });
});
