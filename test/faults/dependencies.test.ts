/**
 * Postgres and Redis going away mid-traffic and coming back (through a proxy that refuses and
 * resets connections as a stopped server does): routes that do not need them keep answering,
 * /health turns unhealthy and recovers, and nothing in the agent crashes or leaks a rejection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { waitFor } from '../helpers/ports';
import { TcpProxy } from '../helpers/tcp-proxy';

const fixtureRoutes = { noDeps: '/ok', needsBoth: (i: number) => `/lessons/${i}` };

async function health(app: AgentApp) {
  return app.endpoint('/health');
}

function noAgentTrouble(app: AgentApp) {
  expect(app.exited).toBeUndefined();
  expect(app.agentLines.filter((l) => /internal error|error:/.test(l))).toEqual([]);
  expect(app.stderr).not.toMatch(/UnhandledPromiseRejection|unhandled rejection/i);
}

for (const dependency of ['database', 'redis'] as const) {
  describe(`${dependency} stopped mid-traffic, then started`, () => {
    const proxy = dependency === 'database' ? new TcpProxy('127.0.0.1', 5432) : new TcpProxy('127.0.0.1', 6379);
    let app: AgentApp;

    beforeAll(async () => {
      const port = await proxy.start();
      app = await startAgentApp({
        fixture: 'esm-app.mjs',
        env:
          dependency === 'database'
            ? { DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`, TUTOR_OTEL_HEALTH_TIMEOUT_MS: '500' }
            : { REDIS_URL: `redis://127.0.0.1:${port}`, TUTOR_OTEL_HEALTH_TIMEOUT_MS: '500' },
      });
      await agentReady(app);
      for (let i = 0; i < 5; i++) expect((await app.request(fixtureRoutes.needsBoth(i))).status).toBe(200);
      expect((await health(app)).body.checks[dependency].status).toBe('pass');
    });

    afterAll(async () => {
      await app?.stop();
      await proxy.stop();
    });

    it('keeps serving what does not need it, reports it failing, then recovers', async () => {
      await proxy.stop();
      // Traffic continues during the outage.
      for (let i = 0; i < 20; i++) expect((await app.request(fixtureRoutes.noDeps)).status).toBe(200);
      for (let i = 0; i < 3; i++) {
        const status = (await app.request(fixtureRoutes.needsBoth(1000 + i))).status;
        expect([200, 500]).toContain(status); // the app's own error handling decides
      }
      const down = await waitFor(
        async () => {
          const h = await health(app);
          return h.status === 503 ? h : undefined;
        },
        15_000,
        `${dependency} to be reported down`,
      );
      expect(down.body.status).toBe('unhealthy');
      expect(down.body.checks[dependency].status).toBe('fail');
      expect((await app.endpoint('/ready')).status).toBe(503);
      expect((await app.endpoint('/live')).status).toBe(200);

      await proxy.start();
      const up = await waitFor(
        async () => {
          const h = await health(app);
          return h.status === 200 && h.body.status === 'healthy' ? h : undefined;
        },
        20_000,
        `${dependency} to be reported back`,
      );
      expect(up.body.checks[dependency].status).toBe('pass');
      await waitFor(async () => ((await app.request(fixtureRoutes.needsBoth(5000))).status === 200 ? true : undefined), 20_000, 'the app to recover');
      expect((await app.endpoint('/ready')).status).toBe(200);

      const metrics = await app.scrapeText();
      expect(metrics).toContain('http_requests_total');
      noAgentTrouble(app);
    });
  });
}
