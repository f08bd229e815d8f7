/**
 * Probes a Redis server over its own short-lived socket: AUTH if needed, then PING. Speaks the
 * few bytes of RESP this takes instead of borrowing one of the app's client connections.
 */
import * as net from 'node:net';
// node:tls is loaded only for a rediss:// probe: the agent's start-up does not pay for it.
import type * as tls from 'node:tls';
import { AGENT_INTERNAL } from '../lifecycle/internal';
import { withTimeout, type HealthKind } from './dependencies';

export const REDIS_HEALTH: HealthKind = { kind: 'redis', label: 'Redis', answered: 'Redis answered PING' };

export interface RedisEndpoint {
  host?: string;
  port?: number;
  path?: string;
  username?: string;
  password?: string;
  tls?: boolean | tls.ConnectionOptions;
}

/** `redis://user:pass@host:6379/0` -> endpoint fields. */
export function redisEndpointFromUrl(url: string): RedisEndpoint {
  const u = new URL(url);
  return {
    // WHATWG URLs keep IPv6 literals in brackets; sockets want them bare.
    host: u.hostname.replace(/^\[|\]$/g, '') || 'localhost',
    port: u.port ? Number(u.port) : 6379,
    username: u.username ? safeDecode(u.username) : undefined,
    password: u.password ? safeDecode(u.password) : undefined,
    tls: u.protocol === 'rediss:',
  };
}

/** A malformed `%` escape in a credential is taken literally rather than thrown. */
function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function redisKey(endpoint: RedisEndpoint): string {
  return endpoint.path ?? `${endpoint.host ?? 'localhost'}:${endpoint.port ?? 6379}`;
}

/** RESP array of bulk strings. */
export function encodeCommand(parts: string[]): string {
  return `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
}

/**
 * The AUTH replies of a server that has no password, which ioredis (redis/event_handler.js) only
 * warns about: Redis 6+ (`-ERR AUTH <password> called without any password configured for the
 * default user. ...`) and older servers (`-ERR Client sent AUTH, but no password is set`). Every
 * other AUTH error, WRONGPASS first, is a failure.
 */
export function isNoPasswordReply(line: string): boolean {
  return line.startsWith('-ERR ') && (line.includes('without any password configured for the default user') || line.includes('no password is set'));
}

export function redisProbe(endpoint: RedisEndpoint) {
  return (timeoutMs: number): Promise<void> => {
    const commands: string[][] = [];
    if (endpoint.password) {
      commands.push(endpoint.username ? ['AUTH', endpoint.username, endpoint.password] : ['AUTH', endpoint.password]);
    }
    commands.push(['PING']);
    let socket: net.Socket | undefined;
    const work = new Promise<void>((resolve, reject) => {
      const onConnect = () => socket!.write(commands.map(encodeCommand).join(''));
      socket = endpoint.path
        ? net.connect({ path: endpoint.path }, onConnect)
        : endpoint.tls
          ? (require('node:tls') as typeof tls).connect(
              { host: endpoint.host, port: endpoint.port, servername: endpoint.host, ...(typeof endpoint.tls === 'object' ? endpoint.tls : {}) },
              onConnect,
            )
          : net.connect({ host: endpoint.host ?? 'localhost', port: endpoint.port ?? 6379 }, onConnect);
      (socket as unknown as Record<symbol, boolean>)[AGENT_INTERNAL] = true;
      socket.unref();
      let buffered = '';
      let replies = 0;
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        buffered += chunk;
        let end: number;
        while ((end = buffered.indexOf('\r\n')) >= 0) {
          const line = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          if (line.startsWith('-') && replies === 0 && commands.length > 1 && isNoPasswordReply(line)) {
            // A leftover password on a Redis that needs none: ioredis warns and carries on, so
            // does the probe; PING decides.
            replies++;
            continue;
          }
          if (line.startsWith('-')) {
            // The server's error text (e.g. WRONGPASS) names no secret; keep only its code word.
            reject(Object.assign(new Error('redis refused the probe'), { code: line.slice(1).split(' ')[0] }));
            return;
          }
          replies++;
          if (replies === commands.length) {
            resolve();
            return;
          }
        }
      });
      socket.on('error', reject);
      socket.on('close', () => reject(Object.assign(new Error('connection closed'), { code: 'ECONNRESET' })));
    });
    return withTimeout(work, timeoutMs).finally(() => socket?.destroy());
  };
}
