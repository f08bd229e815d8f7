// `npm start`: runs the tutoring demo service with the agent preloaded on its embedded defaults,
// plus a small traffic generator, and prints where to look.
//
// Postgres: DATABASE_URL if set, else an embedded PGlite served over a local socket, so the real
// `pg` driver (and the agent's pg instrumentation) talk to it. Redis: REDIS_URL if set, else
// 127.0.0.1:6379 if a Redis answers there, else none (the service runs without a cache and
// /health reports the cache as failing, the service as degraded). LLM: the OpenAI API with
// OPENAI_API_KEY (and OPENAI_BASE_URL for a compatible gateway), else a local stand-in.
// DEMO_DURATION_SECONDS=N stops everything after N seconds (used by the test of this script).
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const servicePort = Number(process.env.PORT ?? 3000);
const metricsPort = Number(process.env.OTEL_EXPORTER_PROMETHEUS_PORT ?? 9464);
const duration = Number(process.env.DEMO_DURATION_SECONDS ?? 0);
const say = (line) => process.stdout.write(`[demo] ${line}\n`);

function redisAnswers(host, port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => done(String(d).startsWith('+PONG')));
  });
}

let pglite;
let llm;
let databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  const { PGlite } = await import('@electric-sql/pglite');
  const { PGLiteSocketServer } = await import('@electric-sql/pglite-socket');
  const db = await PGlite.create();
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 8 });
  await server.start();
  const address = server.getServerConn?.() ?? '';
  const port = Number(String(address).split(':').pop()) || server.server?.address()?.port;
  databaseUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  pglite = { db, server };
  say(`Postgres: embedded PGlite on 127.0.0.1:${port} (set DATABASE_URL to use your own)`);
} else {
  say('Postgres: DATABASE_URL');
}

const env = { ...process.env, DATABASE_URL: databaseUrl, PORT: String(servicePort), OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort) };
env.OTEL_SERVICE_NAME ??= 'tutoring-demo';
if (process.env.REDIS_URL) {
  say('Redis: REDIS_URL');
} else if (await redisAnswers('127.0.0.1', 6379)) {
  env.REDIS_URL = 'redis://127.0.0.1:6379';
  say('Redis: 127.0.0.1:6379');
} else {
  // No cache: tell the health check where the cache would be, and that it is not critical.
  env.TUTOR_OTEL_HEALTH_REDIS_URL = 'redis://127.0.0.1:6379';
  env.TUTOR_OTEL_HEALTH_CRITICAL ??= 'database';
  say('Redis: none answered on 127.0.0.1:6379; running without a cache (/health shows it)');
}

if (process.env.OPENAI_API_KEY) {
  say('LLM: OpenAI API with OPENAI_API_KEY' + (process.env.OPENAI_BASE_URL ? ` at ${process.env.OPENAI_BASE_URL}` : ''));
} else {
  // No key: a local stand-in speaking OpenAI's wire format, so the AI metrics have data.
  const { startLlmStandIn } = await import('./llm-stand-in.mjs');
  llm = await startLlmStandIn();
  const host = `127.0.0.1:${llm.port}`;
  Object.assign(env, {
    OPENAI_API_KEY: 'demo-key',
    OPENAI_BASE_URL: `http://${host}/v1`,
    TUTOR_OTEL_AI_PROVIDERS: `${host}=openai`,
    TUTOR_OTEL_AI_INCLUDE_USAGE_HOSTS: host,
  });
  say(`LLM: a local OpenAI-compatible stand-in on ${host} (set OPENAI_API_KEY to use the real API)`);
}

const service = spawn(process.execPath, ['--import', path.join(root, 'dist/register.js'), path.join(root, 'examples/tutoring-service/server.mjs')], {
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
});

let traffic;
service.stdout.setEncoding('utf8').on('data', (chunk) => {
  process.stdout.write(chunk);
  const m = /\{"listening":(\d+)\}/.exec(chunk);
  if (m && !traffic) {
    const base = `http://127.0.0.1:${m[1]}`;
    say(`service:  ${base}/api/lessons/1`);
    say(`metrics:  http://127.0.0.1:${metricsPort}/metrics`);
    say(`health:   http://127.0.0.1:${metricsPort}/health  (also /ready, /live)`);
    say('generating traffic; Ctrl-C to stop');
    traffic = startTraffic(base);
  }
});

function startTraffic(base) {
  let n = 0;
  const timer = setInterval(() => {
    n++;
    const lesson = 1 + (n % 60); // ids above 50 are 404s
    const calls = [
      fetch(`${base}/api/lessons/${lesson}`),
      fetch(`${base}/api/lessons/${lesson}/answers`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ studentId: n % 7, correct: n % 3 !== 0 }),
      }),
      fetch(`${base}/api/students/${n % 7}/progress`),
      fetch(`${base}/api/recommendations`),
    ];
    if (n % 5 === 0) {
      calls.push(
        fetch(`${base}/api/lessons/${lesson}/hint`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ question: 'Where do I begin?', stream: n % 10 !== 0 }),
        }),
      );
    }
    Promise.allSettled(calls).then((results) => results.forEach((r) => r.status === 'fulfilled' && r.value.body?.cancel()));
  }, 200);
  return timer;
}

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  clearInterval(traffic);
  if (service.exitCode === null) {
    service.kill('SIGTERM');
    // The service closes gracefully; if a request hangs, do not wait for ever.
    const force = setTimeout(() => service.kill('SIGKILL'), 10_000);
    await new Promise((r) => service.once('exit', r));
    clearTimeout(force);
  }
  llm?.server.close();
  if (pglite) {
    await pglite.server.stop().catch(() => {});
    await pglite.db.close().catch(() => {});
  }
  process.exit(code);
}

service.on('exit', (code) => {
  if (!stopping) {
    say(`service exited (${code})`);
    void stop(code ?? 1);
  }
});
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
if (duration > 0) setTimeout(() => void stop(0), duration * 1000);
