/**
 * The main job (`npm start`): the demo service on embedded PGlite with the agent preloaded,
 * traffic flowing, metrics and health answering.
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/agent-process';
import { freePort, waitFor } from '../helpers/ports';
import { parsePrometheusText, total } from '../helpers/prometheus-text';

describe('npm start demo', () => {
  let child: ReturnType<typeof spawn> | undefined;
  let output = '';

  afterAll(() => {
    child?.kill('SIGKILL');
  });

  it('serves traffic through the real pg driver to embedded PGlite and exposes it on /metrics and /health', async () => {
    const [servicePort, metricsPort] = [await freePort(), await freePort()];
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(servicePort),
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      DEMO_DURATION_SECONDS: '120',
    };
    child = spawn(process.execPath, [path.join(REPO, 'examples/start-demo.mjs')], { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));

    await waitFor(() => (output.includes('generating traffic') ? true : undefined), 60_000, `the demo to start: ${output}`);
    expect(output).toContain('embedded PGlite');
    expect(output).toContain(`http://127.0.0.1:${metricsPort}/metrics`);

    const samples = await waitFor(
      async () => {
        const parsed = parsePrometheusText(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
        return total(parsed, 'http_requests_total', { route: '/api/lessons/:id' }) >= 5 ? parsed : undefined;
      },
      60_000,
      'demo traffic on /metrics',
    );
    expect(total(samples, 'http_requests_total', { service: 'tutoring-demo', route: '/api/students/:id/progress' })).toBeGreaterThan(0);
    expect(total(samples, 'db_query_duration_seconds_count', { db_system: 'postgresql', operation: 'INSERT', status: 'ok' })).toBeGreaterThan(0);

    const health = (await (await fetch(`http://127.0.0.1:${metricsPort}/health`)).json()) as {
      service: string;
      checks: Record<string, { status: string }>;
    };
    expect(health.service).toBe('tutoring-demo');
    expect(health.checks.database.status).toBe('pass');

    // AI metrics from the tutor-hint route through the real openai SDK (a local stand-in API without a key).
    const ai = await waitFor(
      async () => {
        const parsed = parsePrometheusText(await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text());
        return total(parsed, 'ai_generation_total', { provider: 'openai', status: 'success' }) >= 2 ? parsed : undefined;
      },
      60_000,
      'AI generations on /metrics',
    );
    expect(total(ai, 'openai_tokens_used_total', { token_type: 'output' })).toBeGreaterThan(0);
    expect(total(ai, 'ai_cost_usd_total')).toBeGreaterThan(0);
    expect(output).toContain('OpenAI-compatible stand-in');

    child.kill('SIGTERM');
    const code = await new Promise((resolve) => child!.once('exit', resolve));
    expect(code).toBe(0);
  }, 240_000);
});
