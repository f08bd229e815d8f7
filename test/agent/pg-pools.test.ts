/**
 * pg pools as services create them: at start, used later. /health knows the pool's database from
 * its creation (connection string or PG* variables), so /ready is 503 when that database is down
 * before any query; and a pool query that fails before reaching the server (refused, TLS refused,
 * pool checkout timeout) is a `db_query_duration_seconds` observation with status="error" and its
 * SQL verb, its check message naming the cause by code.
 */
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { freePort } from '../helpers/ports';
import { select, total } from '../helpers/prometheus-text';

let app: AgentApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

const queries = (samples: Awaited<ReturnType<AgentApp['scrape']>>, operation: string, status: string) =>
  total(samples, 'db_query_duration_seconds_count', { db_system: 'postgresql', operation, status });

describe('a pg.Pool created at start', () => {
  it('is on /health before its first query (connection string)', async () => {
    app = await startAgentApp({ fixture: 'pg-lazy-pool.cjs', env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test' } });
    await agentReady(app);
    const health = await app.endpoint('/health');
    expect(health.status).toBe(200);
    expect(health.body.checks.database).toMatchObject({ status: 'pass', message: 'PostgreSQL answered SELECT 1' });
    expect(select(await app.scrape(), 'db_query_duration_seconds_count')).toEqual([]);
  });

  it('is on /health before its first query (PG* variables, as pg reads them)', async () => {
    app = await startAgentApp({ fixture: 'pg-lazy-pool.cjs', env: { PGHOST: '127.0.0.1', PGPORT: '5432', PGUSER: 'postgres', PGDATABASE: 'test' } });
    await agentReady(app);
    expect((await app.endpoint('/health')).body.checks.database).toMatchObject({ status: 'pass' });
    expect((await app.request('/query')).status).toBe(200);
    expect(queries(await app.scrape(), 'SELECT', 'ok')).toBe(1);
  });
});

describe('a pool whose database is down from the start', () => {
  it('makes /health unhealthy and /ready 503 before any query; each refused query counts as an error with its verb', async () => {
    const closed = await freePort();
    app = await startAgentApp({ fixture: 'pg-lazy-pool.cjs', env: { DATABASE_URL: `postgres://postgres:pw-s3cret@127.0.0.1:${closed}/test` } });
    await agentReady(app);
    const health = await app.endpoint('/health');
    expect(health.status).toBe(503);
    expect(health.body.checks.database).toMatchObject({ status: 'fail', message: 'PostgreSQL check failed: connection refused (ECONNREFUSED)' });
    const ready = await app.endpoint('/ready');
    expect(ready.status).toBe(503);
    expect(ready.body.reason).toBe('failing: database');
    expect((await app.request('/ok')).status).toBe(200);

    for (let i = 0; i < 3; i++) expect(await (await app.request('/query')).json()).toEqual({ code: 'ECONNREFUSED' });
    for (let i = 0; i < 2; i++) expect((await app.request('/query-callback')).status).toBe(500);
    const samples = await app.scrape();
    expect(queries(samples, 'SELECT', 'error')).toBe(3);
    expect(queries(samples, 'UPDATE', 'error')).toBe(2);
    expect(select(samples, 'db_query_duration_seconds_count')).toHaveLength(2);
    expect(JSON.stringify(health.body) + app.stderr).not.toContain('pw-s3cret');
  });

  it('a checkout that times out (a server that never answers) counts as an error', async () => {
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => sockets.push(socket)); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      app = await startAgentApp({
        fixture: 'pg-lazy-pool.cjs',
        env: { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`, POOL_TIMEOUT_MS: '300', TUTOR_OTEL_HEALTH_TIMEOUT_MS: '300' },
      });
      await agentReady(app);
      expect((await app.endpoint('/health')).body.checks.database.message).toBe('PostgreSQL did not answer within 300 ms');
      expect((await app.request('/query')).status).toBe(500);
      expect(queries(await app.scrape(), 'SELECT', 'error')).toBe(1);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });
});

describe('TLS required by the app, not offered by the server', () => {
  it('names the mismatch by code on /health and counts the refused queries', async () => {
    app = await startAgentApp({ fixture: 'pg-lazy-pool.cjs', env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test', PG_SSL: 'true' } });
    await agentReady(app);
    const health = await app.endpoint('/health');
    expect(health.status).toBe(503);
    expect(health.body.checks.database).toMatchObject({
      status: 'fail',
      message: 'PostgreSQL check failed: the client requires TLS and the server does not offer it (PG_SSL_UNSUPPORTED)',
    });
    expect((await app.request('/query')).status).toBe(500);
    expect(queries(await app.scrape(), 'SELECT', 'error')).toBe(1);
  });
});
