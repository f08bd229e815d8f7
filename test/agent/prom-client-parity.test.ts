/**
 * The agent's runtime metrics against prom-client's `collectDefaultMetrics()`, in one process:
 * test/fixtures/prom-client-app.cjs runs under the agent and also serves a prom-client registry
 * with the default metrics on a port of its own. Every family prom-client writes must be on the
 * agent's /metrics with the same type and label names, meaning the same thing; the idle
 * event-loop lag is measured prom-client's way (a setImmediate round trip, well under a
 * millisecond, not the 10 ms sampling interval of the delay histogram); and every runtime query
 * of the community "NodeJS Application Dashboard" (grafana.com 11159) answers from a real
 * Prometheus scraping the agent.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_ENTRY, REPO, agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { freePort, waitFor } from '../helpers/ports';
import { parseFamilies, parsePrometheusText, select, type Family } from '../helpers/prometheus-text';
import { CATALOGUE } from '../../src/metrics/catalogue';
import { concreteQuery, dashboardQueries, describeWithTools, getJson, startTestPrometheus, tempDir, type Proc } from '../monitoring/helpers';

/**
 * Families of prom-client's the agent deliberately does not write, with why: none. The deliberate
 * differences are elsewhere, and this test does not hold them against the agent:
 * - the agent adds `nodejs_heap_size_limit_bytes` and `process_memory_limit_bytes`, the constant
 *   label `service` on every series, `# UNIT` lines, and HELP texts of its own;
 * - `nodejs_eventloop_lag_seconds` is this scrape's setImmediate round trip (prom-client's value
 *   is the previous scrape's);
 * - the CPU counters count from the process's start, prom-client's from its registration;
 * - a family with no series at the moment (`nodejs_active_requests` with nothing pending) is not
 *   written at all, where prom-client writes its HELP and TYPE alone; Prometheus sees no series
 *   either way (the app here keeps one request pending, so the family is compared).
 */
const DELIBERATE_DIFFERENCES: Record<string, string> = {};

async function startPair(): Promise<{ app: AgentApp; promClientUrl: string }> {
  const dir = tempDir('prom-client-parity');
  const fifo = path.join(dir, 'pending');
  execFileSync('mkfifo', [fifo]);
  const promClientPort = await freePort();
  const app = await startAgentApp({
    fixture: 'prom-client-app.cjs',
    env: { OTEL_SERVICE_NAME: 'parity', PROM_CLIENT_PORT: String(promClientPort), PENDING_FIFO: fifo },
  });
  await agentReady(app);
  return { app, promClientUrl: `http://127.0.0.1:${promClientPort}/metrics` };
}

async function text(url: string): Promise<string> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  return response.text();
}

describe("runtime metrics: prom-client's default set, in the same process", () => {
  let app: AgentApp;
  let promClientUrl = '';
  let agent: Map<string, Family>;
  let promClient: Map<string, Family>;

  beforeAll(async () => {
    ({ app, promClientUrl } = await startPair());
    // prom-client sets its event-loop lag one scrape late, and GC needs a moment: scrape twice.
    await text(promClientUrl);
    await text(`${app.metricsUrl}/metrics`);
    await new Promise((resolve) => setTimeout(resolve, 500));
    promClient = parseFamilies(await text(promClientUrl));
    agent = parseFamilies(await app.scrapeText());
  });

  afterAll(async () => app?.stop());

  it('the agent does not depend on prom-client: it is a devDependency, and the bundle never loads it', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    expect(manifest.dependencies?.['prom-client']).toBeUndefined();
    expect(manifest.devDependencies?.['prom-client']).toMatch(/^\^15\./);
    expect(fs.readFileSync(AGENT_ENTRY, 'utf8')).not.toMatch(/(require\(|from |import\()\s*["']prom-client/);
  });

  it('prom-client writes the families this test knows, each with samples', () => {
    // A guard on the comparison below: prom-client 15 on Linux and Node 24 writes all of these.
    for (const name of [
      'process_open_fds',
      'process_heap_bytes',
      'nodejs_active_requests',
      'nodejs_active_resources_total',
      'nodejs_heap_space_size_used_bytes',
    ]) {
      expect(promClient.get(name)?.samples, name).toBeGreaterThan(0);
    }
    expect(promClient.size).toBeGreaterThanOrEqual(30);
  });

  it("every family of prom-client is on the agent's /metrics with its type and label names", () => {
    const problems: string[] = [];
    for (const [name, theirs] of promClient) {
      if (name in DELIBERATE_DIFFERENCES) continue;
      const ours = agent.get(name);
      if (!ours || ours.samples === 0) {
        problems.push(`${name}: missing`);
        continue;
      }
      if (ours.type !== theirs.type) problems.push(`${name}: type ${ours.type}, prom-client ${theirs.type}`);
      const labels = (f: Family) => [...f.labels].sort().join(',');
      if (labels(ours) !== labels(theirs)) problems.push(`${name}: labels {${labels(ours)}}, prom-client {${labels(theirs)}}`);
    }
    expect(problems).toEqual([]);
  });

  it('the families mean the same: equal or close readings of the same process', async () => {
    const [ours, theirs] = await Promise.all([app.scrape(), text(promClientUrl).then(parsePrometheusText)]);
    const one = (samples: typeof ours, name: string, labels: Record<string, string> = {}) => {
      const found = select(samples, name, labels);
      expect(found, `${name} ${JSON.stringify(labels)}`).toHaveLength(1);
      return found[0]!.value;
    };
    const values = (samples: typeof ours, name: string, label: string) => [...new Set(select(samples, name).map((s) => s.labels[label]))].sort();

    expect(one(ours, 'process_start_time_seconds')).toBe(one(theirs, 'process_start_time_seconds'));
    expect(one(ours, 'process_max_fds')).toBe(one(theirs, 'process_max_fds'));
    expect(Math.abs(one(ours, 'process_open_fds') - one(theirs, 'process_open_fds'))).toBeLessThanOrEqual(4);
    for (const name of ['process_virtual_memory_bytes', 'process_heap_bytes', 'process_resident_memory_bytes']) {
      const [a, b] = [one(ours, name), one(theirs, name)];
      expect(Math.abs(a - b) / b, name).toBeLessThan(0.2);
    }
    // CPU counters: ours count from the process's start, prom-client's from its registration; both grow.
    expect(one(ours, 'process_cpu_seconds_total')).toBeGreaterThanOrEqual(one(theirs, 'process_cpu_seconds_total'));

    const version = (samples: typeof ours) => select(samples, 'nodejs_version_info').map(({ labels: { service: _, ...rest } }) => rest);
    expect(version(ours)).toEqual(version(theirs));
    expect(version(ours)[0]?.version).toBe(process.version);

    for (const name of ['nodejs_heap_space_size_total_bytes', 'nodejs_heap_space_size_used_bytes', 'nodejs_heap_space_size_available_bytes']) {
      expect(values(ours, name, 'space'), name).toEqual(values(theirs, name, 'space'));
    }
    expect(values(ours, 'nodejs_heap_space_size_used_bytes', 'space')).toContain('old');

    // The FIFO that nobody writes: one file-system request pending on both sides.
    expect(one(ours, 'nodejs_active_requests', { type: 'FSReqCallback' })).toBe(one(theirs, 'nodejs_active_requests', { type: 'FSReqCallback' }));
    expect(one(ours, 'nodejs_active_requests_total')).toBeGreaterThanOrEqual(1);
    // Handles and resources: the same kinds, the passing ones aside (prom-client's scrape sees the
    // Immediate of its own lag measurement; the agent starts its own after reading the resources).
    const TRANSIENT = ['Immediate', 'Timeout'];
    expect(values(ours, 'nodejs_active_handles', 'type')).toContain('Server');
    expect(values(ours, 'nodejs_active_resources', 'type')).toEqual(expect.arrayContaining(['TCPServerWrap', 'FSReqCallback']));
    for (const name of ['nodejs_active_handles', 'nodejs_active_resources']) {
      const lasting = values(theirs, name, 'type').filter((t) => !TRANSIENT.includes(t as string));
      expect(values(ours, name, 'type'), name).toEqual(expect.arrayContaining(lasting));
    }
    expect(one(ours, 'nodejs_active_handles_total')).toBe(select(ours, 'nodejs_active_handles').reduce((sum, s) => sum + s.value, 0));

    expect(values(ours, 'nodejs_gc_duration_seconds_bucket', 'le')).toEqual(values(theirs, 'nodejs_gc_duration_seconds_bucket', 'le'));
  });

  it('idle event-loop lag is a setImmediate round trip: under 5 ms, where the delay histogram says about 10 ms', async () => {
    const lags: number[] = [];
    let mean = 0;
    for (let i = 0; i < 5; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const samples = await app.scrape();
      lags.push(select(samples, 'nodejs_eventloop_lag_seconds')[0]!.value);
      mean = select(samples, 'nodejs_eventloop_lag_mean_seconds')[0]!.value;
    }
    // The least of five: one scrape may land behind other work on a loaded machine.
    expect(Math.min(...lags), `lags ${lags.join(', ')}`).toBeLessThan(0.005);
    expect(Math.min(...lags)).toBeGreaterThan(0);
    // The histogram's statistics keep prom-client's meaning: sampled every 10 ms, so about 0.01 idle.
    expect(mean).toBeGreaterThan(0.009);
  });
});

/**
 * The runtime queries of grafana.com dashboard 11159 ("NodeJS Application Dashboard"), written
 * from its panels: `$instance` is the dashboard's variable, `label_values(nodejs_version_info, instance)`.
 */
const DASHBOARD_11159_QUERIES = [
  'irate(process_cpu_user_seconds_total{instance=~"$instance"}[2m]) * 100',
  'irate(process_cpu_system_seconds_total{instance=~"$instance"}[2m]) * 100',
  'irate(process_cpu_seconds_total{instance=~"$instance"}[2m]) * 100',
  'nodejs_eventloop_lag_seconds{instance=~"$instance"}',
  'nodejs_eventloop_lag_min_seconds{instance=~"$instance"}',
  'nodejs_eventloop_lag_max_seconds{instance=~"$instance"}',
  'nodejs_eventloop_lag_mean_seconds{instance=~"$instance"}',
  'nodejs_eventloop_lag_stddev_seconds{instance=~"$instance"}',
  'nodejs_eventloop_lag_p50_seconds{instance=~"$instance"}',
  'nodejs_eventloop_lag_p90_seconds{instance=~"$instance"}',
  'nodejs_eventloop_lag_p99_seconds{instance=~"$instance"}',
  'sum(nodejs_version_info{instance=~"$instance"}) by (version)',
  'sum(changes(process_start_time_seconds{instance=~"$instance"}[1m]))',
  'process_resident_memory_bytes{instance=~"$instance"}',
  'process_virtual_memory_bytes{instance=~"$instance"}',
  'process_heap_bytes{instance=~"$instance"}',
  'nodejs_heap_size_total_bytes{instance=~"$instance"}',
  'nodejs_heap_size_used_bytes{instance=~"$instance"}',
  'nodejs_external_memory_bytes{instance=~"$instance"}',
  'nodejs_active_handles_total{instance=~"$instance"}',
  'nodejs_active_requests_total{instance=~"$instance"}',
  'nodejs_active_resources_total{instance=~"$instance"}',
  'sum by (type) (nodejs_active_handles{instance=~"$instance"})',
  'sum by (type) (nodejs_active_resources{instance=~"$instance"})',
  'process_open_fds{instance=~"$instance"}',
  'process_max_fds{instance=~"$instance"}',
  'nodejs_heap_space_size_total_bytes{instance=~"$instance"}',
  'nodejs_heap_space_size_used_bytes{instance=~"$instance"}',
  'nodejs_heap_space_size_available_bytes{instance=~"$instance"}',
];

describeWithTools('runtime metrics: the queries of Grafana dashboard 11159, on a live Prometheus', ['prometheus'], () => {
  let app: AgentApp;
  const procs: Proc[] = [];
  let prom = '';

  const query = async (q: string) =>
    (
      await getJson<{ status: string; data: { result: Array<{ metric: Record<string, string> }> } }>(
        `${prom}/api/v1/query?query=${encodeURIComponent(q)}`,
      )
    ).data.result;

  beforeAll(async () => {
    ({ app } = await startPair());
    const port = await freePort();
    prom = `http://127.0.0.1:${port}`;
    await startTestPrometheus(
      tempDir('prom-11159'),
      {
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        scrape_configs: [{ job_name: 'node-app', static_configs: [{ targets: [`127.0.0.1:${app.metricsPort}`] }] }],
      },
      port,
      procs,
    );
    // irate() needs two samples of the CPU counters.
    await waitFor(async () => ((await query('irate(process_cpu_seconds_total[2m])')).length > 0 ? true : undefined), 60_000, 'two scrapes');
    await waitFor(async () => ((await query('rate(nodejs_gc_duration_seconds_sum[5m])')).length > 0 ? true : undefined), 60_000, 'two scrapes of GC');
  }, 120_000);

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    await app?.stop();
  });

  // Raw runtime series only: panels reading recorded series (`service:nodejs_...`) need the
  // recording rules, and test/monitoring runs those against a Prometheus that loads them.
  it.each(dashboardQueries().filter((q) => /(^|[^:\w])(nodejs|process)_/.test(q.expr)))(
    "this repo's dashboard: $panel/$refId answers",
    async ({ expr }) => {
      const result = await query(concreteQuery(expr, 'parity'));
      // Only the cgroup limit may be absent: this machine may run the test outside a memory-limited cgroup.
      const onlyLimit = expr.match(/(?<![:\w])(nodejs|process)_[a-z_]+/g)!.every((name) => name === CATALOGUE.processMemoryLimit.name);
      const hasLimit = (await query(CATALOGUE.processMemoryLimit.name)).length > 0;
      if (onlyLimit && !hasLimit) expect(result).toEqual([]);
      else expect(result.length, expr).toBeGreaterThan(0);
    },
  );

  it.each(DASHBOARD_11159_QUERIES)('%s answers', async (expression) => {
    const instances = (await query('nodejs_version_info')).map((s) => s.metric.instance);
    expect(instances).toEqual([`127.0.0.1:${app.metricsPort}`]);
    const result = await query(expression.replaceAll('$instance', instances[0]!.replace(/\./g, '\\\\.')));
    expect(result.length, expression).toBeGreaterThan(0);
  });
});
