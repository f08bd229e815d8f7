/**
 * Soak: steady load on an app under the agent for SOAK_MINUTES (default 10; CI runs 2) with a
 * fault injected every minute (Postgres down, Redis down, trace Collector stalled, answering 429),
 * each healed after 15 s. Samples every 10 s: RSS and heap as /metrics reports them, the heap's
 * floor (heap in use right after a forced full collection: the app runs with --expose-gc and
 * collects on SIGUSR2, see soak-app.mjs), series count and errors. Prints the table and fails if
 * the heap's floor or the series count keeps growing. The verdict uses the floor because the
 * scraped heap lands anywhere on the GC sawtooth: a 10-minute run once failed on a "3.71 MB/min"
 * slope while the floor stayed at 19-22 MB throughout.
 */
import * as http from 'node:http';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { OtlpSink } from '../helpers/otlp-sink';
import { waitFor } from '../helpers/ports';
import { parsePrometheusText, total } from '../helpers/prometheus-text';
import { TcpProxy } from '../helpers/tcp-proxy';

const minutes = Number(process.env.SOAK_MINUTES ?? 10);
/**
 * Retained-heap slope over the second half that fails the run: 1 MB/min, plus 2 MB of step noise
 * (a fault or its healing moves the floor once by up to about a megabyte) spread over the judged
 * half. 1.4 MB/min for 10 minutes, 1.13 for 30; 3 for the 2-minute CI run, which can only catch
 * gross leaks.
 */
const FLOOR_SLOPE_LIMIT = 1 + 2 / (minutes / 2);
const pg = new TcpProxy('127.0.0.1', 5432);
const redis = new TcpProxy('127.0.0.1', 6379);
const sink = new OtlpSink();
let app: AgentApp | undefined;

afterAll(async () => {
  await app?.stop();
  await pg.stop();
  await redis.stop();
  await sink.stop();
});

interface Sample {
  minute: number;
  rssMb: number;
  heapMb: number;
  heapFloorMb: number;
  rssAfterGcMb: number;
  seriesLines: number;
  requests: number;
  errors: number;
  fault: string;
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

const mb = (bytes: number) => Math.round(bytes / 1e5) / 10;

/** Asks the app for a full collection and returns the heap and RSS that survive it. */
async function afterGc(target: AgentApp): Promise<{ heapUsed: number; rss: number }> {
  const seen = target.stdout.length;
  target.child.kill('SIGUSR2');
  return waitFor(
    () => {
      const m = /\{"gc":(\{[^}]*\})\}/.exec(target.stdout.slice(seen));
      return m ? (JSON.parse(m[1]!) as { heapUsed: number; rss: number }) : undefined;
    },
    10_000,
    'the soak app to report its heap after a collection',
  );
}

it(`runs ${minutes} minutes of load with faults without growing`, async () => {
  const [pgPort, redisPort, endpoint] = [await pg.start(), await redis.start(), await sink.start()];
  app = await startAgentApp({
    fixture: path.join(__dirname, 'soak-app.mjs'),
    nodeArgs: ['--expose-gc'],
    env: {
      DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/test`,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      TUTOR_OTEL_HEALTH_TIMEOUT_MS: '500',
    },
  });
  await agentReady(app);

  const faults: Array<[string, () => Promise<void> | void, () => Promise<void> | void]> = [
    ['postgres down', () => pg.stop(), async () => void (await pg.start())],
    ['redis down', () => redis.stop(), async () => void (await redis.start())],
    ['collector stalled', () => void (sink.mode = 'stall'), () => void (sink.mode = 'ok')],
    ['collector 429', () => void (sink.mode = '429'), () => void (sink.mode = 'ok')],
  ];

  const pool = new http.Agent({ keepAlive: true, maxSockets: 8 });
  let requests = 0;
  let errors = 0;
  let running = true;
  const get = (path: string) =>
    new Promise<void>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: app!.appPort, path, agent: pool, timeout: 5000 }, (res) => {
        if (res.statusCode !== 200) errors++;
        res.resume();
        res.on('end', resolve);
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => {
        errors++;
        resolve();
      });
    });
  const workers = Array.from({ length: 4 }, async (_, w) => {
    while (running) {
      requests++;
      await get(requests % 5 === 0 ? '/mget' : requests % 3 === 0 ? '/ok' : `/lessons/${(requests * 7 + w) % 500}`);
      await new Promise((r) => setTimeout(r, 5)); // steady, not flat-out
    }
  });

  const samples: Sample[] = [];
  const started = Date.now();
  let fault = 'none';
  let nextFault = 0;
  while (Date.now() - started < minutes * 60_000) {
    const elapsed = (Date.now() - started) / 60_000;
    if (elapsed >= nextFault + 0.25 && nextFault > 0 && fault !== 'none') {
      await faults[(nextFault - 1) % faults.length]![2]();
      fault = 'none';
    }
    if (elapsed >= nextFault + 1) {
      const [name, inject] = faults[nextFault % faults.length]!;
      await inject();
      fault = name;
      nextFault++;
    }
    const text = await (await fetch(`${app.metricsUrl}/metrics`)).text();
    const parsed = parsePrometheusText(text);
    const floor = await afterGc(app);
    samples.push({
      minute: Number(elapsed.toFixed(2)),
      rssMb: mb(total(parsed, 'process_resident_memory_bytes')),
      heapMb: mb(total(parsed, 'nodejs_heap_size_used_bytes')),
      heapFloorMb: mb(floor.heapUsed),
      rssAfterGcMb: mb(floor.rss),
      seriesLines: parsed.length,
      requests,
      errors,
      fault,
    });
    await new Promise((r) => setTimeout(r, 10_000));
  }
  running = false;
  await Promise.all(workers);
  pool.destroy();

  console.table(samples);
  const secondHalf = samples.filter((s) => s.minute >= minutes / 2);
  const rssSlope = slope(secondHalf.map((s) => [s.minute, s.rssMb]));
  const heapSlope = slope(secondHalf.map((s) => [s.minute, s.heapMb]));
  const floorSlope = slope(secondHalf.map((s) => [s.minute, s.heapFloorMb]));
  const first = samples[Math.floor(samples.length / 4)]!;
  const last = samples[samples.length - 1]!;
  const floors = samples.map((s) => s.heapFloorMb);
  console.log(
    `soak: ${minutes} min, ${last.requests} requests, ${last.errors} client-visible errors (expected during outages); ` +
      `heap floor ${first.heapFloorMb} MB at ${first.minute} min -> ${last.heapFloorMb} MB at the end ` +
      `(min ${Math.min(...floors)}, max ${Math.max(...floors)}), floor slope ${floorSlope.toFixed(2)} MB/min over the second half ` +
      `(limit ${FLOOR_SLOPE_LIMIT.toFixed(2)}) ` +
      `(scraped heap slope ${heapSlope.toFixed(2)} MB/min, RSS slope ${rssSlope.toFixed(2)} MB/min, not judged); ` +
      `RSS ${first.rssMb} -> ${last.rssMb} MB; series ${first.seriesLines} -> ${last.seriesLines}`,
  );
  expect(app.exited).toBeUndefined();
  expect(app.agentLines.filter((l) => l.includes('internal error'))).toEqual([]);
  expect(floorSlope).toBeLessThan(FLOOR_SLOPE_LIMIT);
  expect(last.seriesLines).toBeLessThan(first.seriesLines * 1.5 + 100);
});
