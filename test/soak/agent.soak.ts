/**
 * Soak: steady load on an app under the agent for SOAK_MINUTES (default 10) with a fault injected
 * every minute (Postgres down, Redis down, trace Collector stalled, answering 429, down), each
 * healed after 20 s. Samples RSS, series count and errors every 10 s, prints the table, and fails
 * if memory or series keep growing.
 */
import * as http from 'node:http';
import { afterAll, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { OtlpSink } from '../helpers/otlp-sink';
import { parsePrometheusText, total } from '../helpers/prometheus-text';
import { TcpProxy } from '../helpers/tcp-proxy';

const minutes = Number(process.env.SOAK_MINUTES ?? 10);
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

it(`runs ${minutes} minutes of load with faults without growing`, async () => {
  const [pgPort, redisPort, endpoint] = [await pg.start(), await redis.start(), await sink.start()];
  app = await startAgentApp({
    fixture: 'esm-app.mjs',
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
    samples.push({
      minute: Number(elapsed.toFixed(2)),
      rssMb: Math.round(total(parsed, 'process_resident_memory_bytes') / 1e5) / 10,
      heapMb: Math.round(total(parsed, 'nodejs_heap_size_used_bytes') / 1e5) / 10,
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
  const first = samples[Math.floor(samples.length / 4)]!;
  const last = samples[samples.length - 1]!;
  console.log(
    `soak: ${minutes} min, ${last.requests} requests, ${last.errors} client-visible errors (expected during outages); ` +
      `RSS slope ${rssSlope.toFixed(2)} MB/min and heap slope ${heapSlope.toFixed(2)} MB/min over the second half; ` +
      `series ${first.seriesLines} -> ${last.seriesLines}`,
  );
  expect(app.exited).toBeUndefined();
  expect(app.agentLines.filter((l) => l.includes('internal error'))).toEqual([]);
  expect(heapSlope).toBeLessThan(2);
  expect(last.seriesLines).toBeLessThan(first.seriesLines * 1.5 + 100);
});
