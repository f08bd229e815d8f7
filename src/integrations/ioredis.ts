/**
 * `ioredis` (alias `redis`): `cache_operations_total`, command spans, and the Redis servers
 * /health probes. The patch publishes command events; the three are its consumers.
 */
import { REDIS_HEALTH, redisEndpointFromUrl, redisKey, redisProbe } from '../health/redis-probe';
import { discoverRedisServers, meterRedisCommands, traceRedisCommands } from '../instrumentations/ioredis/consumers';
import { patchIoredis, type RedisOperation } from '../instrumentations/ioredis/instrumentation';
import { OperationChannel } from '../instrumentations/operation-channel';
import { CacheMetrics } from '../metrics/cache-metrics';
import type { Integration } from './types';

export const ioredisIntegration: Integration = {
  name: 'ioredis',
  aliases: ['redis'],
  switchable: true,
  provides: ['metrics', 'spans', 'health'],
  patches: () => ['ioredis'],
  health: {
    ...REDIS_HEALTH,
    urlVariable: 'TUTOR_OTEL_HEALTH_REDIS_URL',
    urlProtocols: ['redis:', 'rediss:'],
    configured(url) {
      const endpoint = redisEndpointFromUrl(url);
      return { key: redisKey(endpoint), probe: redisProbe(endpoint) };
    },
  },
  start({ metrics, tracer, dependencies, channels }) {
    const commands = new OperationChannel<RedisOperation>('ioredis command');
    channels.redisCommands = commands;
    discoverRedisServers(commands, dependencies);
    meterRedisCommands(commands, new CacheMetrics(metrics));
    if (tracer) traceRedisCommands(commands, tracer);
    patchIoredis(commands);
  },
};
