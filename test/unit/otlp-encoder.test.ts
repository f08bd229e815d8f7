/**
 * The agent's OTLP span encoder against upstream's ProtobufTraceSerializer: for the same spans the
 * bytes must be identical (a Collector then sees exactly what the upstream exporter would send).
 * Spans come from the real SDK (TracerProvider + InMemorySpanExporter) and, for what the SDK will
 * not make (remote parents with trace state, odd counts, values the SDK drops), are built by hand.
 */
import { Buffer } from 'node:buffer';
import { SpanKind, SpanStatusCode, TraceFlags, createTraceState, type Attributes, type HrTime, type SpanContext } from '@opentelemetry/api';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import { OtlpTraceEncoder } from '../../src/tracing/otlp-encoder';
import { decodeTraceRequest } from '../helpers/otlp-protobuf.mjs';

const upstream = (spans: ReadableSpan[]) => Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);
const ours = (encoder: OtlpTraceEncoder, spans: ReadableSpan[]) => Buffer.from(encoder.encode(spans));

/** Encodes twice with one encoder (the second time from its cached resource and scope bytes). */
function expectSameAsUpstream(spans: ReadableSpan[], encoder = new OtlpTraceEncoder()): Buffer {
  const expected = upstream(spans);
  expect(ours(encoder, spans).equals(expected)).toBe(true);
  expect(ours(encoder, spans).equals(expected)).toBe(true);
  return expected;
}

/** A span's fields as a plain object (SDK spans keep spanContext on their prototype), some changed. */
function variant(span: ReadableSpan, changes: Partial<ReadableSpan>): ReadableSpan {
  return {
    name: span.name,
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status,
    attributes: span.attributes,
    links: span.links,
    events: span.events,
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
    ...changes,
  };
}

const EDGE_NUMBERS: Attributes = {
  zero: 0,
  minusZero: -0,
  minusOne: -1,
  small: 127,
  twoBytes: 128,
  uint32Max: 2 ** 32 - 1,
  uint32Past: 2 ** 32,
  safeMax: Number.MAX_SAFE_INTEGER,
  twoTo53: 2 ** 53,
  twoTo62: 2 ** 62,
  twoTo63: 2 ** 63,
  minInt64: -(2 ** 63),
  belowMinInt64: -(2 ** 64),
  negativeLarge: -(2 ** 40) - 3,
  half: 1.5,
  negativeFraction: -0.25,
  nan: NaN,
  infinity: Infinity,
  minusInfinity: -Infinity,
  tiny: Number.MIN_VALUE,
};

const STRINGS: Attributes = {
  empty: '',
  ascii: 'GET /lessons/:id',
  accented: 'café crème',
  cjk: '東京タワー',
  emoji: 'ok 👍🏽 done',
  loneSurrogate: 'bad \ud800 half',
  longLoneSurrogates: 'x'.repeat(60) + '\udc00' + 'y'.repeat(60) + '\ud83d',
  longAscii: 'x'.repeat(200),
  longUnicode: 'ü'.repeat(80),
  longEmoji: '🚀'.repeat(50),
  boundary42: 'é'.repeat(42),
  boundary43: 'é'.repeat(43),
  threeByte42: '€'.repeat(42),
  threeByte43: '€'.repeat(43),
  veryLong: 'SELECT * FROM t WHERE id = $1 -- '.repeat(600),
};

function sdkSpans(resource: Resource, record: (provider: TracerProvider) => void): ReadableSpan[] {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  record(provider);
  return exporter.getFinishedSpans();
}

const RESOURCE = resourceFromAttributes({ 'service.name': 'lessons', 'service.version': '1.2.3', 'host.name': 'h1', 'process.pid': 4242 });

function remoteContext(traceState?: string): SpanContext {
  return {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    ...(traceState ? { traceState: createTraceState(traceState) } : {}),
  };
}

describe('OTLP span encoder', () => {
  it('writes the bytes upstream writes for spans of every kind, attribute type, event and status', () => {
    const spans = sdkSpans(RESOURCE, (provider) => {
      const tracer = provider.getTracer('@tutor/otel-agent', '0.1.0');
      const server = tracer.startSpan('GET /lessons/:id', {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': 'GET', 'http.route': '/lessons/:id', 'http.response.status_code': 200, 'url.path': '/lessons/42' },
      });
      server.setAttributes(EDGE_NUMBERS);
      server.setAttributes(STRINGS);
      server.setAttributes({
        yes: true,
        no: false,
        strings: ['a', '', 'ü'],
        ints: [1, -1, 2 ** 40],
        doubles: [1.5, NaN],
        bools: [true, false],
        holes: ['a', null, 'b'] as never,
        emptyArray: [],
      });
      server.addEvent('cache.miss');
      server.addEvent('with attributes', { key: 'k', n: 3, d: 0.5 });
      server.recordException(new Error('boom ✗'));
      server.setStatus({ code: SpanStatusCode.ERROR, message: 'boom ✗' });
      for (const kind of [SpanKind.INTERNAL, SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER]) {
        const child = tracer.startSpan(`kind ${kind}`, { kind, attributes: { 'db.system.name': 'redis', 'db.operation.name': 'GET' } });
        child.setStatus({ code: SpanStatusCode.OK });
        child.end();
      }
      const empty = tracer.startSpan('');
      empty.end();
      server.end();
    });
    expect(spans.length).toBe(6);
    const bytes = expectSameAsUpstream(spans);
    // And what a receiver reads back is what was recorded (not only "the same as upstream").
    const decoded = decodeTraceRequest(bytes);
    const server = decoded.find((s) => s.name === 'GET /lessons/:id')!;
    expect(server.kind).toBe(SpanKind.SERVER + 1);
    expect(server.attributes['http.route']).toBe('/lessons/:id');
    expect(server.attributes['emoji']).toBe('ok 👍🏽 done');
    expect(server.statusMessage).toBe('boom ✗');
    expect(server.events.map((e) => e.name)).toEqual(['cache.miss', 'with attributes', 'exception']);
    expect(decoded[0]!.resource['service.name']).toBe('lessons');
  });

  it('writes parent ids, remote parents, trace state and links as upstream does', () => {
    const base = sdkSpans(RESOURCE, (provider) => {
      const tracer = provider.getTracer('links');
      const parent = tracer.startSpan('parent');
      parent.end();
      const linked = tracer.startSpan('linked', {
        links: [
          { context: parent.spanContext() },
          { context: remoteContext('vendor=abc,other=1'), attributes: { reason: 'fan-in', n: 2 } },
          { context: { ...remoteContext(), traceFlags: TraceFlags.NONE, isRemote: false } },
        ],
      });
      linked.end();
    });
    const withRemoteParent: ReadableSpan = variant(base[1]!, {
      name: 'child of remote',
      parentSpanContext: remoteContext('congo=t61rcWkgMzE'),
      spanContext: () => ({ ...remoteContext('congo=t61rcWkgMzE'), spanId: '00f067aa0ba902b7', isRemote: false }),
    });
    const withLocalParent: ReadableSpan = variant(base[1]!, { name: 'child of local', parentSpanContext: { ...remoteContext(), isRemote: false } });
    const unsampled: ReadableSpan = variant(base[0]!, {
      name: 'unsampled',
      spanContext: () => ({ ...base[0]!.spanContext(), traceFlags: TraceFlags.NONE }),
    });
    const upperCaseIds: ReadableSpan = variant(base[0]!, {
      name: 'upper-case ids',
      spanContext: () => ({ ...base[0]!.spanContext(), traceId: '0AF7651916CD43DD8448EB211C80319C', spanId: 'B7AD6B7169203331' }),
    });
    const spans = [...base, withRemoteParent, withLocalParent, unsampled, upperCaseIds];
    const bytes = expectSameAsUpstream(spans);
    const decoded = decodeTraceRequest(bytes);
    expect(decoded.find((s) => s.name === 'child of remote')!.parentSpanId).toBe('b7ad6b7169203331');
    // sampled | has-is-remote | is-remote
    expect(decoded.find((s) => s.name === 'child of remote')!.flags).toBe(0x301);
    expect(decoded.find((s) => s.name === 'child of local')!.flags).toBe(0x101);
    expect(decoded.find((s) => s.name === 'unsampled')!.flags).toBe(0x100);
    expect(decoded.find((s) => s.name === 'upper-case ids')!.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
  });

  it('writes dropped counts, event counts and limits as upstream does', () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      resource: RESOURCE,
      spanLimits: { attributeCountLimit: 3, eventCountLimit: 2, linkCountLimit: 1, attributePerEventCountLimit: 1, attributePerLinkCountLimit: 1 },
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const tracer = provider.getTracer('limits');
    const span = tracer.startSpan('limited', {
      attributes: { a: 1, b: 2, c: 3, d: 4, e: 5 },
      links: [
        { context: remoteContext(), attributes: { x: 1, y: 2 } },
        { context: remoteContext(), attributes: { z: 3 } },
      ],
    });
    for (let i = 0; i < 5; i++) span.addEvent(`event ${i}`, { i, j: i * 2 });
    span.end();
    const spans = exporter.getFinishedSpans();
    expect(spans[0]!.droppedAttributesCount).toBe(2);
    expect(spans[0]!.droppedEventsCount).toBe(3);
    expect(spans[0]!.droppedLinksCount).toBe(1);
    const handMade: ReadableSpan = variant(spans[0]!, {
      name: 'large counts',
      droppedAttributesCount: 300,
      droppedEventsCount: 70_000,
      droppedLinksCount: 2 ** 31,
      events: [
        { name: 'e', time: [1, 2], droppedAttributesCount: 200 },
        { name: 'no attributes', time: [0, 0] },
      ],
      links: [{ context: remoteContext(), droppedAttributesCount: 5 }],
    });
    expectSameAsUpstream([...spans, handMade]);
  });

  it('writes start and end times as upstream does, from epoch 0 to far in the future', () => {
    const [span] = sdkSpans(RESOURCE, (provider) => provider.getTracer('time').startSpan('t').end());
    const times: HrTime[] = [
      [0, 0],
      [0, 999_999_999],
      [1, 0],
      [4, 294_967_295],
      [65_535, 999_999_999],
      [65_536, 1],
      [1_764_000_000, 123_456_789],
      [4_294_967_295, 999_999_999],
      [9_000_000_000, 500],
    ];
    const spans = times.map((time, i): ReadableSpan => variant(span!, { name: `t${i}`, startTime: time, endTime: time }));
    const bytes = expectSameAsUpstream(spans);
    const decoded = decodeTraceRequest(bytes);
    expect(decoded.find((s) => s.name === 't6')!.startTimeUnixNano).toBe(1_764_000_000_123_456_789n);
    expect(decoded.find((s) => s.name === 't8')!.endTimeUnixNano).toBe(9_000_000_000_000_000_500n);
  });

  it('groups several resources and scopes in one batch in first-seen order, as upstream does', () => {
    const other = resourceFromAttributes({ 'service.name': 'other', weird: ['x', 'y'] }, { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' });
    const first = sdkSpans(RESOURCE, (provider) => {
      provider.getTracer('a', '1.0.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.24.0' }).startSpan('a1').end();
      provider.getTracer('b').startSpan('b1').end();
      provider.getTracer('a', '1.0.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.24.0' }).startSpan('a2').end();
    });
    const second = sdkSpans(other, (provider) => {
      provider.getTracer('c', '').startSpan('c1').end();
      provider.getTracer('a', '1.0.0').startSpan('other a').end();
    });
    const interleaved = [first[0]!, second[0]!, first[1]!, second[1]!, first[2]!];
    const encoder = new OtlpTraceEncoder();
    const bytes = expectSameAsUpstream(interleaved, encoder);
    expect(decodeTraceRequest(bytes).map((s) => `${String(s.resource['service.name'])}/${s.scope}/${s.name}`)).toEqual([
      'lessons/a/a1',
      'lessons/a/a2',
      'lessons/b/b1',
      'other/c/c1',
      'other/a/other a',
    ]);
    // The same encoder, its caches filled, with a different mix of the same resources and scopes.
    expectSameAsUpstream([second[1]!, first[2]!], encoder);
    expectSameAsUpstream([], encoder);
  });

  it('writes scope attributes and dropped counts, and resources with nested values, as upstream does', () => {
    const [span] = sdkSpans(RESOURCE, (provider) => provider.getTracer('s').startSpan('s').end());
    const scoped: ReadableSpan = variant(span!, {
      instrumentationScope: {
        name: 'scoped',
        version: '2',
        attributes: { 'scope.attr': 'v', n: 1 },
        droppedAttributesCount: 4,
      } as ReadableSpan['instrumentationScope'],
    });
    const nested = {
      ...RESOURCE,
      attributes: {
        map: { inner: 'v', deeper: { n: 1.5, list: [1, 'two', { three: true }] } },
        nothing: undefined,
        nul: null,
        bytes: new Uint8Array([0, 1, 255]),
      },
      schemaUrl: undefined,
    } as unknown as Resource;
    const withNested: ReadableSpan = variant(span!, {
      resource: nested,
      attributes: { object: { a: 1, b: ['x'] }, bytes: new Uint8Array([1, 2, 3]), big: 10n, undef: undefined } as unknown as Attributes,
    });
    expectSameAsUpstream([scoped, withNested]);
  });

  it('writes large batches and large spans (lengths of two and three bytes, a growing buffer) as upstream does', () => {
    const spans = sdkSpans(RESOURCE, (provider) => {
      const tracer = provider.getTracer('bulk');
      for (let i = 0; i < 600; i++) {
        const span = tracer.startSpan(`GET /item/${i}`, {
          kind: SpanKind.SERVER,
          attributes: {
            'http.request.method': 'GET',
            'http.route': '/item/:id',
            'http.response.status_code': 200,
            'url.path': `/item/${i}`,
            i,
            'server.address': 'localhost',
            'server.port': 3000,
          },
        });
        if (i % 100 === 0) span.setAttribute('huge', 'y'.repeat(20_000 + i));
        span.end();
      }
    });
    const encoder = new OtlpTraceEncoder();
    const bytes = expectSameAsUpstream(spans, encoder);
    expect(bytes.length).toBeGreaterThan(64 * 1024);
    expect(decodeTraceRequest(bytes).length).toBe(600);
    // A small batch after a large one from the same encoder: nothing of the large one is left in it.
    expectSameAsUpstream(spans.slice(0, 2), encoder);
  });

  it('leaves a resource uncached while its attributes are still being detected', async () => {
    let settle: (value: string) => void = () => {};
    const pending = resourceFromAttributes({ 'service.name': 'late', 'host.id': new Promise<string>((resolve) => (settle = resolve)) as never });
    expect(pending.asyncAttributesPending).toBe(true);
    const [span] = sdkSpans(RESOURCE, (provider) => provider.getTracer('late').startSpan('late').end());
    const encoder = new OtlpTraceEncoder();
    const early = ours(encoder, [variant(span!, { resource: pending })]);
    expect(decodeTraceRequest(early)[0]!.resource['host.id']).toBeUndefined();
    settle('abc');
    await pending.waitForAsyncAttributes!();
    const late = ours(encoder, [variant(span!, { resource: pending })]);
    expect(decodeTraceRequest(late)[0]!.resource['host.id']).toBe('abc');
    expect(late.equals(upstream([variant(span!, { resource: pending })]))).toBe(true);
  });
});
