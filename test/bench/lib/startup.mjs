// Startup: `node [preload] empty.mjs` until it exits, alternated with bare `node empty.mjs`
// (bare, V1, bare, V2, ..., order rotated per round); each setup's run is compared with the mean
// of the bare runs on either side.
import { spawnTracked, stop } from './processes.mjs';
import { EMPTY, REPO, baseEnv } from './setups.mjs';
import { mean, summary } from './stats.mjs';

export async function runStartup(bare, setups, ctx, opts, say) {
  const runs = Object.fromEntries([bare, ...setups].map((s) => [s.id, []]));
  const compared = Object.fromEntries(setups.map((s) => [s.id, []]));
  let before = await startOnce(bare, ctx);
  runs[bare.id].push(before);
  for (let round = 0; round < opts.rounds; round++) {
    const order = setups.map((_, i) => setups[(i + round) % setups.length]);
    for (const setup of order) {
      const result = await startOnce(setup, ctx);
      const after = await startOnce(bare, ctx);
      runs[setup.id].push(result);
      runs[bare.id].push(after);
      const base = (key) => mean([before[key], after[key]]);
      compared[setup.id].push({
        wallAdded: result.wallMs - base('wallMs'),
        firstLineAdded: result.firstLineMs - base('firstLineMs'),
        rssAdded: result.rssMb - base('rssMb'),
      });
      before = after;
    }
    say(`startup round ${round + 1}/${opts.rounds}`);
  }
  const out = {};
  for (const setup of [bare, ...setups]) {
    const list = runs[setup.id];
    const pairs = compared[setup.id] ?? [];
    out[setup.id] = {
      label: setup.label,
      runs: list.length,
      failures: list.filter((r) => !Number.isFinite(r.wallMs)).length,
      wallMs: summary(list.map((r) => r.wallMs)),
      firstLineMs: summary(list.map((r) => r.firstLineMs)),
      rssMb: summary(list.map((r) => r.rssMb)),
      wallAdded: summary(pairs.map((p) => p.wallAdded)),
      firstLineAdded: summary(pairs.map((p) => p.firstLineAdded)),
      rssAdded: summary(pairs.map((p) => p.rssAdded)),
      stderr: list.find((r) => r.stderr)?.stderr,
    };
  }
  return out;
}

async function startOnce(setup, ctx) {
  const env = { ...baseEnv(), ...(await setup.env(ctx)) };
  const started = performance.now();
  const child = spawnTracked(process.execPath, [...setup.args, EMPTY], { cwd: REPO, env });
  const timer = setTimeout(() => void stop(child), 30_000);
  const status = await child.exited;
  const wallMs = performance.now() - started;
  clearTimeout(timer);
  const match = /\{"firstLineMs".*\}/.exec(child.stdoutText);
  if (status.code !== 0 || !match) {
    return { wallMs: NaN, firstLineMs: NaN, rssMb: NaN, stderr: child.stderrText.slice(-500) };
  }
  const report = JSON.parse(match[0]);
  return { wallMs, firstLineMs: report.firstLineMs, rssMb: report.maxRssKb / 1024 };
}
