/**
 * With traces off, a service in the middle of a traced call chain passes the trace on: a traced
 * caller (the agent with traces on) -> a service with traces off -> a downstream service, one
 * trace id end to end, over node:http and fetch, baggage included, and no span from the middle.
 * Calls that belong to no request carry nothing.
 */
import * as net from 'node:net';
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
  /** The same service with the AI meters off: only requests that bring trace context are tracked. */
  let middleNoAi: AgentApp;
  const callers: AgentApp[] = [];

  beforeAll(async () => {
    const endpoint = await sink.start();
    const downstream = await echo.start();
    middle = await startAgentApp({ fixture: 'forwarding-app.cjs', env: { OTEL_SERVICE_NAME: 'middle', DOWNSTREAM_URL: downstream } });
    middleNoAi = await startAgentApp({
      fixture: 'forwarding-app.cjs',
      env: { OTEL_SERVICE_NAME: 'middle', DOWNSTREAM_URL: downstream, OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'openai,anthropic' },
    });
    await Promise.all([agentReady(middle), agentReady(middleNoAi)]);
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
    for (const app of [middle, middleNoAi, ...callers]) await app?.stop();
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

  it.each([
    ['AI meters on (every request tracked)', () => middle],
    ['AI meters off (only requests with trace context tracked)', () => middleNoAi],
  ])('pipelined on one connection, a request without trace context does not take the one before it: %s', async (_what, app) => {
    // Both requests arrive in one read, so Node parses and starts both in the same callback.
    const traceparent = `00-${'12'.repeat(16)}-${'34'.repeat(8)}-01`;
    const { port, hostname } = new URL(app().appUrl);
    const raw = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = net.connect(Number(port), hostname, () => {
        socket.write(
          `GET /call/http HTTP/1.1\r\nHost: x\r\ntraceparent: ${traceparent}\r\n\r\n` + 'GET /call/http HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
        );
      });
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    // Each answer's body is the flat JSON object of the headers the downstream saw.
    const seen = (raw.match(/\{[^{}]*\}/g) ?? []).map((body) => JSON.parse(body) as Record<string, string>);
    expect(seen).toHaveLength(2);
    expect(seen[0]!.traceparent).toBe(traceparent);
    expect(seen[1]!.traceparent).toBeUndefined();
  });

  it('a request without trace context forwards nothing', async () => {
    const seen = (await (await middle.request('/call/fetch')).json()) as Record<string, string>;
    expect(seen.traceparent).toBeUndefined();
    expect(seen.baggage).toBeUndefined();
  });
});
