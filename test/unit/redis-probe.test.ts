import { describe, it, expect, afterEach } from 'vitest';
import * as net from 'node:net';
import { encodeCommand, isNoPasswordReply, REDIS_HEALTH, redisEndpointFromUrl, redisKey, redisProbe } from '../../src/health/redis-probe';
import { failureMessage } from '../../src/health/checks';
import { rejection } from '../helpers/rejection';

describe('encodeCommand', () => {
  it('encodes a RESP array of bulk strings', () => {
    expect(encodeCommand(['PING'])).toBe('*1\r\n$4\r\nPING\r\n');
    expect(encodeCommand(['AUTH', 'user', 'pw'])).toBe('*3\r\n$4\r\nAUTH\r\n$4\r\nuser\r\n$2\r\npw\r\n');
  });

  it('counts bytes, not characters', () => {
    expect(encodeCommand(['AUTH', 'pässwörd'])).toBe('*2\r\n$4\r\nAUTH\r\n$10\r\npässwörd\r\n');
    expect(encodeCommand(['ECHO', '🔑'])).toBe('*2\r\n$4\r\nECHO\r\n$4\r\n🔑\r\n');
  });

  it('encodes empty arguments and an empty command', () => {
    expect(encodeCommand(['SET', 'k', ''])).toBe('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n');
    expect(encodeCommand([])).toBe('*0\r\n');
  });

  it('keeps CRLF inside an argument as payload', () => {
    expect(encodeCommand(['AUTH', 'a\r\nb'])).toBe('*2\r\n$4\r\nAUTH\r\n$4\r\na\r\nb\r\n');
  });
});

describe('redisEndpointFromUrl', () => {
  it('reads host and port with defaults', () => {
    expect(redisEndpointFromUrl('redis://localhost')).toEqual({
      host: 'localhost',
      port: 6379,
      username: undefined,
      password: undefined,
      tls: false,
    });
    expect(redisEndpointFromUrl('redis://cache.internal:6380/2')).toMatchObject({ host: 'cache.internal', port: 6380, tls: false });
  });

  it('defaults the host to localhost', () => {
    expect(redisEndpointFromUrl('redis://').host).toBe('localhost');
  });

  it('decodes a percent-encoded username and password', () => {
    const endpoint = redisEndpointFromUrl('redis://app%40tutor:p%40ss%3Aw%2Frd%25@cache:6379/0');
    expect(endpoint.username).toBe('app@tutor');
    expect(endpoint.password).toBe('p@ss:w/rd%');
  });

  it('a password without a username leaves the username unset', () => {
    const endpoint = redisEndpointFromUrl('redis://:secret@cache');
    expect(endpoint.username).toBeUndefined();
    expect(endpoint.password).toBe('secret');
  });

  it('rediss:// turns TLS on', () => {
    expect(redisEndpointFromUrl('rediss://:pw@cache.example.com:6380')).toMatchObject({ host: 'cache.example.com', port: 6380, tls: true });
    expect(redisEndpointFromUrl('redis://cache').tls).toBe(false);
  });
});

describe('redisKey', () => {
  it('is host:port with defaults, or the socket path', () => {
    expect(redisKey({ host: 'cache', port: 6380 })).toBe('cache:6380');
    expect(redisKey({})).toBe('localhost:6379');
    expect(redisKey({ host: 'cache' })).toBe('cache:6379');
    expect(redisKey({ path: '/var/run/redis.sock', host: 'ignored', port: 1 })).toBe('/var/run/redis.sock');
  });

  it('does not include credentials', () => {
    const key = redisKey(redisEndpointFromUrl('redis://user:topsecret@cache:6379'));
    expect(key).toBe('cache:6379');
    expect(key).not.toContain('topsecret');
  });

  it('gives the same key for the same server however the URL spells it', () => {
    expect(redisKey(redisEndpointFromUrl('redis://cache'))).toBe(redisKey(redisEndpointFromUrl('redis://:pw@cache:6379/3')));
  });
});

/** A port on which nothing listens: bind one, note it, close it. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const servers: net.Server[] = [];
const accepted: net.Socket[] = [];
afterEach(async () => {
  for (const socket of accepted.splice(0)) socket.destroy();
  for (const server of servers.splice(0)) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

async function listen(onConnection: (socket: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer((socket) => {
    accepted.push(socket);
    onConnection(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as net.AddressInfo).port };
}

describe('redisProbe', () => {
  it('rejects with ECONNREFUSED on a closed port', async () => {
    const port = await closedPort();
    const started = Date.now();
    const error = await rejection(redisProbe({ host: '127.0.0.1', port })(2000));
    expect(error.code).toBe('ECONNREFUSED');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(failureMessage(REDIS_HEALTH, error, 2000)).toBe('Redis check failed: connection refused (ECONNREFUSED)');
  });

  it('rejects with a timeout, within the deadline, against a server that never answers', async () => {
    let received = '';
    let closedByProbe: Promise<void> | undefined;
    const { port } = await listen((socket) => {
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.on('error', () => {});
      closedByProbe = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    });
    const started = performance.now();
    const error = await rejection(redisProbe({ host: '127.0.0.1', port })(200));
    const elapsed = performance.now() - started;
    expect(error.code).toBe('ETIMEDOUT');
    expect(elapsed).toBeGreaterThanOrEqual(190);
    expect(elapsed).toBeLessThan(1000);
    expect(failureMessage(REDIS_HEALTH, error, 200)).toBe('Redis did not answer within 200 ms');
    // The probe spoke RESP and then gave its socket up.
    expect(received).toBe('*1\r\n$4\r\nPING\r\n');
    expect(closedByProbe).toBeDefined();
    await closedByProbe;
  });

  it('sends AUTH before PING when a password is set', async () => {
    let received = '';
    const { port } = await listen((socket) => {
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (received += chunk));
      socket.on('error', () => {});
    });
    await rejection(redisProbe({ host: '127.0.0.1', port, username: 'u', password: 'p' })(150));
    expect(received).toBe(encodeCommand(['AUTH', 'u', 'p']) + encodeCommand(['PING']));
  });

  it('rejects with ECONNRESET when the server closes the connection without answering', async () => {
    const { port } = await listen((socket) => {
      socket.on('error', () => {});
      socket.resume();
      socket.end();
    });
    const error = await rejection(redisProbe({ host: '127.0.0.1', port })(2000));
    expect(['ECONNRESET', 'EPIPE']).toContain(error.code);
  });
});

/** A server that answers each command in turn with the given RESP lines, as Redis does. */
async function answering(replies: string[]): Promise<number> {
  const { port } = await listen((socket) => {
    socket.on('error', () => {});
    socket.once('data', () => socket.write(replies.map((r) => `${r}\r\n`).join('')));
  });
  return port;
}

const NO_PASSWORD_6 = '-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?';
const NO_PASSWORD_5 = '-ERR Client sent AUTH, but no password is set';

describe('redisProbe and a password the server does not need', () => {
  it('knows the replies ioredis carries on after, and no others', () => {
    expect(isNoPasswordReply(NO_PASSWORD_6)).toBe(true);
    expect(isNoPasswordReply(NO_PASSWORD_5)).toBe(true);
    for (const other of [
      '-WRONGPASS invalid username-password pair or user is disabled.',
      '-NOAUTH Authentication required.',
      "-ERR wrong number of arguments for 'auth' command",
      '-ERR invalid password',
      '+OK',
      'ERR AUTH <password> called without any password configured for the default user.',
    ]) {
      expect(isNoPasswordReply(other), other).toBe(false);
    }
  });

  it.each([NO_PASSWORD_6, NO_PASSWORD_5])('passes when AUTH is answered %j and PING with PONG', async (reply) => {
    const port = await answering([reply, '+PONG']);
    await expect(redisProbe({ host: '127.0.0.1', port, password: 'leftover' })(2000)).resolves.toBeUndefined();
  });

  it('still fails when PING after such an AUTH reply is refused', async () => {
    const port = await answering([NO_PASSWORD_6, '-NOAUTH Authentication required.']);
    expect((await rejection(redisProbe({ host: '127.0.0.1', port, password: 'leftover' })(2000))).code).toBe('NOAUTH');
  });

  it('still fails on WRONGPASS and on any other AUTH error', async () => {
    for (const [reply, code] of [
      ['-WRONGPASS invalid username-password pair or user is disabled.', 'WRONGPASS'],
      ['-ERR invalid password', 'ERR'],
    ]) {
      const port = await answering([reply!, '+PONG']);
      expect((await rejection(redisProbe({ host: '127.0.0.1', port, password: 'x' })(2000))).code).toBe(code);
    }
  });

  it('does not excuse that text as the answer to PING when no AUTH was sent', async () => {
    const port = await answering([NO_PASSWORD_6]);
    expect((await rejection(redisProbe({ host: '127.0.0.1', port })(2000))).code).toBe('ERR');
  });
});
