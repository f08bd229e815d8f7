/**
 * End to end on 127.0.0.1 with the real binaries: Prometheus 2.42 runs the shipped prometheus.yml
 * (targets swapped for local ones, 1s intervals) and the shipped alerts.yml (only `for:`
 * shortened, in a generated copy), and sends to a real Alertmanager running the shipped routes
 * with webhook receivers that this test listens on. The scraped agents are fake-targets.ts
 * servers speaking the agent's metric names; postgres_exporter and redis_exporter are the real
 * ones, against the machine's PostgreSQL and Redis and against closed ports.
 *
 * Services:  checkout   2 instances, 10% 5xx                      -> HighErrorRate
 *            tutor-ai   slow HTTP, AI, DB; 30% cache hits;
 *                       95% of its container memory limit         -> five alerts
 *            search     2 instances, every signal just under its threshold -> silent
 *            idle       no traffic at all                         -> silent
 * Then checkout stops (ServiceDown, which inhibits its HighErrorRate in Alertmanager) and one
 * search instance stops (AgentScrapeFailing, not ServiceDown).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { FakeTarget, IDLE, fakeAgent, type Profile } from './fake-targets';
import {
  IN_CI,
  MONITORING,
  Proc,
  WebhookSink,
  concreteQuery,
  dashboardQueries,
  describeWithTools,
  freePort,
  getJson,
  loadAlertRules,
  reachable,
  readYaml,
  start,
  tempDir,
  startTestAlertmanager,
  startTestPrometheus,
  tools,
  waitFor,
  waitReady,
} from './helpers';

const TEST_FOR = '3s';

const CHECKOUT: Profile = {
  ...IDLE,
  requestsPerSecond: 20,
  errorRatio: 0.1,
  requestSeconds: 0.08,
  dbQueriesPerSecond: 30,
  dbSeconds: 0.004,
  cacheReadsPerSecond: 40,
  cacheHitRatio: 0.9,
  memoryLimitBytes: 1e9,
  residentBytes: 300e6,
  activeConnections: 12,
};

const TUTOR_AI: Profile = {
  requestsPerSecond: 10,
  errorRatio: 0,
  requestSeconds: 3, // P95 4.85s > 2s
  dbQueriesPerSecond: 5,
  dbSeconds: 2, // P95 2.425s > 1s
  cacheReadsPerSecond: 10,
  cacheHitRatio: 0.3, // < 50%
  aiPerSecond: 2,
  aiSeconds: 7, // P95 7.85s > 5s
  residentBytes: 950e6, // 95% of the container limit
  memoryLimitBytes: 1e9,
  heapUsedBytes: 200e6,
  heapLimitBytes: 2e9,
  eventLoopLagSeconds: 0.2,
  activeConnections: 40,
};

const SEARCH: Profile = {
  requestsPerSecond: 25,
  errorRatio: 0.04, // < 5%
  requestSeconds: 1.5, // P95 1.95s < 2s
  dbQueriesPerSecond: 10,
  dbSeconds: 0.9, // P95 0.975s < 1s
  cacheReadsPerSecond: 20,
  cacheHitRatio: 0.55, // > 50%
  aiPerSecond: 1,
  aiSeconds: 4, // P95 4.9s < 5s
  residentBytes: 2.5e9, // no container limit: the heap counts
  heapUsedBytes: 1.7e9, // 85% of the V8 limit
  heapLimitBytes: 2e9,
  eventLoopLagSeconds: 0.01,
  activeConnections: 5,
};

interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
}

describeWithTools(
  'Prometheus with the shipped config and rules, live, with Alertmanager and the real exporters',
  ['prometheus', 'alertmanager', 'postgresExporter', 'redisExporter', 'yamlParser'],
  () => {
    let dir = '';
    const procs: Proc[] = [];
    const sink = new WebhookSink();
    const agents = {
      checkout1: fakeAgent('checkout-1', 'checkout', CHECKOUT),
      checkout2: fakeAgent('checkout-2', 'checkout', CHECKOUT),
      tutorAi: fakeAgent('tutor-ai-1', 'tutor-ai', TUTOR_AI),
      search1: fakeAgent('search-1', 'search', SEARCH),
      search2: fakeAgent('search-2', 'search', SEARCH),
      idle: fakeAgent('idle-1', 'idle', IDLE),
    };
    const k8sAgent = fakeAgent('k8s-svc', 'k8s-svc', IDLE);
    const collectorSelf = new FakeTarget('collector-self', (t) => `# TYPE otelcol_process_uptime counter\notelcol_process_uptime ${t}\n`);
    const collectorExported = new FakeTarget(
      'collector-exported',
      (t) =>
        '# TYPE rpc_server_requests_total counter\n' +
        `rpc_server_requests_total{job="billing-service",instance="billing-1",service_name="billing-service"} ${Math.floor(t)}\n`,
    );
    let prom = '';
    let am = '';
    let datastores = false;
    const exporters: Record<string, string> = {};

    const query = async (q: string) =>
      (
        await getJson<{ data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(
          `${prom}/api/v1/query?query=${encodeURIComponent(q)}`,
        )
      ).data.result;
    const alerts = async () => (await getJson<{ data: { alerts: PromAlert[] } }>(`${prom}/api/v1/alerts`)).data.alerts;
    const firing = async (labels: Record<string, string>) =>
      (await alerts()).filter((a) => a.state === 'firing' && Object.entries(labels).every(([k, v]) => a.labels[k] === v));

    beforeAll(async () => {
      dir = tempDir('prom-live');
      await sink.start();
      for (const t of [...Object.values(agents), k8sAgent, collectorSelf, collectorExported]) await t.start();
      datastores = (await reachable(5432)) && (await reachable(6379));

      // --- the real exporters: one against each local server, one against a closed port
      const startExporter = async (name: string, file: string, args: (port: number) => string[], env: Record<string, string> = {}) => {
        const port = await freePort();
        const proc = start(name, file, args(port), env);
        procs.push(proc);
        await waitReady(proc, `http://127.0.0.1:${port}/metrics`);
        exporters[name] = `127.0.0.1:${port}`;
      };
      const closed = await freePort();
      const redis = tools().redisExporter!;
      const pg = tools().postgresExporter!;
      await startExporter('redis-down', redis, (p) => [`-redis.addr=redis://127.0.0.1:${closed}`, `-web.listen-address=127.0.0.1:${p}`]);
      await startExporter('pg-down', pg, (p) => [`--web.listen-address=127.0.0.1:${p}`], {
        DATA_SOURCE_NAME: `postgresql://postgres@127.0.0.1:${closed}/postgres?sslmode=disable&connect_timeout=2`,
      });
      if (datastores) {
        await startExporter('redis-ok', redis, (p) => ['-redis.addr=redis://127.0.0.1:6379', `-web.listen-address=127.0.0.1:${p}`]);
        await startExporter('pg-ok', pg, (p) => [`--web.listen-address=127.0.0.1:${p}`], {
          DATA_SOURCE_NAME: 'postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=2',
        });
      }

      // --- Alertmanager with the shipped routes, receivers replaced by this test's webhook
      const alertmanager = await startTestAlertmanager(dir, sink, procs);
      am = alertmanager.url;
      const amPort = alertmanager.port;

      // --- the shipped rules, `for:` shortened and nothing else changed
      const rules = loadAlertRules();
      for (const g of rules.groups) for (const r of g.rules) if (r.alert && r.for) r.for = TEST_FOR;
      fs.writeFileSync(path.join(dir, 'alerts.yml'), JSON.stringify(rules));

      // --- the shipped prometheus.yml with local targets
      const promPort = await freePort();
      const config = readYaml(path.join(MONITORING, 'prometheus.yml'));
      config.global = { ...config.global, scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };
      config.rule_files = [path.join(MONITORING, 'recording-rules.yml'), path.join(dir, 'alerts.yml')];
      config.alerting = { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] };
      const local: Record<string, string[]> = {
        'postgres-exporter': [exporters['pg-down'], ...(datastores ? [exporters['pg-ok']] : [])],
        'redis-exporter': [exporters['redis-down'], ...(datastores ? [exporters['redis-ok']] : [])],
        'otel-collector': [collectorSelf.address],
        'otel-collector-exported': [collectorExported.address],
        prometheus: [`127.0.0.1:${promPort}`],
        alertmanager: [`127.0.0.1:${amPort}`],
      };
      const jobs: any[] = [];
      for (const job of config.scrape_configs) {
        delete job.scrape_interval;
        delete job.scrape_timeout;
        if (job.job_name === 'grafana') continue; // no Grafana binary here
        if (job.job_name === 'node-services') {
          const targetsFile = path.join(dir, 'node-services.yml');
          const groups = Object.values(agents).map((a) => ({ targets: [a.address], labels: { service: a.name.replace(/-\d+$/, '') } }));
          fs.writeFileSync(targetsFile, JSON.stringify(groups));
          expect(job.file_sd_configs).toHaveLength(1);
          job.file_sd_configs = [{ files: [targetsFile], refresh_interval: '1s' }];
        } else {
          expect(local[job.job_name], `a local stand-in for job ${job.job_name}`).toBeDefined();
          const labels = job.static_configs[0].labels;
          job.static_configs = [{ targets: local[job.job_name], labels }];
          if (job.job_name.endsWith('-exporter')) {
            // postgres_exporter takes about a second to report a refused connection: more than the
            // 1s timeout the other jobs get here (production uses 10s)
            job.scrape_interval = '3s';
            job.scrape_timeout = '3s';
          }
        }
        jobs.push(job);
      }
      // the Kubernetes annotation job, its service discovery replaced by the labels it would produce
      const k8s = readYaml(path.join(MONITORING, 'kubernetes', 'prometheus-scrape-annotations.yml')).scrape_configs[0];
      delete k8s.kubernetes_sd_configs;
      k8s.job_name = 'k8s-annotations';
      const endpoint = (address: string, portName: string, scrape: string) => ({
        targets: [address],
        labels: {
          __meta_kubernetes_service_annotation_prometheus_io_scrape: scrape,
          __meta_kubernetes_service_annotation_prometheus_io_port: String(k8sAgent.port),
          __meta_kubernetes_service_annotation_prometheus_io_path: '/metrics',
          __meta_kubernetes_endpoint_port_name: portName,
          __meta_kubernetes_service_label_app_kubernetes_io_name: 'k8s-svc',
          __meta_kubernetes_namespace: 'default',
          __meta_kubernetes_pod_name: 'k8s-svc-7d9f',
        },
      });
      k8s.static_configs = [
        endpoint(`127.0.0.1:${closed}`, 'http', 'true'), // the app port of the same pod: dropped
        endpoint(k8sAgent.address, 'metrics', 'true'),
        endpoint(`127.0.0.2:${k8sAgent.port}`, 'metrics', 'false'), // not annotated for scraping
      ];
      jobs.push(k8s);
      config.scrape_configs = jobs;
      await startTestPrometheus(dir, config, promPort, procs);
      prom = `http://127.0.0.1:${promPort}`;
    }, 180_000);

    afterAll(async () => {
      await Promise.all(procs.map((p) => p.stop()));
      for (const t of [...Object.values(agents), k8sAgent, collectorSelf, collectorExported]) await t.stop();
      await sink.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    it('runs the shipped rules unchanged but for `for:`', async () => {
      const shipped = loadAlertRules();
      const loaded = await getJson<{ data: { groups: Array<{ name: string; rules: Array<{ name: string; query: string; duration: number }> }> } }>(
        `${prom}/api/v1/rules?type=alert`,
      );
      // the API lists groups by name (recording groups come with no alerting rule)
      loaded.data.groups = loaded.data.groups.filter((g) => g.rules.length > 0);
      expect(loaded.data.groups.map((g) => g.name).sort()).toEqual(shipped.groups.map((g) => g.name).sort());
      const normalize = (q: string) => q.replace(/\s+/g, '');
      for (const g of shipped.groups) {
        const live = loaded.data.groups.find((x) => x.name === g.name)!.rules;
        expect(live.map((r) => r.name)).toEqual(g.rules.map((r) => r.alert));
        for (const [j, r] of g.rules.entries()) {
          expect(live[j].duration).toBe(3);
          // Prometheus prints the parsed expression: compare ignoring whitespace and parentheses it adds
          expect(normalize(live[j].query).replace(/[()]/g, '')).toBe(normalize(r.expr).replace(/[()]/g, ''));
        }
      }
    });

    it('scrapes the file-discovered agents and keeps their own service label (honor_labels)', async () => {
      await waitFor('all six agent targets up', async () => {
        const up = await query('up{job="node-services"} == 1');
        return up.length === 6 ? up : undefined;
      });
      const perService = await query('count by (service) (up{job="node-services"})');
      expect(Object.fromEntries(perService.map((r) => [r.metric.service, r.value[1]]))).toEqual({
        checkout: '2',
        'tutor-ai': '1',
        search: '2',
        idle: '1',
      });
      const series = await query('http_requests_total{service="checkout"}');
      expect(series.length).toBeGreaterThan(0);
      expect(series[0].metric.job).toBe('node-services');
      expect(await query('http_requests_total{exported_service!=""}')).toEqual([]);
    });

    it('relabels the Kubernetes annotation job: one target per pod on the annotated port, with service, namespace and pod', async () => {
      const targets = await waitFor('the k8s-annotations target up', async () => {
        const data = (await getJson(`${prom}/api/v1/targets`)).data;
        const active = data.activeTargets.filter((t: any) => t.scrapePool === 'k8s-annotations');
        return active.length === 1 && active[0].health === 'up' ? data : undefined;
      });
      const active = targets.activeTargets.filter((t: any) => t.scrapePool === 'k8s-annotations');
      expect(active[0].labels).toMatchObject({ instance: k8sAgent.address, service: 'k8s-svc', namespace: 'default', pod: 'k8s-svc-7d9f' });
      expect(active[0].scrapeUrl).toBe(`http://${k8sAgent.address}/metrics`);
      expect(targets.droppedTargets.filter((t: any) => t.discoveredLabels.job === 'k8s-annotations')).toHaveLength(2);
    });

    it('gives metrics re-exported by the Collector the service label from service_name', async () => {
      const series = await waitFor('collector-exported series', async () => {
        const r = await query('rpc_server_requests_total');
        return r.length > 0 ? r : undefined;
      });
      expect(series[0].metric.service).toBe('billing-service');
    });

    it('fires HighErrorRate for checkout and delivers it to the on-call webhook with the rule annotations', async () => {
      const [alert] = await waitFor('HighErrorRate firing for checkout', async () => {
        const a = await firing({ alertname: 'HighErrorRate', service: 'checkout' });
        return a.length ? a : undefined;
      });
      expect(alert.labels).toEqual({ alertname: 'HighErrorRate', service: 'checkout', severity: 'critical' });
      expect(alert.annotations.summary).toMatch(/^checkout answers 10(\.\d+)?% of requests with 5xx$/);
      const delivered = await waitFor('HighErrorRate at the webhook', () => {
        const d = sink.firing().filter((a) => a.labels.alertname === 'HighErrorRate');
        return d.length ? d : undefined;
      });
      expect(delivered[0].path).toBe('/hook/oncall-critical');
      expect(delivered[0].groupLabels).toEqual({ alertname: 'HighErrorRate', service: 'checkout' });
      expect(delivered[0].annotations.runbook_url).toMatch(/\/monitoring\/runbooks\/HighErrorRate\.md$/);
    });

    it('fires latency, AI, database, cache and memory alerts for tutor-ai from the agent metric names', async () => {
      const expected = ['HighResponseTime', 'AIGenerationSlow', 'SlowDatabaseQueries', 'LowCacheHitRate', 'HighMemoryUsage'];
      const got = await waitFor('tutor-ai alerts firing', async () => {
        const names = new Set((await firing({ service: 'tutor-ai' })).map((a) => a.labels.alertname));
        return expected.every((n) => names.has(n)) ? names : undefined;
      });
      expect([...got].sort()).toEqual([...expected].sort());
      const byName = Object.fromEntries((await firing({ service: 'tutor-ai' })).map((a) => [a.labels.alertname, a]));
      expect(byName.HighResponseTime.annotations.summary).toBe('tutor-ai P95 response time is 4.85s');
      expect(byName.AIGenerationSlow.annotations.summary).toBe('tutor-ai AI generation P95 is 7.85s');
      expect(byName.SlowDatabaseQueries.annotations.summary).toBe('tutor-ai database query P95 is 2.425s');
      expect(byName.LowCacheHitRate.annotations.summary).toMatch(/^tutor-ai cache hit rate is 30(\.\d+)?%$/);
      expect(byName.HighMemoryUsage.annotations.summary).toBe('tutor-ai uses 95% of its memory limit');
      await waitFor('a tutor-ai warning at the Slack webhook', () =>
        sink.firing().some((a) => a.labels.service === 'tutor-ai' && a.path === '/hook/slack-warnings') ? true : undefined,
      );
    });

    it('fires RedisDown and PostgresDown from the real exporters for the unreachable servers only', async () => {
      for (const [alertname, name] of [
        ['RedisDown', 'redis-down'],
        ['PostgresDown', 'pg-down'],
      ]) {
        const [a] = await waitFor(`${alertname} firing`, async () => {
          const f = await firing({ alertname });
          return f.length ? f : undefined;
        });
        expect(a.labels).toMatchObject({ instance: exporters[name], severity: 'critical' });
        expect((await firing({ alertname })).map((x) => x.labels.instance)).toEqual([exporters[name]]);
      }
    });

    it('reads pg_up, redis_up and connection saturation from the local PostgreSQL and Redis without alerting', async () => {
      if (!datastores) {
        if (IN_CI) throw new Error('PostgreSQL (127.0.0.1:5432) and Redis (127.0.0.1:6379) must run in CI for this test');
        process.stderr.write('[monitoring tests] no PostgreSQL/Redis on 127.0.0.1: skipping the live exporter "up" checks\n');
        return;
      }
      await waitFor('pg_up and redis_up == 1', async () => {
        const pg = await query(`pg_up{instance="${exporters['pg-ok']}"} == 1`);
        const redis = await query(`redis_up{instance="${exporters['redis-ok']}"} == 1`);
        return pg.length && redis.length ? true : undefined;
      });
      const saturation = await query(
        `sum by (service, instance) (pg_stat_database_numbackends) / max by (service, instance) (pg_settings_max_connections > 0)`,
      );
      const ok = saturation.find((r) => r.metric.instance === exporters['pg-ok']);
      expect(ok, 'connection saturation computed from the real exporter').toBeDefined();
      expect(Number(ok!.value[1])).toBeGreaterThan(0);
      expect(Number(ok!.value[1])).toBeLessThan(0.8);
      const noisy = (await alerts()).filter((a) => a.labels.instance === exporters['pg-ok'] || a.labels.instance === exporters['redis-ok']);
      expect(noisy).toEqual([]);
    });

    it('keeps services just under every threshold, and services without traffic, silent (no pending alert either)', async () => {
      // the numbers are there and just under the thresholds...
      const errorRatio = await query(
        'sum by (service) (rate(http_requests_total{service="search", status_code=~"5.."}[5m])) / sum by (service) (rate(http_requests_total{service="search"}[5m]))',
      );
      expect(Number(errorRatio[0].value[1])).toBeCloseTo(0.04, 3);
      const p95 = await query('histogram_quantile(0.95, sum by (service, le) (rate(http_request_duration_seconds_bucket{service="search"}[5m])))');
      expect(Number(p95[0].value[1])).toBeCloseTo(1.95, 3);
      const idleRate = await query('sum by (service) (rate(http_requests_total{service="idle"}[5m]))');
      expect(Number(idleRate[0].value[1])).toBe(0);
      // ...and by now the rules have been evaluated many times over them
      const quiet = (await alerts()).filter((a) => ['search', 'idle', 'k8s-svc', 'billing-service'].includes(a.labels.service));
      expect(quiet).toEqual([]);
      // every stand-in target (exporters, Collector, Alertmanager, Prometheus) answers its scrapes
      expect((await alerts()).filter((a) => a.labels.alertname === 'MonitoringTargetDown')).toEqual([]);
      expect(sink.firing().filter((a) => ['search', 'idle', 'k8s-svc'].includes(a.labels.service))).toEqual([]);
    });

    it('returns data for every dashboard query, for a selected service', async () => {
      for (const q of dashboardQueries()) {
        const expr = concreteQuery(q.expr, 'tutor-ai', '1m');
        if (!datastores && /pg_stat_database_numbackends/.test(expr)) continue;
        const result = await query(expr);
        expect(result.length, `"${q.panel}" ${q.refId}: ${expr}`).toBeGreaterThan(0);
        for (const r of result) expect(Number.isNaN(Number(r.value[1])), `"${q.panel}" ${q.refId} is a number`).toBe(false);
      }
    });

    it('stopping checkout fires ServiceDown, which inhibits its HighErrorRate; one search instance down is AgentScrapeFailing only', async () => {
      await Promise.all([agents.checkout1.stop(), agents.checkout2.stop(), agents.search2.stop()]);

      const [down] = await waitFor('ServiceDown at the webhook', () => {
        const d = sink.firing().filter((a) => a.labels.alertname === 'ServiceDown');
        return d.length ? d : undefined;
      });
      expect(down.labels).toMatchObject({ alertname: 'ServiceDown', service: 'checkout', severity: 'critical' });
      expect(down.path).toBe('/hook/oncall-critical');

      // HighErrorRate keeps firing in Prometheus (its 5m window still holds the samples)...
      expect(await firing({ alertname: 'HighErrorRate', service: 'checkout' })).toHaveLength(1);
      // ...but Alertmanager now suppresses it, because checkout is down
      await waitFor('HighErrorRate inhibited in Alertmanager', async () => {
        const amAlerts = await getJson<Array<{ labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }>>(
          `${am}/api/v2/alerts?filter=${encodeURIComponent('alertname="HighErrorRate"')}`,
        );
        const a = amAlerts.find((x) => x.labels.service === 'checkout');
        return a?.status.state === 'suppressed' && a.status.inhibitedBy.length === 1 ? true : undefined;
      });

      const [partial] = await waitFor('AgentScrapeFailing for search-2', async () => {
        const f = await firing({ alertname: 'AgentScrapeFailing' });
        return f.length ? f : undefined;
      });
      expect(partial.labels).toMatchObject({ service: 'search', instance: agents.search2.address, severity: 'warning' });
      const states = await alerts();
      expect(states.filter((a) => a.labels.alertname === 'ServiceDown' && a.labels.service === 'search')).toEqual([]);
      expect(states.filter((a) => a.labels.alertname === 'AgentScrapeFailing' && a.labels.service === 'checkout')).toEqual([]);
    });
  },
);
