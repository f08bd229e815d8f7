/**
 * Process and Node.js runtime metrics: prom-client's default set (`collectDefaultMetrics()`) under
 * its names, labels, types and meaning, so the community Node.js dashboards work unchanged, plus
 * the two denominators a memory alert needs: the V8 heap limit and, when the process runs in a
 * memory-limited cgroup, that limit.
 *
 * Values are read at scrape time, each source once per scrape for all the families it feeds; the
 * only continuous costs are Node's event-loop delay histogram and a GC observer. Neither keeps
 * the process alive.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import * as v8 from 'node:v8';
import type { BatchObservableResult, Meter, Observable, ObservableGauge } from '@opentelemetry/api';
import { guard, reportOnce } from '../lifecycle/guard';
import { CATALOGUE, type MetricDefinition } from './catalogue';
import { constructorNames, countByName, heapSpaceLabel, parseCgroupMemoryLimit, parseMaxOpenFiles, parseProcStatus } from './runtime-readings';

/** prom-client's GC buckets, in seconds. */
export const GC_DURATION_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5];

/** prom-client's resolution of the event-loop delay histogram, in milliseconds. */
const EVENT_LOOP_RESOLUTION_MS = 10;

const GC_KIND: Record<number, string> = {
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/** Node's undocumented lists of live handles and pending requests, which prom-client reads too. */
interface ProcessInternals {
  _getActiveHandles?: () => unknown[];
  _getActiveRequests?: () => unknown[];
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined; // not Linux, or not this cgroup version
  }
}

function readCgroupMemoryLimit(): number | undefined {
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    const text = readText(file);
    if (text !== undefined) return parseCgroupMemoryLimit(text);
  }
  return undefined;
}

/**
 * How many file descriptors are open. Linux 6.2 and later give the number as the size of /proc/self/fd, in
 * constant time; listing the directory (older kernels, which say 0) costs about 1 µs per
 * descriptor, 10 ms for a server with 10,000 connections. The listing holds the descriptor that
 * reads it, closed again by now: not counted.
 */
function countOpenFds(): number {
  const size = statSync('/proc/self/fd').size;
  return size > 0 ? size : readdirSync('/proc/self/fd').length - 1;
}

/** Runs for the life of the process: neither the delay monitor nor the GC observer keeps it alive. */
export function registerRuntimeMetrics(meter: Meter): void {
  const gauge = (metric: MetricDefinition): ObservableGauge =>
    meter.createObservableGauge(metric.name, { description: metric.description, unit: metric.unit });
  /** One callback reading one source for several instruments. */
  const batch = (where: string, instruments: Observable[], observe: (result: BatchObservableResult) => void): void =>
    meter.addBatchObservableCallback(guard(`runtime metrics: ${where}`, observe), instruments);
  /** A gauge with one unlabelled value, skipped while `read` gives undefined. */
  const single = (metric: MetricDefinition, read: () => number | undefined): void => {
    const instrument = gauge(metric);
    batch(metric.name, [instrument], (result) => {
      const value = read();
      if (value !== undefined) result.observe(instrument, value);
    });
  };

  // CPU: counters from the process's start (prom-client counts from its own; rate() is the same).
  const counter = (metric: MetricDefinition) => meter.createObservableCounter(metric.name, { description: metric.description, unit: metric.unit });
  const cpuUser = counter(CATALOGUE.processCpuUserSeconds);
  const cpuSystem = counter(CATALOGUE.processCpuSystemSeconds);
  const cpu = counter(CATALOGUE.processCpuSeconds);
  batch('cpu', [cpuUser, cpuSystem, cpu], (result) => {
    const usage = process.cpuUsage();
    result.observe(cpuUser, usage.user / 1e6);
    result.observe(cpuSystem, usage.system / 1e6);
    result.observe(cpu, (usage.user + usage.system) / 1e6);
  });

  const startTimeSeconds = Math.round(Date.now() / 1000 - process.uptime());
  single(CATALOGUE.processStartTime, () => startTimeSeconds);
  const memoryLimit = readCgroupMemoryLimit();
  single(CATALOGUE.processMemoryLimit, () => memoryLimit);
  const heapLimit = v8.getHeapStatistics().heap_size_limit;
  single(CATALOGUE.nodejsHeapSizeLimit, () => heapLimit);

  // One memory reading per scrape serves the RSS and heap gauges together.
  const rss = gauge(CATALOGUE.processResidentMemory);
  const heapTotal = gauge(CATALOGUE.nodejsHeapSizeTotal);
  const heapUsed = gauge(CATALOGUE.nodejsHeapSizeUsed);
  const external = gauge(CATALOGUE.nodejsExternalMemory);
  batch('memory', [rss, heapTotal, heapUsed, external], (result) => {
    const memory = process.memoryUsage();
    result.observe(rss, memory.rss);
    result.observe(heapTotal, memory.heapTotal);
    result.observe(heapUsed, memory.heapUsed);
    result.observe(external, memory.external);
  });

  // Linux's /proc: virtual memory and data segment, open and allowed file descriptors.
  if (process.platform === 'linux') {
    const virtual = gauge(CATALOGUE.processVirtualMemory);
    const data = gauge(CATALOGUE.processHeap);
    batch('proc status', [virtual, data], (result) => {
      const text = readText('/proc/self/status');
      if (text === undefined) return;
      const status = parseProcStatus(text);
      if (status.virtual !== undefined) result.observe(virtual, status.virtual);
      if (status.data !== undefined) result.observe(data, status.data);
    });
    single(CATALOGUE.processOpenFds, countOpenFds);
    const limits = readText('/proc/self/limits');
    const maxFds = limits === undefined ? undefined : parseMaxOpenFiles(limits);
    single(CATALOGUE.processMaxFds, () => maxFds);
  }

  registerEventLoop(meter, gauge);

  // Live handles, pending requests and the resources keeping the loop alive: per type and in all.
  const internals = process as unknown as ProcessInternals;
  const perType = (
    where: string,
    byType: MetricDefinition,
    all: MetricDefinition,
    list: (() => readonly unknown[]) | undefined,
    names: (items: readonly unknown[]) => Iterable<string>,
  ) => {
    if (list === undefined) return;
    const typed = gauge(byType);
    const total = gauge(all);
    batch(where, [typed, total], (result) => {
      const items = list();
      for (const [type, count] of countByName(names(items))) result.observe(typed, count, { type });
      result.observe(total, items.length);
    });
  };
  const resources = typeof process.getActiveResourcesInfo === 'function' ? () => process.getActiveResourcesInfo() : undefined;
  perType('active resources', CATALOGUE.nodejsActiveResources, CATALOGUE.nodejsActiveResourcesTotal, resources, (items) => items as string[]);
  perType(
    'active handles',
    CATALOGUE.nodejsActiveHandles,
    CATALOGUE.nodejsActiveHandlesTotal,
    internals._getActiveHandles?.bind(process),
    constructorNames,
  );
  perType(
    'active requests',
    CATALOGUE.nodejsActiveRequests,
    CATALOGUE.nodejsActiveRequestsTotal,
    internals._getActiveRequests?.bind(process),
    constructorNames,
  );

  // V8's heap spaces, one series per space and family.
  const spaceTotal = gauge(CATALOGUE.nodejsHeapSpaceSizeTotal);
  const spaceUsed = gauge(CATALOGUE.nodejsHeapSpaceSizeUsed);
  const spaceAvailable = gauge(CATALOGUE.nodejsHeapSpaceSizeAvailable);
  batch('heap spaces', [spaceTotal, spaceUsed, spaceAvailable], (result) => {
    for (const space of v8.getHeapSpaceStatistics()) {
      const labels = { space: heapSpaceLabel(space.space_name) };
      result.observe(spaceTotal, space.space_size, labels);
      result.observe(spaceUsed, space.space_used_size, labels);
      result.observe(spaceAvailable, space.space_available_size, labels);
    }
  });

  const [major = '', minor = '', patch = ''] = process.versions.node.split('.');
  const versionLabels = { version: process.version, major, minor, patch };
  const version = gauge(CATALOGUE.nodejsVersionInfo);
  batch('version', [version], (result) => result.observe(version, 1, versionLabels));

  const gcDuration = meter.createHistogram(CATALOGUE.nodejsGcDuration.name, {
    description: CATALOGUE.nodejsGcDuration.description,
    unit: CATALOGUE.nodejsGcDuration.unit,
    advice: { explicitBucketBoundaries: GC_DURATION_BUCKETS },
  });
  const gcObserver = new PerformanceObserver(
    guard('runtime metrics: gc', (list) => {
      for (const entry of list.getEntries()) {
        const kind = GC_KIND[(entry as { detail?: { kind?: number } }).detail?.kind ?? -1] ?? 'other';
        gcDuration.record(entry.duration / 1000, { kind });
      }
    }),
  );
  gcObserver.observe({ entryTypes: ['gc'] });
}

/**
 * prom-client's two views of the event loop. `nodejs_eventloop_lag_seconds` is how long a
 * callback queued with setImmediate at the scrape waits to run (an idle loop: well under a
 * millisecond). prom-client reports the previous scrape's round trip; the agent waits for this
 * one's, which the exporter allows (observable callbacks may be asynchronous). The other seven
 * are statistics of Node's delay histogram since the previous scrape, sampled every 10 ms.
 */
function registerEventLoop(meter: Meter, gauge: (metric: MetricDefinition) => ObservableGauge): void {
  const lag = gauge(CATALOGUE.nodejsEventloopLag);
  meter.addBatchObservableCallback(
    async (result) => {
      try {
        // The other callbacks of this scrape run synchronously after this one: start once they are done.
        await Promise.resolve();
        const start = process.hrtime.bigint();
        await new Promise<void>((resolve) => setImmediate(resolve));
        result.observe(lag, Number(process.hrtime.bigint() - start) / 1e9);
      } catch (error) {
        reportOnce('runtime metrics: event-loop lag', error);
      }
    },
    [lag],
  );

  const delay = monitorEventLoopDelay({ resolution: EVENT_LOOP_RESOLUTION_MS });
  delay.enable();
  const statistics = [
    [CATALOGUE.nodejsEventloopLagMin, () => delay.min],
    [CATALOGUE.nodejsEventloopLagMax, () => delay.max],
    [CATALOGUE.nodejsEventloopLagMean, () => delay.mean],
    [CATALOGUE.nodejsEventloopLagStddev, () => delay.stddev],
    [CATALOGUE.nodejsEventloopLagP50, () => delay.percentile(50)],
    [CATALOGUE.nodejsEventloopLagP90, () => delay.percentile(90)],
    [CATALOGUE.nodejsEventloopLagP99, () => delay.percentile(99)],
  ] as const;
  const instruments = statistics.map(([metric, read]) => ({ read, instrument: gauge(metric) }));
  meter.addBatchObservableCallback(
    guard('runtime metrics: event-loop delay', (result) => {
      // With no sample since the last scrape (scrapes under 10 ms apart) Node reports NaN and 2^63: say 0.
      // Reading is not free (the mean and standard deviation walk the histogram: about 1 ms of CPU).
      const sampled = delay.count > 0;
      for (const { read, instrument } of instruments) {
        const nanos = sampled ? read() : 0;
        result.observe(instrument, Number.isFinite(nanos) ? nanos / 1e9 : 0);
      }
      delay.reset();
    }),
    instruments.map((i) => i.instrument),
  );
}
