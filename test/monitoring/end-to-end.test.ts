/**
 * End to end with the REAL agent, on 127.0.0.1 only. Two services run `node --import
 * dist/register.js test/fixtures/esm-app.mjs` against the machine's PostgreSQL and Redis:
 *
 *   e2e-lessons   exactly 1 request in 10 answers 500 (/fail), the rest /ok and /lessons/:id
 *   e2e-catalog   the same mix without /fail: healthy
 *
 * A real Prometheus runs the shipped prometheus.yml (targets rewritten to these processes, 2s
 * scrapes) and the shipped alerts.yml through a test-only overlay that shortens `for:` and changes
 * nothing else; it scrapes the agents, the real postgres_exporter and redis_exporter, Alertmanager
 * and itself. A real Alertmanager runs the shipped routes and inhibit rules, every receiver a
 * webhook this test listens on.
 *
 * Proves: HighErrorRate reaches the on-call webhook with service = the app's OTEL_SERVICE_NAME;
 * every dashboard query returns data from the real agent's series (where the agent has them);
 * pg_up / redis_up come from the real exporters; killing the app fires ServiceDown at the webhook
 * and Alertmanager suppresses that service's HighErrorRate; the healthy service stays silent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAgentApp, type AgentApp } from '../helpers/agent-process';
import {
  IN_CI,
  MONITORING,
  PrometheusApi,
  WebhookSink,
  concreteQuery,
  dashboardQueries,
  describeWithTools,
  freePort,
  getJson,
  loadAlertRules,
  reachable,
  readYaml,
  rulesWithShortFor,
  sameExpr,
  sleep,
  start,
  tempDir,
  startTestAlertmanager,
  startTestPrometheus,
  tools,
  waitFor,
  waitReady,
  type Proc,
} from './helpers';

const FAILING = 'e2e-lessons';
const HEALTHY = 'e2e-catalog';
/** The overlay's `for:`: long enough that a scrape lost on a loaded machine does not fire ServiceDown. */
const TEST_FOR = '10s';
const TEST_FOR_SECONDS = 10;
/** Generous: a loaded 2-core machine runs Prometheus, Alertmanager, two exporters and two agents. */
const SLOW = 150_000;

/** Jobs of the shipped prometheus.yml with no process behind them here (no Collector or Grafana binary). */
const NOT_RUN_HERE = ['otel-collector', 'otel-collector-exported', 'grafana'];

/**
 * Metrics a dashboard panel reads that the agent does not necessarily export in this test:
 * the AI meters (no AI call here, and they are still being built) and the cgroup memory limit
 * (exported only when the process has one).
 */
const MAY_BE_ABSENT = [
  // stems: they match the raw names and the recorded series built from them
  // (ai_generation_total, service_model_status:ai_generation:rate5m)
  'ai_generation',
  'ai_time_to_first_token',
  'openai_tokens_used',
  'ai_cost_usd',
  'openai_api_calls_total',
  'process_memory_limit_bytes',
];

const datastores = (await reachable(5432)) && (await reachable(6379));

/**
 * Sends requests in rounds of exactly `paths(round)`, one round after the other, and counts the
 * statuses the client saw. Stops (and waits for the round in flight) on stop().
 */
class Traffic {
  readonly statuses: Record<string, number> = {};
  private stopped = false;
  private loop?: Promise<void>;

  constructor(
    private readonly app: AgentApp,
    private readonly paths: (round: number) => string[],
  ) {}

  start(): void {
    this.loop = (async () => {
      for (let round = 0; !this.stopped; round++) {
        await Promise.all(
          this.paths(round).map(async (p) => {
            try {
              const res = await this.app.request(p, { signal: AbortSignal.timeout(10_000) });
              await res.arrayBuffer();
              this.statuses[res.status] = (this.statuses[res.status] ?? 0) + 1;
            } catch {
              this.statuses.error = (this.statuses.error ?? 0) + 1;
            }
          }),
        );
        await sleep(150);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/** Nine good requests (/ok, and /lessons over 8 ids so the cache mostly hits) and, if `fail`, one /fail. */
const round = (fail: boolean) => (n: number) => [
  fail ? '/fail' : '/ok',
  '/ok',
  '/ok',
  '/ok',
  '/ok',
  '/ok',
  ...[0, 1, 2, 3].map((i) => `/lessons/${(n * 4 + i) % 8}`),
];

describeWithTools(
  'End to end: the real agent, Prometheus with the shipped rules, Alertmanager, the real exporters',
  ['prometheus', 'alertmanager', 'postgresExporter', 'redisExporter', 'yamlParser'],
  () => {
    if (!datastores) {
      it('has PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379', (ctx) => {
        const message = 'the end-to-end test needs PostgreSQL (127.0.0.1:5432, database test) and Redis (127.0.0.1:6379), as .ci/run starts them';
        if (IN_CI) throw new Error(message);
        process.stderr.write(`[monitoring tests] skipping the end-to-end test: ${message}\n`);
        ctx.skip();
      });
      return;
    }

    let dir = '';
    const procs: Proc[] = [];
    const apps: AgentApp[] = [];
    const traffic: Traffic[] = [];
    const sink = new WebhookSink();
    let failing: AgentApp;
    let healthy: AgentApp;
    let failingTraffic: Traffic;
    let prom: PrometheusApi;
    let am = '';
    const exporters: Record<'postgres' | 'redis', string> = { postgres: '', redis: '' };
    const externalLabels: Record<string, string> = readYaml(path.join(MONITORING, 'prometheus.yml')).global.external_labels ?? {};

    beforeAll(async () => {
      dir = tempDir('monitoring-e2e');
      await sink.start();

      // --- the services, under the real agent
      const startService = async (name: string) => {
        const app = await startAgentApp({
          fixture: 'esm-app.mjs',
          env: {
            OTEL_SERVICE_NAME: name,
            DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/test',
            REDIS_URL: 'redis://127.0.0.1:6379',
          },
        });
        apps.push(app);
        await waitFor(`${name}'s agent /live`, async () => ((await fetch(`${app.metricsUrl}/live`)).status === 200 ? true : undefined), 60_000);
        return app;
      };
      failing = await startService(FAILING);
      healthy = await startService(HEALTHY);
      failingTraffic = new Traffic(failing, round(true));
      traffic.push(failingTraffic, new Traffic(healthy, round(false)));
      for (const t of traffic) t.start();

      // --- the real exporters, against the PostgreSQL and Redis the services use
      const startExporter = async (name: string, file: string, args: (port: number) => string[], env: Record<string, string> = {}) => {
        const port = await freePort();
        const proc = start(name, file, args(port), env);
        procs.push(proc);
        await waitReady(proc, `http://127.0.0.1:${port}/metrics`, 90_000);
        return `127.0.0.1:${port}`;
      };
      exporters.redis = await startExporter('redis_exporter', tools().redisExporter!, (p) => [
        '-redis.addr=redis://127.0.0.1:6379',
        `-web.listen-address=127.0.0.1:${p}`,
      ]);
      exporters.postgres = await startExporter('postgres_exporter', tools().postgresExporter!, (p) => [`--web.listen-address=127.0.0.1:${p}`], {
        DATA_SOURCE_NAME: 'postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable&connect_timeout=5',
      });

      // --- Alertmanager: the shipped routes and inhibit rules, receivers replaced by the webhook
      const alertmanager = await startTestAlertmanager(dir, sink, procs, 90_000);
      am = alertmanager.url;
      const amPort = alertmanager.port;

      // --- the test-only overlay of the shipped rules: `for:` shortened, nothing else
      fs.writeFileSync(path.join(dir, 'alerts.yml'), JSON.stringify(rulesWithShortFor(TEST_FOR)));

      // --- the shipped prometheus.yml, its targets rewritten to the processes above
      const promPort = await freePort();
      const config = readYaml(path.join(MONITORING, 'prometheus.yml'));
      config.global = { ...config.global, scrape_interval: '2s', scrape_timeout: '2s', evaluation_interval: '1s' };
      config.rule_files = [path.join(MONITORING, 'recording-rules.yml'), path.join(dir, 'alerts.yml')];
      config.alerting = { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] };
      const local: Record<string, string> = {
        'postgres-exporter': exporters.postgres,
        'redis-exporter': exporters.redis,
        prometheus: `127.0.0.1:${promPort}`,
        alertmanager: `127.0.0.1:${amPort}`,
      };
      const dropped: string[] = [];
      const jobs: any[] = [];
      for (const job of config.scrape_configs) {
        delete job.scrape_interval;
        delete job.scrape_timeout;
        if (job.job_name === 'node-services') {
          const targetsFile = path.join(dir, 'node-services.json');
          const groups = [failing, healthy].map((app, i) => ({
            targets: [`127.0.0.1:${app.metricsPort}`],
            labels: { service: [FAILING, HEALTHY][i] },
          }));
          fs.writeFileSync(targetsFile, JSON.stringify(groups));
          expect(job.file_sd_configs).toHaveLength(1);
          job.file_sd_configs = [{ files: [targetsFile], refresh_interval: '1s' }];
        } else if (local[job.job_name]) {
          job.static_configs = [{ targets: [local[job.job_name]], labels: job.static_configs[0].labels }];
          if (job.job_name.endsWith('-exporter')) {
            // the exporters query their server on every scrape: give them time on a loaded machine
            job.scrape_interval = '4s';
            job.scrape_timeout = '4s';
          }
        } else {
          dropped.push(job.job_name);
          continue;
        }
        jobs.push(job);
      }
      expect(dropped.sort(), 'only the jobs without a binary here are left out').toEqual([...NOT_RUN_HERE].sort());
      config.scrape_configs = jobs;
      await startTestPrometheus(dir, config, promPort, procs);
      prom = new PrometheusApi(`http://127.0.0.1:${promPort}`);
    }, 240_000);

    afterAll(async () => {
      await Promise.all(traffic.map((t) => t.stop()));
      await Promise.all(apps.map((a) => a.stop()));
      await Promise.all(procs.map((p) => p.stop()));
      await sink.stop();
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    const failOutput = () => [...procs.map((p) => p.tail(1500)), ...apps.map((a) => `--- agent app stderr ---\n${a.stderr.slice(-1500)}`)].join('\n');

    it('runs the real agent under each service name', () => {
      expect(failing.agentLines.join('\n')).toContain(`${FAILING}: /metrics`);
      expect(healthy.agentLines.join('\n')).toContain(`${HEALTHY}: /metrics`);
    });

    it('loads the shipped rules, only `for:` shortened by the overlay', async () => {
      const shipped = loadAlertRules();
      const loaded = (await prom.rules()).filter((g) => g.rules.length > 0);
      expect(loaded.map((g) => g.name).sort()).toEqual(shipped.groups.map((g) => g.name).sort());
      for (const g of shipped.groups) {
        const live = loaded.find((x) => x.name === g.name)!.rules;
        expect(live.map((r) => r.name)).toEqual(g.rules.map((r) => r.alert));
        for (const [j, r] of g.rules.entries()) {
          expect(live[j].duration).toBe(TEST_FOR_SECONDS);
          expect(live[j].labels).toEqual(r.labels);
          expect(sameExpr(live[j].query, r.expr), `${r.alert}: ${live[j].query}`).toBe(true);
        }
      }
    });

    it(
      'scrapes both agents with their own service label, and the real exporters report pg_up and redis_up = 1',
      async () => {
        await waitFor(
          'every target up',
          async () => {
            const targets = await prom.targets();
            return targets.length === 6 && targets.every((t) => t.health === 'up') ? targets : undefined;
          },
          SLOW,
        ).catch((error) => {
          throw new Error(`${String(error)}\n${failOutput()}`);
        });
        const up = await prom.query('up{job="node-services"}');
        expect(up.map((s) => s.metric.service).sort()).toEqual([HEALTHY, FAILING].sort());
        const series = await waitFor('http_requests_total of both services', async () => {
          const r = await prom.query('sum by (service, job) (http_requests_total)');
          return r.length === 2 ? r : undefined;
        });
        expect(series.map((s) => s.metric).sort((a, b) => a.service.localeCompare(b.service))).toEqual(
          [HEALTHY, FAILING].sort().map((service) => ({ service, job: 'node-services' })),
        );
        expect(await prom.query('http_requests_total{exported_service!=""}')).toEqual([]);

        const pg = await waitFor(
          'pg_up',
          async () => {
            const r = await prom.query('pg_up');
            return r.length ? r : undefined;
          },
          SLOW,
        );
        expect(pg.map((s) => [s.metric.instance, s.metric.service, s.value[1]])).toEqual([[exporters.postgres, 'postgres', '1']]);
        const redis = await waitFor(
          'redis_up',
          async () => {
            const r = await prom.query('redis_up');
            return r.length ? r : undefined;
          },
          SLOW,
        );
        expect(redis.map((s) => [s.metric.instance, s.metric.service, s.value[1]])).toEqual([[exporters.redis, 'redis', '1']]);
      },
      SLOW + 60_000,
    );

    it(
      'fires HighErrorRate for the service answering 10% 5xx and delivers it to the on-call webhook',
      async () => {
        const [alert] = await waitFor(
          `HighErrorRate firing for ${FAILING}`,
          async () => {
            const a = await prom.firing({ alertname: 'HighErrorRate' });
            return a.length ? a : undefined;
          },
          SLOW,
        );
        expect(alert.labels).toEqual({ alertname: 'HighErrorRate', service: FAILING, severity: 'critical' });
        expect(alert.annotations.summary).toMatch(new RegExp(`^${FAILING} answers \\d+(\\.\\d+)?% of requests with 5xx$`));

        // the client saw exactly one 5xx in ten, and so did the agent, as Prometheus computes it
        const seen = failingTraffic.statuses;
        expect(seen['500'], JSON.stringify(seen)).toBeGreaterThan(0);
        expect(seen['500'] / Object.values(seen).reduce((a, b) => a + b, 0)).toBeCloseTo(0.1, 1);
        const [ratio] = await prom.query(
          `sum(rate(http_requests_total{service="${FAILING}", status_code=~"5.."}[5m])) / sum(rate(http_requests_total{service="${FAILING}"}[5m]))`,
        );
        expect(Number(ratio.value[1])).toBeGreaterThan(0.08);
        expect(Number(ratio.value[1])).toBeLessThan(0.12);

        const delivered = await waitFor(
          'HighErrorRate at the webhook',
          () => {
            const d = sink.firing().filter((a) => a.labels.alertname === 'HighErrorRate');
            return d.length ? d : undefined;
          },
          SLOW,
        );
        expect(delivered[0].path).toBe('/hook/oncall-critical');
        expect(delivered[0].labels.service).toBe(FAILING);
        expect(delivered[0].groupLabels).toEqual({ alertname: 'HighErrorRate', service: FAILING });
        expect(delivered[0].annotations.runbook_url).toMatch(/\/monitoring\/runbooks\/HighErrorRate\.md$/);
        expect(delivered.every((d) => d.labels.service === FAILING)).toBe(true);
      },
      SLOW + 60_000,
    );

    it(
      'returns data for every dashboard query from the real agent (AI panels and the cgroup limit only where the agent has them)',
      async () => {
        const exposed = new Set((await failing.scrape()).map((s) => s.name));
        const agentHas = (name: string) => [...exposed].some((n) => n === name || n.startsWith(`${name}_`));
        // the panels' own metric names, seen by the agent: a dropped or renamed metric fails here
        const absent = MAY_BE_ABSENT.filter((n) => !agentHas(n));
        const emptyAllowed: string[] = [];
        for (const q of dashboardQueries()) {
          const expr = concreteQuery(q.expr, FAILING, '1m');
          const result = await prom.query(expr);
          const why = absent.filter((n) => expr.includes(n));
          if (result.length === 0 && why.length > 0) {
            emptyAllowed.push(`"${q.panel}" ${q.refId} (the agent has no ${why.join(', ')} here)`);
            continue;
          }
          expect(result.length, `"${q.panel}" ${q.refId}: ${expr}`).toBeGreaterThan(0);
          for (const r of result) expect(Number.isNaN(Number(r.value[1])), `"${q.panel}" ${q.refId} is a number: ${expr}`).toBe(false);
        }
        // only panels reading an absent metric may be empty, and none of them reads only agent core metrics
        for (const line of emptyAllowed) expect(line).toMatch(/ai_|openai_|process_memory_limit_bytes/);
        if (emptyAllowed.length) process.stderr.write(`[monitoring tests] dashboard panels empty in the end-to-end test: ${emptyAllowed.join('; ')}\n`);
      },
      SLOW,
    );

    it('keeps the healthy service, the datastores and the monitoring targets silent', async () => {
      const all = await prom.alerts();
      expect(all.filter((a) => a.labels.service === HEALTHY)).toEqual([]);
      expect(all.filter((a) => a.labels.service === FAILING).map((a) => a.labels.alertname)).toEqual(['HighErrorRate']);
      expect(all.filter((a) => a.labels.service !== FAILING)).toEqual([]);
      expect(sink.firing().filter((a) => a.labels.alertname !== 'HighErrorRate')).toEqual([]);
    });

    it(
      'killing the service fires ServiceDown at the webhook, and Alertmanager inhibits its HighErrorRate',
      async () => {
        await failingTraffic.stop();
        await failing.stop();

        const [down] = await waitFor(
          'ServiceDown at the webhook',
          () => {
            const d = sink.firing().filter((a) => a.labels.alertname === 'ServiceDown');
            return d.length ? d : undefined;
          },
          SLOW,
        );
        // Alertmanager receives Prometheus' external labels too
        expect(down.labels).toEqual({ alertname: 'ServiceDown', service: FAILING, severity: 'critical', ...externalLabels });
        expect(down.path).toBe('/hook/oncall-critical');
        expect(down.annotations.summary).toBe(`${FAILING} is down`);

        // Prometheus still fires HighErrorRate (its 5m window still holds the samples)...
        expect(await prom.firing({ alertname: 'HighErrorRate', service: FAILING })).toHaveLength(1);
        // ...and Alertmanager suppresses it, inhibited by the service's ServiceDown
        await waitFor(
          'HighErrorRate inhibited in Alertmanager',
          async () => {
            const amAlerts = await getJson<Array<{ labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }>>(
              `${am}/api/v2/alerts?filter=${encodeURIComponent(`service="${FAILING}"`)}`,
            );
            const byName = Object.fromEntries(amAlerts.map((a) => [a.labels.alertname, a.status]));
            return byName.HighErrorRate?.state === 'suppressed' && byName.HighErrorRate.inhibitedBy.length === 1 && byName.ServiceDown?.state === 'active'
              ? true
              : undefined;
          },
          SLOW,
        );

        // one instance and it is down: ServiceDown, not AgentScrapeFailing; the other service is untouched
        await sleep(2 * TEST_FOR_SECONDS * 1000);
        const all = await prom.alerts();
        expect(all.filter((a) => a.labels.alertname === 'AgentScrapeFailing')).toEqual([]);
        expect(all.filter((a) => a.labels.service === HEALTHY)).toEqual([]);
        expect((await prom.query(`up{service="${HEALTHY}"}`))[0].value[1]).toBe('1');
        const healthyAm = await getJson<unknown[]>(`${am}/api/v2/alerts?filter=${encodeURIComponent(`service="${HEALTHY}"`)}`);
        expect(healthyAm).toEqual([]);
      },
      SLOW + 60_000,
    );
  },
);
