/**
 * Counts ioredis commands into `cache_operations_total`, makes their CLIENT spans when tracing is
 * on (only inside a trace: a command outside any request, such as a background poller, makes no
 * root span), and registers the Redis servers the app uses for the health checks. Patches `Redis.prototype.sendCommand` once per loaded copy; the
 * command's own resolve/reject are wrapped, so the promise the app holds is ioredis's own and its
 * rejection behaviour is unchanged. Pipelines and MULTI go through the same method.
 */
import { context, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import { isAgentInternal } from '../../lifecycle/internal';
import { reportOnce } from '../../lifecycle/guard';
import type { CacheMetrics } from '../../metrics/cache-metrics';
import type { DependencyRegistry } from '../../health/dependencies';
import { redisKey, redisProbe, type RedisEndpoint } from '../../health/redis-probe';
import { claimPatch, onPackageLoad } from '../module-hooks';
import { classifyReply, redisSpanAttributes } from './utils';

const PATCHED = Symbol.for('@tutor/otel-agent.ioredis');
const COUNTED = Symbol('otel-agent.counted');
/** Clients already registered for the health checks: the lookup then costs nothing per command. */
const noted = new WeakSet<object>();

type AnyFunction = (...args: unknown[]) => unknown;

interface RedisCommand {
  name?: unknown;
  args?: unknown[];
  resolve?: AnyFunction;
  reject?: AnyFunction;
  [COUNTED]?: boolean;
}

interface RedisClient {
  options?: RedisEndpoint & { tls?: unknown; db?: number };
  status?: string;
}

/** @param tracer makes the command spans; undefined when tracing is off */
export function instrumentIoredis(metrics: CacheMetrics, dependencies: DependencyRegistry, tracer?: Tracer): void {
  onPackageLoad(['ioredis'], 'ioredis patch', (exports) => {
    const Redis = (exports as { prototype?: Record<string, unknown> } | undefined) ?? undefined;
    const proto = Redis?.prototype;
    if (!proto || typeof proto.sendCommand !== 'function' || !claimPatch(proto, PATCHED)) return;

    const original = proto.sendCommand as AnyFunction;
    proto.sendCommand = function sendCommand(this: RedisClient, command: RedisCommand, ...rest: unknown[]) {
      // In status `connect` ioredis runs its own handshake (AUTH, SELECT, INFO, CLIENT SETINFO);
      // app commands sent then wait in the offline queue and come through here again once ready.
      if (!isAgentInternal(this) && this.status !== 'connect') {
        try {
          noteServer(this, dependencies);
          countCommand(command, metrics, this, tracer);
        } catch (error) {
          reportOnce('ioredis command counting', error);
        }
      }
      return original.call(this, command, ...rest);
    };
  });
}

function countCommand(command: RedisCommand, metrics: CacheMetrics, client: RedisClient, tracer: Tracer | undefined): void {
  if (!command || typeof command.name !== 'string' || command[COUNTED]) return;
  const resolve = command.resolve;
  const reject = command.reject;
  if (typeof resolve !== 'function' || typeof reject !== 'function') return;
  command[COUNTED] = true; // a command re-sent after a reconnect is counted once
  const operation = command.name.toUpperCase();
  const args = command.args ?? [];
  const span = tracer && startSpan(tracer, operation, client);
  let settled = false;
  const record = (reply: unknown, error: unknown) => {
    if (settled) return;
    settled = true;
    try {
      for (const outcome of classifyReply(operation, args, reply, error !== undefined)) metrics.record(operation, outcome.result, outcome.count);
      if (span) endSpan(span, error);
    } catch (internal) {
      reportOnce('ioredis reply classification', internal);
    }
  };
  command.resolve = (reply: unknown) => {
    record(reply, undefined);
    return resolve(reply);
  };
  command.reject = (error: unknown) => {
    record(undefined, error ?? new Error('rejected'));
    return reject(error);
  };
}

/** A span only inside a trace (the sampler's answer included: a non-recording parent gives a non-recording child). */
function startSpan(tracer: Tracer, operation: string, client: RedisClient): Span | undefined {
  const parent = context.active();
  if (trace.getSpan(parent) === undefined) return undefined;
  // Named by the command as db.operation.name and the cache metrics spell it (`GET`).
  const span = tracer.startSpan(operation, { kind: SpanKind.CLIENT }, parent);
  if (span.isRecording()) span.setAttributes(redisSpanAttributes(operation, client.options));
  return span;
}

function endSpan(span: Span, error: unknown): void {
  if (error !== undefined) {
    span.setAttribute('error.type', error instanceof Error ? error.constructor.name : 'error');
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

function noteServer(client: RedisClient, dependencies: DependencyRegistry): void {
  if (noted.has(client)) return;
  noted.add(client);
  const options = client.options;
  if (!options) return;
  const endpoint: RedisEndpoint = {
    host: options.host,
    port: options.port,
    path: options.path,
    username: options.username,
    password: options.password,
    tls: options.tls ? (options.tls as RedisEndpoint['tls']) : false,
  };
  const key = redisKey(endpoint);
  if (dependencies.has('redis', key)) return;
  dependencies.add({ kind: 'redis', key, probe: redisProbe(endpoint) });
}
