/** The pure parts of the agent's own spans: names and attributes for HTTP server, pg and Redis. */
import { describe, expect, it } from 'vitest';
import { hostName, pathOf, serverSpanName } from '../../src/http/request-facts';
import { MAX_QUERY_TEXT, pgSpanAttributes, pgSpanName } from '../../src/instrumentations/pg/utils';
import { redisSpanAttributes } from '../../src/instrumentations/redis-common/replies';

describe('HTTP server span helpers', () => {
  it('names a span by method and route, or by method alone', () => {
    expect(serverSpanName('GET', '/lessons/:id')).toBe('GET /lessons/:id');
    expect(serverSpanName('POST', undefined)).toBe('POST');
    expect(serverSpanName('GET', '')).toBe('GET');
  });

  it('drops the query string and fragment from the path', () => {
    expect(pathOf('/a/b?token=secret&x=1')).toBe('/a/b');
    expect(pathOf('/a#frag')).toBe('/a');
    expect(pathOf('/?')).toBe('/');
    expect(pathOf(undefined)).toBe('/');
    expect(pathOf('')).toBe('/');
    expect(pathOf('/plain')).toBe('/plain');
  });

  it('takes the host name out of a Host header', () => {
    expect(hostName('api.example.com:8443')).toBe('api.example.com');
    expect(hostName('api.example.com')).toBe('api.example.com');
    expect(hostName('[::1]:3000')).toBe('::1');
    expect(hostName('[::1]')).toBe('::1');
    expect(hostName('[]')).toBeUndefined();
    expect(hostName(':80')).toBeUndefined();
    expect(hostName('')).toBeUndefined();
    expect(hostName(undefined)).toBeUndefined();
  });
});

describe('pg span helpers', () => {
  it('names a span by operation and database, or by what is known', () => {
    expect(pgSpanName('SELECT', 'test')).toBe('SELECT test');
    expect(pgSpanName('other', 'test')).toBe('test');
    expect(pgSpanName('INSERT', undefined)).toBe('INSERT');
    expect(pgSpanName('other', undefined)).toBe('postgresql');
  });

  it('carries the SQL text and connection, never parameter values', () => {
    const attributes = pgSpanAttributes({ host: '127.0.0.1', port: 5432, database: 'test' }, 'SELECT $1::int', 'SELECT');
    expect(attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.operation.name': 'SELECT',
      'db.query.text': 'SELECT $1::int',
      'db.namespace': 'test',
      'server.address': '127.0.0.1',
      'server.port': 5432,
    });
  });

  it('caps the SQL text and leaves out what is unknown', () => {
    const huge = `INSERT INTO t VALUES ${'(1),'.repeat(5000)}(1)`;
    const attributes = pgSpanAttributes(undefined, huge, 'INSERT');
    expect(String(attributes['db.query.text'])).toHaveLength(MAX_QUERY_TEXT);
    expect(Object.keys(attributes).sort()).toEqual(['db.operation.name', 'db.query.text', 'db.system.name']);
    expect(pgSpanAttributes({}, undefined, 'other')).toEqual({ 'db.system.name': 'postgresql' });
  });
});

describe('Redis span attributes', () => {
  it('name the command and the server, never keys or values', () => {
    expect(redisSpanAttributes('GET', { host: 'cache', port: 6380, db: 2 })).toEqual({
      'db.system.name': 'redis',
      'db.operation.name': 'GET',
      'server.address': 'cache',
      'server.port': 6380,
      'db.namespace': '2',
    });
  });

  it('use the socket path as the address of a Unix-socket client', () => {
    expect(redisSpanAttributes('SET', { path: '/run/redis.sock', port: 6379 })).toEqual({
      'db.system.name': 'redis',
      'db.operation.name': 'SET',
      'server.address': '/run/redis.sock',
    });
  });
});
