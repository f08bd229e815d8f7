/** The Redis server of a node-redis client, from the options node-redis keeps (url already folded in). */
import { describe, expect, it } from 'vitest';
import { nodeRedisServer } from '../../src/instrumentations/node-redis/server';

describe('nodeRedisServer', () => {
  it("takes node-redis's defaults for what is unset", () => {
    expect(nodeRedisServer(undefined)).toEqual({ host: 'localhost', port: 6379, tls: false });
    expect(nodeRedisServer({})).toEqual({ host: 'localhost', port: 6379, tls: false });
  });

  it('keeps host, port, credentials and database', () => {
    expect(nodeRedisServer({ socket: { host: '10.0.0.5', port: 6380 }, username: 'u', password: 'p', database: 2 })).toEqual({
      host: '10.0.0.5',
      port: 6380,
      tls: false,
      username: 'u',
      password: 'p',
      db: 2,
    });
  });

  it('a unix socket is its path', () => {
    expect(nodeRedisServer({ socket: { path: '/run/redis.sock' } })).toEqual({ path: '/run/redis.sock' });
  });

  it('TLS: true, or the TLS settings a probe needs, never the rest of the socket options', () => {
    expect(nodeRedisServer({ socket: { host: 'h', tls: true } }).tls).toBe(true);
    const reconnectStrategy = () => 100;
    const server = nodeRedisServer({ socket: { host: 'h', tls: true, ca: 'CA', rejectUnauthorized: false, reconnectStrategy } as never });
    expect(server.tls).toEqual({ ca: 'CA', rejectUnauthorized: false });
  });

  it('ignores credentials it cannot use (a credentials provider object)', () => {
    expect(nodeRedisServer({ password: { provider: true } as never }).password).toBeUndefined();
  });
});
