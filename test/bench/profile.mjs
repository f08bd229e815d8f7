// Where the agent's cost goes: CPU profiles (`--cpu-prof`) of the agent at startup and of the
// cache app under load, summarised by package, plus a census of the modules it loads.
//
//   node test/bench/profile.mjs [--setup agentTraces]... [--seconds 10] [--connections 10] [--env NAME=value]...
//                               [--agent other/dist/register.js] [--rate 5000] [--keep]
//
// Under load, each row also gives µs per answered request (warm-up included), which moves far less
// with the machine's load than throughput does; --agent profiles another build of the agent (the
// one before a change, say) in the same setup, for a before/after comparison. --rate sends requests
// at that fixed rate instead of as fast as the app answers: at saturation a slower setup batches
// fewer requests per socket write, which inflates every row per request, so comparisons of two
// setups or builds are fairer at one rate that both sustain.
// Setups are the names in lib/setups.mjs (bare, agentMetrics, agentTraces, agentSentry, upstream).
// With several --setup, each is profiled in turn and a side-by-side table of µs per request by
// where the time goes (the agent's modules, garbage collection, socket writes, Node, the app and its
// libraries) closes the output: with --rate, the table behind the "where the overhead goes" figures.
// Profiles are written to a temporary directory, removed unless --keep.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { bucketOf, summarizeProfile } from './lib/cpuprofile.mjs';
import { startLoad } from './lib/load-client.mjs';
import { cleanup, installRunGuards, sleep, spawnTracked, stop, waitFor, waitForListening } from './lib/processes.mjs';
import { AGENT, APP, EMPTY, REPO, SETUPS, baseEnv } from './lib/setups.mjs';
import { startSink } from './lib/sinks.mjs';

const { values } = parseArgs({
  options: {
    setup: { type: 'string', multiple: true, default: ['agentTraces'] },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '10' },
    keep: { type: 'boolean', default: false },
    'no-startup': { type: 'boolean', default: false },
    'no-load': { type: 'boolean', default: false },
    env: { type: 'string', multiple: true, default: [] },
    agent: { type: 'string' },
    rate: { type: 'string' },
  },
});
const setups = values.setup.map((name) => {
  const chosen = SETUPS[name];
  if (!chosen) throw new Error(`--setup: one of ${Object.keys(SETUPS).join(', ')}`);
  return values.agent
    ? { ...chosen, label: `${chosen.label} (build ${values.agent})`, args: chosen.args.map((a) => (a === AGENT ? path.resolve(values.agent) : a)) }
    : chosen;
});
const seconds = Number(values.seconds);
/** --env NAME=value (repeatable): extra environment for the profiled process, e.g. OTEL_TRACES_SAMPLER=always_off. */
const extraEnv = Object.fromEntries(values.env.map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
const HELPERS = path.join(REPO, 'test/bench/lib');
const dir = mkdtempSync(path.join(os.tmpdir(), 'otel-agent-profile-'));
installRunGuards((seconds + 120) * 1000 * setups.length);

const otlp = await startSink('otlp');
const sentry = await startSink('ingest');
const ctx = { otlp, sentry, otlpUrl: otlp.url, sentryDsn: `http://benchkey@127.0.0.1:${sentry.port}/1` };

function print(title, rows, total, requests) {
  console.log(`\n${title}`);
  for (const [name, ms] of rows) {
    const perRequest = requests ? `${((ms * 1000) / requests).toFixed(2).padStart(8)} µs/req ` : '';
    console.log(`${ms.toFixed(1).padStart(9)} ms ${((ms / total) * 100).toFixed(1).padStart(5)} % ${perRequest} ${name}`);
  }
}

/** requests: how many the app answered while profiled, for the µs/req column. Returns the summary. */
function report(file, label, requests) {
  const summary = summarizeProfile(JSON.parse(readFileSync(file, 'utf8')), REPO);
  console.log(`\n## ${label}: ${summary.totalMs.toFixed(0)} ms profiled${requests ? `, ${requests} requests` : ''}`);
  if (requests) {
    const busy = summary.selfAll.filter(([name]) => name !== '(idle)').reduce((sum, [, ms]) => sum + ms, 0);
    console.log(`CPU (all but idle): ${((busy * 1000) / requests).toFixed(1)} µs per request`);
  }
  print('self time by package', summary.self.slice(0, 15), summary.totalMs, requests);
  print('inclusive time by package (a sample counts for every package on its stack)', summary.inclusive.slice(0, 15), summary.totalMs, requests);
  print('self time by function', summary.functions.slice(0, 20), summary.totalMs, requests);
  print(
    "the agent's self time by the module of its bundle (its source files, and the packages it bundles)",
    summary.agentModules.slice(0, 20),
    summary.totalMs,
    requests,
  );
  return summary;
}

/** Where a package bucket's time goes in the side-by-side table. */
function groupOf(bucket) {
  if (bucket === '(garbage collector)') return 'garbage collection';
  // A sampling profiler sees the thread inside a write even while the kernel has it wait or runs
  // the receiving side of a loopback connection: wall time there, not the process's CPU.
  if (bucket === '(native)') return 'native code (mostly socket writes, wall time inside them)';
  if (bucket === '(program)') return 'V8 and Node outside JavaScript';
  if (bucket.startsWith('node: ')) return "Node's own JavaScript (http, streams, events, timers)";
  if (bucket === 'agent') return 'the agent';
  return 'the app and its libraries (pg, ioredis)';
}

/** µs per request by group, and the agent's modules under it, each setup a column. */
function sideBySide(runs) {
  const perRequest = (ms, requests) => (ms * 1000) / requests;
  const columns = runs.map(({ summary, requests }) => {
    const groups = new Map();
    let busy = 0;
    for (const [bucket, ms] of summary.selfAll) {
      if (bucket === '(idle)') continue;
      busy += ms;
      groups.set(groupOf(bucket), (groups.get(groupOf(bucket)) ?? 0) + perRequest(ms, requests));
    }
    const modules = new Map(summary.agentModules.map(([name, ms]) => [name, perRequest(ms, requests)]));
    return { busy: perRequest(busy, requests), groups, modules };
  });
  const groupNames = [...new Set(columns.flatMap((c) => [...c.groups.keys()]))];
  const moduleNames = [
    ...new Set(
      columns.flatMap((c) =>
        [...c.modules]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 12)
          .map(([name]) => name),
      ),
    ),
  ];
  const cell = (v) => (v === undefined ? '' : v.toFixed(1));
  console.log(`
## Side by side: µs per request${values.rate ? ` at ${values.rate} req/s` : ' (saturated: not comparable across setups)'}
`);
  console.log(`| | ${runs.map((r) => r.label).join(' | ')} |`);
  console.log(`|---|${runs.map(() => '---:').join('|')}|`);
  console.log(`| **main thread busy (all but idle)** | ${columns.map((c) => `**${cell(c.busy)}**`).join(' | ')} |`);
  for (const name of groupNames) {
    console.log(`| ${name} | ${columns.map((c) => cell(c.groups.get(name))).join(' | ')} |`);
    if (name !== 'the agent') continue;
    for (const module of moduleNames) console.log(`| &nbsp;&nbsp;${module} | ${columns.map((c) => cell(c.modules.get(module))).join(' | ')} |`);
  }
}

function census(stderr) {
  const match = /\{"moduleCensus":(.*)\}\s*$/m.exec(stderr);
  if (!match) return;
  const byPackage = new Map();
  for (const [file, bytes] of JSON.parse(match[1])) {
    const bucket = bucketOf({ url: file, functionName: '' }, REPO);
    const entry = byPackage.get(bucket) ?? { files: 0, bytes: 0 };
    entry.files++;
    entry.bytes += bytes;
    byPackage.set(bucket, entry);
  }
  const rows = [...byPackage].sort((a, b) => b[1].bytes - a[1].bytes);
  const files = rows.reduce((n, [, e]) => n + e.files, 0);
  const bytes = rows.reduce((n, [, e]) => n + e.bytes, 0);
  console.log(`\nCommonJS modules loaded: ${files} files, ${(bytes / 1e6).toFixed(2)} MB of source`);
  for (const [name, e] of rows.slice(0, 20)) console.log(`${String(e.files).padStart(6)} files ${(e.bytes / 1e3).toFixed(0).padStart(7)} KB  ${name}`);
}

/** The main thread's profile (CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile, thread 0); a loader thread writes its own. */
function newestProfile(sub) {
  const files = readdirSync(sub).filter((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0');
  return files.length ? path.join(sub, files.sort().pop()) : undefined;
}

try {
  const runs = [];
  for (const setup of setups) {
    if (!values['no-startup']) {
      const sub = mkdtempSync(path.join(dir, 'startup-'));
      const env = { ...baseEnv(), ...(await setup.env(ctx)), ...extraEnv };
      const child = spawnTracked(
        process.execPath,
        ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', sub, '--import', path.join(HELPERS, 'module-census.mjs'), ...setup.args, EMPTY],
        { cwd: REPO, env },
      );
      await Promise.race([child.exited, sleep(30_000)]);
      await stop(child);
      const file = newestProfile(sub);
      if (file) report(file, `startup, ${setup.label}, node [agent] empty.mjs`);
      census(child.stderrText);
    }
    if (!values['no-load']) {
      const sub = mkdtempSync(path.join(dir, 'load-'));
      const env = { ...baseEnv(), ...(await setup.env(ctx)), BENCH_KEY_PREFIX: `otel-agent-profile:${process.pid}:`, ...extraEnv };
      const app = spawnTracked(
        process.execPath,
        ['--cpu-prof', '--cpu-prof-dir', sub, '--import', path.join(HELPERS, 'exit-on-sigusr2.mjs'), ...setup.args, APP],
        { cwd: REPO, env },
      );
      const port = await waitForListening(app);
      const load = await startLoad();
      const url = `http://127.0.0.1:${port}`;
      // With --rate the warm-up is at that rate too, so every setup's profile holds the same load.
      const mode = values.rate ? { mode: 'paced', rate: Number(values.rate) } : { mode: 'saturate' };
      const phase = { url, connections: Number(values.connections), ...mode };
      const warm = await load.run({ ...phase, seconds: 2, keyBase: 0 });
      const result = await load.run({ ...phase, seconds, keyBase: 10_000_000 });
      await load.close();
      console.log(`\nload: ${result.rps.toFixed(0)} req/s, p99 ${result.p99.toFixed(2)} ms over ${seconds} s (profiling slows the app)`);
      app.kill('SIGUSR2');
      await Promise.race([app.exited, sleep(15_000)]);
      await stop(app);
      const file = await waitFor(() => newestProfile(sub), 5000, 'the profile').catch(() => undefined);
      const answered = warm.ok + warm.non2xx + result.ok + result.non2xx;
      if (file)
        runs.push({
          label: setup.label,
          requests: answered,
          summary: report(file, `under load, ${setup.label} (includes the 2 s warm-up and idle time)`, answered),
        });
    }
  }
  if (runs.length > 1) sideBySide(runs);
  console.log(values.keep ? `\nprofiles kept in ${dir}` : '');
} finally {
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  await cleanup();
}
process.exit(0);
