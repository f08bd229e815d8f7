/**
 * Golden test of the spans the agent exports: names, kinds, parent links, attributes, status,
 * events, flags, scope and resource, as an OTLP receiver decodes the default protocol
 * (http/protobuf). Changes to how spans are made (the sampled and the unsampled path) must leave
 * this output exactly as it was; a change meant to alter the spans updates the golden file with
 * `UPDATE_GOLDEN=1 npx vitest run test/agent/spans-golden.test.ts` and says why.
 *
 * The fixture (test/fixtures/spans-golden-app.mjs) serves GET /order/<n> with Redis GET, a pg
 * query, Redis SET and an outgoing http.get, and GET /fail with a failing query. Two agents run it:
 * - the default sampler: a request continuing a sampled caller, a root request, a failing one,
 *   and one whose caller did not sample it (flags 00);
 * - `parentbased_traceidratio` with ratio 0: a root request (not sampled) and one continuing a
 *   sampled caller (sampled, whatever the ratio).
 * What varies by nature is normalised: ids become the spans' places in a tree per request (parent
 * links are the nesting), times are checked for order and dropped, the downstream's random port
 * and the machine's facts in the resource become placeholders.
 *
 * Unsampled requests must export nothing and still propagate: the outgoing call carries
 * traceparent with the request's trace id (the caller's, or a new one for a root) and flags 00.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { OtlpSink } from '../helpers/otlp-sink';
import { decodeTraceRequest, type OtlpSpan } from '../helpers/sentry-ingest';

const GOLDEN = path.join(__dirname, '__golden__/spans.json');

/** Resource attributes that are facts about this machine and process, not about the agent's output. */
const MACHINE_RESOURCE = /^(host\.|process\.(pid|parent_pid|executable|command|owner|runtime\.version)|os\.|service\.instance\.id|container\.)/;

interface Caller {
  traceId: string;
  spanId: string;
  header: string;
}

function caller(flags: '01' | '00' = '01'): Caller {
  const traceId = randomBytes(16).toString('hex');
  const spanId = randomBytes(8).toString('hex');
  return { traceId, spanId, header: `00-${traceId}-${spanId}-${flags}` };
}

interface Downstream {
  url: string;
  port: number;
  seen: Array<{ path: string; traceparent?: string }>;
  close(): Promise<void>;
}

async function startDownstream(): Promise<Downstream> {
  const seen: Downstream['seen'] = [];
  const server = http.createServer((req, res) => {
    seen.push({ path: req.url ?? '', traceparent: req.headers.traceparent as string | undefined });
    res.end('in stock');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

interface Run {
  sink: OtlpSink;
  downstream: Downstream;
  app: AgentApp;
  statuses: Map<string, number>;
}

/** Starts the fixture under the agent, sends `requests` one after the other, then SIGTERM (the agent flushes on exit). */
async function run(env: Record<string, string>, requests: Array<{ label: string; path: string; traceparent?: string }>): Promise<Run> {
  const sink = new OtlpSink();
  const endpoint = await sink.start();
  const downstream = await startDownstream();
  const app = await startAgentApp({
    fixture: 'spans-golden-app.mjs',
    // Resource detectors other than env describe the process (pid, instance id, host): they are
    // tested in standard-env.test.ts; the golden pins the spans and the agent's own attributes.
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      DOWNSTREAM_URL: downstream.url,
      OTEL_SERVICE_NAME: 'spans-golden',
      OTEL_NODE_RESOURCE_DETECTORS: 'env',
      ...env,
    },
  });
  await agentReady(app);
  const statuses = new Map<string, number>();
  for (const r of requests) {
    const response = await app.request(r.path, { headers: r.traceparent ? { traceparent: r.traceparent } : {} });
    await response.text();
    statuses.set(r.label, response.status);
  }
  app.child.kill('SIGTERM');
  await app.exit;
  return { sink, downstream, app, statuses };
}

async function stop(r: Run | undefined): Promise<void> {
  if (!r) return;
  await r.app.stop();
  await r.sink.stop();
  await r.downstream.close();
  const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await redis.connect();
    const keys = await redis.keys(`spans-golden:${r.app.child.pid}:*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

function exported(r: Run): OtlpSpan[] {
  return r.sink.posts.filter((p) => p.path.endsWith('/v1/traces')).flatMap((p) => decodeTraceRequest(p.body));
}

/** Replaces what varies by run (the downstream's port) in an attribute value. */
function normaliseValue(value: unknown, downstreamPort: number): unknown {
  if (typeof value === 'number' && value === downstreamPort) return '<downstream port>';
  if (typeof value === 'string') return value.split(`:${downstreamPort}`).join(':<downstream port>');
  if (Array.isArray(value)) return value.map((v) => normaliseValue(v, downstreamPort));
  return value;
}

function sortedAttributes(attributes: Record<string, unknown>, downstreamPort: number): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(attributes)
      .sort()
      .map((k) => [k, normaliseValue(attributes[k], downstreamPort)]),
  );
}

interface SpanTree {
  name: string;
  kind: number;
  scope: string;
  flags: number;
  status: { code: number; message: string };
  attributes: Record<string, unknown>;
  events: Array<{ name: string; attributes: Record<string, unknown> }>;
  children: SpanTree[];
}

/**
 * The trace of one request as a tree under its SERVER span: every span of the trace must hang
 * under it (a span whose parent is not in the trace fails the test), children in a stable order.
 */
function traceTree(spans: OtlpSpan[], traceId: string, downstreamPort: number): { parent: string; tree: SpanTree } | undefined {
  const inTrace = spans.filter((s) => s.traceId === traceId);
  if (inTrace.length === 0) return undefined;
  const ids = new Set(inTrace.map((s) => s.spanId));
  const roots = inTrace.filter((s) => !ids.has(s.parentSpanId));
  expect(roots.map((s) => s.name)).toHaveLength(1);
  for (const s of inTrace) {
    expect(s.endTimeUnixNano, s.name).toBeGreaterThanOrEqual(s.startTimeUnixNano);
    expect(s.startTimeUnixNano, s.name).toBeGreaterThan(0n);
  }
  const build = (span: OtlpSpan): SpanTree => ({
    name: span.name,
    kind: span.kind,
    scope: span.scope,
    flags: span.flags,
    status: { code: span.statusCode, message: span.statusMessage },
    attributes: sortedAttributes(span.attributes, downstreamPort),
    events: span.events.map((e) => ({ name: e.name, attributes: sortedAttributes(e.attributes, downstreamPort) })),
    // Siblings in a fixed order by content, not by start time: a span started without an explicit
    // time takes Date.now() (1 ms resolution) while one started from an operation's recorded start
    // carries the performance clock, so two siblings within a millisecond may swap.
    children: inTrace
      .filter((c) => c.parentSpanId === span.spanId)
      .map(build)
      .map((tree) => ({ tree, key: JSON.stringify(tree) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
      .map(({ tree }) => tree),
  });
  const root = roots[0]!;
  return { parent: root.parentSpanId, tree: build(root) };
}

function resourceOf(spans: OtlpSpan[]): Record<string, unknown> {
  const resources = new Set(spans.map((s) => JSON.stringify(sortedAttributes(s.resource, -1))));
  expect(resources.size).toBe(1);
  const resource = spans[0]!.resource;
  return Object.fromEntries(
    Object.keys(resource)
      .sort()
      .map((k) => [k, MACHINE_RESOURCE.test(k) ? `<${typeof resource[k]}>` : resource[k]]),
  );
}

/** The traceparent the downstream saw for the request of `traceId` (or, for a root request, the path it was sent to). */
function propagated(r: Run, path: string): { traceId: string; parentId: string; flags: string } {
  const seen = r.downstream.seen.filter((s) => s.path === path);
  expect(seen, JSON.stringify(r.downstream.seen)).toHaveLength(1);
  const [version, traceId, parentId, flags] = (seen[0]!.traceparent ?? '').split('-');
  expect(version).toBe('00');
  return { traceId: traceId ?? '', parentId: parentId ?? '', flags: flags ?? '' };
}

describe('the spans the agent exports, against a golden file', () => {
  const sampled = caller();
  const failing = caller();
  const unsampled = caller('00');
  const sampledUnderRatio = caller();
  let byDefault: Run | undefined;
  let ratioZero: Run | undefined;
  let actual: Record<string, unknown>;

  beforeAll(async () => {
    byDefault = await run({}, [
      { label: 'sampled caller', path: '/order/1', traceparent: sampled.header },
      { label: 'root', path: '/order/2' },
      { label: 'failing query', path: '/fail', traceparent: failing.header },
      { label: 'unsampled caller', path: '/order/3', traceparent: unsampled.header },
    ]);
    ratioZero = await run({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' }, [
      { label: 'root, not sampled', path: '/order/4' },
      { label: 'sampled caller', path: '/order/5', traceparent: sampledUnderRatio.header },
    ]);
  });

  afterAll(async () => {
    await stop(byDefault);
    await stop(ratioZero);
  });

  it('answers every request', () => {
    expect(Object.fromEntries(byDefault!.statuses)).toEqual({ 'sampled caller': 200, root: 200, 'failing query': 500, 'unsampled caller': 200 });
    expect(Object.fromEntries(ratioZero!.statuses)).toEqual({ 'root, not sampled': 200, 'sampled caller': 200 });
  });

  it('exports nothing for a request that is not sampled, and still propagates its trace id with flags 00', () => {
    const spans = exported(byDefault!);
    expect(spans.filter((s) => s.traceId === unsampled.traceId)).toEqual([]);
    const fromUnsampled = propagated(byDefault!, '/stock/3');
    expect(fromUnsampled.traceId).toBe(unsampled.traceId);
    expect(fromUnsampled.flags).toBe('00');
    expect(fromUnsampled.parentId).toMatch(/^(?!0{16})[0-9a-f]{16}$/);

    // A root request the ratio did not keep: a new trace id, flags 00, and not a single span.
    const fromRoot = propagated(ratioZero!, '/stock/4');
    expect(fromRoot.traceId).toMatch(/^(?!0{32})[0-9a-f]{32}$/);
    expect(fromRoot.flags).toBe('00');
    expect(fromRoot.parentId).toMatch(/^(?!0{16})[0-9a-f]{16}$/);
    const ratioSpans = exported(ratioZero!);
    expect(ratioSpans.filter((s) => s.traceId === fromRoot.traceId)).toEqual([]);
    expect(new Set(ratioSpans.map((s) => s.traceId))).toEqual(new Set([sampledUnderRatio.traceId]));
  });

  it('exports the same spans as the golden file', () => {
    const spans = exported(byDefault!);
    const rootTrace = propagated(byDefault!, '/stock/2').traceId;
    const ratioSpans = exported(ratioZero!);
    const tree = (r: Run, s: OtlpSpan[], traceId: string, callerSpanId?: string) => {
      const t = traceTree(s, traceId, r.downstream.port);
      expect(t, `trace ${traceId}`).toBeDefined();
      // The server span continues the caller (its parent is the caller's span) or starts the trace.
      expect(t!.parent).toBe(callerSpanId ?? '');
      // The outgoing call's traceparent names the CLIENT span of the http.get as its parent.
      return { parent: callerSpanId ? 'the caller' : 'none', ...t!.tree };
    };
    const sampledTraceparent = propagated(byDefault!, '/stock/1');
    expect(sampledTraceparent.flags).toBe('01');
    expect(spans.some((s) => s.spanId === sampledTraceparent.parentId && s.kind === 3 && s.traceId === sampled.traceId)).toBe(true);
    // Every exported span belongs to one of the three sampled requests.
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([sampled.traceId, rootTrace, failing.traceId]));
    actual = {
      resource: resourceOf([...spans, ...ratioSpans]),
      'default sampler': {
        'GET /order/1, sampled caller': tree(byDefault!, spans, sampled.traceId, sampled.spanId),
        'GET /order/2, no traceparent': tree(byDefault!, spans, rootTrace),
        'GET /fail, sampled caller': tree(byDefault!, spans, failing.traceId, failing.spanId),
      },
      'parentbased_traceidratio 0': {
        'GET /order/5, sampled caller': tree(ratioZero!, ratioSpans, sampledUnderRatio.traceId, sampledUnderRatio.spanId),
      },
    };
    const text = JSON.stringify(actual, null, 2) + '\n';
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(GOLDEN, text);
    expect(existsSync(GOLDEN), 'no golden file: run with UPDATE_GOLDEN=1').toBe(true);
    expect(text).toBe(readFileSync(GOLDEN, 'utf8'));
  });
});
