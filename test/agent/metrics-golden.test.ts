/**
 * Golden test of `/metrics`: after a fixed sequence of requests to test/fixtures/golden-app.mjs
 * (plain node:http, Express 5, Fastify 5, pg, ioredis, the openai and Anthropic SDKs and plain
 * fetch against the loopback LLM stand-in), the normalised scrape must equal the file in
 * __golden__/. It pins what the agent exports today (names, HELP and TYPE, label sets, counts,
 * token and cost values) so that a refactor of its internals can show it changed nothing but times.
 *
 * It runs dist/register.js: `npm run build` first.
 *
 *   npx vitest run test/agent/metrics-golden.test.ts                  compare
 *   UPDATE_GOLDEN=1 npx vitest run test/agent/metrics-golden.test.ts  rewrite the golden files
 *   GOLDEN_RAW_DIR=/tmp npx vitest run ...                            also keep the raw scrapes there
 *
 * What normalisation drops or blurs, and why, is said in test/helpers/golden-metrics.ts.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { LlmServer } from '../helpers/llm-server';
import { waitFor } from '../helpers/ports';
import { normaliseMetrics, diffLines } from '../helpers/golden-metrics';

const GOLDEN_DIR = path.join(__dirname, '__golden__');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

type Target = 'plain' | 'express' | 'fastify';

interface Step {
  target: Target;
  method: string;
  path: string;
  body?: unknown;
  status: number;
}

/**
 * The request sequence, sent one at a time, each on its own connection (`Connection: close`), so
 * that no keep-alive socket is left open and `active_connections` settles to 0.
 */
const SEQUENCE: Step[] = [
  // plain node:http: ids folded by the agent, CRUD verbs, a transaction, errors, 404s.
  { target: 'plain', method: 'POST', path: '/items', body: { title: 'first' }, status: 201 },
  { target: 'plain', method: 'POST', path: '/items', body: { title: 'second' }, status: 201 },
  { target: 'plain', method: 'GET', path: '/items/1', status: 200 },
  { target: 'plain', method: 'GET', path: '/items/2?fields=title', status: 200 },
  { target: 'plain', method: 'PUT', path: '/items/1', body: { title: 'renamed' }, status: 200 },
  { target: 'plain', method: 'POST', path: '/transfer', status: 200 },
  { target: 'plain', method: 'DELETE', path: '/items/2', status: 200 },
  { target: 'plain', method: 'GET', path: '/items/2', status: 404 },
  { target: 'plain', method: 'GET', path: '/broken-query', status: 500 },
  { target: 'plain', method: 'GET', path: '/cache', status: 200 },
  { target: 'plain', method: 'GET', path: '/cache-batch', status: 200 },
  { target: 'plain', method: 'GET', path: '/cache-error', status: 500 },
  { target: 'plain', method: 'GET', path: '/no/such/page', status: 404 },
  { target: 'plain', method: 'GET', path: '/orders/7f3c2a10-5b4e-4c1d-9a8b-0123456789ab/lines/3', status: 200 },
  { target: 'plain', method: 'GET', path: '/orders/5f8a1c2b3d4e5f6a7b8c9d0e/lines/12?expand=1', status: 200 },
  { target: 'plain', method: 'POST', path: '/ai-fetch', status: 200 },
  // Express 5: a miss then a hit of the same lesson, a mounted router (and a throw inside it), a 404, openai.
  { target: 'express', method: 'GET', path: '/lessons/11', status: 200 },
  { target: 'express', method: 'GET', path: '/lessons/11', status: 200 },
  { target: 'express', method: 'GET', path: '/lessons/12', status: 200 },
  { target: 'express', method: 'GET', path: '/courses/3/lessons/4', status: 200 },
  { target: 'express', method: 'GET', path: '/courses/3/broken', status: 500 },
  { target: 'express', method: 'GET', path: '/missing/42', status: 404 },
  { target: 'express', method: 'POST', path: '/ai/openai/chat', status: 200 },
  { target: 'express', method: 'POST', path: '/ai/openai/chat-stream', status: 200 },
  { target: 'express', method: 'POST', path: '/ai/openai/chat-retry', status: 200 },
  { target: 'express', method: 'POST', path: '/ai/openai/chat-429', status: 502 },
  { target: 'express', method: 'POST', path: '/ai/openai/unpriced', status: 200 },
  { target: 'express', method: 'POST', path: '/ai/openai/embeddings', status: 200 },
  { target: 'express', method: 'POST', path: '/ai/openai/responses-stream', status: 200 },
  // Fastify 5: templates, a throw, a 404, the Anthropic SDK.
  { target: 'fastify', method: 'GET', path: '/quizzes/21', status: 200 },
  { target: 'fastify', method: 'GET', path: '/courses/5/quizzes/6', status: 200 },
  { target: 'fastify', method: 'GET', path: '/quizzes/21/broken', status: 500 },
  { target: 'fastify', method: 'GET', path: '/missing/42', status: 404 },
  { target: 'fastify', method: 'POST', path: '/ai/anthropic/messages', status: 200 },
  { target: 'fastify', method: 'POST', path: '/ai/anthropic/messages-stream', status: 200 },
];

/** One request on a connection of its own, closed when answered. */
function request(port: number, step: Step): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const payload = step.body === undefined ? undefined : JSON.stringify(step.body);
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: step.method,
        path: step.path,
        agent: false,
        headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

interface Run {
  normalised: string;
  ms: number;
}

async function goldenRun(name: string, env: Record<string, string>): Promise<Run> {
  const started = Date.now();
  const openai = new LlmServer();
  const anthropic = new LlmServer();
  await openai.start();
  await anthropic.start();
  let app: AgentApp | undefined;
  try {
    app = await startAgentApp({
      fixture: 'golden-app.mjs',
      env: {
        OTEL_SERVICE_NAME: 'golden',
        DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
        REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        OPENAI_BASE_URL: openai.url,
        ANTHROPIC_BASE_URL: anthropic.url,
        // The stand-ins' ports change every run; the provider names they get do not.
        TUTOR_OTEL_AI_PROVIDERS: `${openai.hostPort}=openai,${anthropic.hostPort}=anthropic`,
        TUTOR_OTEL_AI_INCLUDE_USAGE_HOSTS: openai.hostPort,
        ...env,
      },
    });
    await agentReady(app);
    const ports = JSON.parse(/\{"ports":(\{[^}]*\})\}/.exec(app.stdout)?.[1] ?? '{}') as Record<Target, number>;
    for (const step of SEQUENCE) {
      const { status, body } = await request(ports[step.target], step);
      expect(status, `${step.target} ${step.method} ${step.path}: ${body}`).toBe(step.status);
    }
    const raw = await settledScrape(app, SEQUENCE.length);
    if (process.env.GOLDEN_RAW_DIR) fs.writeFileSync(path.join(process.env.GOLDEN_RAW_DIR, `${name}.raw.txt`), raw);
    return { normalised: normaliseMetrics(raw), ms: Date.now() - started };
  } catch (error) {
    throw new Error(`${String(error)}\n--- fixture stderr ---\n${app?.stderr ?? ''}`, { cause: error });
  } finally {
    await app?.stop();
    await openai.stop();
    await anthropic.stop();
  }
}

/**
 * The scrape once the agent has recorded everything: every request counted (responses are
 * recorded when they finish, which the client may see a moment earlier), every connection closed,
 * and two normalised scrapes 200 ms apart alike.
 */
async function settledScrape(app: AgentApp, requests: number): Promise<string> {
  let previous = '';
  return waitFor(
    async () => {
      const raw = await app.scrapeText();
      const counted = sumOf(raw, 'http_requests_total');
      const open = sumOf(raw, 'active_connections');
      const normalised = normaliseMetrics(raw);
      const settled = counted === requests && open === 0 && normalised === previous;
      previous = normalised;
      if (settled) return raw;
      await new Promise((r) => setTimeout(r, 200));
      return undefined;
    },
    15_000,
    `/metrics to settle (${requests} requests counted, no open connections)`,
  );
}

function sumOf(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

function compareWithGolden(file: string, actual: string): void {
  const target = path.join(GOLDEN_DIR, file);
  if (UPDATE || !fs.existsSync(target)) {
    if (!UPDATE) throw new Error(`${target} does not exist; run with UPDATE_GOLDEN=1 to create it`);
    fs.mkdirSync(GOLDEN_DIR, { recursive: true });
    fs.writeFileSync(target, actual);
    return;
  }
  const expected = fs.readFileSync(target, 'utf8');
  if (actual !== expected) {
    throw new Error(
      `/metrics differs from ${path.relative(process.cwd(), target)} (- golden, + now); ` +
        `if the change is intended, rerun with UPDATE_GOLDEN=1 and review the file's diff\n${diffLines(expected, actual)}`,
    );
  }
}

describe('/metrics golden', () => {
  it('default configuration: matches __golden__/metrics.txt', async () => {
    const run = await goldenRun('metrics', {});
    console.log(`golden run (default) took ${run.ms} ms`);
    compareWithGolden('metrics.txt', run.normalised);
  });

  it('semantic-convention twins on: matches __golden__/metrics-semconv.txt', async () => {
    const run = await goldenRun('metrics-semconv', { TUTOR_OTEL_SEMCONV_METRICS: 'true', TUTOR_OTEL_AI_SEMCONV_METRICS: 'true' });
    console.log(`golden run (semconv) took ${run.ms} ms`);
    compareWithGolden('metrics-semconv.txt', run.normalised);
  });
});
