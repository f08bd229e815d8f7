/**
 * The agent never changes how the app lives and dies: signals, natural exit, double load, worker
 * threads, bad configuration, a taken port, an old Node, OTEL_SDK_DISABLED.
 */
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import * as net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { waitFor } from '../helpers/ports';

let app: AgentApp | undefined;
afterEach(async () => {
  await app?.stop();
  app = undefined;
});

async function exitWithin(target: AgentApp, ms: number) {
  return waitFor(() => target.exited, ms, 'the process to exit');
}

describe('signals', () => {
  it('SIGTERM ends an app without its own handler the way Node would (killed by the signal)', async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs' });
    await agentReady(app);
    expect((await app.request('/')).status).toBe(200);
    app.child.kill('SIGTERM');
    const exited = await exitWithin(app, 10_000);
    expect(exited).toEqual({ code: null, signal: 'SIGTERM' });
  });

  it('SIGINT likewise', async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs' });
    await agentReady(app);
    app.child.kill('SIGINT');
    expect(await exitWithin(app, 10_000)).toEqual({ code: null, signal: 'SIGINT' });
  });

  it("leaves an app's own SIGTERM handler in charge, and turns /ready to 503", async () => {
    app = await startAgentApp({ fixture: 'graceful-server.mjs', env: { TUTOR_OTEL_SHUTDOWN_TIMEOUT_MS: '2000' } });
    await agentReady(app);
    expect((await app.endpoint('/ready')).status).toBe(200);
    app.child.kill('SIGTERM');
    const exited = await exitWithin(app, 10_000);
    expect(exited).toEqual({ code: 0, signal: null });
    expect(app.stdout).toContain('app: closing');
  });

  it('flushes traces and still exits on SIGTERM when the trace endpoint is down', async () => {
    const closed = await (await import('../helpers/ports')).freePort();
    app = await startAgentApp({
      fixture: 'plain-server.cjs',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closed}`, TUTOR_OTEL_SHUTDOWN_TIMEOUT_MS: '2000' },
    });
    await agentReady(app);
    for (let i = 0; i < 5; i++) expect((await app.request('/')).status).toBe(200);
    app.child.kill('SIGTERM');
    expect(await exitWithin(app, 10_000)).toEqual({ code: null, signal: 'SIGTERM' });
  });
});

describe('process lifetime', () => {
  it('does not keep a script alive that would exit on its own', async () => {
    app = await startAgentApp({ fixture: 'short-script.mjs', waitForListening: false });
    const exited = await exitWithin(app, 20_000);
    expect(exited).toEqual({ code: 0, signal: null });
    expect(app.stdout).toContain('script done');
  });

  it('ends a script within the flush deadline when the trace Collector is down', async () => {
    const closed = await (await import('../helpers/ports')).freePort();
    app = await startAgentApp({
      fixture: 'short-script.mjs',
      waitForListening: false,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closed}`, TUTOR_OTEL_SHUTDOWN_TIMEOUT_MS: '1000' },
    });
    expect(await exitWithin(app, 15_000)).toEqual({ code: 0, signal: null });
    expect(app.stdout).toContain('script done');
  });

  it('does not keep a script alive with tracing on either', async () => {
    app = await startAgentApp({
      fixture: 'short-script.mjs',
      waitForListening: false,
      env: { OTEL_TRACES_EXPORTER: 'console', OTEL_LOG_LEVEL: 'warn' },
    });
    expect(await exitWithin(app, 20_000)).toEqual({ code: 0, signal: null });
  });
});

describe('loading', () => {
  it('runs one agent when loaded twice (--require and --import together)', async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs', preload: ['require', 'import'] });
    await agentReady(app);
    expect((await app.request('/')).status).toBe(200);
    expect(app.agentLines.filter((l) => l.includes('info:'))).toHaveLength(1);
    expect(app.agentLines.filter((l) => /warn|error/.test(l))).toHaveLength(0);
    expect((await app.scrapeText()).match(/^http_requests_total\{/gm)).toHaveLength(1);
  });

  it('leaves worker threads alone: one agent, in the main thread', async () => {
    app = await startAgentApp({ fixture: 'worker-app.mjs' });
    await agentReady(app);
    expect(app.stdout).toContain('worker up');
    expect(app.agentLines.filter((l) => l.includes('info:'))).toHaveLength(1);
    expect(app.agentLines.filter((l) => /warn|error/.test(l))).toHaveLength(0);
  });

  it('is off with OTEL_SDK_DISABLED=true: no endpoint, the app runs', async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs', env: { OTEL_SDK_DISABLED: 'true' } });
    expect((await app.request('/')).status).toBe(200);
    await expect(fetch(`${app.metricsUrl}/live`)).rejects.toThrow();
    expect(app.agentLines).toHaveLength(1);
  });

  const node20 = ['/usr/bin/node', '/usr/local/bin/node'].find((p) => {
    if (!existsSync(p)) return false;
    const version = execFileSync(p, ['--version'], { encoding: 'utf8' }).trim();
    return /^v(1\d|20|21|22\.(\d|1[0-4]))\./.test(version);
  });

  it.skipIf(!node20)('prints one warning on a Node older than 22.15 and the app runs uninstrumented', async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs', nodeBinary: node20 });
    expect((await app.request('/')).status).toBe(200);
    expect(app.agentLines).toHaveLength(1);
    expect(app.agentLines[0]).toMatch(/older than 22\.15/);
    await expect(fetch(`${app.metricsUrl}/live`)).rejects.toThrow();
  });
});

describe('bad configuration', () => {
  it('warns once per bad variable, naming it and the default, and the app starts', async () => {
    const bad = {
      OTEL_LOG_LEVEL: 'loud',
      TUTOR_OTEL_HTTP_ROUTE_LIMIT: '-5',
      OTEL_TRACES_SAMPLER: 'sometimes',
      OTEL_TRACES_SAMPLER_ARG: '7',
      TUTOR_OTEL_HEALTH_TIMEOUT_MS: '1e9',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url',
      OTEL_RESOURCE_ATTRIBUTES: 'novalue',
      OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'mongodb',
      TUTOR_OTEL_SEMCONV_METRICS: 'maybe',
    };
    app = await startAgentApp({ fixture: 'plain-server.cjs', env: bad });
    await agentReady(app);
    expect((await app.request('/')).status).toBe(200);
    const warnings = app.agentLines.filter((l) => l.includes('warn:'));
    for (const variable of Object.keys(bad)) {
      const mine = warnings.filter((l) => l.includes(`${variable}=`) || l.includes(`${variable} names`));
      expect(mine, variable).toHaveLength(1);
      if (variable !== 'OTEL_NODE_DISABLED_INSTRUMENTATIONS') expect(mine[0]).toMatch(/using the default/);
    }
    expect(warnings).toHaveLength(Object.keys(bad).length);
  });

  it('runs the app with one warning when the metrics port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      app = await startAgentApp({ fixture: 'plain-server.cjs', env: { OTEL_EXPORTER_PROMETHEUS_PORT: String(taken) } });
      expect((await app.request('/')).status).toBe(200);
      await waitFor(() => (app!.agentLines.some((l) => l.includes('already in use')) ? true : undefined), 10_000, 'the warning');
      expect(app.agentLines.filter((l) => l.includes('warn:'))).toHaveLength(1);
    } finally {
      blocker.close();
    }
  });
});
