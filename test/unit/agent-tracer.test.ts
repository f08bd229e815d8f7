import { ROOT_CONTEXT, trace, TraceFlags, type Span, type Tracer } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { agentTracer } from '../../src/tracing/agent-tracer';
import { followsParent } from '../../src/tracing/sampler';

const started: string[] = [];
const sdkTracer = {
  startSpan: (name: string) => {
    started.push(name);
    return trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 });
  },
  startActiveSpan: () => undefined,
} as unknown as Tracer;

const under = (traceFlags: number, ids = { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) }) =>
  trace.setSpanContext(ROOT_CONTEXT, { ...ids, traceFlags, isRemote: true });

describe('the agent tracer: is a span under this parent ever recorded?', () => {
  it('no, under a parent that is not sampled, with a sampler that follows the parent', () => {
    for (const name of ['parentbased_always_on', 'parentbased_traceidratio', 'parentbased_always_off', 'always_off'] as const) {
      expect(agentTracer(sdkTracer, name).recordsUnder(under(TraceFlags.NONE)), name).toBe(false);
    }
  });

  it('yes, under a sampled parent, with no parent, or with an invalid (all-zero) parent: the sampler decides', () => {
    const tracer = agentTracer(sdkTracer, 'parentbased_traceidratio');
    expect(tracer.recordsUnder(under(TraceFlags.SAMPLED))).toBe(true);
    expect(tracer.recordsUnder(ROOT_CONTEXT)).toBe(true);
    expect(tracer.recordsUnder(under(TraceFlags.NONE, { traceId: '0'.repeat(32), spanId: '0'.repeat(16) }))).toBe(true);
  });

  it('yes, under any parent, with samplers that decide each span on its own', () => {
    expect(followsParent('traceidratio')).toBe(false);
    expect(followsParent('always_on')).toBe(false);
    for (const name of ['traceidratio', 'always_on'] as const) expect(agentTracer(sdkTracer, name).recordsUnder(under(TraceFlags.NONE)), name).toBe(true);
  });

  it("starts spans with the SDK's tracer", () => {
    const span: Span = agentTracer(sdkTracer, 'parentbased_always_on').startSpan('GET');
    expect(started).toEqual(['GET']);
    expect(span.spanContext().traceId).toBe('1'.repeat(32));
  });
});
