/**
 * The standard OpenTelemetry environment variables, on real processes: propagators, the batch
 * processor, span limits, resource detectors, exporter timeout, OTEL_LOG_LEVEL=debug routing
 * OpenTelemetry's diagnostics to the agent's log, OTEL_SDK_DISABLED per the specification, and
 * one warning for a standard variable the agent does not implement.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { HeaderEcho } from '../helpers/header-echo';
import { OtlpSink } from '../helpers/otlp-sink';
import { freePort, waitFor } from '../helpers/ports';

const hex = (bytes: number) => [...crypto.getRandomValues(new Uint8Array(bytes))].map((b) => b.toString(16).padStart(2, '0')).join('');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(options: Parameters<typeof startAgentApp>[0]): Promise<AgentApp> {
  const app = await startAgentApp(options);
  cleanups.push(() => app.stop());
  await agentReady(app);
  return app;
}

async function sink(): Promise<{ sink: OtlpSink; endpoint: string }> {
  const s = new OtlpSink();
  const endpoint = await s.start();
  cleanups.push(() => s.stop());
  return { sink: s, endpoint };
}

async function downstream(): Promise<{ echo: HeaderEcho; url: string }> {
  const echo = new HeaderEcho();
  const url = await echo.start();
  cleanups.push(() => echo.stop());
  return { echo, url };
}

describe('OTEL_PROPAGATORS', () => {
  it('b3: an incoming B3 header continues its trace, and outgoing calls carry B3, not traceparent', async () => {
    const { sink: otlp, endpoint } = await sink();
    const { url } = await downstream();
    const app = await started({
      fixture: 'forwarding-app.cjs',
      env: { OTEL_PROPAGATORS: 'b3', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', DOWNSTREAM_URL: url },
    });
    const traceId = hex(16);
    const seen = (await (await app.request('/call/http', { headers: { b3: `${traceId}-${hex(8)}-1` } })).json()) as Record<string, string | undefined>;
    expect(seen.b3).toMatch(new RegExp(`^${traceId}-[0-9a-f]{16}-1$`));
    expect(seen.traceparent).toBeUndefined();
    app.child.kill('SIGTERM');
    await app.exit;
    expect(otlp.spans().find((s) => s.kind === 2)?.traceId).toBe(traceId);
  });

  it('b3multi: outgoing calls carry the X-B3 headers', async () => {
    const { endpoint } = await sink();
    const { url } = await downstream();
    const app = await started({
      fixture: 'forwarding-app.cjs',
      env: { OTEL_PROPAGATORS: 'b3multi', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, DOWNSTREAM_URL: url },
    });
    const traceId = hex(16);
    const seen = (await (await app.request('/call/fetch', { headers: { traceparent: `00-${traceId}-${hex(8)}-01` } })).json()) as Record<
      string,
      string | undefined
    >;
    // traceparent is not among the propagators: the incoming one starts nothing, a new trace begins.
    expect(seen['x-b3-traceid']).toMatch(/^[0-9a-f]{32}$/);
    expect(seen['x-b3-traceid']).not.toBe(traceId);
    expect(seen['x-b3-spanid']).toMatch(/^[0-9a-f]{16}$/);
    expect(seen.traceparent).toBeUndefined();
  });
});

describe('batch processor, span limits and the resource', () => {
  it('sends batches of OTEL_BSP_MAX_EXPORT_BATCH_SIZE, cuts values at the limit, and describes the process', async () => {
    const { sink: otlp, endpoint } = await sink();
    const app = await started({
      fixture: 'plain-server.cjs',
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '50',
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '1',
        OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: '6',
        TUTOR_OTEL_PROMETHEUS_TARGET_INFO: 'true',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=staging',
      },
    });
    for (const path of ['/abcdefghijkl', '/b', '/c']) expect((await app.request(path)).status).toBe(200);
    const spans = await waitFor(() => (otlp.spans().length >= 3 ? otlp.spans() : undefined), 15_000, 'three spans without a shutdown flush');
    expect(otlp.posts.every((p) => JSON.parse(p.body.toString()).resourceSpans[0].scopeSpans[0].spans.length === 1)).toBe(true);
    expect(spans.map((s) => s.attributes['url.path'])).toContain('/abcde');

    const resource = spans[0]!.resource;
    expect(resource['service.instance.id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(resource['host.name']).toBeTruthy();
    expect(Number(resource['process.pid'])).toBe(app.child.pid);
    expect(resource['process.command_args']).toBeUndefined();
    expect(resource['deployment.environment.name']).toBe('staging');
    // The same instance id on /metrics, in target_info (asked for here; off by default).
    const text = await app.scrapeText();
    expect(text).toMatch(new RegExp(`^target_info\\{.*service_instance_id="${resource['service.instance.id'] as string}"`, 'm'));
  });

  it('OTEL_NODE_RESOURCE_DETECTORS=env keeps the resource to the service and OTEL_RESOURCE_ATTRIBUTES; target_info stays off by default', async () => {
    const { sink: otlp, endpoint } = await sink();
    const app = await started({
      fixture: 'plain-server.cjs',
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_NODE_RESOURCE_DETECTORS: 'env',
        OTEL_RESOURCE_ATTRIBUTES: 'team=tutors',
      },
    });
    expect((await app.request('/')).status).toBe(200);
    expect(await app.scrapeText()).not.toMatch(/^target_info/m);
    app.child.kill('SIGTERM');
    await app.exit;
    const resource = otlp.spans()[0]!.resource;
    expect(resource.team).toBe('tutors');
    expect(resource['host.name']).toBeUndefined();
    expect(resource['service.instance.id']).toBeUndefined();
  });
});

describe('OTEL_LOG_LEVEL=debug and the OTLP exporter timeout', () => {
  it('a refused export is in the agent log at debug, and not at the default level', async () => {
    const closed = `http://127.0.0.1:${await freePort()}`;
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: closed, OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_EXPORTER_OTLP_TIMEOUT: '1000' };
    const debug = await started({ fixture: 'plain-server.cjs', env: { ...env, OTEL_LOG_LEVEL: 'debug' } });
    const quiet = await started({ fixture: 'plain-server.cjs', env });
    expect((await debug.request('/')).status).toBe(200);
    expect((await quiet.request('/')).status).toBe(200);
    await waitFor(() => (debug.agentLines.some((l) => /otel: .*ECONNREFUSED/.test(l)) ? true : undefined), 15_000, 'the export failure in the log');
    expect(quiet.agentLines.filter((l) => l.includes('otel:'))).toEqual([]);
  });

  it('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ends an export a stalled Collector holds', async () => {
    const { sink: otlp, endpoint } = await sink();
    otlp.mode = 'stall';
    const app = await started({
      fixture: 'plain-server.cjs',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_BSP_SCHEDULE_DELAY: '50', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '300', OTEL_LOG_LEVEL: 'debug' },
    });
    expect((await app.request('/')).status).toBe(200);
    await waitFor(() => (otlp.posts.length > 0 ? true : undefined), 10_000, 'the export to arrive');
    const posted = Date.now();
    await waitFor(() => (app.agentLines.some((l) => /otel: .*[Tt]imeout/.test(l)) ? true : undefined), 10_000, 'the timeout in the log');
    // The default (5 s) would take far longer than this generous bound.
    expect(Date.now() - posted).toBeLessThan(3000);
  });
});

describe('OTEL_SDK_DISABLED and unimplemented variables', () => {
  it('only `true` turns the agent off; `1` is one warning and the agent runs', async () => {
    const app = await started({ fixture: 'plain-server.cjs', env: { OTEL_SDK_DISABLED: '1' } });
    expect(app.agentLines.filter((l) => l.includes('OTEL_SDK_DISABLED'))).toHaveLength(1);
    expect((await app.scrapeText()).length).toBeGreaterThan(0);
  });

  it('OTEL_SDK_DISABLED=true with OTEL_LOG_LEVEL=none prints nothing', async () => {
    const app = await startAgentApp({ fixture: 'plain-server.cjs', env: { OTEL_SDK_DISABLED: 'TRUE', OTEL_LOG_LEVEL: 'none' } });
    cleanups.push(() => app.stop());
    expect((await app.request('/')).status).toBe(200);
    await expect(fetch(`${app.metricsUrl}/live`)).rejects.toThrow();
    expect(app.agentLines).toEqual([]);
  });

  it('OTEL_LOGS_EXPORTER=otlp is one warning naming it', async () => {
    const app = await started({ fixture: 'plain-server.cjs', env: { OTEL_LOGS_EXPORTER: 'otlp' } });
    expect(app.agentLines.filter((l) => l.includes('OTEL_LOGS_EXPORTER'))).toEqual([
      '[otel-agent] warn: OTEL_LOGS_EXPORTER is set, but this agent does not implement it (the agent exports no logs); it has no effect',
    ]);
  });
});
