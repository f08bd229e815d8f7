/**
 * The batching processor of the OTLP/protobuf exporter, which encodes each span when it ends: it
 * must batch, bound, drop, flush and report as the SDK's BatchSpanProcessor does, and what it
 * sends must be the bytes the encoder makes for the same spans in the same order (the encoder's own
 * test proves those equal to upstream's serializer). The exporter here is an in-memory recorder:
 * the HTTP side is upstream's and is tested end to end in test/agent/otlp-export.test.ts.
 */
import { Buffer } from 'node:buffer';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, MetricReader, type SumMetricData } from '@opentelemetry/sdk-metrics';
import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../src/config/env';
import { agentTracer } from '../../src/tracing/agent-tracer';
import { EncodingBatchProcessor, type EncodedSpanExporter } from '../../src/tracing/encoding-batch-processor';
import { OtlpTraceEncoder } from '../../src/tracing/otlp-encoder';
import type { EncodedSpans } from '../../src/tracing/otlp-trace-exporter';
import { buildSampler } from '../../src/tracing/sampler';
import { spanCollector } from '../helpers/span-collector';

class Reader extends MetricReader {
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/** An exporter that keeps what it is given and answers when told to (or at once). */
class Recorder implements EncodedSpanExporter {
  readonly batches: EncodedSpans[] = [];
  private readonly waiting: ((result: ExportResult) => void)[] = [];
  shutDown = false;
  constructor(private readonly answer: ExportResult | 'later' = { code: ExportResultCode.SUCCESS }) {}
  export(batch: EncodedSpans, done: (result: ExportResult) => void): void {
    this.batches.push(batch);
    if (this.answer === 'later') this.waiting.push(done);
    else done(this.answer);
  }
  answerAll(): void {
    for (const done of this.waiting.splice(0)) done({ code: ExportResultCode.SUCCESS });
  }
  shutdown(): Promise<void> {
    this.shutDown = true;
    return Promise.resolve();
  }
}

const processors: SpanProcessor[] = [];
afterEach(async () => {
  await Promise.all(processors.splice(0).map((p) => p.shutdown()));
});

function setup(options: Partial<ConstructorParameters<typeof EncodingBatchProcessor>[1]> = {}, exporter = new Recorder()) {
  const reader = new Reader();
  const meters = new MeterProvider({ readers: [reader] });
  const processor = new EncodingBatchProcessor(exporter, {
    maxQueueSize: 2048,
    maxExportBatchSize: 512,
    scheduledDelayMillis: 60_000,
    exportTimeoutMillis: 30_000,
    selfObsMeterProvider: meters,
    ...options,
  });
  processors.push(processor);
  /** Spans as the agent's tracer makes them, handed to the processor when they end. */
  const ended: ReadableSpan[] = [];
  const keep = spanCollector(ended);
  const pipeline = {
    resource: resourceFromAttributes({ 'service.name': 'unit' }),
    instrumentationScope: { name: 'unit' },
    limits: DEFAULTS.limits,
    processors: [keep, processor],
    endingProcessors: [],
  };
  const sampled = agentTracer(pipeline, buildSampler('always_on', 1), 'always_on');
  const unsampled = agentTracer(pipeline, buildSampler('always_off', 1), 'always_off');
  const span = (name: string, tracer = sampled) => tracer.startSpan(name, { attributes: { n: name } }, ROOT_CONTEXT).end();
  /** The processor's self-metric points: name -> [attributes, value]. */
  const points = async () => {
    const { resourceMetrics } = await reader.collect();
    const found = new Map<string, [Record<string, unknown>, number][]>();
    for (const scope of resourceMetrics.scopeMetrics)
      for (const metric of scope.metrics as SumMetricData[])
        found.set(
          metric.descriptor.name,
          metric.dataPoints.map((p) => [p.attributes, p.value]),
        );
    return found;
  };
  return { processor, exporter, span, unsampled, ended, points };
}

const bytes = (spans: ReadableSpan[]) => Buffer.from(new OtlpTraceEncoder().encode(spans));

describe('the encoding batch processor', () => {
  it('sends a batch when maxExportBatchSize spans wait, with the bytes of those spans in order', async () => {
    const { exporter, span, ended } = setup({ maxExportBatchSize: 2 });
    for (const name of ['a', 'b', 'c', 'd', 'e']) span(name);
    await new Promise((resolve) => setImmediate(resolve));
    expect(exporter.batches.map((b) => b.count)).toEqual([2, 2]);
    expect(Buffer.from(exporter.batches[0]!.bytes).equals(bytes(ended.slice(0, 2)))).toBe(true);
    expect(Buffer.from(exporter.batches[1]!.bytes).equals(bytes(ended.slice(2, 4)))).toBe(true);
  });

  it('sends what waits after scheduledDelayMillis, and everything on forceFlush', async () => {
    const timed = setup({ scheduledDelayMillis: 20 });
    timed.span('a');
    expect(timed.exporter.batches).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(timed.exporter.batches.map((b) => b.count)).toEqual([1]);

    const flushed = setup({ maxExportBatchSize: 3 });
    for (const name of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) flushed.span(name);
    await flushed.processor.forceFlush();
    expect(flushed.exporter.batches.map((b) => b.count)).toEqual([3, 3, 1]);
    expect(Buffer.concat(flushed.exporter.batches.map((b) => Buffer.from(b.bytes))).length).toBeGreaterThan(0);
  });

  it('queues only sampled spans', async () => {
    const { processor, exporter, span, unsampled } = setup();
    span('kept');
    span('dropped', unsampled);
    await processor.forceFlush();
    expect(exporter.batches.map((b) => b.count)).toEqual([1]);
  });

  it('holds at most maxQueueSize spans while an export is out, and counts the rest as queue_full', async () => {
    const exporter = new Recorder('later');
    const { processor, span, points } = setup({ maxQueueSize: 3, maxExportBatchSize: 3 }, exporter);
    for (let i = 0; i < 3; i++) span(`first${i}`); // a full batch: out to the exporter, which does not answer yet
    for (let i = 0; i < 5; i++) span(`then${i}`); // 3 queued, 2 dropped
    const metrics = await points();
    expect(metrics.get('otel.sdk.processor.span.queue.size')?.[0]?.[1]).toBe(3);
    expect(metrics.get('otel.sdk.processor.span.queue.capacity')?.[0]?.[1]).toBe(3);
    const dropped = metrics.get('otel.sdk.processor.span.processed')?.find(([attributes]) => attributes['error.type'] === 'queue_full');
    expect(dropped?.[1]).toBe(2);
    expect(dropped?.[0]['otel.component.type']).toBe('batching_span_processor');
    exporter.answerAll();
    const flushing = processor.forceFlush();
    await new Promise((resolve) => setImmediate(resolve));
    exporter.answerAll();
    await flushing;
    expect(exporter.batches.map((b) => b.count)).toEqual([3, 3]);
    const done = (await points()).get('otel.sdk.processor.span.processed')?.find(([attributes]) => attributes['error.type'] === undefined);
    expect(done?.[1]).toBe(6);
  });

  it('counts a failed export under its error type', async () => {
    const error = Object.assign(new Error('refused'), { name: 'OTLPExporterError' });
    const { processor, span, points } = setup({}, new Recorder({ code: ExportResultCode.FAILED, error }));
    span('a');
    await expect(processor.forceFlush()).rejects.toThrow('refused');
    const failed = (await points()).get('otel.sdk.processor.span.processed')?.find(([attributes]) => attributes['error.type'] === 'OTLPExporterError');
    expect(failed?.[1]).toBe(1);
  });

  it('flushes on shutdown, shuts the exporter down, and takes nothing after', async () => {
    const { processor, exporter, span } = setup();
    span('a');
    await processor.shutdown();
    expect(exporter.batches.map((b) => b.count)).toEqual([1]);
    expect(exporter.shutDown).toBe(true);
    span('late');
    await processor.forceFlush();
    expect(exporter.batches).toHaveLength(1);
  });

  it('drops a span it cannot encode without throwing into span.end(), and counts it as failed', async () => {
    const { processor, exporter, span, points } = setup();
    const broken = {
      spanContext: () => ({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1 }),
      get attributes(): never {
        throw new Error('unreadable');
      },
    } as unknown as ReadableSpan;
    expect(() => processor.onEnd(broken)).not.toThrow();
    span('fine');
    await processor.forceFlush();
    expect(exporter.batches.map((b) => b.count)).toEqual([1]);
    const processed = (await points()).get('otel.sdk.processor.span.processed') ?? [];
    // Counted under the encoding error's type (a TypeError, for this span).
    expect(
      processed.filter(([attributes]) => attributes['error.type'] !== undefined).map(([attributes, value]) => [attributes['error.type'], value]),
    ).toEqual([['TypeError', 1]]);
    expect(processed.find(([attributes]) => attributes['error.type'] === undefined)?.[1]).toBe(1);
  });
});
