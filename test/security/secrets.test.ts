/**
 * Secrets never leave: with a Postgres password, a Redis password, an OpenAI key, a Sentry DSN
 * and a caller's Authorization header all in play, nothing the agent emits (metrics, health
 * JSON, its log lines, spans to a Collector, everything Sentry receives) contains any of them.
 * The DSN's public key is Sentry's own credential: it goes to Sentry (auth and envelope headers,
 * as its protocol has it) and nowhere else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { OtlpSink } from '../helpers/otlp-sink';
import { freePort, waitFor } from '../helpers/ports';
import { PrivateRedis } from '../helpers/redis-server';
import { SentryIngest } from '../helpers/sentry-ingest';

const SECRETS = {
  pgPassword: 'pg-secret-Zx81',
  redisPassword: 'redis-secret-Qw72',
  openaiKey: 'sk-test-secret-Mm55',
  dsnKey: 'publickey', // the local Sentry ingest's DSN key
  bearer: 'user-token-Kk31',
};

describe('secrets', () => {
  const redis = new PrivateRedis();
  const sink = new OtlpSink();
  const sentry = new SentryIngest();
  let app: AgentApp;
  const emitted: Record<string, string> = {};

  beforeAll(async () => {
    const redisPort = await redis.start(['--requirepass', SECRETS.redisPassword]);
    const endpoint = await sink.start();
    app = await startAgentApp({
      fixture: 'esm-app.mjs',
      env: {
        DATABASE_URL: `postgres://postgres:${SECRETS.pgPassword}@127.0.0.1:5432/test`,
        REDIS_URL: `redis://:${SECRETS.redisPassword}@127.0.0.1:${redisPort}`,
        OPENAI_API_KEY: SECRETS.openaiKey,
        SENTRY_DSN: await sentry.start(),
        SENTRY_TRACES_SAMPLE_RATE: '1',
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        TUTOR_OTEL_HEALTH_DATABASE_URL: `postgres://postgres:${SECRETS.pgPassword}@127.0.0.1:${await freePort()}/test`,
        OTEL_LOG_LEVEL: 'debug',
      },
    });
    await agentReady(app);
    const headers = { authorization: `Bearer ${SECRETS.bearer}`, cookie: `session=${SECRETS.bearer}` };
    for (const path of ['/lessons/1', '/lessons/1', '/fail', '/mget', `/lessons/x?token=${SECRETS.bearer}`]) await app.request(path, { headers });
    emitted.metrics = await app.scrapeText();
    emitted.health = JSON.stringify((await app.endpoint('/health')).body);
    emitted.ready = JSON.stringify((await app.endpoint('/ready')).body);
    await waitFor(() => (sentry.events().length > 0 ? true : undefined), 15_000, 'the 500 to reach Sentry');
    app.child.kill('SIGTERM');
    await waitFor(() => app.exited, 15_000, 'exit');
    emitted.logs = app.stderr + app.stdout;
    emitted.spans = sink.posts.map((p) => p.body.toString('utf8')).join('\n');
    emitted.sentry = sentry.everythingReceived();
  });

  afterAll(async () => {
    await app?.stop();
    await sink.stop();
    await sentry.stop();
    redis.stop();
  });

  it('emitted something in every channel (so the checks below are meaningful)', () => {
    expect(emitted.metrics).toContain('cache_operations_total');
    expect(emitted.health).toContain('"redis"');
    expect(emitted.health).toContain('"database_2"');
    expect(emitted.spans).toContain('resourceSpans');
    expect(emitted.logs).toContain('[otel-agent]');
    expect(sentry.events().length).toBeGreaterThan(0);
  });

  for (const [name, secret] of Object.entries(SECRETS)) {
    it(`never emits the ${name}`, () => {
      for (const [channel, text] of Object.entries(emitted)) {
        if (channel === 'sentry' && name === 'dsnKey') continue;
        expect(text.includes(secret), `${name} in ${channel}`).toBe(false);
      }
    });
  }
});
