/**
 * With traces off, a service in the middle of a traced call chain passes the trace on: a traced
 * caller (the agent with traces on) -> a service with traces off -> a downstream service, one
 * trace id end to end, over node:http and fetch, baggage included, and no span from the middle.
 * Calls that belong to no request carry nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { HeaderEcho } from '../helpers/header-echo';
import { OtlpSink } from '../helpers/otlp-sink';
import { waitFor } from '../helpers/ports';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('trace context forwarding with traces off', () => {
  const sink = new OtlpSink();
  const echo = new HeaderEcho();
  let middle: AgentApp;
  const callers: AgentApp[] = [];

  beforeAll(async () => {
    const endpoint = await sink.start();
    const downstream = await echo.start();
    middle = await startAgentApp({ fixture: 'forwarding-app.cjs', env: { OTEL_SERVICE_NAME: 'middle', DOWNSTREAM_URL: downstream } });
    await agentReady(middle);
    expect(middle.agentLines.find((l) => l.includes('info:'))).toMatch(/traces: off/);
    for (const path of ['/call/http', '/call/fetch']) {
      const caller = await startAgentApp({
        fixture: 'forwarding-app.cjs',
        env: {
          OTEL_SERVICE_NAME: 'caller',
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
          DOWNSTREAM_URL: middle.appUrl,
          DOWNSTREAM_PATH: path,
        },
      });
      callers.push(caller);
      await agentReady(caller);
    }
  });

  afterAll(async () => {
    for (const app of [middle, ...callers]) await app?.stop();
    await sink.stop();
    await echo.stop();
  });

  it.each([
    ['node:http', 0],
    ['fetch', 1],
  ] as const)('over %s: the downstream sees the caller’s trace, parented on the caller’s client span, with its baggage', async (_via, index) => {
    const caller = callers[index]!;
    const seen = (await (await caller.request('/call/http', { headers: { baggage: 'tenant=t1' } })).json()) as Record<string, string>;
    const match = TRACEPARENT.exec(seen.traceparent ?? '');
    expect(match, JSON.stringify(seen)).not.toBeNull();
    expect(seen.baggage).toBe('tenant=t1');

    caller.child.kill('SIGTERM');
    await caller.exit;
    const spans = await waitFor(() => (sink.spans().length > 0 ? sink.spans() : undefined));
    const server = spans.find((s) => s.kind === 2 && s.traceId === match![1]);
    expect(server, 'the caller’s server span is in the same trace').toBeDefined();
    const client = spans.find((s) => s.kind === 3 && s.traceId === match![1]);
    // The middle service made no span: the downstream's parent is the caller's client span.
    expect(client?.spanId).toBe(match![2]);
    expect(spans.every((s) => s.resource['service.name'] === 'caller')).toBe(true);
  });

  it('a call the middle service makes outside any request carries no trace context', async () => {
    const traceparent = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
    const seen = (await (await middle.request('/background', { headers: { traceparent } })).json()) as Record<string, string>;
    expect(seen.traceparent).toBeUndefined();
    const inside = (await (await middle.request('/call/http', { headers: { traceparent } })).json()) as Record<string, string>;
    expect(inside.traceparent).toBe(traceparent);
  });

  it('a request without trace context forwards nothing', async () => {
    const seen = (await (await middle.request('/call/fetch')).json()) as Record<string, string>;
    expect(seen.traceparent).toBeUndefined();
    expect(seen.baggage).toBeUndefined();
  });
});
