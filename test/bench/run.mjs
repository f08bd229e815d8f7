// `npm run bench`: the agent's overhead against a bare app and against upstream's zero-code setup,
// in one run on one machine, written to docs/benchmarks.md. See the Method section it writes.
//
//   node test/bench/run.mjs [--quick] [--pairs N] [--seconds S] [--connections C] [--rate R]
//                           [--only throughput,startup,scrape,exit] [--out FILE]
//
// Needs the built agent (dist/register.js), PostgreSQL at postgres://postgres@127.0.0.1:5432/test
// and Redis at 127.0.0.1:6379 (BENCH_DATABASE_URL / BENCH_REDIS_URL to change them).
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import Redis from 'ioredis';
import { runExit } from './lib/exit.mjs';
import { cleanup, installRunGuards, isStopping, onCleanup } from './lib/processes.mjs';
import { machine, renderReport } from './lib/report.mjs';
import { runScrape } from './lib/scrape.mjs';
import { AGENT, BASELINE_SETUPS, DATABASE_URL, PEER_SETUPS, REDIS_URL, REPO, SETUPS } from './lib/setups.mjs';
import { startSink } from './lib/sinks.mjs';
import { runStartup } from './lib/startup.mjs';
import { runThroughput } from './lib/throughput.mjs';

const SECTIONS = ['throughput', 'startup', 'scrape', 'exit'];

function options() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      pairs: { type: 'string' },
      seconds: { type: 'string' },
      connections: { type: 'string' },
      rate: { type: 'string' },
      only: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      'node test/bench/run.mjs [--quick] [--pairs N] [--seconds S] [--connections C] [--rate R] [--only ' + SECTIONS.join(',') + '] [--out FILE]\n',
    );
    process.exit(0);
  }
  const number = (text, name, min) => {
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name} must be a number >= ${min}`);
    return value;
  };
  const quick = values.quick;
  const pairs = number(values.pairs, 'pairs', 1) ?? (quick ? 3 : 5);
  const seconds = number(values.seconds, 'seconds', 1) ?? (quick ? 3 : 10);
  const only = values.only ? values.only.split(',').map((s) => s.trim()) : SECTIONS;
  for (const section of only) if (!SECTIONS.includes(section)) throw new Error(`--only: unknown section ${section} (known: ${SECTIONS.join(', ')})`);
  return {
    quick,
    pairs,
    seconds,
    warmSeconds: quick ? 1 : 2,
    pacedSeconds: Math.max(2, Math.round(seconds / 2)),
    connections: number(values.connections, 'connections', 1) ?? 10,
    rate: number(values.rate, 'rate', 1),
    pacedConnections: 32,
    startupRounds: Math.max(quick ? 5 : 10, pairs * 2),
    scrapes: quick ? 10 : 20,
    targetSeries: 10_000,
    exitRuns: quick ? 1 : 3,
    exitTrafficSeconds: 2,
    exitTimeoutMs: 10_000,
    only,
    out: path.resolve(values.out ?? path.join(REPO, 'docs/benchmarks.md')),
    runPrefix: `otel-agent-bench:${Date.now().toString(36)}:${process.pid}`,
  };
}

/** Seconds the run should take, for the progress line and the hard bound. */
function estimateSeconds(opts) {
  let s = 10;
  if (opts.only.includes('throughput')) s += (1 + opts.pairs * 11 * 2) * (opts.warmSeconds + opts.seconds + opts.pacedSeconds + 2) + 11 * 8;
  if (opts.only.includes('startup')) s += (1 + opts.startupRounds * 8 * 2) * 0.6;
  if (opts.only.includes('scrape')) s += 30;
  if (opts.only.includes('exit')) s += (opts.exitRuns * 2 + 1) * 6;
  return s;
}

const say = (text) => process.stderr.write(`[bench] ${text}\n`);

async function checkServices() {
  const client = new pg.Client({ connectionString: DATABASE_URL, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(`PostgreSQL is not reachable at ${new URL(DATABASE_URL).host} (${error.code ?? error.message}); start it or set BENCH_DATABASE_URL`, {
      cause: error,
    });
  } finally {
    await client.end().catch(() => {});
  }
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(`Redis is not reachable at ${new URL(REDIS_URL).host} (${error.code ?? error.message}); start it or set BENCH_REDIS_URL`, {
      cause: error,
    });
  } finally {
    redis.disconnect();
  }
}

/** Removes the cache keys this run created. */
async function removeKeys(prefix) {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, retryStrategy: () => null });
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) removed += await redis.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return removed;
}

function gitCommit() {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--', 'src', 'register.ts'], {
        cwd: REPO,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() !== '';
    return { commit, dirty };
  } catch {
    return { commit: 'unknown', dirty: false };
  }
}

async function main() {
  const opts = options();
  const estimate = estimateSeconds(opts);
  installRunGuards((estimate * 2 + 300) * 1000);
  if (!existsSync(AGENT)) throw new Error('dist/register.js is missing: build the agent first (npm run build)');
  await checkServices();
  say(`sections: ${opts.only.join(', ')}; about ${Math.ceil(estimate / 60)} min${opts.quick ? ' (quick)' : ''}`);

  for (const peer of PEER_SETUPS.filter((p) => p.missing)) say(`skipping ${peer.label}: ${peer.missing}`);
  const peers = PEER_SETUPS.filter((p) => !p.missing);
  const otlp = await startSink('otlp');
  const sentry = await startSink('ingest');
  const datadog = await startSink('datadog');
  const ctx = { otlp, sentry, datadog, otlpUrl: otlp.url, sentryDsn: `http://benchkey@127.0.0.1:${sentry.port}/1`, datadogUrl: datadog.url };
  onCleanup(() => removeKeys(opts.runPrefix));

  const results = { opts };
  if (opts.only.includes('throughput')) {
    results.throughput = await runThroughput(
      SETUPS.bare,
      [
        SETUPS.agentMetrics,
        SETUPS.agentTraces,
        SETUPS.agentTracesSampled,
        SETUPS.agentSentryOnly,
        SETUPS.agentSentryProfiling,
        SETUPS.agentSentry,
        SETUPS.upstream,
        ...peers,
        ...BASELINE_SETUPS,
      ],
      ctx,
      opts,
      say,
    );
  }
  if (opts.only.includes('startup')) {
    results.startup = await runStartup(
      SETUPS.bare,
      [SETUPS.agentMetrics, SETUPS.agentTraces, SETUPS.agentSentryOnly, SETUPS.upstreamRegisterOnly, SETUPS.upstream, ...peers, ...BASELINE_SETUPS],
      ctx,
      { rounds: opts.startupRounds },
      say,
    );
  }
  if (opts.only.includes('scrape')) results.scrape = await runScrape(SETUPS.agentMetrics, ctx, opts, say);
  if (opts.only.includes('exit')) {
    const exit = await runExit(
      [
        { setup: SETUPS.agentSentry, destinations: 'refusing', runs: opts.exitRuns, target: true },
        { setup: SETUPS.agentSentry, destinations: 'not answering', runs: opts.exitRuns, target: true },
        { setup: SETUPS.upstream, destinations: 'refusing', runs: 1, target: false },
      ],
      opts,
      say,
    );
    results.exit = exit.map((e, i) => ({ ...e, target: i < 2, timeoutS: opts.exitTimeoutMs / 1000 }));
  }

  results.skipped = PEER_SETUPS.filter((p) => p.missing).map((p) => `${p.label}: ${p.missing}`);
  const meta = { ...machine(), ...gitCommit(), date: new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC' };
  const report = renderReport({ meta, opts, ...results });
  writeFileSync(opts.out, report);
  say(`wrote ${path.relative(process.cwd(), opts.out) || opts.out}`);
  process.stdout.write(report.slice(0, report.indexOf('## Throughput') > 0 ? report.indexOf('## Throughput') : report.length));
}

main()
  .then(() => cleanup())
  .then(() => process.exit(0))
  .catch(async (error) => {
    if (isStopping()) return; // the guard that stopped the run reports and exits
    say(`failed: ${error?.stack ?? error}`);
    await cleanup();
    process.exit(1);
  });
