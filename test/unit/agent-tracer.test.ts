import { ROOT_CONTEXT, trace, TraceFlags } from '@opentelemetry/api';
import { DEFAULTS } from '../../src/config/env';
import { resourceFromAttributes } from '@opentelemetry/resources';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { describe, expect, it } from 'vitest';
import type { SamplerName } from '../../src/config/types';
import { AgentSpan } from '../../src/tracing/agent-span';
import { agentTracer } from '../../src/tracing/agent-tracer';
import { UnsampledSpan } from '../../src/tracing/unsampled-span';
import { buildSampler, followsParent } from '../../src/tracing/sampler';
import { spanCollector } from '../helpers/span-collector';

const ended: ReadableSpan[] = [];
const processor = spanCollector(ended);
const limits = DEFAULTS.limits;
const pipeline = { resource: resourceFromAttributes({}), instrumentationScope: { name: 'unit' }, limits, processors: [processor], endingProcessors: [] };
/** The agent's tracer with the sampler named, as tracing.ts builds it. */
const tracerWith = (name: SamplerName) => agentTracer(pipeline, buildSampler(name, 0.5), name);

const under = (traceFlags: number, ids = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) }) =>
  trace.setSpanContext(ROOT_CONTEXT, { ...ids, traceFlags, isRemote: true });

describe('the agent tracer: is a span under this parent ever recorded?', () => {
  it('no, under a parent that is not sampled, with a sampler that follows the parent', () => {
    for (const name of ['parentbased_always_on', 'parentbased_traceidratio', 'parentbased_always_off', 'always_off'] as const) {
      expect(tracerWith(name).recordsUnder(under(TraceFlags.NONE)), name).toBe(false);
    }
  });

  it('yes, under a sampled parent, with no parent, or with an invalid (all-zero) parent: the sampler decides', () => {
    const tracer = tracerWith('parentbased_traceidratio');
    expect(tracer.recordsUnder(under(TraceFlags.SAMPLED))).toBe(true);
    expect(tracer.recordsUnder(ROOT_CONTEXT)).toBe(true);
    expect(tracer.recordsUnder(under(TraceFlags.NONE, { traceId: '0'.repeat(32), spanId: '0'.repeat(16) }))).toBe(true);
  });

  it('yes, under any parent, with samplers that decide each span on its own', () => {
    expect(followsParent('traceidratio')).toBe(false);
    expect(followsParent('always_on')).toBe(false);
    for (const name of ['traceidratio', 'always_on'] as const) expect(tracerWith(name).recordsUnder(under(TraceFlags.NONE)), name).toBe(true);
  });

  it("starts its own spans and hands them to the provider's processors", () => {
    const span = tracerWith('parentbased_always_on').startSpan('GET', {}, ROOT_CONTEXT);
    expect(span).toBeInstanceOf(AgentSpan);
    span.end();
    expect(ended.map((s) => s.name)).toEqual(['GET']);
    expect(ended[0]!.spanContext().traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('a span the sampler drops: valid ids, made once, not sampled, and its children follow it', () => {
    const tracer = tracerWith('parentbased_always_off');
    const span = tracer.startSpan('GET', {}, ROOT_CONTEXT);
    expect(span).toBeInstanceOf(UnsampledSpan);
    expect(span.isRecording()).toBe(false);
    const ids = span.spanContext();
    expect(trace.isSpanContextValid(ids)).toBe(true);
    expect(ids.traceFlags).toBe(TraceFlags.NONE);
    // The span id is made on the first ask, then it is the same object (an outgoing traceparent
    // and a child must name one parent).
    expect(span.spanContext()).toBe(ids);
    const parent = trace.setSpan(ROOT_CONTEXT, span);
    expect(tracer.recordsUnder(parent)).toBe(false);
    const child = tracer.startSpan('pg.query', {}, parent);
    expect(child.isRecording()).toBe(false);
    expect(child.spanContext().traceId).toBe(ids.traceId);
    expect(child.spanContext().spanId).not.toBe(ids.spanId);
    // Recording calls are accepted and record nothing, as on the API's non-recording span.
    expect(span.setAttribute('a', 1).setStatus({ code: 2 }).updateName('x')).toBe(span);
    span.end();
    expect(ended.map((s) => s.name)).not.toContain('x');
  });

  it('a child of a dropped span, with a sampler that decides each span on its own, names the dropped span as its parent', () => {
    const tracer = agentTracer(pipeline, buildSampler('traceidratio', 0), 'traceidratio');
    const dropped = tracer.startSpan('GET', {}, ROOT_CONTEXT);
    expect(dropped).toBeInstanceOf(UnsampledSpan);
    const always = agentTracer(pipeline, buildSampler('always_on', 1), 'always_on');
    const child = always.startSpan('pg.query', {}, trace.setSpan(ROOT_CONTEXT, dropped)) as AgentSpan;
    expect(child.isRecording()).toBe(true);
    expect(child.spanContext().traceId).toBe(dropped.spanContext().traceId);
    expect(child.parentSpanContext?.spanId).toBe(dropped.spanContext().spanId);
    child.end();
  });
});
