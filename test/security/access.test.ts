/**
 * Who may read the agent's endpoints, and one agent per process: credentials from env and files,
 * the bind address, and stepping aside for an OpenTelemetry SDK that registered first.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { OtlpSink } from '../helpers/otlp-sink';
import { waitFor } from '../helpers/ports';
import { total } from '../helpers/prometheus-text';

let app: AgentApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});
const dir = mkdtempSync(path.join(tmpdir(), 'otel-agent-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const status = async (url: string, authorization?: string) => (await fetch(url, { headers: authorization ? { authorization } : {} })).status;

describe('credentials', () => {
  it('accepts basic auth from env, and a bearer token from a file, and nothing else', async () => {
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, 'file-token-9\n');
    app = await startAgentApp({ fixture: 'plain-server.cjs', env: { TUTOR_OTEL_AUTH_BASIC: 'prom:pa55', TUTOR_OTEL_AUTH_TOKEN_FILE: tokenFile } });
    await agentReady(app);
    const metrics = `${app.metricsUrl}/metrics`;
    expect(await status(metrics)).toBe(401);
    expect(await status(metrics, `Basic ${Buffer.from('prom:pa55').toString('base64')}`)).toBe(200);
    expect(await status(metrics, `Basic ${Buffer.from('prom:wrong').toString('base64')}`)).toBe(401);
    expect(await status(metrics, 'Bearer file-token-9')).toBe(200);
    expect(await status(`${app.metricsUrl}/health`, 'Bearer file-token-9')).toBe(200);
    expect(await status(`${app.metricsUrl}/health`)).toBe(401);
    expect(await status(`${app.metricsUrl}/live`)).toBe(200);
  });

  it('locks the endpoints, with one warning, when the credential file cannot be read', async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs', env: { TUTOR_OTEL_AUTH_TOKEN_FILE: path.join(dir, 'missing') } });
    await agentReady(app);
    expect(await status(`${app.metricsUrl}/metrics`)).toBe(401);
    expect(await status(`${app.metricsUrl}/metrics`, 'Bearer ')).toBe(401);
    expect(app.agentLines.filter((l) => l.includes('TUTOR_OTEL_AUTH_TOKEN_FILE'))).toHaveLength(1);
    expect((await app.request('/')).status).toBe(200);
  });
});

describe('bind address', () => {
  it('listens only where OTEL_EXPORTER_PROMETHEUS_HOST says', async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs', env: { OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.2' } });
    await waitFor(
      async () => ((await fetch(`http://127.0.0.2:${app!.metricsPort}/live`)).status === 200 ? true : undefined),
      10_000,
      '/live on 127.0.0.2',
    );
    await expect(fetch(`http://127.0.0.1:${app.metricsPort}/live`)).rejects.toThrow();
  });
});

describe('another OpenTelemetry SDK registered first', () => {
  it('steps aside for tracing with one warning, keeps metrics, and spans are not doubled', async () => {
    const sink = new OtlpSink();
    const endpoint = await sink.start();
    try {
      app = await startAgentApp({
        fixture: 'plain-server.cjs',
        preload: 'none',
        nodeArgs: ['--import', '@opentelemetry/auto-instrumentations-node/register', '--import', path.resolve(__dirname, '../../dist/register.js')],
        env: {
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          // OTEL_METRICS_EXPORTER is read by both SDKs now: left unset, the other pushes (its
          // default, to the sink) and the agent serves /metrics (its default).
          OTEL_LOGS_EXPORTER: 'none',
          OTEL_NODE_RESOURCE_DETECTORS: 'none',
          OTEL_BSP_SCHEDULE_DELAY: '200',
        },
      });
      await agentReady(app);
      for (let i = 0; i < 3; i++) expect((await app.request('/once')).status).toBe(200);
      expect(app.agentLines.filter((l) => l.includes('another OpenTelemetry SDK'))).toHaveLength(1);
      expect(total(await app.scrape(), 'http_requests_total', { route: '/once' })).toBe(3);
      const servers = await waitFor(
        () => {
          const found = sink.spans().filter((s) => s.kind === 2 && s.attributes['url.path'] === '/once');
          return found.length >= 3 ? found : undefined;
        },
        20_000,
        'the other SDK to export its server spans',
      );
      await new Promise((r) => setTimeout(r, 500));
      expect(sink.spans().filter((s) => s.kind === 2 && s.attributes['url.path'] === '/once')).toHaveLength(3);
      expect(servers.every((s) => s.resource['telemetry.distro.name'] !== '@tutor/otel-agent')).toBe(true);
    } finally {
      await sink.stop();
    }
  });
});
