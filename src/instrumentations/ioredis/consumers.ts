/**
 * The consumers of the ioredis patch's command events: cache metrics, command spans, and the
 * Redis servers the health checks probe.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { DependencyRegistry } from '../../health/dependencies';
import { REDIS_HEALTH, redisKey, redisProbe, type RedisEndpoint } from '../../health/redis-probe';
import type { CacheMetrics } from '../../metrics/cache-metrics';
import type { AgentTracer } from '../../tracing/agent-tracer';
import type { OperationChannel } from '../operation-channel';
import type { RedisClient, RedisOperation } from './instrumentation';
import { classifyReply, redisSpanAttributes } from './utils';

/** `cache_operations_total`: reads as hit or miss (per key for multi-key reads), the rest ok or error. */
export function meterRedisCommands(commands: OperationChannel<RedisOperation>, metrics: CacheMetrics): void {
  commands.subscribe({
    end({ operation, args, reply }, error) {
      for (const outcome of classifyReply(operation, args, reply, error !== undefined)) metrics.record(operation, outcome.result, outcome.count);
    },
  });
}

/**
 * A CLIENT span per command, only inside a trace: a command outside any request, such as a
 * background poller, makes no root span; nor does one in a request that is not sampled.
 */
export function traceRedisCommands(commands: OperationChannel<RedisOperation>, tracer: AgentTracer): void {
  commands.subscribe({
    start(op) {
      const parent = context.active();
      // Outside a request, or in one that is not sampled: no span at all.
      if (trace.getSpan(parent) === undefined || !tracer.recordsUnder(parent)) return;
      // Named by the command as db.operation.name and the cache metrics spell it (`GET`).
      const span = tracer.startSpan(op.operation, { kind: SpanKind.CLIENT }, parent);
      if (span.isRecording()) span.setAttributes(redisSpanAttributes(op.operation, op.client.options));
      op.span = span;
    },
    end({ span }, error) {
      if (!span) return;
      if (error !== undefined) {
        span.setAttribute('error.type', error instanceof Error ? error.constructor.name : 'error');
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
  });
}

/** Registers each Redis server the app's clients talk to, once per client (then it costs one WeakSet lookup per command). */
export function discoverRedisServers(commands: OperationChannel<RedisOperation>, dependencies: DependencyRegistry): void {
  const noted = new WeakSet<object>();
  commands.subscribe({
    start({ client }) {
      if (noted.has(client)) return;
      noted.add(client);
      const endpoint = endpointOf(client);
      if (!endpoint) return;
      const key = redisKey(endpoint);
      if (!dependencies.has(REDIS_HEALTH.kind, key)) dependencies.add({ kind: REDIS_HEALTH, key, probe: redisProbe(endpoint) });
    },
  });
}

function endpointOf(client: RedisClient): RedisEndpoint | undefined {
  const options = client.options;
  if (!options) return undefined;
  return {
    host: options.host,
    port: options.port,
    path: options.path,
    username: options.username,
    password: options.password,
    tls: options.tls ? (options.tls as RedisEndpoint['tls']) : false,
  };
}
