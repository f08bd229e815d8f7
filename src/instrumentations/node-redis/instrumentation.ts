/**
 * The node-redis patch (the `redis` package, `@redis/client` v1 for redis 4, v5, v6): it only
 * publishes, in the same shape as the ioredis patch, so the Redis consumers serve both.
 *
 * Every command node-redis sends, single, pipelined or inside MULTI, becomes one entry of its
 * commands queue (`RedisCommandsQueue.prototype.addCommand(args, options)`, which returns that
 * command's promise with the raw reply): that is where a command's start and end are published.
 * The queue does not know its client, and node-redis's own connection handshake (HELLO/AUTH,
 * SELECT, CLIENT SETINFO) goes through the same queue, so the client's entry points mark the
 * client issuing a command for the synchronous span of the call: a queue entry made while no
 * client is marked is node-redis's own and is not published.
 *
 * The entry points, per major (read from the installed sources):
 * - v5, v6: `sendCommand` (every typed command goes through `_executeCommand` to it),
 *   `_executeMulti` and `_executePipeline`.
 * - v4: the command methods are attached to the prototype with the executor captured at load, so
 *   every method of the client prototype marks (a method that sends nothing marks harmlessly).
 *   Its `legacyMode` sends through instance closures and is not seen.
 *
 * Each client's `connect` is published too, so /health probes a Redis the app connected to
 * before its first command. The app gets node-redis's own promises back, untouched.
 */
import { reportOnce } from '../../lifecycle/guard';
import { isAgentInternal } from '../../lifecycle/internal';
import { claimPatch, onPackageLoad } from '../module-hooks';
import type { EventChannel, OperationChannel } from '../operation-channel';
import type { RedisOperation, RedisServer } from '../redis-common/operation';
import { wrap } from '../wrap';
import { nodeRedisServer, type NodeRedisOptions } from './server';

const PATCHED = Symbol.for('@tutor/otel-agent.node-redis');

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** `@redis/client`; redis 4.0 shipped it as `@node-redis/client`. */
const CLIENT_PACKAGES = ['@redis/client', '@node-redis/client'];
/** A file inside the package, spelt as require-in-the-middle matches it: no `.js`, no `/index`. */
const file = (relative: string) => CLIENT_PACKAGES.map((name) => `${name}/dist/lib/client${relative}`);

/** v5 and v6 route every command through these; v4 has none of `_executeMulti`/`_executePipeline`. */
const V5_ENTRY_POINTS = ['sendCommand', '_executeMulti', '_executePipeline'];
/** Prototype members that are no command path (v4 marks every other method). */
const NOT_ENTRY_POINTS = new Set(['constructor', 'connect']);

export interface NodeRedisEvents {
  commands: OperationChannel<RedisOperation>;
  /** A client of the app connects: the server it connects to. */
  servers: EventChannel<RedisServer>;
}

interface NodeRedisClient {
  /** v5, v6: the client behind a command-options proxy (`client.withTypeMapping(...)`). */
  _self?: NodeRedisClient;
  options?: NodeRedisOptions;
}

export function patchNodeRedis(events: NodeRedisEvents): void {
  /** The app's client whose call is on the stack, for the queue entries it makes synchronously. */
  let issuing: NodeRedisClient | undefined;
  const servers = new WeakMap<object, RedisServer>();
  const serverOf = (client: NodeRedisClient): RedisServer => {
    let server = servers.get(client);
    if (!server) servers.set(client, (server = nodeRedisServer(client.options)));
    return server;
  };

  onPackageLoad(file('/commands-queue'), 'node-redis queue patch', (exports) => {
    const proto = classPrototype(exports);
    if (!proto || typeof (proto as { addCommand?: unknown }).addCommand !== 'function' || !claimPatch(proto, PATCHED)) return;
    wrap(
      proto,
      'addCommand',
      (original) =>
        function addCommand(this: unknown, ...args: unknown[]) {
          const client = issuing;
          if (client === undefined || !events.commands.hasConsumers) return original.apply(this, args);
          return publishCommand(events.commands, client, serverOf, original, this, args);
        },
    );
  });

  onPackageLoad(file(''), 'node-redis client patch', (exports) => {
    const proto = classPrototype(exports);
    if (!proto || typeof (proto as { connect?: unknown }).connect !== 'function' || !claimPatch(proto, PATCHED)) return;
    const mark = (original: AnyFunction) =>
      function marked(this: NodeRedisClient, ...args: unknown[]) {
        const previous = issuing;
        const client = this?._self ?? this;
        issuing = isAgentInternal(client) ? undefined : client;
        try {
          return original.apply(this, args);
        } finally {
          issuing = previous;
        }
      };
    const isV5 = typeof (proto as { _executeMulti?: unknown })._executeMulti === 'function';
    const names = isV5 ? V5_ENTRY_POINTS : Object.getOwnPropertyNames(proto).filter((name) => !NOT_ENTRY_POINTS.has(name));
    for (const name of names) {
      const descriptor = Object.getOwnPropertyDescriptor(proto, name);
      if (typeof descriptor?.value === 'function' && !isClass(descriptor.value)) wrap(proto, name, mark);
    }
    wrap(
      proto,
      'connect',
      (original) =>
        function connect(this: NodeRedisClient, ...args: unknown[]) {
          const client = this?._self ?? this;
          if (events.servers.hasConsumers && !isAgentInternal(client)) {
            try {
              events.servers.publish(serverOf(client));
            } catch (error) {
              reportOnce('node-redis client discovery', error);
            }
          }
          return original.apply(this, args);
        },
    );
  });
}

function publishCommand(
  commands: OperationChannel<RedisOperation>,
  client: NodeRedisClient,
  serverOf: (client: NodeRedisClient) => RedisServer,
  original: AnyFunction,
  queue: unknown,
  args: unknown[],
): unknown {
  let op: RedisOperation;
  try {
    const redisArgs = args[0];
    if (!Array.isArray(redisArgs) || redisArgs.length === 0) return original.apply(queue, args);
    op = { client, server: serverOf(client), operation: String(redisArgs[0]).toUpperCase(), args: redisArgs.slice(1) };
    commands.start(op);
  } catch (error) {
    reportOnce('node-redis command counting', error);
    return original.apply(queue, args);
  }
  let result: unknown;
  try {
    result = original.apply(queue, args);
  } catch (error) {
    commands.end(op, error ?? new Error('failed'));
    throw error;
  }
  if (isThenable(result)) {
    // A second reader of node-redis's promise: it handles the rejection (no unhandled one of its
    // own) and leaves the app's promise exactly as node-redis made it.
    result.then(
      (reply: unknown) => {
        op.reply = reply;
        commands.end(op, undefined);
      },
      (error: unknown) => commands.end(op, error ?? new Error('rejected')),
    );
  } else {
    commands.end(op, undefined);
  }
  return result;
}

/** The class a node-redis file exports as `default` (CommonJS) or as the module itself. */
function classPrototype(exports: unknown): object | undefined {
  const candidate = (exports as { default?: unknown } | undefined)?.default ?? exports;
  return typeof candidate === 'function' ? ((candidate as { prototype?: object }).prototype ?? undefined) : undefined;
}

/** `Multi` on v4's prototype is a class: it is constructed, never called, so it is left alone. */
function isClass(fn: unknown): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

function isThenable(value: unknown): value is Promise<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
