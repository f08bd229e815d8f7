/**
 * What a Redis client patch (ioredis, node-redis) publishes: one event per command, in one shape,
 * so the cache metrics, the command spans and the /health discovery are written once for both.
 */
import type { Span } from '@opentelemetry/api';
import type { RedisEndpoint } from '../../health/redis-probe';

/** The server a client talks to, as the probe and the span attributes need it. */
export type RedisServer = RedisEndpoint & { db?: number };

/** One command, from the moment the client took it until Redis answered it. */
export interface RedisOperation {
  /** The app's client object: identity only (discovery notes each client once). */
  readonly client: object;
  /** Where it is sent; undefined when the client does not say. */
  readonly server: RedisServer | undefined;
  /** The command name, upper case (`GET`). */
  readonly operation: string;
  /** The command's arguments after its name (keys first). */
  readonly args: readonly unknown[];
  /** The raw reply, on success. */
  reply?: unknown;
  /** The command's span, kept here by the span consumer. */
  span?: Span;
}
