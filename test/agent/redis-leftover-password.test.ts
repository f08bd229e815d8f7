/**
 * A leftover Redis password: the app's ioredis client carries one (`redis://:leftover@...`) but the
 * Redis needs none. ioredis gets `-ERR AUTH <password> called without any password configured`,
 * warns and works, so the agent's probe must not call that an outage. A wrong password on a
 * Redis that has one is still a failing check.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { waitFor } from '../helpers/ports';
import { PrivateRedis } from '../helpers/redis-server';

let app: AgentApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

/** /health once the app's Redis client has been seen (the check appears with it). */
async function healthWithRedis(a: AgentApp): Promise<{ status: number; body: any }> {
  return waitFor(
    async () => {
      const health = await a.endpoint('/health');
      return health.body?.checks?.redis ? health : undefined;
    },
    20_000,
    '/health to list the redis check',
  );
}

describe('a leftover password on a Redis without one', () => {
  it('the app works, and /health is healthy and /ready 200', async () => {
    app = await startAgentApp({ fixture: 'esm-app.mjs', env: { REDIS_URL: 'redis://:leftover@127.0.0.1:6379' } });
    await agentReady(app);
    // The app's own Redis calls work: ioredis only warned about the password.
    expect((await app.request('/mget')).status).toBe(200);
    await waitFor(() => (app!.stdout + app!.stderr).includes('does not require a password') || undefined, 10_000, "ioredis's warning");

    const health = await healthWithRedis(app);
    expect(health.body.checks.redis, JSON.stringify(health.body)).toMatchObject({ status: 'pass' });
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('healthy');
    expect((await app.endpoint('/ready')).status).toBe(200);
    expect(JSON.stringify(health.body)).not.toContain('leftover');
  });
});

describe('a wrong password on a Redis with one', () => {
  const redis = new PrivateRedis();
  let port = 0;

  beforeAll(async () => {
    port = await redis.start(['--requirepass', 'the-real-one-5h2w']);
  });

  afterAll(() => redis.stop());

  it('is a failing check: /health unhealthy with WRONGPASS, /ready 503', async () => {
    app = await startAgentApp({ fixture: 'esm-app.mjs', env: { REDIS_URL: `redis://:wrong-one-6c1x@127.0.0.1:${port}` } });
    await agentReady(app);
    const health = await healthWithRedis(app);
    expect(health.body.checks.redis).toMatchObject({ status: 'fail', message: 'Redis check failed: authentication failed (WRONGPASS)' });
    expect(health.status).toBe(503);
    expect(health.body.status).toBe('unhealthy');
    expect((await app.endpoint('/ready')).status).toBe(503);
    expect(JSON.stringify(health.body)).not.toMatch(/wrong-one|the-real-one/);
  });
});
