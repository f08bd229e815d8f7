/**
 * URLs with credentials in them: an OTLP endpoint with user, password and an API key in its query,
 * a malformed OTEL_RESOURCE_ATTRIBUTES holding a key, a health target with a password, and an app
 * that calls out over fetch (`?api_key=&token=&sig=`) and http.get (`user:pw@`, `?token=`). None of
 * those secrets appears in the agent's log, on /metrics, in /health or in the spans it exports,
 * and the spans still say which host and path were called.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { OtlpSink, type OtlpSpan } from '../helpers/otlp-sink';
import { freePort, waitFor } from '../helpers/ports';

const SECRETS = {
  otlpPassword: 'PASSWORD-otlp-Vb61',
  otlpApiKey: 'SECRET-apikey-Tq27',
  resourceKey: 'SECRET-resattr-Jd93',
  healthPassword: 'PASSWORD-health-Lm40',
  s1: 'S1-fetch-apikey-Rw18',
  s2: 'S2-fetch-token-Px55',
  s3: 'S3-fetch-sig-Gc72',
  pw: 'pw-httpget-Nf36',
  token: 'T4-httpget-token-Ys09',
};

function urlFull(span: OtlpSpan): string {
  const value = span.attributes['url.full'];
  return typeof value === 'string' ? value : '';
}

describe('URLs are redacted wherever the agent shows them', () => {
  const sink = new OtlpSink();
  const received: Array<{ url: string; authorization?: string }> = [];
  const target = http.createServer((req, res) => {
    received.push({ url: req.url ?? '', authorization: req.headers.authorization });
    res.end('called');
  });
  let app: AgentApp;
  const emitted: Record<string, string> = {};
  let spans: OtlpSpan[] = [];

  beforeAll(async () => {
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    const targetPort = (target.address() as AddressInfo).port;
    const sinkUrl = new URL(await sink.start());
    app = await startAgentApp({
      fixture: 'redaction-app.mjs',
      env: {
        TARGET: `http://127.0.0.1:${targetPort}`,
        CALL_SECRETS: JSON.stringify(SECRETS),
        OTEL_SERVICE_NAME: 'redaction-app',
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://user:${SECRETS.otlpPassword}@${sinkUrl.host}/?apikey=${SECRETS.otlpApiKey}`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // Malformed (a pair without `=`): warned about, and must not be echoed.
        OTEL_RESOURCE_ATTRIBUTES: `deployment.environment=prod,api.key=${SECRETS.resourceKey},broken`,
        TUTOR_OTEL_HEALTH_REDIS_URL: `redis://probe:${SECRETS.healthPassword}@127.0.0.1:${await freePort()}/0`,
        OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,undici',
        OTEL_LOG_LEVEL: 'debug',
      },
    });
    await agentReady(app);
    const call = await app.request('/call');
    expect(call.status, await call.clone().text()).toBe(200);
    expect(await call.json()).toEqual({ fetched: 200, got: 200 });
    emitted.metrics = await app.scrapeText();
    emitted.health = JSON.stringify((await app.endpoint('/health')).body);
    app.child.kill('SIGTERM'); // flushes the spans on the way out
    await waitFor(() => app.exited, 15_000, 'exit');
    emitted.logs = app.stderr + app.stdout;
    emitted.spans = sink.posts.map((p) => p.body.toString('utf8')).join('\n');
    spans = sink.spans();
  });

  afterAll(async () => {
    await app?.stop();
    await sink.stop();
    target.closeAllConnections();
    await new Promise<void>((r) => target.close(() => r()));
  });

  it('the secrets really were in play: the app sent them, the agent exported to the endpoint with its credentials', () => {
    expect(received.some((r) => r.url.includes(SECRETS.s1) && r.url.includes(SECRETS.s2) && r.url.includes(SECRETS.s3))).toBe(true);
    const got = received.find((r) => r.url.startsWith('/got/path'));
    expect(got?.url).toContain(SECRETS.token);
    expect(Buffer.from(got?.authorization?.replace(/^Basic /, '') ?? '', 'base64').toString()).toBe(`user:${SECRETS.pw}`);
    // The exporter keeps the endpoint's query: the key reached the Collector, where it belongs.
    expect(sink.posts.some((p) => p.path === `/v1/traces?apikey=${SECRETS.otlpApiKey}`)).toBe(true);
  });

  it('emitted something in every channel (so the checks below are meaningful)', () => {
    expect(emitted.logs).toMatch(
      /\[otel-agent\] info: redaction-app: .*traces: otlp http:\/\/REDACTED:REDACTED@127\.0\.0\.1:\d+\/v1\/traces\?apikey=REDACTED/,
    );
    expect(emitted.logs).toContain('OTEL_RESOURCE_ATTRIBUTES=(value hidden)');
    expect(emitted.metrics).toContain('process_');
    expect(emitted.health).toContain('"redis"');
    expect(spans.length).toBeGreaterThan(0);
  });

  for (const [name, secret] of Object.entries(SECRETS)) {
    it(`never shows the ${name}`, () => {
      for (const [channel, text] of Object.entries(emitted)) expect(text.includes(secret), `${name} in ${channel}`).toBe(false);
    });
  }

  it('the fetch span keeps host, path and harmless parameters, with the secrets REDACTED', () => {
    const fetchSpan = spans.find((s) => s.kind === 3 && urlFull(s).includes('/fetched/path'));
    expect(fetchSpan, JSON.stringify(spans.map((s) => s.attributes))).toBeDefined();
    expect(fetchSpan!.attributes['url.full']).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/fetched\/path\?api_key=REDACTED&token=REDACTED&sig=REDACTED&page=2$/);
    expect(fetchSpan!.attributes['url.query']).toBe('?api_key=REDACTED&token=REDACTED&sig=REDACTED&page=2');
    expect(fetchSpan!.attributes['url.path']).toBe('/fetched/path');
    expect(fetchSpan!.attributes['server.address']).toBe('127.0.0.1');
  });

  it('the http.get span drops the user info and redacts the token in any case', () => {
    const getSpan = spans.find((s) => s.kind === 3 && urlFull(s).includes('/got/path'));
    expect(getSpan, JSON.stringify(spans.map((s) => s.attributes))).toBeDefined();
    expect(getSpan!.attributes['url.full']).toMatch(/^http:\/\/REDACTED:REDACTED@127\.0\.0\.1:\d+\/got\/path\?token=REDACTED&Token=REDACTED&page=3$/);
    expect(getSpan!.attributes['server.address']).toBe('127.0.0.1');
  });

  it('the health target is shown by its check only, never by its URL', () => {
    const health = JSON.parse(emitted.health) as { checks?: Record<string, { message: string }> };
    expect(emitted.health).not.toContain('redis://');
    expect(emitted.health).not.toContain('probe:');
    expect(JSON.stringify(health)).toMatch(/connection refused \(ECONNREFUSED\)/);
  });
});
