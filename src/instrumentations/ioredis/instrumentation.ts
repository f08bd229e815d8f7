/**
 * Counts ioredis commands into `cache_operations_total` and registers the Redis servers the app
 * uses for the health checks. Patches `Redis.prototype.sendCommand` once per loaded copy; the
 * command's own resolve/reject are wrapped, so the promise the app holds is ioredis's own and its
 * rejection behaviour is unchanged. Pipelines and MULTI go through the same method.
 */
import { isAgentInternal } from '../../lifecycle/internal';
import { reportOnce } from '../../lifecycle/guard';
import type { CacheMetrics } from '../../metrics/cache-metrics';
import type { DependencyRegistry } from '../../health/dependencies';
import { redisKey, redisProbe, type RedisEndpoint } from '../../health/redis-probe';
import { claimPatch, onPackageLoad } from '../module-hooks';
import { classifyReply } from './utils';

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
  options?: RedisEndpoint & { tls?: unknown };
  status?: string;
}

export function instrumentIoredis(metrics: CacheMetrics, dependencies: DependencyRegistry): void {
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
          countCommand(command, metrics);
        } catch (error) {
          reportOnce('ioredis command counting', error);
        }
      }
      return original.call(this, command, ...rest);
    };
  });
}

function countCommand(command: RedisCommand, metrics: CacheMetrics): void {
  if (!command || typeof command.name !== 'string' || command[COUNTED]) return;
  const resolve = command.resolve;
  const reject = command.reject;
  if (typeof resolve !== 'function' || typeof reject !== 'function') return;
  command[COUNTED] = true; // a command re-sent after a reconnect is counted once
  const operation = command.name.toUpperCase();
  const args = command.args ?? [];
  let settled = false;
  const record = (reply: unknown, failed: boolean) => {
    if (settled) return;
    settled = true;
    try {
      for (const outcome of classifyReply(operation, args, reply, failed)) metrics.record(operation, outcome.result, outcome.count);
    } catch (error) {
      reportOnce('ioredis reply classification', error);
    }
  };
  command.resolve = (reply: unknown) => {
    record(reply, false);
    return resolve(reply);
  };
  command.reject = (error: unknown) => {
    record(undefined, true);
    return reject(error);
  };
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
