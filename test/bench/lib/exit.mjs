// Time from SIGTERM to exit after some traffic, with every exporter's destination down: either
// refusing connections (closed ports) or accepting them and never answering.
import { startLoad } from './load-client.mjs';
import { freePort, spawnTracked, stop, waitForListening } from './processes.mjs';
import { APP, REPO, baseEnv } from './setups.mjs';
import { startSink } from './sinks.mjs';
import { summary } from './stats.mjs';

export async function runExit(cases, opts, say) {
  const load = await startLoad();
  const results = [];
  try {
    for (const { setup, destinations, runs } of cases) {
      const times = [];
      const endings = [];
      for (let i = 0; i < runs; i++) {
        const ctx = await downDestinations(destinations);
        const env = { ...baseEnv(), ...(await setup.env(ctx)), BENCH_KEY_PREFIX: `${opts.runPrefix}:exit:${setup.id}:${i}:` };
        const app = spawnTracked(process.execPath, [...setup.args, APP], { cwd: REPO, env });
        try {
          const port = await waitForListening(app);
          await load.run({
            mode: 'saturate',
            url: `http://127.0.0.1:${port}`,
            connections: opts.connections,
            seconds: opts.exitTrafficSeconds,
            keyBase: 0,
          });
          const started = performance.now();
          app.kill('SIGTERM');
          const status = await Promise.race([app.exited, new Promise((r) => setTimeout(() => r(undefined), opts.exitTimeoutMs))]);
          times.push(status ? performance.now() - started : NaN);
          endings.push(status ? (status.signal ?? `code ${status.code}`) : `still running after ${opts.exitTimeoutMs / 1000} s`);
        } finally {
          await stop(app);
          await ctx.close();
        }
      }
      const result = {
        label: setup.label,
        destinations,
        runs,
        ms: summary(times),
        stillRunning: times.filter((t) => !Number.isFinite(t)).length,
        endings: [...new Set(endings)],
      };
      say(
        `exit after SIGTERM, ${setup.label}, destinations ${destinations}: ${result.stillRunning ? `${result.stillRunning} of ${runs} still running` : `median ${result.ms.median.toFixed(0)} ms`}`,
      );
      results.push(result);
    }
  } finally {
    await load.close();
  }
  return results;
}

/** OTLP endpoint and Sentry DSN that go nowhere: closed ports, or servers that never answer. */
async function downDestinations(kind) {
  if (kind === 'refusing') {
    const [otlpPort, sentryPort] = [await freePort(), await freePort()];
    return { otlpUrl: `http://127.0.0.1:${otlpPort}`, sentryDsn: `http://benchkey@127.0.0.1:${sentryPort}/1`, close: async () => {} };
  }
  const [otlp, sentry] = [await startSink('hang'), await startSink('hang')];
  return {
    otlpUrl: otlp.url,
    sentryDsn: `http://benchkey@127.0.0.1:${sentry.port}/1`,
    close: async () => {
      await otlp.close();
      await sentry.close();
    },
  };
}
