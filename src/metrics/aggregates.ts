/**
 * Counters and histograms for the metrics recorded on every request, query and command, summed
 * by the agent itself and handed to the Prometheus exporter at scrape time as a MetricProducer.
 *
 * Why not the SDK's instruments for these: each `add`/`record` there finds its series by hashing
 * the attribute object (sorting its keys and JSON-encoding them), and in the benchmark profile that
 * hash was the largest single item of the agent's per-request cost with metrics only. Here the
 * label values arrive in a fixed order and make the key, so a record is a short string
 * concatenation, one Map lookup and a few additions; the SDK's hashing is not needed at all.
 * The output is the same MetricData the SDK would produce (cumulative sums and explicit-bucket
 * histograms), so the exporter renders both alike. Series counts stay bounded by the label
 * policies of the modules that own the metrics (route cap, fixed verbs and outcomes).
 */
import { ValueType, type Attributes, type HrTime } from '@opentelemetry/api';
import { hrTime } from '@opentelemetry/core';
import { emptyResource } from '@opentelemetry/resources';
import { AggregationTemporality, DataPointType, type CollectionResult, type MetricData, type MetricProducer } from '@opentelemetry/sdk-metrics';

export interface InstrumentDescription {
  name: string;
  description: string;
  unit?: string;
}

interface Collectable {
  collect(endTime: HrTime): MetricData | undefined;
}

/**
 * The series key of a label set: each value prefixed by its length, so no two label sets share a
 * key whatever characters their values hold (a route comes from a URL path).
 */
function seriesKey(values: readonly string[]): string {
  let key = '';
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as string;
    key += value.length + ':' + value;
  }
  return key;
}

function attributesOf(names: readonly string[], values: readonly string[]): Attributes {
  const attributes: Attributes = {};
  for (let i = 0; i < names.length; i++) attributes[names[i] as string] = values[i];
  return attributes;
}

interface CounterPoint {
  attributes: Attributes;
  startTime: HrTime;
  value: number;
}

/** A monotonic counter with a fixed list of label names. */
export class LabelledCounter implements Collectable {
  private readonly points = new Map<string, CounterPoint>();

  constructor(
    private readonly description: InstrumentDescription,
    private readonly labelNames: readonly string[],
  ) {}

  /** @param labelValues in the order of the label names */
  add(value: number, labelValues: readonly string[]): void {
    if (!(value >= 0)) return; // a counter never goes down; NaN is dropped as the SDK drops it
    const key = seriesKey(labelValues);
    const point = this.points.get(key);
    if (point !== undefined) {
      point.value += value;
      return;
    }
    this.points.set(key, { attributes: attributesOf(this.labelNames, labelValues), startTime: hrTime(), value });
  }

  collect(endTime: HrTime): MetricData | undefined {
    if (this.points.size === 0) return undefined;
    return {
      descriptor: { ...this.description, unit: this.description.unit ?? '', valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.SUM,
      isMonotonic: true,
      dataPoints: [...this.points.values()].map((p) => ({ attributes: p.attributes, startTime: p.startTime, endTime, value: p.value })),
    };
  }
}

interface HistogramPoint {
  attributes: Attributes;
  startTime: HrTime;
  /** One count per bucket: `value <= boundaries[i]` in bucket i, the last is above every boundary. */
  counts: number[];
  sum: number;
  count: number;
  min: number;
  max: number;
}

/** An explicit-bucket histogram with a fixed list of label names. */
export class LabelledHistogram implements Collectable {
  private readonly points = new Map<string, HistogramPoint>();

  constructor(
    private readonly description: InstrumentDescription,
    private readonly labelNames: readonly string[],
    private readonly boundaries: readonly number[],
  ) {}

  /** @param labelValues in the order of the label names */
  record(value: number, labelValues: readonly string[]): void {
    if (!Number.isFinite(value)) return;
    const key = seriesKey(labelValues);
    let point = this.points.get(key);
    if (point === undefined) {
      point = {
        attributes: attributesOf(this.labelNames, labelValues),
        startTime: hrTime(),
        counts: new Array<number>(this.boundaries.length + 1).fill(0),
        sum: 0,
        count: 0,
        min: Infinity,
        max: -Infinity,
      };
      this.points.set(key, point);
    }
    point.counts[bucketIndex(this.boundaries, value)]!++;
    point.sum += value;
    point.count++;
    if (value < point.min) point.min = value;
    if (value > point.max) point.max = value;
  }

  collect(endTime: HrTime): MetricData | undefined {
    if (this.points.size === 0) return undefined;
    const boundaries = [...this.boundaries];
    return {
      descriptor: { ...this.description, unit: this.description.unit ?? '', valueType: ValueType.DOUBLE },
      aggregationTemporality: AggregationTemporality.CUMULATIVE,
      dataPointType: DataPointType.HISTOGRAM,
      dataPoints: [...this.points.values()].map((p) => ({
        attributes: p.attributes,
        startTime: p.startTime,
        endTime,
        value: { buckets: { boundaries, counts: [...p.counts] }, sum: p.sum, count: p.count, min: p.min, max: p.max },
      })),
    };
  }
}

/** The bucket of a value: the first boundary it does not exceed, as Prometheus's `le` reads. */
export function bucketIndex(boundaries: readonly number[], value: number): number {
  let i = 0;
  while (i < boundaries.length && value > (boundaries[i] as number)) i++;
  return i;
}

/** Every agent-aggregated instrument, collected at scrape time under the agent's scope. */
export class AgentAggregates implements MetricProducer {
  private readonly instruments: Collectable[] = [];
  private readonly byName = new Map<string, Collectable>();

  constructor(private readonly scopeName: string) {}

  /**
   * The counter of this name: made on first ask, the same one after (two integrations feeding one
   * metric, ioredis and node-redis into `cache_operations_total`, must make one series set).
   */
  counter(description: InstrumentDescription, labelNames: readonly string[]): LabelledCounter {
    const existing = this.byName.get(description.name);
    if (existing instanceof LabelledCounter) return existing;
    const counter = new LabelledCounter(description, labelNames);
    this.add(description.name, counter);
    return counter;
  }

  histogram(description: InstrumentDescription, labelNames: readonly string[], boundaries: readonly number[]): LabelledHistogram {
    const existing = this.byName.get(description.name);
    if (existing instanceof LabelledHistogram) return existing;
    const histogram = new LabelledHistogram(description, labelNames, boundaries);
    this.add(description.name, histogram);
    return histogram;
  }

  private add(name: string, instrument: Collectable): void {
    if (this.byName.has(name)) throw new Error(`metric ${name} is already another kind of instrument`);
    this.byName.set(name, instrument);
    this.instruments.push(instrument);
  }

  // The MetricProducer interface is async; nothing here waits.
  // eslint-disable-next-line @typescript-eslint/require-await
  async collect(): Promise<CollectionResult> {
    const endTime = hrTime();
    const metrics: MetricData[] = [];
    for (const instrument of this.instruments) {
      const data = instrument.collect(endTime);
      if (data) metrics.push(data);
    }
    // The reader keeps the MeterProvider's resource (and with it the `service` label); this one is not read.
    return { resourceMetrics: { resource: emptyResource(), scopeMetrics: [{ scope: { name: this.scopeName }, metrics }] }, errors: [] };
  }
}
