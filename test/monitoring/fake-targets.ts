/**
 * Stand-ins for scrape targets, for the live Prometheus test: HTTP servers on 127.0.0.1 serving
 * Prometheus text with exactly the agent's metric names and labels, their counters growing at
 * the rates of a traffic profile. Every observation of a histogram takes the profile's single
 * duration, so the quantiles Prometheus computes are known in advance.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

type Labels = Record<string, string>;

export const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];
export const DB_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
export const AI_BUCKETS = [0.5, 1, 2, 3, 5, 8, 10, 20, 30, 60, 120];
export const GC_BUCKETS = [0.001, 0.01, 0.1, 1, 2, 5];

/** A service's traffic: rates per second, durations in seconds, memory in bytes. */
export interface Profile {
  requestsPerSecond: number;
  errorRatio: number;
  requestSeconds: number;
  dbQueriesPerSecond: number;
  dbSeconds: number;
  cacheReadsPerSecond: number;
  cacheHitRatio: number;
  aiPerSecond: number;
  aiSeconds: number;
  residentBytes: number;
  memoryLimitBytes?: number;
  heapUsedBytes: number;
  heapLimitBytes: number;
  eventLoopLagSeconds: number;
  activeConnections: number;
}

export const IDLE: Profile = {
  requestsPerSecond: 0,
  errorRatio: 0,
  requestSeconds: 0.05,
  dbQueriesPerSecond: 0,
  dbSeconds: 0.01,
  cacheReadsPerSecond: 0,
  cacheHitRatio: 0,
  aiPerSecond: 0,
  aiSeconds: 1,
  residentBytes: 120e6,
  heapUsedBytes: 40e6,
  heapLimitBytes: 2e9,
  eventLoopLagSeconds: 0.002,
  activeConnections: 0,
};

const fmt = (labels: Labels) =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

class Exposition {
  private readonly out: string[] = [];
  private readonly typed = new Set<string>();

  private type(name: string, type: string) {
    if (this.typed.has(name)) return;
    this.typed.add(name);
    this.out.push(`# HELP ${name} ${name.replace(/_/g, ' ')}`, `# TYPE ${name} ${type}`);
  }

  counter(name: string, labels: Labels, value: number) {
    this.type(name, 'counter');
    this.out.push(`${name}${fmt(labels)} ${value}`);
  }

  gauge(name: string, labels: Labels, value: number) {
    this.type(name, 'gauge');
    this.out.push(`${name}${fmt(labels)} ${value}`);
  }

  /** `count` observations, all of `value` seconds. */
  histogram(name: string, labels: Labels, buckets: number[], count: number, value: number) {
    this.type(name, 'histogram');
    for (const le of buckets) this.out.push(`${name}_bucket${fmt({ ...labels, le: String(le) })} ${value <= le ? count : 0}`);
    this.out.push(`${name}_bucket${fmt({ ...labels, le: '+Inf' })} ${count}`);
    this.out.push(`${name}_sum${fmt(labels)} ${count * value}`);
    this.out.push(`${name}_count${fmt(labels)} ${count}`);
  }

  text() {
    return `${this.out.join('\n')}\n`;
  }
}

/** The agent's /metrics for one instance of `service` after `t` seconds of `p`'s traffic. */
export function agentMetrics(service: string, p: Profile, t: number): string {
  const e = new Exposition();
  const s = { service };
  const requests = p.requestsPerSecond * t;
  const errors = requests * p.errorRatio;
  const route = { ...s, method: 'GET', route: '/api/items' };
  e.counter('http_requests_total', { ...route, status_code: '200' }, requests - errors);
  if (p.errorRatio > 0) e.counter('http_requests_total', { ...route, status_code: '500' }, errors);
  e.histogram('http_request_duration_seconds', { ...route, status_code: '200' }, HTTP_BUCKETS, requests - errors, p.requestSeconds);
  if (p.errorRatio > 0) e.histogram('http_request_duration_seconds', { ...route, status_code: '500' }, HTTP_BUCKETS, errors, p.requestSeconds);
  e.gauge('active_connections', s, p.activeConnections);

  e.histogram(
    'db_query_duration_seconds',
    { ...s, db_system: 'postgresql', operation: 'SELECT', status: 'ok' },
    DB_BUCKETS,
    p.dbQueriesPerSecond * t,
    p.dbSeconds,
  );
  const reads = p.cacheReadsPerSecond * t;
  e.counter('cache_operations_total', { ...s, operation: 'get', result: 'hit' }, reads * p.cacheHitRatio);
  e.counter('cache_operations_total', { ...s, operation: 'get', result: 'miss' }, reads * (1 - p.cacheHitRatio));
  e.counter('cache_operations_total', { ...s, operation: 'set', result: 'ok' }, (reads * (1 - p.cacheHitRatio)) / 2);

  if (p.aiPerSecond > 0) {
    const gens = p.aiPerSecond * t;
    const model = 'gpt-4o-mini';
    e.histogram('ai_generation_duration_seconds', { ...s, provider: 'openai', model, operation: 'chat', stream: 'true' }, AI_BUCKETS, gens, p.aiSeconds);
    e.counter('ai_generation_total', { ...s, provider: 'openai', model, operation: 'chat', status: 'success' }, gens);
    e.histogram(
      'ai_time_to_first_token_seconds',
      { ...s, provider: 'openai', model, operation: 'chat', stream: 'true' },
      AI_BUCKETS,
      gens,
      p.aiSeconds / 4,
    );
    e.counter('openai_api_calls_total', { ...s, model, operation: 'chat', status_code: '200' }, gens);
    e.counter('openai_tokens_used_total', { ...s, model, token_type: 'input' }, gens * 500);
    e.counter('openai_tokens_used_total', { ...s, model, token_type: 'output' }, gens * 200);
    e.counter('ai_cost_usd_total', { ...s, provider: 'openai', model }, gens * 0.0002);
  }

  e.counter('process_cpu_seconds_total', s, 0.3 * t);
  e.gauge('process_resident_memory_bytes', s, p.residentBytes);
  if (p.memoryLimitBytes !== undefined) e.gauge('process_memory_limit_bytes', s, p.memoryLimitBytes);
  e.gauge('nodejs_heap_size_used_bytes', s, p.heapUsedBytes);
  e.gauge('nodejs_heap_size_total_bytes', s, p.heapUsedBytes * 1.2);
  e.gauge('nodejs_heap_size_limit_bytes', s, p.heapLimitBytes);
  e.gauge('nodejs_eventloop_lag_seconds', s, p.eventLoopLagSeconds);
  // what makes a target an agent for the recording rules (job_instance:otel_agent:info)
  e.gauge('nodejs_version_info', { ...s, version: 'v24.11.0', major: '24', minor: '11', patch: '0' }, 1);
  e.histogram('nodejs_gc_duration_seconds', { ...s, kind: 'minor' }, GC_BUCKETS, 10 * t, 0.002);
  return e.text();
}

/** An HTTP server on 127.0.0.1 serving `/metrics` from `render(secondsSinceStart)`. */
export class FakeTarget {
  port = 0;
  private server?: http.Server;
  private readonly started = Date.now();
  scrapes = 0;

  constructor(
    readonly name: string,
    private readonly render: (t: number) => string,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      if (req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.scrapes += 1;
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(this.render((Date.now() - this.started) / 1000));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as AddressInfo).port;
  }

  /** Stops answering: later scrapes get "connection refused". */
  async stop(): Promise<void> {
    if (!this.server) return;
    const server = this.server;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

export function fakeAgent(name: string, service: string, profile: Profile): FakeTarget {
  return new FakeTarget(name, (t) => agentMetrics(service, profile, t));
}
