/**
 * The agent's own view of the shared `@opentelemetry/api` (build.mjs points the agent's source
 * imports here, and the bundled SDK's CommonJS requires to shared.ts). ES module bindings read once
 * at load, so the bundle calls `context.active()` on the API object itself: importing shared.ts's
 * CommonJS exports from an ES module would go through an interop getter on every access, a cost
 * the profile showed on every request.
 */
import type * as Api from '@opentelemetry/api';

const api = require('./shared') as typeof Api;

export const {
  DiagConsoleLogger,
  DiagLogLevel,
  INVALID_SPANID,
  INVALID_SPAN_CONTEXT,
  INVALID_TRACEID,
  ProxyTracer,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SamplingDecision,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  ValueType,
  baggageEntryMetadataFromString,
  context,
  createContextKey,
  createNoopMeter,
  createTraceState,
  defaultTextMapGetter,
  defaultTextMapSetter,
  diag,
  isSpanContextValid,
  isValidSpanId,
  isValidTraceId,
  metrics,
  propagation,
  trace,
} = api;
