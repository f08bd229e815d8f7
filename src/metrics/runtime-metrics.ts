/**
 * Process and Node.js runtime metrics under prom-client's names, which existing Node dashboards
 * graph, plus the two denominators a memory alert needs: the V8 heap limit and, when the process
 * runs in a memory-limited cgroup, that limit. Values are read at scrape time; the only
 * continuous cost is Node's event-loop delay histogram and a GC observer.
 */
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import type { Meter } from '@opentelemetry/api';
import { guard } from '../lifecycle/guard';
import { CATALOGUE } from './catalogue';

/** prom-client's GC buckets, in seconds. */
export const GC_DURATION_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5];

const GC_KIND: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/**
 * The cgroup memory limit in bytes, or undefined when there is none. cgroup v2 says `max` for no
 * limit; v1 says a number near 2^63.
 */
export function parseCgroupMemoryLimit(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = text.trim();
  if (value === '' || value === 'max') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 2 ** 60) return undefined;
  return n;
}

function readCgroupMemoryLimit(): number | undefined {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      return parseCgroupMemoryLimit(readFileSync(file, 'utf8'));
    } catch {
      // not this cgroup version, or not Linux
    }
  }
  return undefined;
}

/** Runs for the life of the process: neither the delay monitor nor the GC observer keeps it alive. */
export function registerRuntimeMetrics(meter: Meter): void {
  const startTimeSeconds = Math.round((Date.now() - process.uptime() * 1000) / 1000);
  const memoryLimit = readCgroupMemoryLimit();
  const heapLimit = v8.getHeapStatistics().heap_size_limit;

  const gauge = (name: string, description: string, read: () => number | undefined, unit?: string) =>
    meter.createObservableGauge(name, { description, unit }).addCallback(
      guard(`runtime metric ${name}`, (result) => {
        const value = read();
        if (value !== undefined) result.observe(value);
      }),
    );

  const cpu = meter.createObservableCounter(CATALOGUE.processCpuSeconds.name, {
    description: CATALOGUE.processCpuSeconds.description,
    unit: CATALOGUE.processCpuSeconds.unit,
  });
  const cpuUser = meter.createObservableCounter(CATALOGUE.processCpuUserSeconds.name, {
    description: CATALOGUE.processCpuUserSeconds.description,
    unit: CATALOGUE.processCpuUserSeconds.unit,
  });
  const cpuSystem = meter.createObservableCounter(CATALOGUE.processCpuSystemSeconds.name, {
    description: CATALOGUE.processCpuSystemSeconds.description,
    unit: CATALOGUE.processCpuSystemSeconds.unit,
  });
  meter.addBatchObservableCallback(
    guard('runtime cpu', (result) => {
      const usage = process.cpuUsage();
      result.observe(cpuUser, usage.user / 1e6);
      result.observe(cpuSystem, usage.system / 1e6);
      result.observe(cpu, (usage.user + usage.system) / 1e6);
    }),
    [cpu, cpuUser, cpuSystem],
  );

  gauge(CATALOGUE.processStartTime.name, CATALOGUE.processStartTime.description, () => startTimeSeconds, CATALOGUE.processStartTime.unit);
  gauge(CATALOGUE.processMemoryLimit.name, CATALOGUE.processMemoryLimit.description, () => memoryLimit, CATALOGUE.processMemoryLimit.unit);

  // One memory reading per scrape serves the RSS and heap gauges together.
  const rss = meter.createObservableGauge(CATALOGUE.processResidentMemory.name, {
    description: CATALOGUE.processResidentMemory.description,
    unit: CATALOGUE.processResidentMemory.unit,
  });
  const heapTotal = meter.createObservableGauge(CATALOGUE.nodejsHeapSizeTotal.name, {
    description: CATALOGUE.nodejsHeapSizeTotal.description,
    unit: CATALOGUE.nodejsHeapSizeTotal.unit,
  });
  const heapUsed = meter.createObservableGauge(CATALOGUE.nodejsHeapSizeUsed.name, {
    description: CATALOGUE.nodejsHeapSizeUsed.description,
    unit: CATALOGUE.nodejsHeapSizeUsed.unit,
  });
  const external = meter.createObservableGauge(CATALOGUE.nodejsExternalMemory.name, {
    description: CATALOGUE.nodejsExternalMemory.description,
    unit: CATALOGUE.nodejsExternalMemory.unit,
  });
  meter.addBatchObservableCallback(
    guard('runtime memory', (result) => {
      const memory = process.memoryUsage();
      result.observe(rss, memory.rss);
      result.observe(heapTotal, memory.heapTotal);
      result.observe(heapUsed, memory.heapUsed);
      result.observe(external, memory.external);
    }),
    [rss, heapTotal, heapUsed, external],
  );
  gauge(CATALOGUE.nodejsHeapSizeLimit.name, CATALOGUE.nodejsHeapSizeLimit.description, () => heapLimit, CATALOGUE.nodejsHeapSizeLimit.unit);

  // Event-loop delay, sampled by Node every 10 ms; reported since the previous scrape.
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const lagGauges = [
    [CATALOGUE.nodejsEventloopLag, () => delay.mean],
    [CATALOGUE.nodejsEventloopLagP50, () => delay.percentile(50)],
    [CATALOGUE.nodejsEventloopLagP99, () => delay.percentile(99)],
    [CATALOGUE.nodejsEventloopLagMax, () => delay.max],
  ] as const;
  const lagInstruments = lagGauges.map(([metric, read]) => ({
    read,
    instrument: meter.createObservableGauge(metric.name, {
      description: metric.description,
      unit: metric.unit,
    }),
  }));
  meter.addBatchObservableCallback(
    guard('runtime event loop', (result) => {
      for (const { read, instrument } of lagInstruments) {
        const nanos = read();
        result.observe(instrument, Number.isFinite(nanos) && delay.count > 0 ? nanos / 1e9 : 0);
      }
      delay.reset();
    }),
    lagInstruments.map((l) => l.instrument),
  );

  const version = process.versions.node.split('.');
  meter
    .createObservableGauge(CATALOGUE.nodejsVersionInfo.name, { description: CATALOGUE.nodejsVersionInfo.description })
    .addCallback((result) => result.observe(1, { version: process.version, major: version[0] ?? '', minor: version[1] ?? '', patch: version[2] ?? '' }));

  const gcDuration = meter.createHistogram(CATALOGUE.nodejsGcDuration.name, {
    description: CATALOGUE.nodejsGcDuration.description,
    unit: CATALOGUE.nodejsGcDuration.unit,
    advice: { explicitBucketBoundaries: GC_DURATION_BUCKETS },
  });
  const gcObserver = new PerformanceObserver(
    guard('runtime gc', (list) => {
      for (const entry of list.getEntries()) {
        const kind = GC_KIND[(entry as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
        gcDuration.record(entry.duration / 1000, { kind });
      }
    }),
  );
  gcObserver.observe({ entryTypes: ['gc'] });
}
