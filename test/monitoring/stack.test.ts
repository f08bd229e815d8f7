/**
 * `npm run stack` (monitoring/stack/run.mjs), run for real on free ports: the demo service with
 * the agent, the real exporters, Alertmanager and Prometheus with configurations derived from the
 * shipped files. Proves Prometheus scrapes the demo (up, under the service name the shipped
 * target file gives it) with the shipped rules loaded unchanged and Alertmanager connected, that
 * Ctrl-C (SIGINT) and STACK_DURATION_SECONDS stop every process and remove the temporary
 * directory, and that a missing binary or a busy port is reported with what to do. The parts
 * that cannot run here (Grafana, the Collector) are checked on the configurations the script
 * derives for them, and promtool / amtool check the derived Prometheus and Alertmanager files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MONITORING,
  PrometheusApi,
  REPO,
  describeWithTools,
  freePort,
  getJson,
  loadAlertRules,
  parseYaml,
  readYaml,
  reachable,
  run,
  sameExpr,
  tempDir,
  tools,
  waitFor,
} from './helpers';

const RUN = path.join(MONITORING, 'stack', 'run.mjs');
const AGENT = path.join(REPO, 'dist', 'register.js');

const PORT_VARS = [
  'PROMETHEUS_PORT',
  'ALERTMANAGER_PORT',
  'GRAFANA_PORT',
  'DEMO_PORT',
  'DEMO_METRICS_PORT',
  'POSTGRES_EXPORTER_PORT',
  'REDIS_EXPORTER_PORT',
  'OTLP_GRPC_PORT',
  'OTLP_HTTP_PORT',
  'COLLECTOR_HEALTH_PORT',
  'COLLECTOR_METRICS_PORT',
  'COLLECTOR_EXPORTED_PORT',
] as const;

/** A free port for every port the stack opens: the defaults may be taken on a CI machine. */
async function freePorts(): Promise<Record<(typeof PORT_VARS)[number], string>> {
  const out: Record<string, string> = {};
  const used = new Set<number>();
  for (const name of PORT_VARS) {
    let port = await freePort();
    while (used.has(port)) port = await freePort();
    used.add(port);
    out[name] = String(port);
  }
  return out as Record<(typeof PORT_VARS)[number], string>;
}

/** `node monitoring/stack/run.mjs` in its own process group, so a failed test can end all of it. */
class Stack {
  output = '';
  readonly child: ChildProcess;
  readonly exit: Promise<number | null>;
  exited = false;

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, [RUN], {
      cwd: REPO,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => (this.output += d));
    this.exit = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        this.exited = true;
        resolve(code);
      }),
    );
  }

  get dataDir(): string | undefined {
    return /\[stack\] data, logs and generated configs: (\S+)/.exec(this.output)?.[1];
  }

  /** Ends the whole process group (the stack and everything it started), whatever state it is in. */
  async kill(): Promise<void> {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    if (!this.exited) await this.exit;
  }
}

const stacks: Stack[] = [];
afterAll(async () => {
  for (const s of stacks) {
    await s.kill();
    const dir = s.dataDir;
    if (dir && path.basename(dir).startsWith('otel-agent-stack-')) fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

function startStack(env: Record<string, string>): Stack {
  const stack = new Stack(env);
  stacks.push(stack);
  return stack;
}

async function exitCode(stack: Stack, timeoutMs: number): Promise<number | null> {
  return Promise.race([
    stack.exit,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`the stack did not stop within ${timeoutMs} ms\n${stack.output}`)), timeoutMs)),
  ]);
}

/** Parses a Prometheus duration as the API reports rule durations (seconds). */
function seconds(duration: string): number {
  const m = /^(\d+)(ms|s|m|h)$/.exec(duration);
  if (!m) throw new Error(`unexpected duration ${duration}`);
  return Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
}

describe('npm run stack without its binaries', () => {
  it('says which binaries are missing and how to install them', async () => {
    // a PATH holding only node: none of the monitoring binaries
    const bin = tempDir('stack-path');
    try {
      fs.symlinkSync(process.execPath, path.join(bin, 'node'));
      const stack = startStack({ PATH: bin, ...(await freePorts()) });
      expect(await exitCode(stack, 30_000)).toBe(1);
      expect(stack.output).toContain('missing: prometheus (Debian/Ubuntu package prometheus)');
      expect(stack.output).toContain('prometheus-alertmanager or alertmanager (Debian/Ubuntu package prometheus-alertmanager)');
      expect(stack.output).toContain('prometheus-postgres-exporter or postgres_exporter');
      expect(stack.output).toContain('prometheus-redis-exporter or redis_exporter');
      expect(stack.output).toContain('bash .ci/install-monitoring-tools.sh');
      expect(stack.dataDir, 'nothing started, no temporary directory').toBeUndefined();
    } finally {
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});

describeWithTools('npm run stack', ['prometheus', 'alertmanager', 'postgresExporter', 'redisExporter', 'yamlParser'], () => {
  it('is built: dist/register.js exists (npm test and npm run stack build it first)', () => {
    expect(fs.existsSync(AGENT), 'run `npm run build`').toBe(true);
  });

  it('refuses a port that is in use, naming the variable that moves it', async () => {
    const ports = await freePorts();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(Number(ports.PROMETHEUS_PORT), '127.0.0.1', resolve));
    try {
      const stack = startStack(ports);
      expect(await exitCode(stack, 30_000)).toBe(1);
      expect(stack.output).toContain(`port ${ports.PROMETHEUS_PORT} (PROMETHEUS_PORT) is in use`);
      expect(stack.dataDir).toBeUndefined();
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('starts the demo, the exporters, Alertmanager and Prometheus with the shipped rules; Prometheus scrapes the demo; Ctrl-C stops it all', async () => {
    const ports = await freePorts();
    const stack = startStack({ ...ports, STACK_SCRAPE_INTERVAL: '2s', STACK_DURATION_SECONDS: '600' });
    await waitFor('[stack] ready', () => (stack.output.includes('[stack] ready:') ? true : undefined), 240_000).catch((error) => {
      throw new Error(`${String(error)}\n${stack.output}`);
    });
    const prom = new PrometheusApi(`http://127.0.0.1:${ports.PROMETHEUS_PORT}`);
    expect(stack.output).toContain(`Prometheus     http://127.0.0.1:${ports.PROMETHEUS_PORT}`);
    expect(stack.output).toContain(`Alertmanager   http://127.0.0.1:${ports.ALERTMANAGER_PORT}`);
    expect(stack.output).toContain(`demo metrics   http://127.0.0.1:${ports.DEMO_METRICS_PORT}/metrics`);

    // the demo target, under the service name of the shipped target file, is up, and so is every other target
    const [shippedDemo] = readYaml(path.join(MONITORING, 'targets', 'node-services.yml'));
    const service = shippedDemo.labels.service;
    const targets = await waitFor(
      'every target up',
      async () => {
        const t = await prom.targets();
        return t.length >= 5 && t.every((x) => x.health === 'up') ? t : undefined;
      },
      120_000,
    ).catch(async (error) => {
      throw new Error(`${String(error)}\n${JSON.stringify(await prom.targets().catch(() => []), null, 1)}\n${stack.output}`);
    });
    const demo = targets.filter((t) => t.scrapePool === 'node-services');
    expect(demo.map((t) => [t.scrapeUrl, t.labels.service])).toEqual([[`http://127.0.0.1:${ports.DEMO_METRICS_PORT}/metrics`, service]]);
    expect(targets.map((t) => t.scrapePool).sort()).toEqual(
      expect.arrayContaining(['alertmanager', 'node-services', 'postgres-exporter', 'prometheus', 'redis-exporter']),
    );
    for (const t of targets) expect(new URL(t.scrapeUrl).hostname).toBe('127.0.0.1');
    expect(
      await waitFor(
        'demo traffic in Prometheus',
        async () => {
          const r = await prom.query(`sum(http_requests_total{service="${service}", job="node-services"})`);
          return r.length && Number(r[0].value[1]) > 0 ? true : undefined;
        },
        60_000,
      ),
    ).toBe(true);
    // the postgres_exporter reads the demo's own Postgres (embedded PGlite)
    expect(await waitFor('pg_up 1', async () => ((await prom.query('pg_up == 1')).length ? true : undefined), 60_000)).toBe(true);

    // the shipped rules, unchanged (`for:` included), from monitoring/alerts.yml itself
    const shipped = loadAlertRules();
    const loaded = (await prom.rules()).filter((g) => g.rules.length > 0);
    expect(loaded.map((g) => g.name).sort()).toEqual(shipped.groups.map((g) => g.name).sort());
    for (const g of shipped.groups) {
      const live = loaded.find((x) => x.name === g.name)!;
      expect(live.file).toBe(path.join(MONITORING, 'alerts.yml'));
      expect(live.rules.map((r) => r.name)).toEqual(g.rules.map((r) => r.alert));
      for (const [j, r] of g.rules.entries()) {
        expect(live.rules[j].duration, `${r.alert} for`).toBe(seconds(r.for!));
        expect(sameExpr(live.rules[j].query, r.expr), `${r.alert}: ${live.rules[j].query}`).toBe(true);
      }
    }

    // Prometheus sends to the stack's Alertmanager, which runs the shipped routes and inhibitions
    const ams = await waitFor('Alertmanager discovered', async () => {
      const a = (await getJson(`${prom.base}/api/v1/alertmanagers`)).data.activeAlertmanagers as Array<{ url: string }>;
      return a.length ? a : undefined;
    });
    expect(ams.map((a) => new URL(a.url).port)).toEqual([ports.ALERTMANAGER_PORT]);
    const status = await getJson(`http://127.0.0.1:${ports.ALERTMANAGER_PORT}/api/v2/status`);
    const runningAm = parseYaml(status.config.original);
    const shippedAm = readYaml(path.join(MONITORING, 'alertmanager.yml'));
    // (Alertmanager reports its parsed config, defaults such as `continue: false` filled in)
    expect(runningAm.route).toMatchObject(shippedAm.route);
    expect(runningAm.inhibit_rules).toMatchObject(shippedAm.inhibit_rules);
    expect(runningAm.time_intervals).toMatchObject(shippedAm.time_intervals);
    expect(runningAm.receivers.map((r: { name: string }) => r.name)).toEqual(shippedAm.receivers.map((r: { name: string }) => r.name));

    // Ctrl-C: everything stops, the temporary directory goes
    const dir = stack.dataDir!;
    expect(fs.existsSync(dir)).toBe(true);
    stack.child.kill('SIGINT');
    expect(await exitCode(stack, 60_000)).toBe(0);
    expect(stack.output).toContain('[stack] stopped');
    expect(fs.existsSync(dir)).toBe(false);
    for (const name of [
      'PROMETHEUS_PORT',
      'ALERTMANAGER_PORT',
      'DEMO_PORT',
      'DEMO_METRICS_PORT',
      'POSTGRES_EXPORTER_PORT',
      'REDIS_EXPORTER_PORT',
    ] as const) {
      expect(await reachable(Number(ports[name])), `${name} closed after Ctrl-C`).toBe(false);
    }
  }, 420_000);

  it('STACK_DURATION_SECONDS stops it by itself, even in the middle of starting, leaving nothing running', async () => {
    const ports = await freePorts();
    const stack = startStack({ ...ports, STACK_DURATION_SECONDS: '3' });
    expect(await exitCode(stack, 90_000)).toBe(0);
    expect(stack.output).toContain('[stack] stopped');
    expect(fs.existsSync(stack.dataDir!)).toBe(false);
    for (const name of [
      'PROMETHEUS_PORT',
      'ALERTMANAGER_PORT',
      'DEMO_PORT',
      'DEMO_METRICS_PORT',
      'POSTGRES_EXPORTER_PORT',
      'REDIS_EXPORTER_PORT',
    ] as const) {
      expect(await reachable(Number(ports[name])), `${name} closed`).toBe(false);
    }
  }, 120_000);
});

/** The functions of monitoring/stack/configs.mjs the tests below call; the files they return are parsed YAML/JSON. */
interface StackConfigs {
  portsFrom: (env: Record<string, string | undefined>) => Record<string, number>;
  writeConfig: (file: string, value: unknown) => string;
  prometheusConfig: (options: {
    ports: Record<string, number>;
    dir: string;
    demoService: string;
    running: { grafana: boolean; otelcol: boolean };
    scrapeInterval?: string;
  }) => { config: any; notes: string[] };
  alertmanagerConfig: (options: { webhook: string | undefined }) => any;
  grafanaProvisioning: (options: { ports: Record<string, number>; dashboardsDir: string }) => Record<string, any>;
  collectorConfig: (options: { ports: Record<string, number>; sentry: boolean }) => any;
}

describeWithTools('npm run stack: the configurations it derives from the shipped files', ['promtool', 'amtool', 'yamlParser'], () => {
  // every port different from its default and from each other, so a missed rewrite shows
  const ports = {
    prometheus: 19090,
    alertmanager: 19093,
    grafana: 13000,
    demo: 18080,
    demoMetrics: 19464,
    postgresExporter: 19187,
    redisExporter: 19121,
    otlpGrpc: 14317,
    otlpHttp: 14318,
    collectorHealth: 23133,
    collectorMetrics: 18888,
    collectorExported: 18889,
  };
  const load = async (): Promise<StackConfigs> =>
    // @ts-expect-error plain ESM shared with `npm run stack`, no type declarations: StackConfigs says what the tests use
    import('../../monitoring/stack/configs.mjs');
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  it('reads every port from its variable, defaulting to the documented ports', async () => {
    const { portsFrom } = await load();
    expect(portsFrom({})).toMatchObject({ prometheus: 9090, alertmanager: 9093, grafana: 3000, demo: 8080, demoMetrics: 9464 });
    expect(portsFrom({ PROMETHEUS_PORT: '19090' }).prometheus).toBe(19090);
    expect(() => portsFrom({ ALERTMANAGER_PORT: 'x' })).toThrow('ALERTMANAGER_PORT=x is not a port number');
  });

  it('prometheus.yml: every target on 127.0.0.1 at the stack ports, the shipped rule file, promtool accepts it', async () => {
    const { prometheusConfig, writeConfig } = await load();
    const dir = tempDir('stack-config');
    dirs.push(dir);
    const { config } = prometheusConfig({ ports, dir, demoService: 'tutoring-demo', running: { grafana: true, otelcol: true } });
    expect(config.rule_files).toEqual([path.join(MONITORING, 'recording-rules.yml'), path.join(MONITORING, 'alerts.yml')]);
    expect(config.remote_write, 'no long-term store on a laptop').toBeUndefined();
    expect(config.global).toEqual(readYaml(path.join(MONITORING, 'prometheus.yml')).global);
    expect(config.alerting.alertmanagers[0].static_configs[0].targets).toEqual(['127.0.0.1:19093']);
    const byJob = Object.fromEntries(config.scrape_configs.map((j: any) => [j.job_name, j]));
    const staticTarget = (job: string) => byJob[job].static_configs[0].targets;
    expect(staticTarget('postgres-exporter')).toEqual(['127.0.0.1:19187']);
    expect(staticTarget('redis-exporter')).toEqual(['127.0.0.1:19121']);
    expect(staticTarget('otel-collector')).toEqual(['127.0.0.1:18888']);
    expect(staticTarget('otel-collector-exported')).toEqual(['127.0.0.1:18889']);
    expect(staticTarget('prometheus')).toEqual(['127.0.0.1:19090']);
    expect(staticTarget('alertmanager')).toEqual(['127.0.0.1:19093']);
    expect(staticTarget('grafana')).toEqual(['127.0.0.1:13000']);
    const agents = JSON.parse(fs.readFileSync(byJob['node-services'].file_sd_configs[0].files[0], 'utf8'));
    expect(agents).toEqual([{ targets: ['127.0.0.1:19464'], labels: { service: 'tutoring-demo' } }]);
    // everything else of each job as shipped (labels, honor_labels, relabelling)
    const shipped = readYaml(path.join(MONITORING, 'prometheus.yml')).scrape_configs;
    for (const job of shipped) {
      const { static_configs: a, file_sd_configs: b, ...rest } = byJob[job.job_name];
      const { static_configs: c, file_sd_configs: d, ...shippedRest } = job;
      expect(rest).toEqual(shippedRest);
      if (c) expect(a.map((x: any) => x.labels)).toEqual(c.map((x: any) => x.labels));
    }
    const file = writeConfig(path.join(dir, 'prometheus.yml'), config);
    const res = run(tools().promtool!, ['check', 'config', file]);
    expect(res.code, res.stdout + res.stderr).toBe(0);

    const without = prometheusConfig({ ports, dir, demoService: 'tutoring-demo', running: { grafana: false, otelcol: false } });
    expect(without.config.scrape_configs.map((j: any) => j.job_name).sort()).toEqual([
      'alertmanager',
      'node-services',
      'postgres-exporter',
      'prometheus',
      'redis-exporter',
    ]);
    expect(without.notes).toEqual(expect.arrayContaining(['job grafana: not scraped (grafana is not running)']));
  });

  it('alertmanager.yml: the shipped routes and inhibitions, receivers that send nothing or post to STACK_ALERT_WEBHOOK; amtool accepts both', async () => {
    const { alertmanagerConfig, writeConfig } = await load();
    const dir = tempDir('stack-am');
    dirs.push(dir);
    const shipped = readYaml(path.join(MONITORING, 'alertmanager.yml'));
    for (const webhook of [undefined, 'http://127.0.0.1:5001/alerts']) {
      const config = alertmanagerConfig({ webhook });
      expect(config.route).toEqual(shipped.route);
      expect(config.inhibit_rules).toEqual(shipped.inhibit_rules);
      expect(config.time_intervals).toEqual(shipped.time_intervals);
      expect(config.receivers).toEqual(
        shipped.receivers.map((r: any) => (webhook ? { name: r.name, webhook_configs: [{ url: webhook, send_resolved: true }] } : { name: r.name })),
      );
      expect(JSON.stringify(config)).not.toContain('/etc/alertmanager/secrets');
      const file = writeConfig(path.join(dir, 'alertmanager.yml'), config);
      const res = run(tools().amtool!, ['check-config', file]);
      expect(res.code, res.stdout + res.stderr).toBe(0);
    }
  });

  it('Grafana provisioning: the shipped data sources (same uids) and dashboard provider, pointed at the stack', async () => {
    const { grafanaProvisioning } = await load();
    const files = grafanaProvisioning({ ports, dashboardsDir: '/stack/dashboards' });
    const datasources = Object.entries(files)
      .filter(([f]) => f.startsWith('datasources/'))
      .flatMap(([, c]: [string, any]) => c.datasources);
    expect(datasources.map((d: any) => [d.uid, d.url])).toEqual([
      ['prometheus', 'http://127.0.0.1:19090'],
      ['alertmanager', 'http://127.0.0.1:19093'],
    ]);
    const providers = Object.entries(files)
      .filter(([f]) => f.startsWith('dashboards/'))
      .flatMap(([, c]: [string, any]) => c.providers);
    expect(providers.map((p: any) => p.options.path)).toEqual(['/stack/dashboards']);
  });

  it('Collector: the shipped pipelines on 127.0.0.1 at the stack ports; traces to Sentry only with its variables, else to debug', async () => {
    const { collectorConfig } = await load();
    for (const sentry of [false, true]) {
      const config = collectorConfig({ ports, sentry });
      const text = JSON.stringify(config);
      expect(text).not.toContain('0.0.0.0');
      expect(config.receivers.otlp.protocols).toEqual({ grpc: { endpoint: '127.0.0.1:14317' }, http: { endpoint: '127.0.0.1:14318' } });
      expect(config.extensions.health_check.endpoint).toBe('127.0.0.1:23133');
      expect(config.exporters.prometheus.endpoint).toBe('127.0.0.1:18889');
      expect(config.service.telemetry.metrics.readers[0].pull.exporter.prometheus).toEqual({ host: '127.0.0.1', port: 18888 });
      for (const pipeline of Object.values(config.service.pipelines) as any[]) {
        for (const e of pipeline.exporters) expect(config.exporters[e], e).toBeDefined();
        expect(pipeline.processors[0]).toBe('memory_limiter');
      }
      expect(config.service.pipelines.traces.exporters).toEqual(sentry ? ['otlphttp/sentry'] : ['debug']);
      expect(config.service.pipelines.metrics.exporters).toEqual(['prometheus']);
    }
  });
});
