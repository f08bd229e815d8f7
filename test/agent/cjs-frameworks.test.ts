/**
 * CommonJS apps (`require('pg')`) under both `--require` and `--import`, and framework route
 * templates from Express (CommonJS) and Fastify (ESM).
 */
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { total } from '../helpers/prometheus-text';

beforeAll(async () => {
  const client = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
  await client.connect();
  await client.query('CREATE TABLE IF NOT EXISTS agent_fixture_lessons (id serial primary key, title text)');
  await client.end();
});

for (const preload of ['require', 'import'] as const) {
  describe(`CommonJS Express app under --${preload}`, () => {
    let app: AgentApp;

    beforeAll(async () => {
      app = await startAgentApp({ fixture: 'cjs-express-app.cjs', preload: [preload], env: { OTEL_SERVICE_NAME: `express-${preload}` } });
      await agentReady(app);
      for (const id of [1, 2, 1]) expect((await app.request(`/api/lessons/${id}`)).status).toBe(200);
      expect((await app.request('/api/lessons', { method: 'POST' })).status).toBe(201);
      expect((await app.request('/api/boom')).status).toBe(500);
      expect((await app.request('/ok')).status).toBe(200);
      expect((await app.request('/missing/42')).status).toBe(404);
    });

    afterAll(async () => app?.stop());

    it('labels requests with the Express route template, mount path included', async () => {
      const samples = await app.scrape();
      expect(total(samples, 'http_requests_total', { method: 'GET', route: '/api/lessons/:id', status_code: '200' })).toBe(3);
      expect(total(samples, 'http_requests_total', { method: 'POST', route: '/api/lessons', status_code: '201' })).toBe(1);
      expect(total(samples, 'http_requests_total', { route: '/api/boom', status_code: '500' })).toBe(1);
      expect(total(samples, 'http_requests_total', { route: '/ok', status_code: '200' })).toBe(1);
      expect(total(samples, 'http_requests_total', { route: '__not_found__', status_code: '404' })).toBe(1);
    });

    it('instruments require("pg") and require("ioredis")', async () => {
      const samples = await app.scrape();
      expect(total(samples, 'db_query_duration_seconds_count', { operation: 'SELECT', status: 'ok' })).toBe(2);
      expect(total(samples, 'db_query_duration_seconds_count', { operation: 'INSERT', status: 'ok' })).toBe(1);
      expect(total(samples, 'cache_operations_total', { operation: 'GET', result: 'miss' })).toBe(2);
      expect(total(samples, 'cache_operations_total', { operation: 'GET', result: 'hit' })).toBe(1);
      expect(total(samples, 'http_requests_total', { service: `express-${preload}` })).toBe(7);
    });
  });
}

describe('ESM Fastify app', () => {
  let app: AgentApp;

  beforeAll(async () => {
    app = await startAgentApp({ fixture: 'fastify-app.mjs', env: { OTEL_SERVICE_NAME: 'fastify-fixture' } });
    await agentReady(app);
    for (const lesson of ['a1', 'b2']) expect((await app.request(`/courses/7/lessons/${lesson}`)).status).toBe(200);
    expect((await app.request('/boom')).status).toBe(500);
    expect((await app.request('/nope')).status).toBe(404);
  });

  afterAll(async () => app?.stop());

  it('labels requests with the Fastify route template', async () => {
    const samples = await app.scrape();
    expect(total(samples, 'http_requests_total', { route: '/courses/:courseId/lessons/:lessonId', status_code: '200' })).toBe(2);
    expect(total(samples, 'http_requests_total', { route: '/boom', status_code: '500' })).toBe(1);
    expect(total(samples, 'http_requests_total', { route: '__not_found__', status_code: '404' })).toBe(1);
  });
});

describe('OTEL_NODE_DISABLED_INSTRUMENTATIONS', () => {
  it('leaves a disabled instrumentation out entirely', async () => {
    const app = await startAgentApp({ fixture: 'cjs-express-app.cjs', env: { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'ioredis,express' } });
    try {
      await agentReady(app);
      expect((await app.request('/api/lessons/5')).status).toBe(200);
      const samples = await app.scrape();
      expect(total(samples, 'cache_operations_total')).toBe(0);
      expect(total(samples, 'db_query_duration_seconds_count')).toBeGreaterThanOrEqual(0);
      // Without the Express template the raw path is folded instead.
      expect(total(samples, 'http_requests_total', { route: '/api/lessons/:id' })).toBe(1);
      expect(app.agentLines.join('\n')).not.toMatch(/instrumentations: [^;]*ioredis/);
    } finally {
      await app.stop();
    }
  });
});
