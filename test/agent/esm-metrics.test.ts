/**
 * An ESM app (`import pg from 'pg'`, `import Redis from 'ioredis'`) preloaded with
 * `node --import @tutor/otel-agent`: exact counts on /metrics for HTTP, Postgres and Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { select, total } from '../helpers/prometheus-text';

describe('ESM app under --import', () => {
  let app: AgentApp;

  beforeAll(async () => {
    app = await startAgentApp({ fixture: 'esm-app.mjs', env: { OTEL_SERVICE_NAME: 'esm-fixture' } });
    await agentReady(app);
    // Three misses, then three hits of the same lessons.
    for (const round of [1, 2]) {
      for (const id of [11, 12, 13]) {
        const response = await app.request(`/lessons/${id}`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as { cached: boolean };
        expect(body.cached).toBe(round === 2);
      }
    }
    expect((await app.request('/fail')).status).toBe(500);
    expect((await app.request('/mget')).status).toBe(200);
    expect((await app.request('/no/such/page')).status).toBe(404);
  });

  afterAll(async () => app?.stop());

  it('counts cache reads as hits and misses, exactly', async () => {
    const samples = await app.scrape();
    expect(total(samples, 'cache_operations_total', { operation: 'GET', result: 'miss' })).toBe(3);
    expect(total(samples, 'cache_operations_total', { operation: 'GET', result: 'hit' })).toBe(3);
    expect(total(samples, 'cache_operations_total', { operation: 'SET', result: 'ok' })).toBe(3);
    // MGET of three absent keys: one miss per key.
    expect(total(samples, 'cache_operations_total', { operation: 'MGET', result: 'miss' })).toBe(3);
    // ioredis's own connection handshake is not the app's traffic.
    expect(select(samples, 'cache_operations_total', { operation: 'INFO' })).toHaveLength(0);
    expect(select(samples, 'cache_operations_total', { operation: 'CLIENT' })).toHaveLength(0);
  });

  it('times Postgres queries by SQL verb and outcome', async () => {
    const samples = await app.scrape();
    expect(total(samples, 'db_query_duration_seconds_count', { db_system: 'postgresql', operation: 'SELECT', status: 'ok' })).toBe(3);
    expect(total(samples, 'db_query_duration_seconds_count', { operation: 'SELECT', status: 'error' })).toBe(1);
    const bounds = select(samples, 'db_query_duration_seconds_bucket', { status: 'ok' }).map((s) => s.labels.le);
    for (const bound of ['0.005', '1', '2.5', '5']) expect(bounds).toContain(bound);
  });

  it('counts HTTP requests with folded routes, status codes and the service label', async () => {
    const samples = await app.scrape();
    expect(total(samples, 'http_requests_total', { method: 'GET', route: '/lessons/:id', status_code: '200', service: 'esm-fixture' })).toBe(6);
    expect(total(samples, 'http_requests_total', { route: '/fail', status_code: '500' })).toBe(1);
    expect(total(samples, 'http_requests_total', { route: '__not_found__', status_code: '404' })).toBe(1);
    expect(total(samples, 'http_request_duration_seconds_count', { route: '/lessons/:id' })).toBe(6);
    const bounds = select(samples, 'http_request_duration_seconds_bucket', { route: '/lessons/:id' }).map((s) => s.labels.le);
    for (const bound of ['0.05', '0.1', '0.25', '0.5', '1', '2', '5', '10']) expect(bounds).toContain(bound);
    for (const sample of samples) expect(sample.labels.service).toBe('esm-fixture');
  });

  it('never counts its own endpoints as app traffic', async () => {
    await app.endpoint('/health');
    await app.endpoint('/ready');
    const samples = await app.scrape();
    const routes = select(samples, 'http_requests_total').map((s) => s.labels.route);
    expect(routes.some((r) => /metrics|health|ready|live/.test(r ?? ''))).toBe(false);
    expect(total(samples, 'http_requests_total')).toBe(9);
  });

  it('exports runtime metrics under prom-client names, with memory denominators', async () => {
    const samples = await app.scrape();
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_heap_size_total_bytes',
      'nodejs_heap_size_limit_bytes',
      'nodejs_eventloop_lag_seconds',
      'active_connections',
    ]) {
      expect(select(samples, name), name).toHaveLength(1);
    }
    expect(total(samples, 'nodejs_heap_size_limit_bytes')).toBeGreaterThan(total(samples, 'nodejs_heap_size_used_bytes'));
    expect(total(samples, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
  });

  it('reports healthy dependencies it found with no configuration', async () => {
    const { status, body } = await app.endpoint('/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'healthy',
      service: 'esm-fixture',
      checks: { database: { status: 'pass' }, redis: { status: 'pass' } },
    });
    expect(typeof body.uptime).toBe('number');
    expect(new Date(body.timestamp).toString()).not.toBe('Invalid Date');
    expect(body.checks.database.responseTime).toBeGreaterThanOrEqual(0);
    expect((await app.endpoint('/ready')).status).toBe(200);
    expect((await app.endpoint('/live')).status).toBe(200);
  });

  it('prints one startup line naming service, port and instrumentations', () => {
    const info = app.agentLines.filter((l) => l.includes('info:'));
    expect(info).toHaveLength(1);
    expect(info[0]).toContain('esm-fixture');
    expect(info[0]).toContain(String(app.metricsPort));
    expect(info[0]).toMatch(/instrumentations: .*pg.*ioredis/);
  });
});

describe('semantic-convention twins (TUTOR_OTEL_SEMCONV_METRICS=true), traces off', () => {
  it('exports http.server.request.duration and db.client.operation.duration beside the platform names', async () => {
    const app = await startAgentApp({ fixture: 'esm-app.mjs', env: { OTEL_SERVICE_NAME: 'semconv-fixture', TUTOR_OTEL_SEMCONV_METRICS: 'true' } });
    try {
      await agentReady(app);
      for (const id of [21, 22]) expect((await app.request(`/lessons/${id}`)).status).toBe(200);
      expect((await app.request('/fail')).status).toBe(500);
      const samples = await app.scrape();
      const names = new Set(samples.map((s) => s.name));
      const http = [...names].find((n) => n.startsWith('http_server_request_duration') && n.endsWith('_count'));
      const db = [...names].find((n) => n.startsWith('db_client_operation_duration') && n.endsWith('_count'));
      expect(http, [...names].join(' ')).toBeDefined();
      expect(db, [...names].join(' ')).toBeDefined();
      // The same requests and queries as the platform metrics, with the conventions' attribute names.
      expect(
        total(samples, http!, { http_request_method: 'GET', http_route: '/lessons/:id', http_response_status_code: '200', url_scheme: 'http' }),
      ).toBe(2);
      expect(total(samples, http!)).toBe(total(samples, 'http_requests_total'));
      expect(total(samples, db!, { db_system_name: 'postgresql', db_operation_name: 'SELECT' })).toBe(
        total(samples, 'db_query_duration_seconds_count', { operation: 'SELECT' }),
      );
      expect(total(samples, db!, { error_type: 'error' })).toBe(1);
    } finally {
      await app.stop();
    }
  });

  it('are not exported by default', async () => {
    const app = await startAgentApp({ fixture: 'esm-app.mjs' });
    try {
      await agentReady(app);
      expect((await app.request('/lessons/31')).status).toBe(200);
      const names = (await app.scrape()).map((s) => s.name);
      expect(names.some((n) => n.startsWith('http_server_request_duration') || n.startsWith('db_client_operation_duration'))).toBe(false);
      expect(names).toContain('http_requests_total');
    } finally {
      await app.stop();
    }
  });
});
