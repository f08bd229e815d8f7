/**
 * The consumers of a Redis patch's command events (ioredis and node-redis alike): cache metrics,
 * command spans, and the Redis servers the health checks probe.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { DependencyRegistry } from '../../health/dependencies';
import { REDIS_HEALTH, redisKey, redisProbe } from '../../health/redis-probe';
import type { CacheMetrics } from '../../metrics/cache-metrics';
import type { AgentTracer } from '../../tracing/agent-tracer';
import type { EventChannel, OperationChannel } from '../operation-channel';
import type { RedisOperation, RedisServer } from './operation';
import { classifyReply, redisSpanAttributes } from './replies';

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
      if (span.isRecording()) span.setAttributes(redisSpanAttributes(op.operation, op.server));
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

/**
 * Registers each Redis server the app's clients talk to: from each client's first command (then
 * it costs one WeakSet lookup per command), and from `servers` when the patch sees a client
 * connect before any command.
 */
export function discoverRedisServers(
  dependencies: DependencyRegistry,
  commands: OperationChannel<RedisOperation>,
  servers?: EventChannel<RedisServer>,
): void {
  const noted = new WeakSet<object>();
  commands.subscribe({
    start({ client, server }) {
      if (noted.has(client)) return;
      noted.add(client);
      if (server) addRedisServer(dependencies, server);
    },
  });
  servers?.subscribe((server) => addRedisServer(dependencies, server));
}

function addRedisServer(dependencies: DependencyRegistry, server: RedisServer): void {
  const key = redisKey(server);
  if (!dependencies.has(REDIS_HEALTH.kind, key)) dependencies.add({ kind: REDIS_HEALTH, key, probe: redisProbe(server) });
}
