/**
 * The batching span processor of the OTLP/protobuf exporter: the SDK's `BatchSpanProcessor`, rule
 * for rule, with one difference. A span is encoded when it ends (otlp-encoder.ts `add`), and only
 * its bytes wait for the batch to be sent.
 *
 * Why: the SDK's processor holds each span object until its batch is sent (tens of milliseconds
 * at a few thousand requests a second, and as long as the Collector takes to answer), and then
 * encodes the whole batch at once, when the spans' data has long left the CPU's caches. Encoded as
 * it ends, a span is read while it is still hot, and only compact bytes outside the JavaScript heap
 * wait in the queue: nothing of the request stays reachable through its spans.
 *
 * What is kept from the SDK's processor: only sampled spans are queued; the queue holds at most
 * `maxQueueSize` spans and drops the rest (counted); a batch goes out when `maxExportBatchSize`
 * spans are waiting or `scheduledDelayMillis` after the first one, one export at a time, each
 * given `exportTimeoutMillis`, with tracing suppressed; a resource whose detectors are still
 * answering is waited for; `forceFlush` sends everything; `shutdown` flushes, then shuts the
 * exporter down; timers never keep the process alive. Its self-metrics have the SDK's names,
 * units, descriptions and attributes (`otel.sdk.processor.span.*`, component type
 * `batching_span_processor`).
 */
import { context, createNoopMeter, diag, ROOT_CONTEXT, TraceFlags, type Attributes, type Counter, type MeterProvider } from '@opentelemetry/api';
import { BindOnceFuture, ExportResultCode, globalErrorHandler, suppressTracing, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { reportOnce } from '../lifecycle/guard';
import { OtlpTraceEncoder } from './otlp-encoder';
import type { EncodedSpans } from './otlp-trace-exporter';

/** What the processor hands its batches to (the OTLP/protobuf exporter). */
export interface EncodedSpanExporter {
  export(batch: EncodedSpans, done: (result: ExportResult) => void): void;
  forceFlush?(): Promise<void>;
  shutdown(): Promise<void>;
}

export interface EncodingBatchOptions {
  maxQueueSize: number;
  maxExportBatchSize: number;
  scheduledDelayMillis: number;
  exportTimeoutMillis: number;
  /** Where the processor's self-metrics go (none without it). */
  selfObsMeterProvider?: MeterProvider;
}

const COMPONENT_TYPE = 'batching_span_processor';
/** Instances per process, for otel.component.name, as the SDK numbers its processors. */
let instances = 0;

export class EncodingBatchProcessor implements SpanProcessor {
  /** Batches in the order they were opened; the last one is being filled. Each holds bytes only. */
  private readonly batches: OtlpTraceEncoder[] = [];
  /** Emptied encoders, kept for their buffers and their resource and scope caches. */
  private readonly spare: OtlpTraceEncoder[] = [];
  /** Spans queued (encoded, not yet handed to the exporter). */
  private queued = 0;
  private exporting = false;
  private timer: NodeJS.Timeout | undefined;
  private droppedSinceWarning = 0;
  private readonly maxQueueSize: number;
  private readonly maxExportBatchSize: number;
  private readonly metrics: ProcessorMetrics;
  private readonly shutdownOnce: BindOnceFuture<void>;

  constructor(
    private readonly exporter: EncodedSpanExporter,
    private readonly options: EncodingBatchOptions,
  ) {
    this.maxQueueSize = options.maxQueueSize;
    this.maxExportBatchSize = options.maxExportBatchSize;
    if (this.maxExportBatchSize > this.maxQueueSize) {
      diag.warn('BatchSpanProcessor: maxExportBatchSize must be smaller or equal to maxQueueSize, setting maxExportBatchSize to match maxQueueSize');
      this.maxExportBatchSize = this.maxQueueSize;
    }
    this.metrics = new ProcessorMetrics(options.selfObsMeterProvider, this.maxQueueSize, () => this.queued);
    this.shutdownOnce = new BindOnceFuture(() => this.shutdownNow(), undefined);
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.shutdownOnce.isCalled) return;
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queued >= this.maxQueueSize) {
      if (this.droppedSinceWarning === 0) diag.debug('maxQueueSize reached, dropping spans');
      this.droppedSinceWarning++;
      this.metrics.dropped(1);
      return;
    }
    if (this.droppedSinceWarning > 0) {
      diag.warn(`Dropped ${this.droppedSinceWarning} spans because maxQueueSize reached`);
      this.droppedSinceWarning = 0;
    }
    try {
      this.openBatch().add(span);
    } catch (error) {
      // Never into the app's span.end(): a span the encoder cannot take is dropped, counted as a
      // failure of its error type, and said once.
      this.metrics.finished(1, asError(error));
      reportOnce('span encoding', error);
      return;
    }
    this.queued++;
    this.maybeStartTimer();
  }

  forceFlush(): Promise<void> {
    if (this.shutdownOnce.isCalled) return this.shutdownOnce.promise;
    return this.flushAll();
  }

  shutdown(): Promise<void> {
    return this.shutdownOnce.call();
  }

  private shutdownNow(): Promise<void> {
    return this.flushAll().then(() => {
      this.metrics.shutdown();
      return this.exporter.shutdown();
    });
  }

  /** The batch being filled: a new one once the last is full. */
  private openBatch(): OtlpTraceEncoder {
    const last = this.batches[this.batches.length - 1];
    if (last !== undefined && last.size < this.maxExportBatchSize) return last;
    const batch = this.spare.pop() ?? new OtlpTraceEncoder();
    this.batches.push(batch);
    return batch;
  }

  /** Every queued span, in as many exports as batches. */
  private flushAll(): Promise<void> {
    const exports: Promise<void>[] = [];
    while (this.batches.length > 0) exports.push(this.exportOldest());
    return Promise.all(exports).then(() => undefined);
  }

  private maybeStartTimer(): void {
    if (this.exporting) return;
    if (this.queued >= this.maxExportBatchSize) return this.flushOne();
    if (this.timer !== undefined) return;
    this.timer = context.with(ROOT_CONTEXT, () => setTimeout(() => this.exportNext(), this.options.scheduledDelayMillis));
    this.timer.unref();
  }

  /** One export, outside the request whose span started it (its promises and timers keep their async context alive). */
  private flushOne(): void {
    context.with(ROOT_CONTEXT, () => this.exportNext());
  }

  private exportNext(): void {
    this.exporting = true;
    this.exportOldest()
      .finally(() => {
        this.exporting = false;
        if (this.queued > 0) {
          this.clearTimer();
          this.maybeStartTimer();
        }
      })
      .catch((error: unknown) => globalErrorHandler(error as Error));
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Sends the oldest batch; settles when the exporter answers, or rejects after the export timeout. */
  private exportOldest(): Promise<void> {
    this.clearTimer();
    const batch = this.batches.shift();
    if (batch === undefined || batch.size === 0) {
      if (batch) this.spare.push(batch);
      return Promise.resolve();
    }
    const count = batch.size;
    this.queued -= count;
    return new Promise<void>((resolve, reject) => {
      const timeout = setTimeout(() => reject(new Error('Timeout')), this.options.exportTimeoutMillis);
      timeout.unref();
      const send = (): void => {
        let bytes: Uint8Array;
        try {
          bytes = batch.take();
        } finally {
          if (this.spare.length < 2) this.spare.push(batch);
        }
        // The export's own HTTP request is not traced.
        context.with(suppressTracing(ROOT_CONTEXT), () =>
          this.exporter.export({ bytes, count }, (result) => {
            clearTimeout(timeout);
            this.metrics.finished(count, result.error);
            if (result.code === ExportResultCode.SUCCESS) resolve();
            else reject(result.error ?? new Error('BatchSpanProcessor: span export failed'));
          }),
        );
      };
      const pending = batch.pendingResources();
      if (pending.length === 0) return send();
      Promise.all(pending.map((resource) => resource.waitForAsyncAttributes?.() ?? Promise.resolve())).then(send, (error: unknown) => {
        batch.clear();
        const failure = asError(error);
        globalErrorHandler(failure);
        reject(failure);
      });
    });
  }
}

/** What was thrown or rejected, as an Error (its name is the self-metrics' error.type). */
function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The SDK's span processor self-metrics (its SpanProcessorMetrics), same names and attributes. */
class ProcessorMetrics {
  private readonly processed: Counter;
  private readonly standard: Attributes;
  private readonly queueFull: Attributes;
  private readonly removeQueueSize: () => void;

  constructor(meterProvider: MeterProvider | undefined, capacity: number, queueSize: () => number) {
    const meter = meterProvider ? meterProvider.getMeter('@opentelemetry/sdk-trace') : createNoopMeter();
    this.standard = { 'otel.component.type': COMPONENT_TYPE, 'otel.component.name': `${COMPONENT_TYPE}/${instances++}` };
    this.queueFull = { ...this.standard, 'error.type': 'queue_full' };
    this.processed = meter.createCounter('otel.sdk.processor.span.processed', {
      unit: '{span}',
      description: 'The number of spans for which the processing has finished, either successful or failed.',
    });
    meter
      .createUpDownCounter('otel.sdk.processor.span.queue.capacity', {
        unit: '{span}',
        description: 'The maximum number of spans the queue of a given instance of an SDK span processor can hold.',
      })
      .add(capacity, this.standard);
    const size = meter.createObservableUpDownCounter('otel.sdk.processor.span.queue.size', {
      unit: '{span}',
      description: 'The number of spans in the queue of a given instance of an SDK span processor.',
    });
    const observe = (result: { observe(value: number, attributes: Attributes): void }): void => result.observe(queueSize(), this.standard);
    size.addCallback(observe);
    this.removeQueueSize = () => size.removeCallback(observe);
  }

  dropped(count: number): void {
    this.processed.add(count, this.queueFull);
  }

  finished(count: number, error: Error | undefined): void {
    this.processed.add(count, error ? { ...this.standard, 'error.type': error.name } : this.standard);
  }

  shutdown(): void {
    this.removeQueueSize();
  }
}
