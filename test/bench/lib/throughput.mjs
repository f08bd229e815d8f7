// Throughput, latency, CPU and memory of the cache app under each setup, in alternated runs:
// bare, V1, bare, V2, bare, ... with the order of the V's rotated every round, so each setup's run
// sits between two bare runs and is compared with their mean.
import { get, sampleLines } from './http.mjs';
import { startLoad } from './load-client.mjs';
import { cpuSeconds, peakRssMb, sleep, spawnTracked, stop, waitForListening } from './processes.mjs';
import { APP, REPO, baseEnv, metricsPortOf } from './setups.mjs';
import { mean, summary } from './stats.mjs';

/**
 * opts: { pairs, seconds, warmSeconds, pacedSeconds, connections, pacedConnections, runPrefix }
 * ctx: { otlpUrl, sentryDsn, datadogUrl, otlp, sentry, datadog (the sinks) }
 */
export async function runThroughput(bare, setups, ctx, opts, say) {
  const load = await startLoad();
  const state = { rate: opts.rate, runIndex: 0 };
  const runs = Object.fromEntries([bare, ...setups].map((s) => [s.id, []]));
  const compared = Object.fromEntries(setups.map((s) => [s.id, []]));
  const total = 1 + opts.pairs * setups.length * 2;
  const started = Date.now();
  let done = 0;
  const progress = (label, result) => {
    done++;
    const eta = ((Date.now() - started) / done) * (total - done);
    say(
      `throughput ${done}/${total} ${label}: ${result.rps.toFixed(0)} req/s, p99 ${result.p99.toFixed(2)} ms, ` +
        `CPU ${result.cpuPer1k.toFixed(3)} s/1k, RSS ${result.rssMb.toFixed(0)} MB (about ${Math.ceil(eta / 60000)} min left)`,
    );
  };
  try {
    let before = await runOnce(bare, ctx, opts, state, load, true);
    runs[bare.id].push(before);
    progress(bare.label, before);
    for (let round = 0; round < opts.pairs; round++) {
      const order = setups.map((_, i) => setups[(i + round) % setups.length]);
      for (const setup of order) {
        const result = await runOnce(setup, ctx, opts, state, load, round === 0);
        runs[setup.id].push(result);
        progress(setup.label, result);
        const after = await runOnce(bare, ctx, opts, state, load, false);
        runs[bare.id].push(after);
        progress(bare.label, after);
        compared[setup.id].push(compare(result, before, after));
        before = after;
      }
    }
  } finally {
    await load.close();
  }
  return { rate: state.rate, runs, compared, summaries: summarize(bare, setups, runs, compared) };
}

function compare(run, before, after) {
  const base = (key) => mean([before[key], after[key]]);
  const basePaced = (key) => mean([before.paced?.[key], after.paced?.[key]]);
  return {
    rpsRatio: run.rps / base('rps'),
    p50Added: run.p50 - base('p50'),
    p99Added: run.p99 - base('p99'),
    cpuRatio: run.cpuPer1k / base('cpuPer1k'),
    cpuAdded: run.cpuPer1k - base('cpuPer1k'),
    rssRatio: run.rssMb / base('rssMb'),
    rssAdded: run.rssMb - base('rssMb'),
    pacedP50Added: (run.paced?.p50 ?? NaN) - basePaced('p50'),
    pacedP99Added: (run.paced?.p99 ?? NaN) - basePaced('p99'),
  };
}

function summarize(bare, setups, runs, compared) {
  const out = {};
  for (const setup of [bare, ...setups]) {
    const list = runs[setup.id];
    const pick = (f) => summary(list.map(f));
    const pairs = compared[setup.id] ?? [];
    const pickPair = (key) => summary(pairs.map((p) => p[key]));
    out[setup.id] = {
      label: setup.label,
      spansTo: setup.spansTo,
      runs: list.length,
      rps: pick((r) => r.rps),
      p50: pick((r) => r.p50),
      p99: pick((r) => r.p99),
      cpuPer1k: pick((r) => r.cpuPer1k),
      rssMb: pick((r) => r.rssMb),
      pacedP50: pick((r) => r.paced?.p50),
      pacedP99: pick((r) => r.paced?.p99),
      hitRatio: pick((r) => r.hits / (r.hits + r.misses)),
      failures: list.reduce((n, r) => n + r.non2xx + r.errors + r.pacedFailures, 0),
      otlpRequests: pick((r) => r.exported.otlpRequests),
      otlpMb: pick((r) => r.exported.otlpBytes / 1e6),
      sentryRequests: pick((r) => r.exported.sentryRequests),
      spansPerRequest: spansPerRequest(list),
      metricsLines: list.find((r) => r.metricsLines !== undefined)?.metricsLines,
      pairs: pairs.length,
      rpsRatio: pickPair('rpsRatio'),
      p50Added: pickPair('p50Added'),
      p99Added: pickPair('p99Added'),
      cpuRatio: pickPair('cpuRatio'),
      cpuAdded: pickPair('cpuAdded'),
      rssRatio: pickPair('rssRatio'),
      rssAdded: pickPair('rssAdded'),
      pacedP50Added: pickPair('pacedP50Added'),
      pacedP99Added: pickPair('pacedP99Added'),
    };
  }
  return out;
}

/** Per sink, spans received per request served, from the run whose exports were waited for. */
function spansPerRequest(list) {
  const run = list.find((r) => r.exported.spans);
  if (!run) return undefined;
  return Object.fromEntries(Object.entries(run.exported.spans).map(([sink, spans]) => [sink, spans / run.requests]));
}

const SINKS = ['otlp', 'sentry', 'datadog'];

/**
 * Waits until no sink has received anything for `quietMs` (bounded by `maxMs`), so the spans of
 * the last requests are counted: the OpenTelemetry batch processor exports every 5 s, dd-trace
 * every 2 s, and the process is killed, not shut down, at the end of a run.
 */
async function settle(ctx, quietMs = 6000, maxMs = 15_000) {
  const total = () => SINKS.reduce((n, sink) => n + ctx[sink].counts.requests, 0);
  const deadline = Date.now() + maxMs;
  let last = total();
  let quietSince = Date.now();
  while (Date.now() < deadline && Date.now() - quietSince < quietMs) {
    await sleep(250);
    const now = total();
    if (now !== last) [last, quietSince] = [now, Date.now()];
  }
}

async function runOnce(setup, ctx, opts, state, load, checkOutput) {
  const index = state.runIndex++;
  const env = { ...baseEnv(), ...(await setup.env(ctx)), BENCH_KEY_PREFIX: `${opts.runPrefix}:${index}:` };
  const otlpBefore = ctx.otlp.snapshot();
  const sentryBefore = ctx.sentry.snapshot();
  for (const sink of SINKS) ctx[sink].takeSpans(); // what earlier processes sent late is theirs
  const app = spawnTracked(process.execPath, [...setup.args, APP], { cwd: REPO, env });
  try {
    const port = await waitForListening(app);
    const url = `http://127.0.0.1:${port}`;
    const warm = await load.run({ mode: 'saturate', url, connections: opts.connections, seconds: opts.warmSeconds, keyBase: 0 });

    const cpuBefore = cpuSeconds(app.pid);
    const saturated = await load.run({ mode: 'saturate', url, connections: opts.connections, seconds: opts.seconds, keyBase: 10_000_000 });
    const cpuAfter = cpuSeconds(app.pid);

    // The fixed rate for latency is set once, from the first bare run: a tenth of its throughput,
    // well below what every setup can serve, so latency is service time rather than queueing.
    if (state.rate === undefined) state.rate = Math.max(100, Math.round((saturated.rps * 0.1) / 100) * 100);
    const paced = await load.run({
      mode: 'paced',
      url,
      connections: opts.pacedConnections,
      seconds: opts.pacedSeconds,
      rate: state.rate,
      keyBase: 20_000_000,
    });

    const rssMb = peakRssMb(app.pid);
    const stats = JSON.parse((await get(`${url}/__stats`)).text);
    let metricsLines;
    const metricsPort = metricsPortOf(env);
    if (checkOutput && metricsPort) {
      const scrape = await get(`http://127.0.0.1:${metricsPort}/metrics`).catch(() => undefined);
      metricsLines = scrape?.status === 200 ? sampleLines(scrape.text) : 0;
    }
    const result = {
      rps: saturated.rps,
      p50: saturated.p50,
      p99: saturated.p99,
      ok: saturated.ok,
      non2xx: saturated.non2xx,
      errors: saturated.errors,
      cpuPer1k: ((cpuAfter - cpuBefore) / saturated.ok) * 1000,
      rssMb,
      paced: { p50: paced.p50, p99: paced.p99, rps: paced.rps },
      pacedFailures: paced.non2xx + paced.errors,
      hits: stats.hits,
      misses: stats.misses,
      appErrors: stats.errors,
      metricsLines,
      requests: warm.ok + saturated.ok + paced.ok,
    };
    // Spans are counted on each setup's first run, after its exporters have sent what they hold.
    const countSpans = checkOutput && setup.args.length > 0;
    if (countSpans) await settle(ctx);
    await stop(app);
    result.exported = {
      otlpRequests: ctx.otlp.counts.requests - otlpBefore.requests,
      otlpBytes: ctx.otlp.counts.bytes - otlpBefore.bytes,
      sentryRequests: ctx.sentry.counts.requests - sentryBefore.requests,
      spans: countSpans ? Object.fromEntries(SINKS.map((sink) => [sink, ctx[sink].takeSpans()])) : undefined,
    };
    return result;
  } finally {
    await stop(app);
  }
}
