/**
 * The agent's own spans against the SDK's: the same calls on an `AgentSpan` and on the SDK's span
 * must leave the same `ReadableSpan` for the processors (attributes, limits, events, links,
 * status, the exception event), and the tracer must ask the sampler and call the processors as the
 * SDK's tracer does.
 */
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { DEFAULTS } from '../../src/config/env';
import {
  context,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  TraceFlags,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { addHrTimes, hrTimeDuration, hrTimeToMilliseconds, millisToHrTime, suppressTracing } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  TracerProvider,
  type ReadableSpan,
  type Sampler,
  type SamplingResult,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { SamplerName, SpanLimitSettings } from '../../src/config/types';
import { AgentSpan } from '../../src/tracing/agent-span';
import { agentTracer } from '../../src/tracing/agent-tracer';

/** The agent's own defaults, as config/env.ts gives them to the provider. */
const DEFAULT_LIMITS: SpanLimitSettings = DEFAULTS.limits;

/** A processor that notes each call, and whether the span was ended when it came. */
class RecordingProcessor implements SpanProcessor {
  readonly calls: Array<{ call: 'onStart' | 'onEnding' | 'onEnd'; span: ReadableSpan; ended: boolean; context?: Context }> = [];
  onStart(span: Span & ReadableSpan, parentContext: Context): void {
    this.calls.push({ call: 'onStart', span, ended: span.ended, context: parentContext });
  }
  onEnding(span: Span & ReadableSpan): void {
    this.calls.push({ call: 'onEnding', span, ended: span.ended });
  }
  onEnd(span: ReadableSpan): void {
    this.calls.push({ call: 'onEnd', span, ended: span.ended });
  }
  ended(): ReadableSpan[] {
    return this.calls.filter((c) => c.call === 'onEnd').map((c) => c.span);
  }
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A sampler that notes its arguments and answers as `inner` does. */
class RecordingSampler implements Sampler {
  readonly calls: unknown[][] = [];
  constructor(private readonly inner: Sampler = new AlwaysOnSampler()) {}
  shouldSample(...args: Parameters<Sampler['shouldSample']>): SamplingResult {
    this.calls.push(args);
    return this.inner.shouldSample(...args);
  }
}

const resource = resourceFromAttributes({ 'service.name': 'unit' });

/** The agent's tracer and the SDK's, with the same limits and sampler, each with its processor. */
function tracers(limits: Partial<SpanLimitSettings> = {}, sampler: Sampler = new AlwaysOnSampler(), samplerName: SamplerName = 'always_on') {
  const spanLimits = { ...DEFAULT_LIMITS, ...limits };
  const agentProcessor = new RecordingProcessor();
  const sdkProcessor = new RecordingProcessor();
  const agent = agentTracer(
    { resource, instrumentationScope: { name: 'unit' }, limits: spanLimits, processors: [agentProcessor], endingProcessors: [agentProcessor] },
    sampler,
    samplerName,
  );
  const sdk = new TracerProvider({ resource, sampler, spanLimits, spanProcessors: [sdkProcessor] }).getTracer('unit');
  return { agent, sdk, agentProcessor, sdkProcessor };
}

/** What an exporter reads of a span, but the ids and times, which differ between two spans. */
function exported(span: ReadableSpan) {
  return {
    name: span.name,
    kind: span.kind,
    attributes: span.attributes,
    droppedAttributesCount: span.droppedAttributesCount,
    events: span.events.map((e) => ({ name: e.name, attributes: e.attributes, droppedAttributesCount: e.droppedAttributesCount, time: e.time.length })),
    droppedEventsCount: span.droppedEventsCount,
    links: span.links,
    droppedLinksCount: span.droppedLinksCount,
    status: span.status,
    ended: span.ended,
    resource: span.resource,
    hasParent: span.parentSpanContext !== undefined,
  };
}

/** Runs `script` on a span of each tracer and returns both as exported. */
function sideBySide(script: (span: Span) => void, limits: Partial<SpanLimitSettings> = {}, options: { links?: Link[]; attributes?: Attributes } = {}) {
  const { agent, sdk, agentProcessor, sdkProcessor } = tracers(limits);
  for (const tracer of [agent, sdk]) {
    const span = tracer.startSpan('op', { kind: SpanKind.CLIENT, ...options }, ROOT_CONTEXT);
    script(span);
    span.end();
  }
  const [agentSpan] = agentProcessor.ended();
  const [sdkSpan] = sdkProcessor.ended();
  expect(agentSpan).toBeInstanceOf(AgentSpan);
  expect(sdkSpan).not.toBeInstanceOf(AgentSpan);
  return { agentSpan: agentSpan!, sdkSpan: sdkSpan!, agent: exported(agentSpan!), sdk: exported(sdkSpan!) };
}

const error = Object.assign(new Error('duplicate key'), { code: '23505' });

describe('an AgentSpan leaves what the SDK span leaves', () => {
  it('for attributes of every kind, valid and not', () => {
    const { agent, sdk } = sideBySide((span) => {
      span.setAttribute('s', 'text');
      span.setAttribute('n', 42);
      span.setAttribute('f', 1.5);
      span.setAttribute('b', false);
      span.setAttribute('array', ['a', 'b']);
      span.setAttribute('mixed', [1, 'a'] as never);
      span.setAttribute('bytes', new Uint8Array([1, 2]) as never);
      span.setAttribute('nested', { a: 1, b: [true], c: undefined } as never);
      span.setAttribute('null', null as never);
      span.setAttribute('undefined', undefined as never);
      span.setAttribute('fn', (() => 1) as never);
      span.setAttribute('symbol', Symbol('x') as never);
      span.setAttribute('bigint', 1n as never);
      span.setAttribute('date', new Date(0) as never);
      span.setAttribute('', 'empty key');
      span.setAttribute('s', 'overwritten');
      span.setAttributes({ many: 1, more: 'x', bad: (() => 2) as never });
    });
    expect(agent).toEqual(sdk);
    expect(agent.attributes).toEqual({
      s: 'overwritten',
      n: 42,
      f: 1.5,
      b: false,
      array: ['a', 'b'],
      mixed: [1, 'a'],
      bytes: new Uint8Array([1, 2]),
      nested: { a: 1, b: [true] },
      null: null,
      many: 1,
      more: 'x',
    });
  });

  it('under the attribute count and value length limits', () => {
    const limits = { attributeCountLimit: 3, attributeValueLengthLimit: 4 };
    const { agent, sdk } = sideBySide((span) => {
      span.setAttribute('a', 'abcdefgh');
      span.setAttribute('b', ['abcdefgh', 'xy']);
      span.setAttribute('c', 123456789);
      span.setAttribute('d', 'dropped');
      span.setAttribute('e', 'dropped too');
      span.setAttribute('a', 'replaced: an existing key is not a new one');
      span.setAttribute('f', undefined as never);
    }, limits);
    expect(agent).toEqual(sdk);
    expect(agent.attributes).toEqual({ a: 'repl', b: ['abcd', 'xy'], c: 123456789 });
    expect(agent.droppedAttributesCount).toBe(2);
  });

  it('with attributes and links given at the start, under the limits', () => {
    const link = (n: number): Link => ({
      context: { traceId: 'a'.repeat(32), spanId: `${n}`.repeat(16), traceFlags: 1 },
      attributes: { x: 'long value', y: 2 },
    });
    const { agent, sdk } = sideBySide(
      () => undefined,
      { attributeCountLimit: 1, attributeValueLengthLimit: 3, linkCountLimit: 2, attributePerLinkCountLimit: 1 },
      {
        attributes: { first: 'abcdef', second: 2, invalid: (() => 1) as never },
        links: [link(1), link(2), link(3)],
      },
    );
    expect(agent).toEqual(sdk);
    expect(agent.attributes).toEqual({ first: 'abc' });
    expect(agent.droppedAttributesCount).toBe(2);
    expect(agent.links.map((l) => l.context.spanId)).toEqual(['2'.repeat(16), '3'.repeat(16)]);
    expect(agent.links[0]).toMatchObject({ attributes: { x: 'lon' }, droppedAttributesCount: 1 });
    expect(agent.droppedLinksCount).toBe(1);
  });

  it('for events and links added later, under their limits', () => {
    const limits = { eventCountLimit: 2, linkCountLimit: 1, attributePerEventCountLimit: 1, attributePerLinkCountLimit: 1, attributeValueLengthLimit: 2 };
    const { agent, sdk } = sideBySide((span) => {
      span.addEvent('first', { a: 'abc', b: 2 });
      span.addEvent('second', Date.now());
      span.addEvent('third', { nested: { x: 1 } as never }, [1, 2]);
      span.addLink({ context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 } });
      span.addLinks([{ context: { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: 1 }, attributes: { k: 'value', l: 1 } }]);
    }, limits);
    expect(agent).toEqual(sdk);
    expect(agent.events.map((e) => e.name)).toEqual(['second', 'third']);
    expect(agent.droppedEventsCount).toBe(1);
    expect(agent.links).toEqual([
      { context: { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: 1 }, attributes: { k: 'va' }, droppedAttributesCount: 1 },
    ]);
    expect(agent.droppedLinksCount).toBe(1);
  });

  it('with no events or links allowed at all', () => {
    const { agent, sdk } = sideBySide(
      (span) => {
        span.addEvent('e');
        span.recordException(error);
        span.addLink({ context: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 } });
      },
      { eventCountLimit: 0, linkCountLimit: 0 },
    );
    expect(agent).toEqual(sdk);
    expect(agent).toMatchObject({ events: [], droppedEventsCount: 2, links: [], droppedLinksCount: 1 });
  });

  it('for recorded exceptions: the same event, type from code or name, message, stack', () => {
    const thrown = new TypeError('bad input');
    const { agent, sdk, agentSpan, sdkSpan } = sideBySide((span) => {
      span.recordException(error);
      span.recordException(thrown);
      span.recordException('just a message');
      span.recordException({ code: 42 });
      span.recordException({ name: 'Named' });
      span.recordException({} as never); // neither type nor message: no event
    });
    expect(agent).toEqual(sdk);
    expect(agentSpan.events.map((e) => e.attributes)).toEqual(sdkSpan.events.map((e) => e.attributes));
    expect(agent.events[0]).toEqual({
      name: 'exception',
      attributes: { 'exception.type': '23505', 'exception.message': 'duplicate key', 'exception.stacktrace': error.stack },
      droppedAttributesCount: 0,
      time: 2,
    });
    expect(agent.events.map((e) => e.attributes?.['exception.type'])).toEqual(['23505', 'TypeError', undefined, '42', 'Named']);
  });

  it('for status changes: UNSET changes nothing, OK is final, a message only with ERROR', () => {
    const scripts: Array<(span: Span) => void> = [
      (span) => span.setStatus({ code: SpanStatusCode.ERROR, message: 'first' }).setStatus({ code: SpanStatusCode.UNSET }),
      (span) => span.setStatus({ code: SpanStatusCode.OK, message: 'ignored' }).setStatus({ code: SpanStatusCode.ERROR, message: 'too late' }),
      (span) => span.setStatus({ code: SpanStatusCode.ERROR, message: 'first' }).setStatus({ code: SpanStatusCode.ERROR }),
      (span) => span.setStatus({ code: SpanStatusCode.ERROR, message: 42 as never }),
      (span) => span.setStatus({ code: SpanStatusCode.ERROR }).setStatus({ code: SpanStatusCode.OK }),
    ];
    const statuses = scripts.map((script) => {
      const { agent, sdk } = sideBySide(script);
      expect(agent.status).toEqual(sdk.status);
      return agent.status;
    });
    expect(statuses).toEqual([
      { code: SpanStatusCode.ERROR, message: 'first' },
      { code: SpanStatusCode.OK },
      { code: SpanStatusCode.ERROR },
      { code: SpanStatusCode.ERROR },
      { code: SpanStatusCode.OK },
    ]);
  });

  it('after end: a second end and every change are ignored, the processors hear of the end once', () => {
    const { agent, sdk, agentSpan } = sideBySide((span) => span.setAttribute('before', 1));
    expect(agent).toEqual(sdk);
    const span = agentSpan as unknown as Span;
    const endTime = agentSpan.endTime;
    span.setAttribute('after', 1).setAttributes({ also: 2 }).addEvent('late').addLink({ context: span.spanContext() });
    span.setStatus({ code: SpanStatusCode.ERROR }).updateName('renamed');
    span.end();
    expect(span.isRecording()).toBe(false);
    expect(exported(agentSpan)).toEqual(agent);
    expect(agentSpan.endTime).toBe(endTime);
  });

  it('keeps a renamed name and the scope and resource of its tracer', () => {
    const { agent, sdk, agentSpan } = sideBySide((span) => span.updateName('GET /lessons/:id'));
    expect(agent).toEqual(sdk);
    expect(agent.name).toBe('GET /lessons/:id');
    expect(agentSpan.instrumentationScope).toEqual({ name: 'unit' });
    expect(agentSpan.resource).toBe(resource);
  });
});

describe('the times of an AgentSpan', () => {
  it('start on the wall clock and last as long as the monotonic clock says', () => {
    const { agent } = tracers();
    const before = Date.now();
    const span = agent.startSpan('op', {}, ROOT_CONTEXT) as AgentSpan;
    for (let spin = performance.now(); performance.now() - spin < 5;);
    span.end();
    const start = hrTimeToMilliseconds(span.startTime);
    expect(start).toBeGreaterThanOrEqual(before);
    expect(start).toBeLessThanOrEqual(Date.now());
    expect(hrTimeToMilliseconds(span.duration)).toBeGreaterThanOrEqual(5);
    expect(hrTimeDuration(span.startTime, span.endTime)).toEqual(span.duration);
    for (const time of [span.startTime, span.endTime, span.duration]) {
      expect(Number.isInteger(time[0]) && Number.isInteger(time[1]) && time[1] >= 0 && time[1] < 1e9).toBe(true);
    }
  });

  it("end at the start plus the monotonic time since, in the SDK's arithmetic (carrying into the seconds)", () => {
    const { agent } = tracers();
    for (const [startMs, elapsedMs] of [
      [1_700_000_000_999, 0.0015],
      [1_700_000_000_999, 1.2345678],
      [1_700_000_000_500, 1234.5678],
      [1_700_000_000_000, 0],
    ]) {
      vi.spyOn(Date, 'now').mockReturnValue(startMs);
      const now = vi.spyOn(performance, 'now').mockReturnValue(5000);
      const span = agent.startSpan('op', {}, ROOT_CONTEXT) as AgentSpan;
      now.mockReturnValue(5000 + elapsedMs);
      span.end();
      vi.restoreAllMocks();
      expect(span.startTime).toEqual(millisToHrTime(startMs));
      expect(span.endTime).toEqual(addHrTimes(millisToHrTime(startMs), millisToHrTime(elapsedMs)));
      expect(span.duration).toEqual(hrTimeDuration(span.startTime, span.endTime));
    }
  });

  it('from a start given on the monotonic clock (pg queries), as the SDK reads it', () => {
    const { agent, sdk } = tracers();
    const startedAt = performance.now() - 50;
    const spans = [agent, sdk].map((tracer) => tracer.startSpan('q', { startTime: startedAt }, ROOT_CONTEXT) as unknown as ReadableSpan & Span);
    for (const span of spans) span.end();
    const [ours, theirs] = spans.map((s) => ({ start: hrTimeToMilliseconds(s.startTime), duration: hrTimeToMilliseconds(s.duration) }));
    expect(Math.abs(ours!.start - theirs!.start)).toBeLessThan(5);
    expect(ours!.start).toBeLessThan(Date.now() - 40);
    expect(ours!.duration).toBeGreaterThanOrEqual(45);
  });

  it('given as epoch milliseconds, a Date or an HrTime; an end before the start becomes the start', () => {
    const { agent } = tracers();
    const span = agent.startSpan('op', { startTime: new Date(1_700_000_000_123) }, ROOT_CONTEXT) as AgentSpan;
    expect(span.startTime).toEqual([1_700_000_000, 123_000_000]);
    span.addEvent('at', [1_700_000_001, 5]);
    expect(span.events[0]!.time).toEqual([1_700_000_001, 5]);
    span.end(1_699_999_999_000);
    expect(span.endTime).toEqual(span.startTime);
    expect(span.duration).toEqual([0, 0]);
  });
});

describe('the agent tracer starts spans as the SDK tracer does', () => {
  beforeAll(() => context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()));
  afterAll(() => context.disable());

  it('asks the sampler once, with the arguments the SDK passes', () => {
    const sampler = new RecordingSampler();
    const { agent, sdk } = tracers({}, sampler);
    const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1, isRemote: true });
    const options = {
      kind: SpanKind.SERVER,
      attributes: { k: 'v' },
      links: [{ context: { traceId: 'c'.repeat(32), spanId: 'd'.repeat(16), traceFlags: 1 } }],
    };
    agent.startSpan('GET', options, parent).end();
    sdk.startSpan('GET', options, parent).end();
    expect(sampler.calls).toHaveLength(2);
    expect(sampler.calls[0]).toEqual(sampler.calls[1]);
    expect(sampler.calls[0]![0]).toBe(parent);
    expect(sampler.calls[0]![1]).toBe('a'.repeat(32));
  });

  it('calls onStart with the parent context, onEnding before the span is ended, onEnd after', () => {
    const { agent, sdk, agentProcessor, sdkProcessor } = tracers();
    for (const tracer of [agent, sdk]) tracer.startSpan('op', {}, ROOT_CONTEXT).end();
    const calls = (p: RecordingProcessor) => p.calls.map(({ call, ended, context: ctx }) => ({ call, ended, context: ctx }));
    expect(calls(agentProcessor)).toEqual(calls(sdkProcessor));
    expect(calls(agentProcessor)).toEqual([
      { call: 'onStart', ended: false, context: ROOT_CONTEXT },
      { call: 'onEnding', ended: false, context: undefined },
      { call: 'onEnd', ended: true, context: undefined },
    ]);
  });

  it('makes a child in its parent trace, through the same context key as the SDK', () => {
    const { agent, sdk, sdkProcessor } = tracers();
    const server = agent.startSpan('GET', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
    const inRequest = trace.setSpan(ROOT_CONTEXT, server);
    const query = agent.startSpan('SELECT', { kind: SpanKind.CLIENT }, inRequest) as AgentSpan;
    const manual = sdk.startSpan('app work', {}, inRequest);
    const underManual = agent.startSpan('GET', {}, trace.setSpan(ROOT_CONTEXT, manual)) as AgentSpan;
    for (const span of [underManual, manual, query, server]) span.end();
    expect(query.spanContext().traceId).toBe(server.spanContext().traceId);
    expect(query.parentSpanContext).toBe(server.spanContext());
    expect(sdkProcessor.ended()[0]!.parentSpanContext).toEqual(server.spanContext());
    expect(underManual.parentSpanContext).toEqual(manual.spanContext());
    expect(underManual.spanContext().traceId).toBe(server.spanContext().traceId);
    expect(server.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
  });

  it('starts a new trace under no parent, an invalid parent, or with root', () => {
    const { agent } = tracers();
    const invalid = trace.setSpanContext(ROOT_CONTEXT, { traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 1 });
    const parent = trace.setSpan(ROOT_CONTEXT, agent.startSpan('p', {}, ROOT_CONTEXT));
    for (const [ctx, options] of [
      [ROOT_CONTEXT, {}],
      [invalid, {}],
      [parent, { root: true }],
    ] as const) {
      const span = agent.startSpan('op', options, ctx) as AgentSpan;
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.spanContext().traceId).not.toBe(trace.getSpanContext(parent)!.traceId);
    }
  });

  it('makes a non-recording span, and tells no processor, when the sampler says no', () => {
    const { agent, agentProcessor } = tracers({}, new ParentBasedSampler({ root: new AlwaysOffSampler() }), 'parentbased_always_off');
    const span = agent.startSpan('op', {}, ROOT_CONTEXT);
    expect(span.isRecording()).toBe(false);
    expect(span).not.toBeInstanceOf(AgentSpan);
    expect(span.spanContext().traceFlags).toBe(TraceFlags.NONE);
    expect(trace.isSpanContextValid(span.spanContext())).toBe(true);
    span.end();
    expect(agentProcessor.calls).toEqual([]);
  });

  it('makes an invalid non-recording span when tracing is suppressed', () => {
    const { agent, agentProcessor } = tracers();
    const span = agent.startSpan('op', {}, suppressTracing(ROOT_CONTEXT));
    expect(span.isRecording()).toBe(false);
    expect(trace.isSpanContextValid(span.spanContext())).toBe(false);
    expect(agentProcessor.calls).toEqual([]);
  });

  it('runs startActiveSpan with the span active', () => {
    const { agent } = tracers();
    const result = agent.startActiveSpan('op', (span) => {
      expect(trace.getActiveSpan()).toBe(span);
      span.end();
      return 'returned';
    });
    expect(result).toBe('returned');
    const parent = agent.startSpan('parent', {}, ROOT_CONTEXT);
    agent.startActiveSpan('child', { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, parent), (span) => {
      expect((span as AgentSpan).parentSpanContext).toBe(parent.spanContext());
      expect((span as AgentSpan).kind).toBe(SpanKind.CLIENT);
    });
  });
});
