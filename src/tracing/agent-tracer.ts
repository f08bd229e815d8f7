/**
 * The tracer the agent's own hooks use (HTTP server, pg, ioredis): the SDK's tracer plus one
 * question asked before any span work, `recordsUnder(parent)`.
 *
 * Why: with a parent-based sampler (the default, and `parentbased_traceidratio` for "one trace in
 * ten"), everything under a parent that was not sampled is not recorded either. The SDK still
 * makes each such child: two random ids, the sampler's call, its own span counter, a
 * non-recording span and a context holding it, for every query and command of every request
 * nobody will see. The hooks ask first and, when the answer is no, make nothing: the request's
 * context (trace id and the not-sampled flag, which is all that propagates) is passed on as it is.
 */
import { trace, TraceFlags, type Context, type Span, type SpanOptions, type Tracer } from '@opentelemetry/api';
import { followsParent } from './sampler';
import type { SamplerName } from '../config/types';

export interface AgentTracer extends Tracer {
  /**
   * False when a span started under `parent` can never be recorded: the parent is a valid span
   * context whose sampled flag is off and the sampler follows the parent's decision. True
   * otherwise (no parent: the sampler decides on a new trace).
   */
  recordsUnder(parent: Context): boolean;
}

export function agentTracer(tracer: Tracer, sampler: SamplerName): AgentTracer {
  const parentDecides = followsParent(sampler);
  return {
    startSpan: (name: string, options?: SpanOptions, ctx?: Context): Span => tracer.startSpan(name, options, ctx),
    startActiveSpan: tracer.startActiveSpan.bind(tracer) as Tracer['startActiveSpan'],
    recordsUnder(parent: Context): boolean {
      if (!parentDecides) return true;
      const parentContext = trace.getSpanContext(parent);
      if (parentContext === undefined || (parentContext.traceFlags & TraceFlags.SAMPLED) !== 0) return true;
      // An invalid parent (all-zero ids) counts as none: the sampler starts a new trace.
      return !trace.isSpanContextValid(parentContext);
    },
  };
}
