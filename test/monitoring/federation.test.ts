/**
 * Two tiers, live on 127.0.0.1 with the real binaries and the REAL agent:
 *
 *   cluster-a Prometheus: the shipped prometheus.yml layout (job node-services, service labels)
 *   cluster-b Prometheus: the spec's layout, one job per service, static targets, nothing else,
 *                         plus a real redis_exporter job whose Redis is not there
 *   global Prometheus:    monitoring/global/prometheus.yml, federating from both
 *   long-term store:      a Prometheus with --web.enable-remote-write-receiver, written to by both
 *                         clusters with the shipped remote_write block (URL swapped)
 *
 * Services (a tiny HTTP app under the agent): fed-lessons and fed-catalog, one instance in each
 * cluster. Every rule file is the shipped one; only `for:` is shortened by the test overlay.
 *
 * Proves: the global per-service request rate is the sum of both clusters' recorded values;
 * the store receives recorded series from both clusters and no raw series; in the spec's layout
 * the dashboard's service variable lists both services and the redis exporter raises RedisDown,
 * not ServiceDown; stopping every instance of fed-lessons fires ServiceDown in each cluster and
 * the global ServiceDown for fed-lessons only.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startAgentApp, type AgentApp } from '../helpers/agent-process';
import {
  DASHBOARD_FILE,
  MONITORING,
  PrometheusApi,
  describeWithTools,
  freePort,
  getJson,
  readYaml,
  rulesWithShortFor,
  sleep,
  start,
  startTestPrometheus,
  tempDir,
  tools,
  waitFor,
  waitReady,
  type Proc,
} from './helpers';

const LESSONS = 'fed-lessons';
const CATALOG = 'fed-catalog';
const SLOW = 60_000;

/** The shipped global alert rules with `for:` shortened, nothing else changed. */
function globalRulesWithShortFor(forDuration: string): object {
  const rules = readYaml(path.join(MONITORING, 'global', 'alerts.yml'));
  for (const g of rules.groups) for (const r of g.rules) if (r.for) r.for = forDuration;
  return rules;
}

describeWithTools(
  'Scaling out, live: two cluster Prometheus, a global one federating, a remote-write store',
  ['prometheus', 'redisExporter', 'yamlParser'],
  () => {
    let dir = '';
    const procs: Proc[] = [];
    const apps: Record<string, AgentApp> = {};
    let stopTraffic = false;
    let traffic: Promise<void> | undefined;
    const prom: Record<'a' | 'b' | 'global' | 'store', PrometheusApi> = {} as never;

    beforeAll(async () => {
      dir = tempDir('federation');
      for (const [key, service] of [
        ['lessons-a', LESSONS],
        ['lessons-b', LESSONS],
        ['catalog-a', CATALOG],
        ['catalog-b', CATALOG],
      ]) {
        apps[key] = await startAgentApp({ fixture: 'plain-server.cjs', env: { OTEL_SERVICE_NAME: service } });
      }
      // steady traffic on every instance
      traffic = (async () => {
        while (!stopTraffic) {
          await Promise.all(
            Object.values(apps).map((a) =>
              a.request('/ok', { signal: AbortSignal.timeout(5_000) }).then(
                (r) => r.arrayBuffer(),
                () => undefined,
              ),
            ),
          );
          await sleep(100);
        }
      })();

      const ports = { a: await freePort(), b: await freePort(), global: await freePort(), store: await freePort() };
      const overlay = path.join(dir, 'alerts.yml');
      fs.writeFileSync(overlay, JSON.stringify(rulesWithShortFor('3s')));
      const shipped = readYaml(path.join(MONITORING, 'prometheus.yml'));
      const fast = { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' };

      // --- the long-term store: a Prometheus receiving remote writes
      const storeDir = path.join(dir, 'store');
      fs.mkdirSync(storeDir);
      fs.writeFileSync(path.join(storeDir, 'prometheus.yml'), JSON.stringify({ global: fast }));
      const store = start('store', tools().prometheus!, [
        `--config.file=${path.join(storeDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(storeDir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${ports.store}`,
        '--web.enable-remote-write-receiver',
        '--log.level=warn',
      ]);
      procs.push(store);
      await waitReady(store, `http://127.0.0.1:${ports.store}/-/ready`);

      // --- the cluster Prometheus servers: shipped global settings, rule files and remote_write
      const cluster = (name: string, scrapeConfigs: object[]) => ({
        global: { ...shipped.global, ...fast, external_labels: { ...shipped.global.external_labels, cluster: name } },
        rule_files: [path.join(MONITORING, 'recording-rules.yml'), overlay],
        remote_write: shipped.remote_write.map((rw: any) => ({
          ...rw,
          url: `http://127.0.0.1:${ports.store}/api/v1/write`,
          queue_config: { ...rw.queue_config, batch_send_deadline: '1s' },
        })),
        scrape_configs: scrapeConfigs,
      });
      const shippedAgentJob = shipped.scrape_configs.find((j: any) => j.job_name === 'node-services');
      const dirA = path.join(dir, 'a');
      fs.mkdirSync(dirA);
      const configA = cluster('cluster-a', [
        {
          ...shippedAgentJob,
          file_sd_configs: undefined,
          static_configs: [
            { targets: [`127.0.0.1:${apps['lessons-a'].metricsPort}`], labels: { service: LESSONS } },
            { targets: [`127.0.0.1:${apps['catalog-a'].metricsPort}`], labels: { service: CATALOG } },
          ],
        },
      ]);
      delete (configA.scrape_configs[0] as any).file_sd_configs;
      // the spec's layout, exactly: job_name and static targets, nothing else
      const closed = await freePort();
      const redisExporterPort = await freePort();
      const exporter = start('redis_exporter', tools().redisExporter!, [
        `-redis.addr=redis://127.0.0.1:${closed}`,
        `-web.listen-address=127.0.0.1:${redisExporterPort}`,
      ]);
      procs.push(exporter);
      const dirB = path.join(dir, 'b');
      fs.mkdirSync(dirB);
      const configB = cluster('cluster-b', [
        { job_name: LESSONS, static_configs: [{ targets: [`127.0.0.1:${apps['lessons-b'].metricsPort}`] }] },
        { job_name: CATALOG, static_configs: [{ targets: [`127.0.0.1:${apps['catalog-b'].metricsPort}`] }] },
        { job_name: 'redis', static_configs: [{ targets: [`127.0.0.1:${redisExporterPort}`] }] },
      ]);

      // --- the global Prometheus: the shipped file, targets swapped for the two clusters
      const dirG = path.join(dir, 'global');
      fs.mkdirSync(dirG);
      const global = readYaml(path.join(MONITORING, 'global', 'prometheus.yml'));
      fs.writeFileSync(path.join(dirG, 'alerts.yml'), JSON.stringify(globalRulesWithShortFor('3s')));
      global.global = { ...global.global, ...fast, scrape_interval: '2s', scrape_timeout: '2s' };
      global.rule_files = [path.join(dirG, 'alerts.yml')];
      delete global.alerting;
      expect(global.scrape_configs[0].static_configs).toHaveLength(2);
      global.scrape_configs[0].static_configs = [
        { targets: [`127.0.0.1:${ports.a}`], labels: { cluster: 'cluster-a' } },
        { targets: [`127.0.0.1:${ports.b}`], labels: { cluster: 'cluster-b' } },
      ];

      await Promise.all([
        startTestPrometheus(dirA, configA, ports.a, procs),
        startTestPrometheus(dirB, configB, ports.b, procs),
        startTestPrometheus(dirG, global, ports.global, procs),
      ]);
      for (const k of ['a', 'b', 'global', 'store'] as const) prom[k] = new PrometheusApi(`http://127.0.0.1:${ports[k]}`);
    }, 120_000);

    afterAll(async () => {
      stopTraffic = true;
      await traffic;
      await Promise.all(Object.values(apps).map((a) => a.stop()));
      await Promise.all(procs.map((p) => p.stop()));
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
    }, 60_000);

    const values = (samples: Array<{ metric: Record<string, string>; value: [number, string] }>, key: string) =>
      Object.fromEntries(samples.map((s) => [s.metric[key], Number(s.value[1])]));

    it(
      'the global per-service request rate is the sum of both clusters, federated with their cluster label',
      async () => {
        const perCluster = await waitFor(
          'both clusters federated, with traffic',
          async () => {
            const r = await prom.global.query(`service:http_requests:rate5m{service="${LESSONS}"} > 0`);
            return r.length === 2 ? r : undefined;
          },
          SLOW,
        );
        expect(perCluster.map((r) => r.metric.cluster).sort()).toEqual(['cluster-a', 'cluster-b']);
        // one instant on the global Prometheus: the sum, each cluster's value and its sample time
        const at = Date.now() / 1000;
        const q = async (api: PrometheusApi, expr: string, time: number) =>
          (
            await getJson<{ data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } }>(
              `${api.base}/api/v1/query?query=${encodeURIComponent(expr)}&time=${time}`,
            )
          ).data.result;
        const [sum] = await q(prom.global, `sum by (service) (service:http_requests:rate5m{service="${LESSONS}"})`, at);
        const federated = values(await q(prom.global, `service:http_requests:rate5m{service="${LESSONS}"}`, at), 'cluster');
        const stamps = values(await q(prom.global, `timestamp(service:http_requests:rate5m{service="${LESSONS}"})`, at), 'cluster');
        // each cluster's own recorded sample at that timestamp is the one the global Prometheus holds
        const own: Record<string, number> = {};
        for (const [name, api] of [
          ['cluster-a', prom.a],
          ['cluster-b', prom.b],
        ] as const) {
          const [sample] = await q(api, `service:http_requests:rate5m{service="${LESSONS}"}`, stamps[name]);
          own[name] = Number(sample.value[1]);
          expect(own[name]).toBe(federated[name]);
          expect(own[name]).toBeGreaterThan(0); // a 5m rate over the few seconds the test has run: small, not zero
        }
        expect(Number(sum.value[1])).toBeCloseTo(own['cluster-a'] + own['cluster-b'], 9);
        // only recorded series and `up` crossed: no raw per-route series on the global Prometheus
        expect(await prom.global.query('http_requests_total')).toEqual([]);
        expect(await prom.global.query('nodejs_version_info')).toEqual([]);
      },
      SLOW + 10_000,
    );

    it(
      'the long-term store receives the recorded series of both clusters, and no raw series',
      async () => {
        const stored = await waitFor(
          'recorded series in the store from both clusters',
          async () => {
            const r = await prom.store.query(`service:http_requests:rate5m{service="${CATALOG}"}`);
            return r.length === 2 ? r : undefined;
          },
          SLOW,
        );
        expect(stored.map((r) => r.metric.cluster).sort()).toEqual(['cluster-a', 'cluster-b']);
        expect(stored[0].metric.monitor).toBe('tutor-platform');
        const up = await prom.store.query('count by (cluster) (service:up:sum)');
        expect(values(up, 'cluster')).toEqual({ 'cluster-a': 2, 'cluster-b': 2 });
        expect(await prom.store.query('http_requests_total')).toEqual([]);
        expect(await prom.store.query('http_request_duration_seconds_bucket')).toEqual([]);
        expect((await prom.store.query('up')).length).toBeGreaterThan(0);
      },
      SLOW + 10_000,
    );

    it(
      "in the spec's layout the dashboard's service variable lists both services, and the exporter job raises RedisDown, not ServiceDown",
      async () => {
        const dashboard = JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8'));
        const variable = dashboard.templating.list.find((v: any) => v.name === 'service').query.query as string;
        const selector = /^label_values\((.*), service\)$/.exec(variable)![1];
        // what Grafana asks for label_values(selector, service)
        const listed = await waitFor(
          'the service variable on cluster-b',
          async () => {
            const r = await getJson<{ data: string[] }>(`${prom.b.base}/api/v1/label/service/values?match[]=${encodeURIComponent(selector)}`);
            return r.data.length === 2 ? r.data : undefined;
          },
          SLOW,
        );
        expect(listed.sort()).toEqual([CATALOG, LESSONS].sort());
        const [redisDown] = await waitFor(
          'RedisDown on cluster-b',
          async () => {
            const f = await prom.b.firing({ alertname: 'RedisDown' });
            return f.length ? f : undefined;
          },
          SLOW,
        );
        expect(redisDown.labels.job).toBe('redis');
        const serviceDown = (await prom.b.alerts()).filter((a) => a.labels.alertname === 'ServiceDown' || a.labels.alertname === 'AgentScrapeFailing');
        expect(serviceDown).toEqual([]);
      },
      SLOW + 10_000,
    );

    it(
      'stopping every instance of one service fires ServiceDown in each cluster and the global ServiceDown for that service only',
      async () => {
        await Promise.all([apps['lessons-a'].stop(), apps['lessons-b'].stop()]);
        for (const [name, api] of [
          ['cluster-a', prom.a],
          ['cluster-b', prom.b],
        ] as const) {
          const [down] = await waitFor(
            `ServiceDown on ${name}`,
            async () => {
              const f = await api.firing({ alertname: 'ServiceDown' });
              return f.length ? f : undefined;
            },
            SLOW,
          );
          expect(down.labels).toEqual({ alertname: 'ServiceDown', service: LESSONS, severity: 'critical' });
        }
        const [global] = await waitFor(
          'the global ServiceDown',
          async () => {
            const f = await prom.global.firing({ alertname: 'ServiceDown' });
            return f.length ? f : undefined;
          },
          SLOW,
        );
        expect(global.labels).toEqual({ alertname: 'ServiceDown', service: LESSONS, severity: 'critical', scope: 'global' });
        expect(global.annotations.summary).toBe(`${LESSONS} is down in every cluster`);
        // the other service, the clusters' federation and the agents of fed-catalog stay silent
        const all = [...(await prom.global.alerts()), ...(await prom.a.alerts()), ...(await prom.b.alerts())];
        expect(all.filter((a) => a.labels.service === CATALOG)).toEqual([]);
        expect(all.filter((a) => a.labels.alertname === 'FederationTargetDown' || a.labels.alertname === 'AgentScrapeFailing')).toEqual([]);
        expect((await prom.global.alerts()).map((a) => a.labels.service)).toEqual([LESSONS]);
      },
      3 * SLOW,
    );
  },
);
