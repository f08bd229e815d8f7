// CPU overhead of continuous profiling: the same fixed CPU-bound work (JSON, regular expressions,
// sorting, closures, several frames deep) in a process preloaded with the agent and SENTRY_DSN,
// with SENTRY_PROFILE_SESSION_SAMPLE_RATE=1 and without, alternated, 5 runs each.
//
//   npm run build && npm exec -- node test/bench/profiling-overhead.mjs [runs]
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const runs = Number(process.argv[2] ?? 5);
const work = `
function leaf(i) { return JSON.parse(JSON.stringify({ id: i, name: 'lesson ' + i, tags: ['a', 'b', String(i)] })); }
function middle(i) { const o = leaf(i); return /lesson (\\d+)/.exec(o.name)[1].length + o.tags.sort().length; }
function outer(n) { let s = 0; for (let i = 0; i < n; i++) s += middle(i); return s; }
outer(50000);
const t0 = process.cpuUsage(); const w0 = performance.now();
outer(600000);
const cpu = process.cpuUsage(t0);
process.stdout.write(JSON.stringify({ wall: performance.now() - w0, cpu: (cpu.user + cpu.system) / 1000 }) + '\\n');
`;
const env = (rate) => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  SENTRY_DSN: 'http://key@127.0.0.1:9/1',
  OTEL_EXPORTER_PROMETHEUS_PORT: '0',
  ...(rate ? { SENTRY_PROFILE_SESSION_SAMPLE_RATE: rate } : {}),
});
const once = (rate) =>
  JSON.parse(
    execFileSync(process.execPath, ['--import', path.join(repo, 'dist/register.js'), '--input-type=module', '-e', work], {
      env: env(rate),
      cwd: repo,
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop(),
  );
const off = [];
const on = [];
for (let i = 0; i < runs; i++) {
  off.push(once(undefined));
  on.push(once('1'));
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
for (const key of ['wall', 'cpu']) {
  const a = median(off.map((r) => r[key]));
  const b = median(on.map((r) => r[key]));
  process.stdout.write(`${key.padEnd(5)} off ${a.toFixed(0)} ms, profiling ${b.toFixed(0)} ms, overhead ${(((b - a) / a) * 100).toFixed(1)}%\n`);
}
