/**
 * The ioredis patch: it only publishes. `Redis.prototype.sendCommand` is wrapped once per loaded
 * copy; each app command becomes a start and an end event on the channel (pipelines and MULTI go
 * through the same method). The command's own resolve/reject are wrapped, so the promise the app
 * holds is ioredis's own and its rejection behaviour is unchanged. Cache metrics, command spans
 * and the health checks' discovery are consumers (see integrations/ioredis.ts and
 * redis-common/consumers.ts, shared with node-redis).
 */
import { reportOnce } from '../../lifecycle/guard';
import { isAgentInternal } from '../../lifecycle/internal';
import { claimPatch, onPackageLoad } from '../module-hooks';
import type { OperationChannel } from '../operation-channel';
import type { RedisOperation, RedisServer } from '../redis-common/operation';
import { wrap } from '../wrap';

const PATCHED = Symbol.for('@tutor/otel-agent.ioredis');
const COUNTED = Symbol('otel-agent.counted');

type AnyFunction = (...args: unknown[]) => unknown;

interface RedisCommand {
  name?: unknown;
  args?: unknown[];
  resolve?: AnyFunction;
  reject?: AnyFunction;
  [COUNTED]?: boolean;
}

interface IoredisClient {
  /** ioredis keeps host, port, path, username, password, tls and db here: the server as is. */
  options?: RedisServer;
  status?: string;
}

export function patchIoredis(commands: OperationChannel<RedisOperation>): void {
  onPackageLoad(['ioredis'], 'ioredis patch', (exports) => {
    const proto = (exports as { prototype?: object } | undefined)?.prototype;
    if (!proto || typeof (proto as { sendCommand?: unknown }).sendCommand !== 'function' || !claimPatch(proto, PATCHED)) return;
    wrap(
      proto,
      'sendCommand',
      (original) =>
        function sendCommand(this: IoredisClient, command: RedisCommand, ...rest: unknown[]) {
          // In status `connect` ioredis runs its own handshake (AUTH, SELECT, INFO, CLIENT SETINFO);
          // app commands sent then wait in the offline queue and come through here again once ready.
          if (!isAgentInternal(this) && this.status !== 'connect') {
            try {
              observe(command, this, commands);
            } catch (error) {
              reportOnce('ioredis command counting', error);
            }
          }
          return original.call(this, command, ...rest);
        },
    );
  });
}

function observe(command: RedisCommand, client: IoredisClient, commands: OperationChannel<RedisOperation>): void {
  if (!command || typeof command.name !== 'string' || command[COUNTED]) return;
  const resolve = command.resolve;
  const reject = command.reject;
  if (typeof resolve !== 'function' || typeof reject !== 'function') return;
  command[COUNTED] = true; // a command re-sent after a reconnect is counted once
  const op: RedisOperation = { client, server: client.options, operation: command.name.toUpperCase(), args: command.args ?? [] };
  commands.start(op);
  let settled = false;
  const end = (error: unknown) => {
    if (settled) return;
    settled = true;
    commands.end(op, error);
  };
  command.resolve = (reply: unknown) => {
    op.reply = reply;
    end(undefined);
    return resolve(reply);
  };
  command.reject = (error: unknown) => {
    end(error ?? new Error('rejected'));
    return reject(error);
  };
}
