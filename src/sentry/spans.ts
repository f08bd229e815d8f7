/**
 * The agent's spans to Sentry's OTLP endpoint: a span processor joined to the agent's tracer
 * provider (so spans also go to a Collector when one is configured), which
 * - keeps the share of traces SENTRY_TRACES_SAMPLE_RATE asks for, by trace id, so a trace is
 *   kept or dropped whole and the same way in every service (the agent's sampler came first);
 * - caps its queue and counts what it drops;
 * - scrubs every span before it leaves (see scrub.ts);
 * - remembers the last server spans that ended with an exception, so an uncaught exception
 *   thrown in a request handler can be reported with that request's trace, method and route.
 *
 * The exporter posts OTLP protobuf itself rather than through OTLPTraceExporter: that one merges
 * OTEL_EXPORTER_OTLP_HEADERS and the Collector's client certificates into every request, which
 * would hand the Collector's credentials to Sentry.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, type Context } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import {
  BatchSpanProcessor,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  type ReadableSpan,
  type Span,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace';
import type { SentryMetrics } from './metrics';
import { isAiContentEvent, type Scrubber } from './scrub';
import { PROFILED_THREAD } from './profiling';
import type { ProxyEnv } from './proxy';
import { createPoster, retryAfterMs, type Poster } from './transport';
import { OtlpTraceEncoder } from '../tracing/otlp-encoder';

/** Spans held for Sentry at most; past it, new spans are dropped and counted. */
export const SPAN_QUEUE_LIMIT = 2048;
const EXPORT_TIMEOUT_MS = 5000;
const MAX_IN_FLIGHT = 2;

/** What is known about a server span that ended with an exception. */
export interface ErroredRequest {
  traceId: string;
  spanId: string;
  sampled: boolean;
  method: string | undefined;
  route: string | undefined;
  path: string | undefined;
  statusCode: number | undefined;
}

/** The last few server spans that ended with an exception, by the exception's stack trace. */
export class ErrorSpanIndex {
  private readonly entries: Array<{ stack: string; request: ErroredRequest }> = [];

  note(span: ReadableSpan): void {
    if (span.kind !== SpanKind.SERVER || span.status.code !== SpanStatusCode.ERROR) return;
    const exception = span.events.find((e) => e.name === 'exception');
    const stack = exception?.attributes?.['exception.stacktrace'];
    if (typeof stack !== 'string' || stack === '') return;
    const a = span.attributes;
    const ctx = span.spanContext();
    const status = a['http.response.status_code'] ?? a['http.status_code'];
    this.entries.push({
      stack,
      request: {
        traceId: ctx.traceId,
        spanId: ctx.spanId,
        sampled: (ctx.traceFlags & TraceFlags.SAMPLED) !== 0,
        method: stringOf(a['http.request.method'] ?? a['http.method']),
        route: stringOf(a['http.route']),
        path: stringOf(a['url.path'] ?? a['http.target']),
        statusCode: typeof status === 'number' ? status : undefined,
      },
    });
    if (this.entries.length > 8) this.entries.shift();
  }

  /** The request whose server span recorded exactly this error, if one did. */
  find(error: unknown): ErroredRequest | undefined {
    const stack = (error as { stack?: unknown } | null)?.stack;
    if (typeof stack !== 'string') return undefined;
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]!.stack === stack) return this.entries[i]!.request;
    return undefined;
  }
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** Posts spans to Sentry's OTLP endpoint; never retries, counts every span it gives up on. */
export class SentryOtlpExporter implements SpanExporter {
  private readonly post: Poster;
  /** The span encoder the agent's OTLP exporter uses too (tracing/otlp-encoder.ts). */
  private readonly encoder = new OtlpTraceEncoder();
  private inFlight = 0;
  private backoffUntil = 0;

  constructor(
    url: string,
    private readonly headers: Record<string, string>,
    private readonly scrubber: Scrubber,
    private readonly metrics: SentryMetrics,
    proxy: ProxyEnv,
    /** The continuous profiler's id while this process profiles (profiling.ts), for linking spans to it. */
    private readonly profilerId: () => string | undefined = () => undefined,
  ) {
    this.post = createPoster(url, EXPORT_TIMEOUT_MS - 500, proxy);
  }

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    const fail = (reason: string) => {
      this.metrics.spansDropped(reason, spans.length);
      done({ code: ExportResultCode.FAILED, error: new Error(`spans not sent to Sentry (${reason})`) });
    };
    if (Date.now() < this.backoffUntil) return fail('ratelimit_backoff');
    if (this.inFlight >= MAX_IN_FLIGHT) return fail('queue_overflow');
    let body: Uint8Array | undefined;
    try {
      const profilerId = this.profilerId();
      const linked = profilerId ? { 'sentry.profiler_id': profilerId, 'thread.id': PROFILED_THREAD.id, 'thread.name': PROFILED_THREAD.name } : undefined;
      body = this.encoder.encode(spans.map((span) => scrubbedView(span, this.scrubber, linked)));
    } catch {
      body = undefined;
    }
    if (!body) return fail('send_error');
    this.inFlight++;
    this.post(body, { ...this.headers, 'content-type': 'application/x-protobuf' })
      .then(
        (response) => {
          if (response.statusCode >= 200 && response.statusCode < 300) return done({ code: ExportResultCode.SUCCESS });
          if (response.statusCode === 429) {
            this.backoffUntil = Date.now() + retryAfterMs(response.retryAfter);
            return fail('rate_limited');
          }
          return fail('send_error');
        },
        () => fail('network_error'),
      )
      .finally(() => this.inFlight--);
  }

  async shutdown(): Promise<void> {}

  async forceFlush(): Promise<void> {}
}

/** A read-only view of a span with every scrubbing rule applied; the span itself is untouched. */
export function scrubbedView(span: ReadableSpan, scrubber: Scrubber, extra?: Record<string, string>): ReadableSpan {
  const isDb = span.attributes['db.system'] !== undefined || span.attributes['db.system.name'] !== undefined;
  const message = (text: string) => (isDb ? scrubber.dbMessage(text) : scrubber.text(text));
  return {
    name: scrubber.text(span.name),
    kind: span.kind,
    spanContext: () => span.spanContext(),
    parentSpanContext: span.parentSpanContext,
    startTime: span.startTime,
    endTime: span.endTime,
    status: span.status.message ? { ...span.status, message: message(span.status.message) } : span.status,
    attributes: extra ? { ...scrubber.attributes(span.attributes), ...extra } : scrubber.attributes(span.attributes),
    links: span.links,
    events: span.events
      .filter((event) => !isAiContentEvent(event.name))
      .map((event) => {
        if (!event.attributes) return event;
        const attributes = scrubber.attributes(event.attributes);
        const text = event.attributes['exception.message'];
        if (typeof text === 'string') attributes['exception.message'] = message(text);
        return { ...event, attributes };
      }),
    duration: span.duration,
    ended: span.ended,
    resource: span.resource,
    instrumentationScope: span.instrumentationScope,
    droppedAttributesCount: span.droppedAttributesCount,
    droppedEventsCount: span.droppedEventsCount,
    droppedLinksCount: span.droppedLinksCount,
  };
}

/** The processor the agent's tracer provider calls for every span. */
export class SentrySpanProcessor implements SpanProcessor {
  private readonly batch: BatchSpanProcessor | undefined;
  private readonly sampler: TraceIdRatioBasedSampler | undefined;
  private queued = 0;

  constructor(
    readonly errors: ErrorSpanIndex,
    private readonly metrics: SentryMetrics,
    exporter: SentryOtlpExporter | undefined,
    ratio: number,
  ) {
    if (exporter) {
      // What the batch hands to the exporter has left this processor's queue.
      const handOver: SpanExporter = {
        export: (spans, done) => {
          this.queued = Math.max(0, this.queued - spans.length);
          exporter.export(spans, done);
        },
        shutdown: () => exporter.shutdown(),
        forceFlush: () => exporter.forceFlush(),
      };
      this.batch = new BatchSpanProcessor({
        exporter: handOver,
        maxQueueSize: SPAN_QUEUE_LIMIT,
        maxExportBatchSize: 512,
        exportTimeoutMillis: EXPORT_TIMEOUT_MS,
      });
    }
    this.sampler = ratio < 1 ? new TraceIdRatioBasedSampler(ratio) : undefined;
  }

  onStart(_span: Span, _parentContext: Context): void {}

  onEnd(span: ReadableSpan): void {
    this.errors.note(span);
    if (!this.batch) return;
    const ctx = span.spanContext();
    if ((ctx.traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.sampler && this.sampler.shouldSample(ROOT_CONTEXT, ctx.traceId).decision !== SamplingDecision.RECORD_AND_SAMPLED) {
      return;
    }
    if (this.queued >= SPAN_QUEUE_LIMIT) {
      this.metrics.spansDropped('queue_overflow');
      return;
    }
    this.queued++;
    this.batch.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.batch ? this.batch.forceFlush().catch(() => undefined) : Promise.resolve();
  }

  shutdown(): Promise<void> {
    return this.batch ? this.batch.shutdown().catch(() => undefined) : Promise.resolve();
  }
}
