/**
 * Pure classification of Redis replies into cache hits and misses, shared by the ioredis and
 * node-redis patches (both hand over the raw reply). Reads count per key: an MGET of 3 keys with
 * one found is 1 hit and 2 misses. Everything else is ok or error.
 */
import type { CacheResult } from '../../metrics/cache-metrics';

export interface CacheOutcome {
  result: CacheResult;
  count: number;
}

/** Single-key reads: a null reply (or an empty list/hash) is a miss; an empty string is a hit. */
const SINGLE_READS = new Set(['GET', 'GETEX', 'GETDEL', 'HGET', 'HGETALL', 'ZSCORE', 'LINDEX', 'JSON.GET', 'GETRANGE', 'SMEMBERS']);
/** Reads with one reply element per key or field. */
const MULTI_READS: Record<string, number> = { MGET: 0, HMGET: 1, 'JSON.MGET': 0 };
/** Existence checks answering a count (EXISTS k1 k2 -> 0..2) or a 0/1 flag. */
const EXISTENCE = new Set(['EXISTS', 'HEXISTS', 'SISMEMBER']);

export function isCacheRead(command: string): boolean {
  return SINGLE_READS.has(command) || Object.hasOwn(MULTI_READS, command) || EXISTENCE.has(command);
}

function isEmpty(reply: unknown): boolean {
  if (reply === null || reply === undefined) return true;
  if (Array.isArray(reply)) return reply.length === 0;
  // RESP3 maps and sets (node-redis with RESP 3): a Map, Set or plain object, by type mapping.
  if (reply instanceof Map || reply instanceof Set) return reply.size === 0;
  if (typeof reply === 'object' && Object.getPrototypeOf(reply) === Object.prototype) return Object.keys(reply).length === 0;
  return false;
}

/**
 * The outcomes of one command. `args` are the command's arguments after the name (keys first).
 * A reply of `QUEUED` (inside MULTI) is not classified: EXEC carries the real answers.
 */
export function classifyReply(command: string, args: readonly unknown[], reply: unknown, failed: boolean): CacheOutcome[] {
  if (failed) return [{ result: 'error', count: 1 }];
  if (!isCacheRead(command) || reply === 'QUEUED') return [{ result: 'ok', count: 1 }];

  if (Object.hasOwn(MULTI_READS, command)) {
    if (!Array.isArray(reply)) return [{ result: 'ok', count: 1 }];
    const hits = reply.filter((item) => item !== null && item !== undefined).length;
    return [
      { result: 'hit', count: hits },
      { result: 'miss', count: reply.length - hits },
    ].filter((o) => o.count > 0) as CacheOutcome[];
  }

  if (EXISTENCE.has(command)) {
    const found = Number(reply);
    const asked = command === 'EXISTS' ? Math.max(1, args.length) : 1;
    const hits = Number.isFinite(found) ? Math.min(Math.max(0, found), asked) : 0;
    return [
      { result: 'hit', count: hits },
      { result: 'miss', count: asked - hits },
    ].filter((o) => o.count > 0) as CacheOutcome[];
  }

  return [{ result: isEmpty(reply) ? 'miss' : 'hit', count: 1 }];
}

/**
 * Attributes of a Redis command span. Keys and values are left out: keys routinely carry user
 * ids, e-mail addresses and session tokens, and the command name is what a trace view needs.
 */
export function redisSpanAttributes(
  command: string,
  options: { host?: string; port?: number; path?: string; db?: number } | undefined,
): Record<string, string | number> {
  const attributes: Record<string, string | number> = { 'db.system.name': 'redis', 'db.operation.name': command };
  if (options?.path) attributes['server.address'] = options.path;
  else if (options?.host) attributes['server.address'] = options.host;
  if (!options?.path && typeof options?.port === 'number') attributes['server.port'] = options.port;
  if (typeof options?.db === 'number') attributes['db.namespace'] = String(options.db);
  return attributes;
}
