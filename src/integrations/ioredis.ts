/**
 * `ioredis`: `cache_operations_total`, command spans, and the Redis servers /health probes. The
 * patch publishes command events; the three are its consumers, shared with the node-redis
 * integration (`redis`, as upstream names its node-redis instrumentation).
 */
import { REDIS_HEALTH, redisEndpointFromUrl, redisKey, redisProbe } from '../health/redis-probe';
import { patchIoredis } from '../instrumentations/ioredis/instrumentation';
import { OperationChannel } from '../instrumentations/operation-channel';
import { discoverRedisServers, meterRedisCommands, traceRedisCommands } from '../instrumentations/redis-common/consumers';
import type { RedisOperation } from '../instrumentations/redis-common/operation';
import { CacheMetrics } from '../metrics/cache-metrics';
import type { Integration } from './types';

export const ioredisIntegration: Integration = {
  name: 'ioredis',
  switchable: true,
  provides: ['metrics', 'spans', 'health'],
  patches: () => ['ioredis'],
  // The one declaration of the Redis health kind and its variable, for node-redis apps too.
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
    channels.redisCommands.push(commands);
    discoverRedisServers(dependencies, commands);
    meterRedisCommands(commands, new CacheMetrics(metrics));
    if (tracer) traceRedisCommands(commands, tracer);
    patchIoredis(commands);
  },
};
