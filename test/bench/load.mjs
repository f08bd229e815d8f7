// The load generator, in its own process so that neither the sinks in the benchmark process nor
// the app share its event loop. Driven over IPC by run.mjs, one phase at a time:
//   { type: 'run', phase: { mode: 'saturate' | 'paced', url, connections, seconds, rate, keyBase } }
// answers { type: 'result', result }. Saturated phases use autocannon (fixed connections, each
// sending its next request when the previous one is answered); paced phases send at a fixed rate
// and time each request from when it was due, so a slow server cannot hide its queueing.
//
// Request n of a phase asks for /item/<key(n)>: keys come in blocks of BLOCK new keys followed by
// the same BLOCK keys again, so about half the requests miss the cache (Postgres + SET) and half hit,
// whatever the request rate.
import http from 'node:http';
import autocannon from 'autocannon';

const BLOCK = 100;
const keyOf = (keyBase, n) => keyBase + Math.floor(n / (2 * BLOCK)) * BLOCK + (n % BLOCK);

function percentiles(values, count) {
  const sorted = Float64Array.from(values.subarray(0, count)).sort();
  const at = (p) => (count === 0 ? NaN : sorted[Math.min(count - 1, Math.max(0, Math.ceil((p / 100) * count) - 1))]);
  return { p50: at(50), p90: at(90), p99: at(99), max: count ? sorted[count - 1] : NaN };
}

class Latencies {
  values = new Float64Array(1 << 16);
  count = 0;
  add(ms) {
    if (this.count === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.count++] = ms;
  }
}

function saturate({ url, connections, seconds, keyBase }) {
  return new Promise((resolve, reject) => {
    const latencies = new Latencies();
    let n = 0;
    let non2xx = 0;
    const started = performance.now();
    const instance = autocannon(
      {
        url,
        connections,
        duration: seconds,
        timeout: 10,
        requests: [
          {
            method: 'GET',
            setupRequest: (request) => {
              request.path = `/item/${keyOf(keyBase, n++)}`;
              return request;
            },
          },
        ],
      },
      (error, result) => {
        if (error) return reject(error);
        const elapsedS = (performance.now() - started) / 1000;
        resolve({
          ok: latencies.count,
          non2xx,
          errors: result.errors,
          timeouts: result.timeouts,
          elapsedS,
          rps: latencies.count / Math.min(elapsedS, result.duration || elapsedS),
          ...percentiles(latencies.values, latencies.count),
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) latencies.add(responseTime);
      else non2xx++;
    });
  });
}

function paced({ url, connections, seconds, rate, keyBase }) {
  return new Promise((resolve) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
    const { hostname, port } = new URL(url);
    const latencies = new Latencies();
    const interval = 1000 / rate;
    const total = Math.round(rate * seconds);
    let sent = 0;
    let done = 0;
    let non2xx = 0;
    let errors = 0;
    const started = performance.now();
    let due = started;
    let timer;

    const finish = () => {
      clearTimeout(timer);
      agent.destroy();
      const elapsedS = (performance.now() - started) / 1000;
      resolve({
        ok: latencies.count,
        non2xx,
        errors,
        timeouts: 0,
        elapsedS,
        rps: latencies.count / elapsedS,
        ...percentiles(latencies.values, latencies.count),
      });
    };
    const settle = () => {
      if (++done === total) finish();
    };
    const send = (dueAt, n) => {
      const request = http.get({ agent, hostname, port, path: `/item/${keyOf(keyBase, n)}` }, (response) => {
        response.resume();
        response.on('end', () => {
          if (response.statusCode >= 200 && response.statusCode < 300) latencies.add(performance.now() - dueAt);
          else non2xx++;
          settle();
        });
      });
      request.setTimeout(10_000, () => request.destroy(new Error('timeout')));
      request.on('error', () => {
        errors++;
        settle();
      });
    };
    const tick = () => {
      const now = performance.now();
      while (due <= now && sent < total) {
        send(due, sent++);
        due += interval;
      }
      if (sent < total) timer = setTimeout(tick, Math.max(0, due - performance.now()));
    };
    // A hard stop so a stuck server cannot hold the phase past its time.
    setTimeout(() => done < total && finish(), (seconds + 15) * 1000).unref();
    tick();
  });
}

process.on('message', async (message) => {
  if (message?.type === 'exit') process.exit(0);
  if (message?.type !== 'run') return;
  try {
    const phase = message.phase;
    const result = phase.mode === 'paced' ? await paced(phase) : await saturate(phase);
    process.send({ type: 'result', result });
  } catch (error) {
    process.send({ type: 'error', error: String(error?.stack ?? error) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready' });
