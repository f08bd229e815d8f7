/**
 * The tracer the agent's own hooks use (HTTP server, pg, ioredis, node-redis). It makes
 * `AgentSpan`s itself, as the SDK's tracer makes its spans (same sampler, same ids, same span
 * processors, same context key, so they join the traces of the SDK's spans), in fewer steps: the
 * sampler is asked once, ids it generated are not validated again, and a parent that is one of its
 * own spans is known to be valid.
 *
 * And one question asked before any span work, `recordsUnder(parent)`. Why: with a parent-based
 * sampler (the default, and `parentbased_traceidratio` for "one trace in ten"), everything under a
 * parent that was not sampled is not recorded either. A tracer still makes each such child: two
 * random ids, the sampler's call, a non-recording span and a context holding it, for every query
 * and command of every request nobody will see. The hooks ask first and, when the answer is no,
 * make nothing: the request's context (trace id and the not-sampled flag, which is all that
 * propagates) is passed on as it is.
 */
import {
  context as contextApi,
  INVALID_SPAN_CONTEXT,
  SpanKind,
  trace,
  TraceFlags,
  type Context,
  type Link,
  type Span,
  type SpanAttributes,
  type SpanContext,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import { cleanAttributes, isTracingSuppressed } from '@opentelemetry/core';
import { SamplingDecision, type Sampler } from '@opentelemetry/sdk-trace';
import { AgentSpan, cleanLink, type SpanPipeline } from './agent-span';
import { newSpanId, newTraceId } from './ids';
import { followsParent } from './sampler';
import { UnsampledSpan } from './unsampled-span';
import type { SamplerName } from '../config/types';

export interface AgentTracer extends Tracer {
  /**
   * False when a span started under `parent` can never be recorded: the parent is a valid span
   * context whose sampled flag is off and the sampler follows the parent's decision. True
   * otherwise (no parent: the sampler decides on a new trace).
   */
  recordsUnder(parent: Context): boolean;
}

/** A span this tracer made: its ids are valid without checking them. */
function madeHere(span: Span | undefined): boolean {
  return span instanceof AgentSpan || span instanceof UnsampledSpan;
}

/** The SDK cleans a new span's attributes without limits for the sampler, then with them. */
const NO_ATTRIBUTE_LIMITS = { attributeCountLimit: Infinity, attributeValueLengthLimit: Infinity };

/**
 * @param pipeline the tracer provider's resource, limits and span processors, with this tracer's scope
 * @param sampler the tracer provider's sampler (the same instance)
 * @param samplerName what the sampler is, for `recordsUnder`
 *
 * The SDK's span metrics (otel.sdk.span.*) are not counted for these spans: the agent's provider
 * has no meter provider, so the SDK's tracer counts nothing either.
 */
export function agentTracer(pipeline: SpanPipeline, sampler: Sampler, samplerName: SamplerName): AgentTracer {
  const parentDecides = followsParent(samplerName);
  const { limits, processors } = pipeline;

  function startSpan(name: string, options: SpanOptions = {}, ctx: Context = contextApi.active()): Span {
    if (options.root) ctx = trace.deleteSpan(ctx);
    if (isTracingSuppressed(ctx)) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    const parentSpan = trace.getSpan(ctx);
    const parentContext = parentSpan?.spanContext();
    let traceId: string;
    let traceState: SpanContext['traceState'];
    let validParent: SpanContext | undefined;
    // One of this tracer's spans has ids it made: valid without the SDK's regular expressions.
    if (parentContext !== undefined && (madeHere(parentSpan) || trace.isSpanContextValid(parentContext))) {
      traceId = parentContext.traceId;
      traceState = parentContext.traceState;
      validParent = parentContext;
    } else {
      traceId = newTraceId();
    }
    const kind = options.kind ?? SpanKind.INTERNAL;
    const links: Link[] = options.links
      ? options.links.map((link) => cleanLink(link, limits.attributePerLinkCountLimit, limits.attributeValueLengthLimit))
      : [];
    let attributes: SpanAttributes = {};
    let droppedAttributesCount = 0;
    if (options.attributes) {
      const cleaned = cleanAttributes(options.attributes, NO_ATTRIBUTE_LIMITS);
      attributes = cleaned.attributes ?? {};
      droppedAttributesCount = cleaned.droppedAttributesCount ?? 0;
    }
    const sampling = sampler.shouldSample(ctx, traceId, name, kind, attributes, links);
    traceState = sampling.traceState ?? traceState;
    // Not recorded: no span id until something asks (unsampled-span.ts says why).
    if (sampling.decision === SamplingDecision.NOT_RECORD) return new UnsampledSpan(traceId, traceState);
    const traceFlags = sampling.decision === SamplingDecision.RECORD_AND_SAMPLED ? TraceFlags.SAMPLED : TraceFlags.NONE;
    const spanContext: SpanContext = { traceId, spanId: newSpanId(), traceFlags, traceState };
    let attributesCount = 0;
    // The agent's hooks pass no attributes and the SDK's samplers add none: nothing to clean then.
    if (options.attributes || sampling.attributes) {
      const cleaned = cleanAttributes(Object.assign(attributes, sampling.attributes), limits);
      attributes = cleaned.attributes ?? {};
      attributesCount = Object.keys(attributes).length;
      droppedAttributesCount += cleaned.droppedAttributesCount ?? 0;
    }
    const span = new AgentSpan(
      pipeline,
      spanContext,
      validParent,
      name,
      kind,
      attributes,
      attributesCount,
      droppedAttributesCount,
      links,
      options.startTime,
    );
    for (const processor of processors) processor.onStart(span, ctx);
    return span;
  }

  /** As the SDK's: the span is active while `fn` runs (the agent's hooks do not use it). */
  function startActiveSpan<F extends (span: Span) => unknown>(
    name: string,
    ...rest: [F] | [SpanOptions | undefined, F] | [SpanOptions | undefined, Context | undefined, F]
  ): ReturnType<F> | undefined {
    let options: SpanOptions | undefined;
    let ctx: Context | undefined;
    let fn: F;
    if (rest.length === 1) [fn] = rest;
    else if (rest.length === 2) [options, fn] = rest;
    else [options, ctx, fn] = rest;
    const parent = ctx ?? contextApi.active();
    const span = startSpan(name, options, parent);
    return contextApi.with(trace.setSpan(parent, span), fn as (span: Span) => ReturnType<F>, undefined, span);
  }

  return {
    startSpan,
    startActiveSpan: startActiveSpan as Tracer['startActiveSpan'],
    recordsUnder(parent: Context): boolean {
      if (!parentDecides) return true;
      const parentSpan = trace.getSpan(parent);
      // This tracer's own "do not record" (valid ids, not sampled), known without looking inside.
      if (parentSpan instanceof UnsampledSpan) return false;
      const parentContext = parentSpan?.spanContext();
      if (parentContext === undefined || (parentContext.traceFlags & TraceFlags.SAMPLED) !== 0) return true;
      // An invalid parent (all-zero ids) counts as none: the sampler starts a new trace.
      return !trace.isSpanContextValid(parentContext);
    },
  };
}
