/**
 * One generation from the app's call to its end, however it was made (an SDK method or a plain
 * HTTP call): what it reported so far, its span, and exactly one record when it finishes.
 */
import { context as otelContext, SpanKind, SpanStatusCode, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { reportOnce } from '../lifecycle/guard';
import type { Endpoint, HostAddress } from './endpoints';
import { semconvOperation } from './endpoints';
import type { OperationChannel } from '../instrumentations/operation-channel';
import type { AiMetrics, FinishedGeneration, GenerationStatus } from './metrics';
import { ResponseReader } from './usage';

/** What a generation needs from the running agent. */
export interface AiRuntime {
  metrics: AiMetrics;
  tracer: Tracer;
  /** The bounded route of the inbound HTTP request being served here, or NO_ROUTE. */
  currentRoute(): string;
  captureContentChars: number;
  /**
   * Each generation's start (in the caller's context) and end, for consumers outside the meters
   * (Sentry's breadcrumbs); a generation that ends with no `outcome` was discarded.
   */
  generations: OperationChannel<Generation>;
}

export interface GenerationStart {
  endpoint: Endpoint;
  provider: string;
  requestModel: string | undefined;
  stream: boolean;
  server: HostAddress | undefined;
  /** False when the SDK makes its own span for the call. */
  span: boolean;
}

export class Generation {
  readonly startedAt = performance.now();
  readonly reader: ResponseReader;
  readonly route: string;
  readonly span: Span | undefined;
  /** The OpenTelemetry context the generation was started in (its span's parent). */
  readonly parentContext: Context;
  requestModel: string | undefined;
  stream: boolean;
  firstTokenAt: number | undefined;
  finished = false;
  /** What was recorded, once the generation finished. */
  outcome: FinishedGeneration | undefined;

  constructor(
    private readonly runtime: AiRuntime,
    readonly start: GenerationStart,
  ) {
    this.requestModel = start.requestModel;
    this.stream = start.stream;
    this.reader = new ResponseReader(start.endpoint, runtime.captureContentChars);
    this.route = runtime.currentRoute();
    this.parentContext = otelContext.active();
    if (start.span) {
      const operation = semconvOperation(start.endpoint.operation);
      this.span = runtime.tracer.startSpan(
        start.requestModel ? `${operation} ${start.requestModel}` : operation,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'gen_ai.operation.name': operation,
            'gen_ai.provider.name': start.provider,
            ...(start.requestModel ? { 'gen_ai.request.model': start.requestModel } : {}),
            ...(start.server ? { 'server.address': start.server.hostname, 'server.port': Number(start.server.port) || 0 } : {}),
            'http.route': this.route,
          },
        },
        this.parentContext,
      );
    }
    if (runtime.generations.hasConsumers) runtime.generations.start(this);
  }

  get endpoint(): Endpoint {
    return this.start.endpoint;
  }

  /** The model as the app asked for it, once known (a plain HTTP call's body is read after the start). */
  noteRequestModel(model: string | undefined): void {
    if (!model || this.requestModel) return;
    this.requestModel = model;
    if (this.span) {
      this.span.setAttribute('gen_ai.request.model', model);
      this.span.updateName(`${semconvOperation(this.endpoint.operation)} ${model}`);
    }
  }

  /** The prompt, only ever called when content capture is on. */
  noteInputContent(json: string): void {
    if (this.span && this.runtime.captureContentChars > 0) {
      this.span.setAttribute('gen_ai.input.messages', json.slice(0, this.runtime.captureContentChars));
    }
  }

  readBody(body: unknown): void {
    this.reader.readBody(body);
  }

  /** A streamed event; notes the first one that carries content. */
  readEvent(event: unknown): void {
    if (this.reader.readEvent(event) && this.firstTokenAt === undefined) this.firstTokenAt = performance.now();
  }

  /** Ends the span without recording anything (a redirect: the request it leads to is the generation). */
  discard(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.runtime.generations.hasConsumers) this.runtime.generations.end(this, undefined);
    try {
      this.span?.end();
    } catch (error) {
      reportOnce('AI generation span', error);
    }
  }

  /** Records the generation once; later calls do nothing. */
  finish(status: GenerationStatus, errorType?: string): void {
    if (this.finished) return;
    this.finished = true;
    const endedAt = performance.now();
    const reader = this.reader;
    const model = this.requestModel ?? reader.responseModel?.toLowerCase();
    try {
      this.outcome = {
        provider: this.start.provider,
        operation: this.endpoint.operation,
        semconvOperation: semconvOperation(this.endpoint.operation),
        model: model ?? 'unknown',
        requestModel: this.requestModel,
        responseModel: reader.responseModel?.toLowerCase(),
        stream: this.stream,
        route: this.route,
        status,
        errorType,
        seconds: (endedAt - this.startedAt) / 1000,
        firstTokenSeconds: this.firstTokenAt === undefined ? undefined : (this.firstTokenAt - this.startedAt) / 1000,
        usage: reader.usage,
      };
      this.runtime.metrics.recordGeneration(this.outcome);
    } catch (error) {
      reportOnce('AI generation metrics', error);
    }
    if (this.runtime.generations.hasConsumers) this.runtime.generations.end(this, undefined);
    const span = this.span;
    if (!span) return;
    try {
      if (reader.responseModel) span.setAttribute('gen_ai.response.model', reader.responseModel);
      const usage = reader.usage;
      if (usage?.input !== undefined) span.setAttribute('gen_ai.usage.input_tokens', usage.input);
      if (usage?.output !== undefined) span.setAttribute('gen_ai.usage.output_tokens', usage.output);
      if (usage?.cachedInput) span.setAttribute('gen_ai.usage.cache_read.input_tokens', usage.cachedInput);
      if (this.runtime.captureContentChars > 0 && reader.outputText) {
        span.setAttribute('gen_ai.output.messages', JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: reader.outputText }] }]));
      }
      if (status === 'error') {
        span.setAttribute('error.type', errorType ?? '_OTHER');
        span.setStatus({ code: SpanStatusCode.ERROR });
      } else if (status === 'cancelled') {
        span.setAttribute('tutor.ai.cancelled', true);
      }
      span.end();
    } catch (error) {
      reportOnce('AI generation span', error);
    }
  }
}

/** A bounded, secret-free name for an error, for `error.type`. */
export function errorType(error: unknown): string {
  if (error && typeof error === 'object') {
    const ctor = (error as { constructor?: { name?: unknown } }).constructor;
    const name = typeof ctor?.name === 'string' && ctor.name !== 'Error' && ctor.name !== 'Object' ? ctor.name : (error as { name?: unknown }).name;
    if (typeof name === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,60}$/.test(name)) return name;
  }
  return '_OTHER';
}

/** Did this error come from the app (or the SDK on its behalf) giving up on the call? */
export function isAbort(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const name = (error as { name?: unknown }).name;
  const ctorName = (error as { constructor?: { name?: unknown } }).constructor?.name;
  return name === 'AbortError' || ctorName === 'APIUserAbortError';
}
