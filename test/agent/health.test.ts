/**
 * /health, /ready and /live as Kubernetes and load balancers use them, with dependencies that are
 * up, down (a closed port) and configured by env; and the optional bearer token.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { freePort, waitFor } from '../helpers/ports';

let app: AgentApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

describe('health with a dependency down', () => {
  it('reports unhealthy (503) with the failing check, and never shows the credentials', async () => {
    const closed = await freePort();
    const password = 'pg-s3cret-pw';
    const redisPassword = 'redis-s3cret-pw';
    app = await startAgentApp({
      fixture: 'plain-server.cjs',
      env: {
        TUTOR_OTEL_HEALTH_DATABASE_URL: `postgres://postgres:${password}@127.0.0.1:${closed}/test`,
        TUTOR_OTEL_HEALTH_REDIS_URL: `redis://default:${redisPassword}@127.0.0.1:${closed}`,
      },
    });
    await agentReady(app);
    const health = await app.endpoint('/health');
    expect(health.status).toBe(503);
    expect(health.body.status).toBe('unhealthy');
    expect(health.body.checks.database.status).toBe('fail');
    expect(health.body.checks.database.message).toMatch(/refused/);
    expect(health.body.checks.redis.status).toBe('fail');
    const ready = await app.endpoint('/ready');
    expect(ready.status).toBe(503);
    expect(JSON.stringify(ready.body)).toMatch(/database/);
    expect((await app.endpoint('/live')).status).toBe(200);
    const everything = JSON.stringify(health.body) + JSON.stringify(ready.body) + app.stderr + app.stdout;
    for (const secret of [password, redisPassword, `127.0.0.1:${closed}`, 'postgres://']) expect(everything).not.toContain(secret);
  });

  it('is degraded, not unhealthy, when only a non-critical dependency fails', async () => {
    const closed = await freePort();
    app = await startAgentApp({
      fixture: 'plain-server.cjs',
      env: {
        TUTOR_OTEL_HEALTH_DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
        TUTOR_OTEL_HEALTH_REDIS_URL: `redis://127.0.0.1:${closed}`,
        TUTOR_OTEL_HEALTH_CRITICAL: 'database',
      },
    });
    await agentReady(app);
    const health = await app.endpoint('/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('degraded');
    expect(health.body.checks.database.status).toBe('pass');
    expect(health.body.checks.redis.status).toBe('fail');
    expect((await app.endpoint('/ready')).status).toBe(200);
  });

  it('fails a probe that does not answer within the timeout, without hanging the endpoint', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      app = await startAgentApp({
        fixture: 'plain-server.cjs',
        env: { TUTOR_OTEL_HEALTH_REDIS_URL: `redis://127.0.0.1:${port}`, TUTOR_OTEL_HEALTH_TIMEOUT_MS: '300' },
      });
      await agentReady(app);
      const health = await app.endpoint('/health');
      expect(health.status).toBe(503);
      expect(health.body.checks.redis.message).toMatch(/did not answer within 300 ms/);
    } finally {
      silent.close();
    }
  });
});

describe('readiness', () => {
  it('is 503 until the app listens, then 200', async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs', env: { LISTEN_DELAY_MS: '1500' }, waitForListening: false });
    await agentReady(app);
    const early = await app.endpoint('/ready');
    expect(early.status).toBe(503);
    expect(early.body.reason).toMatch(/listening/);
    await waitFor(async () => ((await app!.endpoint('/ready')).status === 200 ? true : undefined), 20_000, '/ready 200');
    const health = await app.endpoint('/health');
    expect(health.body).toMatchObject({ status: 'healthy', checks: {} });
  });
});

describe('bearer token', () => {
  it('guards /metrics and /health, leaves /live and /ready open', async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs', env: { TUTOR_OTEL_AUTH_TOKEN: 'scrape-token-1' } });
    await agentReady(app);
    expect((await fetch(`${app.metricsUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${app.metricsUrl}/health`)).status).toBe(401);
    expect((await fetch(`${app.metricsUrl}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    const ok = await fetch(`${app.metricsUrl}/metrics`, { headers: { authorization: 'Bearer scrape-token-1' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('process_resident_memory_bytes');
    expect((await fetch(`${app.metricsUrl}/live`)).status).toBe(200);
    expect((await fetch(`${app.metricsUrl}/ready`)).status).toBe(200);
  });
});
