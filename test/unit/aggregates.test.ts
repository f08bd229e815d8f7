/** The agent-summed counters and histograms: the same data points the SDK's instruments would give. */
import { describe, expect, it } from 'vitest';
import { AggregationTemporality, DataPointType, type HistogramMetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import { AgentAggregates, bucketIndex } from '../../src/metrics/aggregates';

const BOUNDS = [0.1, 0.5, 1];

async function collect(aggregates: AgentAggregates) {
  const { resourceMetrics, errors } = await aggregates.collect();
  expect(errors).toEqual([]);
  expect(resourceMetrics.scopeMetrics).toHaveLength(1);
  expect(resourceMetrics.scopeMetrics[0]!.scope.name).toBe('test-scope');
  return resourceMetrics.scopeMetrics[0]!.metrics;
}

describe('bucketIndex', () => {
  it('puts a value in the first bucket whose bound it does not exceed (Prometheus le)', () => {
    expect(bucketIndex(BOUNDS, 0)).toBe(0);
    expect(bucketIndex(BOUNDS, 0.1)).toBe(0);
    expect(bucketIndex(BOUNDS, 0.10001)).toBe(1);
    expect(bucketIndex(BOUNDS, 1)).toBe(2);
    expect(bucketIndex(BOUNDS, 1.5)).toBe(3);
    expect(bucketIndex(BOUNDS, -1)).toBe(0);
    expect(bucketIndex([], 5)).toBe(0);
  });
});

describe('LabelledCounter', () => {
  it('sums per label set, keeps label names, and ignores negative and NaN increments', async () => {
    const aggregates = new AgentAggregates('test-scope');
    const counter = aggregates.counter({ name: 'ops_total', description: 'ops' }, ['operation', 'result']);
    counter.add(1, ['GET', 'hit']);
    counter.add(2, ['GET', 'hit']);
    counter.add(1, ['GET', 'miss']);
    counter.add(-5, ['GET', 'hit']);
    counter.add(Number.NaN, ['GET', 'hit']);
    const [metric] = (await collect(aggregates)) as SumMetricData[];
    expect(metric!.descriptor.name).toBe('ops_total');
    expect(metric!.dataPointType).toBe(DataPointType.SUM);
    expect(metric!.isMonotonic).toBe(true);
    expect(metric!.aggregationTemporality).toBe(AggregationTemporality.CUMULATIVE);
    expect(metric!.dataPoints.map((p) => [p.attributes, p.value])).toEqual([
      [{ operation: 'GET', result: 'hit' }, 3],
      [{ operation: 'GET', result: 'miss' }, 1],
    ]);
  });

  it('does not mix label sets whose values would join alike', async () => {
    const aggregates = new AgentAggregates('test-scope');
    const counter = aggregates.counter({ name: 'c', description: 'c' }, ['a', 'b']);
    for (const separator of ['\u0001', ':', '1:', ' ', '']) {
      counter.add(1, [`x${separator}y`, 'z']);
      counter.add(1, ['x', `y${separator}z`]);
    }
    const [metric] = (await collect(aggregates)) as SumMetricData[];
    expect(metric!.dataPoints).toHaveLength(10);
    expect(metric!.dataPoints.every((p) => p.value === 1)).toBe(true);
  });

  it('is one instrument per name: two owners asking for it (ioredis, node-redis) add to the same series', async () => {
    const aggregates = new AgentAggregates('test-scope');
    const first = aggregates.counter({ name: 'cache_total', description: 'c' }, ['operation', 'result']);
    const second = aggregates.counter({ name: 'cache_total', description: 'c' }, ['operation', 'result']);
    first.add(1, ['GET', 'hit']);
    second.add(2, ['GET', 'hit']);
    const metrics = (await collect(aggregates)) as SumMetricData[];
    expect(metrics).toHaveLength(1);
    expect(metrics[0]!.dataPoints.map((p) => p.value)).toEqual([3]);
    expect(() => aggregates.histogram({ name: 'cache_total', description: 'c' }, ['a'], BOUNDS)).toThrow(/another kind/);
  });

  it('leaves out an instrument with nothing recorded, as the SDK does', async () => {
    const aggregates = new AgentAggregates('test-scope');
    aggregates.counter({ name: 'never', description: 'n' }, ['a']);
    expect(await collect(aggregates)).toEqual([]);
  });
});

describe('LabelledHistogram', () => {
  it('counts per bucket with sum, count, min and max, cumulative across collections', async () => {
    const aggregates = new AgentAggregates('test-scope');
    const histogram = aggregates.histogram({ name: 'd_seconds', description: 'd', unit: 's' }, ['route'], BOUNDS);
    for (const v of [0.05, 0.1, 0.3, 2, Number.POSITIVE_INFINITY, Number.NaN]) histogram.record(v, ['/a']);
    let [metric] = (await collect(aggregates)) as HistogramMetricData[];
    expect(metric!.dataPointType).toBe(DataPointType.HISTOGRAM);
    expect(metric!.descriptor.unit).toBe('s');
    expect(metric!.dataPoints[0]!.value).toEqual({ buckets: { boundaries: BOUNDS, counts: [2, 1, 0, 1] }, sum: 2.45, count: 4, min: 0.05, max: 2 });

    histogram.record(0.7, ['/a']);
    [metric] = (await collect(aggregates)) as HistogramMetricData[];
    expect(metric!.dataPoints[0]!.value.buckets.counts).toEqual([2, 1, 1, 1]);
    expect(metric!.dataPoints[0]!.value.count).toBe(5);
  });

  it('hands out copies: a scrape in progress is not changed by later records', async () => {
    const aggregates = new AgentAggregates('test-scope');
    const histogram = aggregates.histogram({ name: 'h', description: 'h' }, ['r'], BOUNDS);
    histogram.record(0.2, ['x']);
    const [metric] = (await collect(aggregates)) as HistogramMetricData[];
    histogram.record(0.2, ['x']);
    expect(metric!.dataPoints[0]!.value.buckets.counts).toEqual([0, 1, 0, 0]);
  });
});
