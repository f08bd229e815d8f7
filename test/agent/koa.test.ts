/**
 * Koa route templates: a RealWorld-like route set (router prefixes, a router nested with a
 * parameterised mount path, an awaiting `router.use()` middleware, a handler 404, a thrown 500,
 * an unmatched 404) under every Koa/router combination the integration supports, ESM and
 * CommonJS; and the slugs that fold to themselves without it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { select, total } from '../helpers/prometheus-text';
import { EXPECTED, sendTraffic, TRAFFIC } from '../helpers/realworld';

const CASES = [
  { title: 'ESM koa 3 + @koa/router under --import', fixture: 'koa-app.mjs', preload: 'import', env: {} },
  { title: 'CommonJS koa 2 + @koa/router under --require', fixture: 'koa-app.cjs', preload: 'require', env: { KOA_PACKAGE: 'koa-v2' } },
  { title: 'CommonJS koa 3 + @koa/router under --import', fixture: 'koa-app.cjs', preload: 'import', env: {} },
  { title: 'CommonJS koa 3 + koa-router under --require', fixture: 'koa-app.cjs', preload: 'require', env: { ROUTER_PACKAGE: 'koa-router' } },
] as const;

for (const testCase of CASES) {
  describe(testCase.title, () => {
    let app: AgentApp;

    beforeAll(async () => {
      app = await startAgentApp({ fixture: testCase.fixture, preload: [testCase.preload], env: { OTEL_SERVICE_NAME: 'koa-fixture', ...testCase.env } });
      await agentReady(app);
      await sendTraffic(app, TRAFFIC);
    });

    afterAll(async () => app?.stop());

    it('labels requests with the full route template, prefixes and nested routers included', async () => {
      const samples = await app.scrape();
      for (const [method, route, status_code, count] of EXPECTED) {
        expect(total(samples, 'http_requests_total', { method, route, status_code }), `${method} ${route} ${status_code}`).toBe(count);
        expect(total(samples, 'http_request_duration_seconds_count', { method, route, status_code })).toBe(count);
      }
      expect(total(samples, 'http_requests_total', { service: 'koa-fixture' })).toBe(TRAFFIC.length);
      expect(app.agentLines.join('\n')).toMatch(/instrumentations: [^;]*\bkoa\b/);
    });

    it('never uses a slug, a username or an id as a route', async () => {
      const routes = new Set(select(await app.scrape(), 'http_requests_total').map((s) => s.labels.route));
      expect([...routes].sort()).toEqual([...new Set(EXPECTED.map(([, route]) => route))].sort());
    });
  });
}

describe('a route registered before a parameter route at the same path', () => {
  it('is counted under its own template, not the parameter route that also matched', async () => {
    const app = await startAgentApp({ fixture: 'koa-app.cjs', env: { OTEL_SERVICE_NAME: 'koa-feed' } });
    try {
      await agentReady(app);
      await sendTraffic(app, [
        ['GET', '/api/articles/feed', 200],
        ['GET', '/api/articles/feed', 200],
        ['GET', '/api/articles/Hello-world-1', 200],
      ]);
      const samples = await app.scrape();
      expect(total(samples, 'http_requests_total', { route: '/api/articles/feed', status_code: '200' })).toBe(2);
      expect(total(samples, 'http_requests_total', { route: '/api/articles/:slug', status_code: '200' })).toBe(1);
    } finally {
      await app.stop();
    }
  });
});

describe('OTEL_NODE_DISABLED_INSTRUMENTATIONS=koa', () => {
  for (const fixture of ['koa-app.mjs', 'koa-app.cjs']) {
    it(`leaves ${fixture} without templates: paths fold as before`, async () => {
      const app = await startAgentApp({ fixture, env: { OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'koa' } });
      try {
        await agentReady(app);
        await sendTraffic(app, [
          ['GET', '/api/articles/Hello-world-1', 200],
          ['GET', '/api/profiles/jake', 200],
          ['GET', '/api/tags-that-do-not-exist/abc-9', 404],
        ]);
        const samples = await app.scrape();
        expect(total(samples, 'http_requests_total', { route: '/api/articles/Hello-world-1', status_code: '200' })).toBe(1);
        expect(total(samples, 'http_requests_total', { route: '/api/profiles/jake', status_code: '200' })).toBe(1);
        expect(total(samples, 'http_requests_total', { route: '__not_found__', status_code: '404' })).toBe(1);
        expect(select(samples, 'http_requests_total').filter((s) => s.labels.route?.includes(':'))).toHaveLength(0);
        expect(app.agentLines.join('\n')).not.toMatch(/instrumentations: [^;]*\bkoa\b/);
      } finally {
        await app.stop();
      }
    });
  }
});
