/**
 * Pure: the Redis server a node-redis client (v4, v5, v6) talks to, from its `options`. node-redis
 * has already folded a `url` into `socket`, `username`, `password` and `database` when the client
 * was created; unset fields take node-redis's own defaults (localhost, 6379, no TLS).
 */
import type { ConnectionOptions } from 'node:tls';
import type { RedisServer } from '../redis-common/operation';

interface NodeRedisSocketOptions extends ConnectionOptions {
  path?: string;
  tls?: unknown;
}

export interface NodeRedisOptions {
  socket?: NodeRedisSocketOptions;
  username?: unknown;
  password?: unknown;
  database?: unknown;
}

/** The TLS settings a probe needs to reach the same server; the rest of `socket` is node-redis's. */
const TLS_FIELDS = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername', 'minVersion', 'maxVersion', 'ciphers'] as const;

export function nodeRedisServer(options: NodeRedisOptions | undefined): RedisServer {
  const socket = options?.socket ?? {};
  const server: RedisServer = {};
  if (typeof options?.username === 'string') server.username = options.username;
  if (typeof options?.password === 'string') server.password = options.password;
  if (typeof options?.database === 'number') server.db = options.database;
  if (typeof socket.path === 'string') {
    server.path = socket.path;
    return server;
  }
  server.host = typeof socket.host === 'string' && socket.host !== '' ? socket.host : 'localhost';
  server.port = typeof socket.port === 'number' ? socket.port : 6379;
  server.tls = socket.tls ? tlsSettings(socket) : false;
  return server;
}

function tlsSettings(socket: NodeRedisSocketOptions): true | ConnectionOptions {
  const settings: Record<string, unknown> = {};
  for (const field of TLS_FIELDS) if (socket[field] !== undefined) settings[field] = socket[field];
  return Object.keys(settings).length > 0 ? (settings as ConnectionOptions) : true;
}
