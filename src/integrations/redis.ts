/**
 * `redis` (node-redis 4, 5 and 6, through `@redis/client`; alias `redis-4`, the name of upstream's
 * former node-redis 4 instrumentation): `cache_operations_total`, command spans and the Redis
 * servers /health probes, exactly as for ioredis. The patch publishes commands and connecting
 * clients; the consumers are the ones the ioredis integration uses (redis-common/consumers.ts).
 *
 * TUTOR_OTEL_HEALTH_REDIS_URL is declared once, by the ioredis integration: a health kind has one
 * configured-URL variable, whichever client the app uses.
 */
import { patchNodeRedis } from '../instrumentations/node-redis/instrumentation';
import { EventChannel, OperationChannel } from '../instrumentations/operation-channel';
import { discoverRedisServers, meterRedisCommands, traceRedisCommands } from '../instrumentations/redis-common/consumers';
import type { RedisOperation, RedisServer } from '../instrumentations/redis-common/operation';
import { CacheMetrics } from '../metrics/cache-metrics';
import type { Integration } from './types';

export const redisIntegration: Integration = {
  name: 'redis',
  aliases: ['redis-4'],
  switchable: true,
  provides: ['metrics', 'spans', 'health'],
  // No ESM hook: node-redis is CommonJS, and the files patched are required by @redis/client itself.
  patches: () => [],
  start({ metrics, tracer, dependencies, channels }) {
    const events = { commands: new OperationChannel<RedisOperation>('node-redis command'), servers: new EventChannel<RedisServer>('node-redis client') };
    channels.redisCommands.push(events.commands);
    discoverRedisServers(dependencies, events.commands, events.servers);
    meterRedisCommands(events.commands, new CacheMetrics(metrics));
    if (tracer) traceRedisCommands(events.commands, tracer);
    patchNodeRedis(events);
  },
};
