// /metrics with about 10,000 series: the app under the agent is sent requests on enough distinct
// routes (letters only, so none is folded to :id) to reach the line count, then scraped repeatedly.
import { get, sampleLines } from './http.mjs';
import { sleep, spawnTracked, stop, waitFor, waitForListening } from './processes.mjs';
import { APP, REPO, baseEnv, metricsPortOf } from './setups.mjs';
import { summary } from './stats.mjs';

/** 0 -> 'a', 25 -> 'z', 26 -> 'ba', ...: route names without digits. */
function letters(n) {
  let word = '';
  do {
    word = String.fromCharCode(97 + (n % 26)) + word;
    n = Math.floor(n / 26);
  } while (n > 0);
  return word;
}

async function hitRoutes(url, from, to) {
  const concurrency = 16;
  let next = from;
  const worker = async () => {
    while (next < to) {
      const route = next++;
      const answer = await get(`${url}/catalog/section${letters(route)}`);
      if (answer.status !== 200) throw new Error(`route request answered ${answer.status}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export async function runScrape(setup, ctx, opts, say) {
  const env = { ...baseEnv(), ...(await setup.env(ctx)), TUTOR_OTEL_HTTP_ROUTE_LIMIT: '10000', BENCH_KEY_PREFIX: `${opts.runPrefix}:scrape:` };
  const app = spawnTracked(process.execPath, [...setup.args, APP], { cwd: REPO, env });
  try {
    const port = await waitForListening(app);
    const url = `http://127.0.0.1:${port}`;
    const metricsUrl = `http://127.0.0.1:${metricsPortOf(env)}/metrics`;
    await waitFor(async () => ((await get(metricsUrl)).status === 200 ? true : undefined), 20_000, 'the agent /metrics');

    // Lines per route from a first batch, then enough routes for the target.
    const baseline = sampleLines((await get(metricsUrl)).text);
    const firstBatch = 50;
    await hitRoutes(url, 0, firstBatch);
    const afterFirst = sampleLines((await get(metricsUrl)).text);
    const perRoute = Math.max(1, (afterFirst - baseline) / firstBatch);
    const routes = Math.ceil((opts.targetSeries - baseline) / perRoute);
    await hitRoutes(url, firstBatch, routes);

    let last;
    for (let i = 0; i < 3; i++) last = await get(metricsUrl); // warm-up
    const times = [];
    for (let i = 0; i < opts.scrapes; i++) {
      last = await get(metricsUrl);
      if (last.status !== 200) throw new Error(`/metrics answered ${last.status}`);
      times.push(last.ms);
      await sleep(100);
    }
    const result = {
      label: setup.label,
      routes,
      series: sampleLines(last.text),
      lines: last.text.split('\n').filter((l) => l !== '').length,
      bytes: last.bytes,
      scrapes: times.length,
      ms: summary(times),
      rssMb: undefined,
    };
    say(`scrape: ${result.series} series, median ${result.ms.median.toFixed(1)} ms`);
    return result;
  } finally {
    await stop(app);
  }
}
