/**
 * The label product: 200 junk paths x 7 methods must not multiply into thousands of series.
 * Series per HTTP metric stay under TUTOR_OTEL_HTTP_SERIES_LIMIT (untemplated label sets under
 * half of it), every request is still counted, and a real Express route first requested, or even
 * added, after the flood appears under its template (src/http/series-budget.ts).
 */
import * as http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { parsePrometheusText, select, total, type Sample } from '../helpers/prometheus-text';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'];
const PATHS = 200;
const SERIES_LIMIT = 2000; // the documented default
const UNTEMPLATED_LIMIT = SERIES_LIMIT / 2 + 10; // half the limit, plus the folded label sets
/** Letters only, so the agent keeps each path as its own route instead of folding it as an id. */
const word = (n: number) => n.toString(26).replace(/\d/g, (d) => 'qrstuvwxyz'[Number(d)] as string);

function send(app: AgentApp, pool: http.Agent, method: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: app.appPort, method, path, agent: pool, headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Every (path, method) pair once, 16 at a time; resolves to the number of requests sent. */
async function flood(app: AgentApp, pathOf: (i: number) => string): Promise<number> {
  const pool = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const jobs = Array.from({ length: PATHS }, (_, i) => METHODS.map((m) => [m, pathOf(i)] as const)).flat();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < jobs.length) {
        const [method, path] = jobs[next++]!;
        await send(app, pool, method, path);
      }
    }),
  );
  pool.destroy();
  return jobs.length;
}

function seriesCounts(samples: Sample[]) {
  return {
    requests: select(samples, 'http_requests_total').length,
    duration: select(samples, 'http_request_duration_seconds_count').length,
    durationLines: samples.filter((s) => s.name.startsWith('http_request_duration_seconds')).length,
  };
}

async function scrapeStats(app: AgentApp) {
  const text = await app.scrapeText();
  const samples = parsePrometheusText(text);
  return { samples, bytes: Buffer.byteLength(text), lines: samples.length, ...seriesCounts(samples) };
}

describe('label product: bare http app', () => {
  let app: AgentApp;
  beforeAll(async () => {
    app = await startAgentApp({ fixture: 'plain-server.cjs' });
    await agentReady(app);
  });
  afterAll(async () => app?.stop());

  it('keeps series per metric under the limit through 200 paths x 7 methods, counting every request', async () => {
    const sent = await flood(app, (i) => `/junk-${word(i)}/view`);
    const stats = await scrapeStats(app);
    console.log(
      `bare http 200x7: ${stats.requests} http_requests_total series, ${stats.duration} duration label sets ` +
        `(${stats.durationLines} lines), scrape ${stats.lines} lines, ${(stats.bytes / 1e6).toFixed(2)} MB`,
    );
    expect(total(stats.samples, 'http_requests_total')).toBe(sent);
    expect(total(stats.samples, 'http_request_duration_seconds_count')).toBe(sent);
    expect(stats.requests).toBeLessThanOrEqual(UNTEMPLATED_LIMIT);
    expect(stats.duration).toBeLessThanOrEqual(UNTEMPLATED_LIMIT);
    const folded = select(stats.samples, 'http_requests_total', { method: '_OTHER', route: '__overflow__', status_code: '2xx' });
    expect(folded.length).toBe(1);
    expect(folded[0]!.value).toBeGreaterThan(0);
  });
});

describe('label product: Express app', () => {
  let app: AgentApp;
  beforeAll(async () => {
    app = await startAgentApp({ fixture: 'label-product-express.cjs' });
    await agentReady(app);
  });
  afterAll(async () => app?.stop());

  it('spends no route budget on 401/404/405 junk, and a route added after the flood appears under its template', async () => {
    // 200 unknown /api paths x 7 methods: 401 from the auth middleware, 405 from the method filter;
    // then 200 unknown paths outside /api: 404 from Express, 405 from the filter.
    let sent = await flood(app, (i) => `/api/junk-${word(i)}`);
    sent += await flood(app, (i) => `/junk-${word(i)}`);

    const pool = new http.Agent({ keepAlive: true });
    const auth = { authorization: 'Bearer x' };
    expect(await send(app, pool, 'GET', '/api/lessons/42', auth)).toBe(200);
    expect(await send(app, pool, 'POST', '/admin/routes')).toBe(201);
    expect(await send(app, pool, 'GET', '/api/added/intro', auth)).toBe(200);
    expect(await send(app, pool, 'GET', '/api/added/outro', auth)).toBe(200);
    pool.destroy();
    sent += 4;

    const stats = await scrapeStats(app);
    console.log(`express 2x200x7: ${stats.requests} http_requests_total series, scrape ${stats.lines} lines, ${(stats.bytes / 1e3).toFixed(1)} kB`);
    expect(total(stats.samples, 'http_requests_total')).toBe(sent);
    expect(stats.requests).toBeLessThanOrEqual(SERIES_LIMIT);
    const routes = new Set(select(stats.samples, 'http_requests_total').map((s) => s.labels.route));
    expect(routes.has('__overflow__')).toBe(false);
    expect([...routes].filter((r) => r?.includes('junk'))).toEqual([]);
    expect(total(stats.samples, 'http_requests_total', { route: '/api/lessons/:id', method: 'GET', status_code: '200' })).toBe(1);
    expect(total(stats.samples, 'http_requests_total', { route: '/admin/routes', method: 'POST', status_code: '201' })).toBe(1);
    expect(total(stats.samples, 'http_requests_total', { route: '/api/added/:name', method: 'GET', status_code: '200' })).toBe(2);
    expect(total(stats.samples, 'http_requests_total', { route: '__not_found__' })).toBe(sent - 4);
  });
});
