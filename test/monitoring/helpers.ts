/**
 * Shared plumbing for the monitoring tests: where the shipped files are, which real tools are
 * installed, a YAML loader, free ports, child processes that are always cleaned up, polling and
 * small HTTP helpers. Nothing here talks to anything but 127.0.0.1.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'vitest';
import { freePort, waitFor as pollUntil } from '../helpers/ports';
// @ts-expect-error plain ESM shared with `npm run stack`, no type declarations
import { which } from '../../monitoring/stack/configs.mjs';

export const REPO = path.resolve(__dirname, '../..');
export const MONITORING = path.join(REPO, 'monitoring');
export const COLLECTOR = path.join(REPO, 'collector');
export const IN_CI = process.env.CI === 'true';

// ------------------------------------------------------------------------------------------ tools

/** Finds an executable on PATH, trying each name in turn (shared with `npm run stack`). */
export { which };

/** A python3 on PATH that can `import yaml` (Debian's python3-yaml), used as the YAML parser. */
function findPythonWithYaml(): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, 'python3');
    if (!fs.existsSync(candidate)) continue;
    try {
      execFileSync(candidate, ['-c', 'import yaml'], { stdio: 'ignore', timeout: 20_000 });
      return candidate;
    } catch {
      // this python3 has no yaml module
    }
  }
  return undefined;
}

export interface Tools {
  promtool?: string;
  prometheus?: string;
  amtool?: string;
  alertmanager?: string;
  postgresExporter?: string;
  redisExporter?: string;
  dockerCompose?: string;
  /** 'yaml' (the npm package) or the path of a python3 that has the yaml module. */
  yamlParser?: string;
}

function hasYamlPackage(): boolean {
  try {
    createRequire(path.join(REPO, 'package.json')).resolve('yaml');
    return true;
  } catch {
    return false;
  }
}

let cachedTools: Tools | undefined;
export function tools(): Tools {
  cachedTools ??= {
    promtool: which('promtool'),
    prometheus: which('prometheus'),
    amtool: which('amtool'),
    alertmanager: which('prometheus-alertmanager', 'alertmanager'),
    postgresExporter: which('prometheus-postgres-exporter', 'postgres_exporter'),
    redisExporter: which('prometheus-redis-exporter', 'redis_exporter'),
    dockerCompose: which('docker-compose'),
    yamlParser: hasYamlPackage() ? 'yaml' : findPythonWithYaml(),
  };
  return cachedTools;
}

const TOOL_NAMES: Record<keyof Tools, string> = {
  promtool: 'promtool (Debian package prometheus)',
  prometheus: 'prometheus (Debian package prometheus)',
  amtool: 'amtool (Debian package prometheus-alertmanager)',
  alertmanager: 'prometheus-alertmanager (Debian package prometheus-alertmanager)',
  postgresExporter: 'prometheus-postgres-exporter (Debian package of the same name)',
  redisExporter: 'prometheus-redis-exporter (Debian package of the same name)',
  dockerCompose: 'docker-compose (Debian package docker-compose)',
  yamlParser: 'a YAML parser: the yaml npm devDependency, or python3 with the yaml module (Debian package python3-yaml)',
};

/**
 * `describe` that needs real tools. With a tool missing it FAILS under CI=true (CI must have
 * installed them) and is skipped elsewhere, saying which tool is missing and how to install it.
 */
export function describeWithTools(title: string, needed: Array<keyof Tools>, body: () => void): void {
  const found = tools();
  const missing = needed.filter((k) => !found[k]).map((k) => TOOL_NAMES[k]);
  if (missing.length === 0) {
    describe(title, body);
    return;
  }
  const message = `missing tool(s): ${missing.join(', ')}; install them with: bash .ci/install-monitoring-tools.sh`;
  if (IN_CI) {
    describe(title, () => {
      it('has the tools it needs', () => {
        throw new Error(message);
      });
    });
  } else {
    process.stderr.write(`[monitoring tests] skipping "${title}": ${message}\n`);
    describe.skip(`${title} (skipped: ${message})`, body);
  }
}

/** Runs a tool, returning its exit code and output instead of throwing. */
export function run(
  file: string,
  args: string[],
  options: { cwd?: string; input?: string; timeoutMs?: number } = {},
): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(file, args, {
      cwd: options.cwd,
      input: options.input,
      encoding: 'utf8',
      timeout: options.timeoutMs ?? 60_000,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    return { code: 0, stdout, stderr: '' };
  } catch (error) {
    const e = error as { status?: number | null; stdout?: string; stderr?: string; message: string };
    return { code: e.status ?? -1, stdout: e.stdout ?? '', stderr: (e.stderr ?? '') + (e.status == null ? e.message : '') };
  }
}

// ------------------------------------------------------------------------------------------- YAML

/** Parses every YAML document of a text (with the `yaml` package when installed, else python3-yaml). */
export function parseYamlAll(text: string): unknown[] {
  try {
    const yaml = createRequire(path.join(REPO, 'package.json'))('yaml') as { parseAllDocuments(t: string): Array<{ toJS(): unknown }> };
    return yaml.parseAllDocuments(text).map((d) => d.toJS());
  } catch (error) {
    if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
  }
  const python = tools().yamlParser;
  if (!python || python === 'yaml') throw new Error(`no YAML parser: ${TOOL_NAMES.yamlParser} is needed`);
  const out = execFileSync(python, ['-c', 'import sys, json, yaml; json.dump(list(yaml.safe_load_all(sys.stdin)), sys.stdout)'], {
    input: text,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return JSON.parse(out) as unknown[];
}

export function parseYaml<T = any>(text: string): T {
  const docs = parseYamlAll(text);
  if (docs.length !== 1) throw new Error(`expected one YAML document, found ${docs.length}`);
  return docs[0] as T;
}

export function readYaml<T = any>(file: string): T {
  return parseYaml<T>(fs.readFileSync(file, 'utf8'));
}

// ---------------------------------------------------------------------------------- temp and ports

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

export { freePort };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns something other than undefined; fails after timeoutMs. */
export function waitFor<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 60_000): Promise<T> {
  return pollUntil(check, timeoutMs, what);
}

// -------------------------------------------------------------------------------------- processes

/** A child process whose output is kept for error messages and which stop() always ends. */
export class Proc {
  output = '';
  exited = false;
  private readonly done: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    const keep = (d: Buffer) => {
      this.output += d.toString('utf8');
      if (this.output.length > 200_000) this.output = this.output.slice(-100_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.done = new Promise((resolve) => {
      child.on('exit', () => {
        this.exited = true;
        resolve();
      });
      child.on('error', (error) => {
        this.output += `\nspawn error: ${String(error)}`;
        this.exited = true;
        resolve();
      });
    });
  }

  tail(chars = 3000): string {
    return `--- last output of ${this.name} ---\n${this.output.slice(-chars)}`;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      if (!this.exited) this.child.kill('SIGKILL');
    }, 5_000);
    await this.done;
    clearTimeout(timer);
  }
}

export function start(name: string, file: string, args: string[], env: Record<string, string> = {}): Proc {
  const child = spawn(file, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Proc(name, child);
}

/** Waits until `url` answers 200, failing early (with its output) if the process exits. */
export async function waitReady(proc: Proc, url: string, timeoutMs = 60_000): Promise<void> {
  await waitFor(
    `${proc.name} at ${url}`,
    async () => {
      if (proc.exited) throw new Error(`${proc.name} exited\n${proc.tail()}`);
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);
      return res?.status === 200 ? true : undefined;
    },
    timeoutMs,
  );
}

/**
 * The real Prometheus with `config` (written to `dir`), listening on 127.0.0.1:`port`, data in `dir`;
 * added to `procs` at once (so a failed start is still cleaned up), resolves once it answers ready.
 */
export async function startTestPrometheus(dir: string, config: object, port: number, procs: Proc[], timeoutMs = 90_000): Promise<Proc> {
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), JSON.stringify(config, null, 2));
  const proc = start('prometheus', tools().prometheus!, [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'tsdb')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ]);
  procs.push(proc);
  await waitReady(proc, `http://127.0.0.1:${port}/-/ready`, timeoutMs);
  return proc;
}

/**
 * The real Alertmanager with the shipped routes and inhibitions, every receiver replaced by the
 * test's webhook, on a free port with its data in `dir`; gossip off; added to `procs` at once.
 */
export async function startTestAlertmanager(
  dir: string,
  sink: WebhookSink,
  procs: Proc[],
  timeoutMs = 60_000,
): Promise<{ proc: Proc; url: string; port: number }> {
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'alertmanager.yml'), JSON.stringify(testAlertmanagerConfig(sink, 'never')));
  const proc = start('alertmanager', tools().alertmanager!, [
    `--config.file=${path.join(dir, 'alertmanager.yml')}`,
    `--storage.path=${path.join(dir, 'alertmanager-data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--cluster.listen-address=',
  ]);
  procs.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(proc, `${url}/-/ready`, timeoutMs);
  return { proc, url, port };
}

// ------------------------------------------------------------------------------------------- HTTP

export async function getJson<T = any>(url: string): Promise<T> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function postJson<T = any>(url: string, body: unknown): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}

/** One notification as Alertmanager's webhook receiver sends it. */
export interface WebhookNotification {
  path: string;
  receiver: string;
  status: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  alerts: Array<{ status: string; labels: Record<string, string>; annotations: Record<string, string> }>;
}

/** An HTTP server on 127.0.0.1 that records Alertmanager webhook notifications. */
export class WebhookSink {
  readonly notifications: WebhookNotification[] = [];
  private server?: http.Server;
  port = 0;

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        try {
          this.notifications.push({ path: req.url ?? '', ...(JSON.parse(body) as Omit<WebhookNotification, 'path'>) });
        } catch {
          // not a notification
        }
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
  }

  url(receiver: string): string {
    return `http://127.0.0.1:${this.port}/hook/${receiver}`;
  }

  /** Firing alerts received, flattened: one entry per alert with the receiver path it came to. */
  firing(): Array<{ path: string; labels: Record<string, string>; annotations: Record<string, string>; groupLabels: Record<string, string> }> {
    return this.notifications.flatMap((n) =>
      n.alerts
        .filter((a) => a.status === 'firing')
        .map((a) => ({ path: n.path, labels: a.labels, annotations: a.annotations, groupLabels: n.groupLabels })),
    );
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

// ---------------------------------------------------------------------------- shipped config files

export interface AlertRule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function loadAlertRules(): { groups: Array<{ name: string; rules: AlertRule[] }> } {
  return readYaml(path.join(MONITORING, 'alerts.yml'));
}

export function alertNames(): string[] {
  return [...new Set(loadAlertRules().groups.flatMap((g) => g.rules.map((r) => r.alert).filter((a): a is string => !!a)))];
}

// -------------------------------------------------------------------------------- Grafana dashboard

export const DASHBOARD_FILE = path.join(MONITORING, 'grafana-dashboard.json');

export interface Query {
  panel: string;
  refId: string;
  expr: string;
}

/** Every PromQL query of the dashboard (panel targets), in order. */
export function dashboardQueries(): Query[] {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8'));
  const out: Query[] = [];
  const visit = (panels: any[]) => {
    for (const p of panels ?? []) {
      for (const t of p.targets ?? []) out.push({ panel: p.title, refId: t.refId, expr: t.expr });
      visit(p.panels);
    }
  };
  visit(dashboard.panels);
  return out;
}

/** Replaces Grafana's variables the way Grafana would for one selected service. */
export function concreteQuery(expr: string, service: string, rateInterval = '5m'): string {
  return expr.replaceAll('$__rate_interval', rateInterval).replaceAll('${service}', service).replaceAll('$service', service);
}

// ------------------------------------------------------------------------------------ Alertmanager

export const ALERTMANAGER_CONFIG = path.join(MONITORING, 'alertmanager.yml');

/** Visits every route of the tree. */
function routes(route: any, visit: (r: any) => void): void {
  visit(route);
  for (const child of route.routes ?? []) routes(child, visit);
}

/**
 * A test copy of the shipped config: same routes, matchers, grouping and inhibit rules; every
 * receiver becomes a webhook to `sink`; timers are seconds; the maintenance interval is replaced
 * by `maintenance` (always, or never).
 */
export function testAlertmanagerConfig(sink: WebhookSink, maintenance: 'always' | 'never'): object {
  const config = readYaml(ALERTMANAGER_CONFIG);
  for (const key of Object.keys(config.global ?? {})) if (key !== 'resolve_timeout') delete config.global[key];
  config.receivers = config.receivers.map((r: any) => ({ name: r.name, webhook_configs: [{ url: sink.url(r.name), send_resolved: false }] }));
  routes(config.route, (r) => {
    if (r.group_wait !== undefined || r === config.route) r.group_wait = '1s';
    if (r.group_interval !== undefined || r === config.route) r.group_interval = '2s';
    if (r.repeat_interval !== undefined || r === config.route) r.repeat_interval = '1h';
  });
  const interval = config.time_intervals.find((t: any) => t.name === 'maintenance');
  interval.time_intervals = maintenance === 'always' ? [{ times: [{ start_time: '00:00', end_time: '24:00' }] }] : [{ years: ['2000'] }];
  return config;
}

// ------------------------------------------------------------------------------ Prometheus client

export interface PromSample {
  metric: Record<string, string>;
  value: [number, string];
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing';
}

/** The few Prometheus HTTP API calls the live tests make. */
export class PrometheusApi {
  constructor(readonly base: string) {}

  async query(q: string): Promise<PromSample[]> {
    return (await getJson<{ data: { result: PromSample[] } }>(`${this.base}/api/v1/query?query=${encodeURIComponent(q)}`)).data.result;
  }

  async alerts(): Promise<PromAlert[]> {
    return (await getJson<{ data: { alerts: PromAlert[] } }>(`${this.base}/api/v1/alerts`)).data.alerts;
  }

  async firing(labels: Record<string, string>): Promise<PromAlert[]> {
    return (await this.alerts()).filter((a) => a.state === 'firing' && Object.entries(labels).every(([k, v]) => a.labels[k] === v));
  }

  async rules(): Promise<
    Array<{ name: string; file: string; rules: Array<{ name: string; query: string; duration: number; labels: Record<string, string> }> }>
  > {
    return (await getJson(`${this.base}/api/v1/rules?type=alert`)).data.groups;
  }

  async targets(): Promise<Array<{ scrapePool: string; scrapeUrl: string; health: string; lastError: string; labels: Record<string, string> }>> {
    return (await getJson(`${this.base}/api/v1/targets?state=active`)).data.activeTargets;
  }
}

/**
 * The test-only overlay of the shipped rules: the same groups, expressions, labels and
 * annotations, with every `for:` replaced by `forDuration`. Nothing else changes.
 */
export function rulesWithShortFor(forDuration: string): { groups: Array<{ name: string; rules: AlertRule[] }> } {
  const rules = loadAlertRules();
  for (const g of rules.groups) for (const r of g.rules) if (r.alert && r.for) r.for = forDuration;
  return rules;
}

/** Prometheus prints a parsed expression: compare ignoring whitespace and the parentheses it adds. */
export function sameExpr(a: string, b: string): boolean {
  const normalize = (q: string) => q.replace(/[\s()]+/g, '');
  return normalize(a) === normalize(b);
}

/** True when something accepts TCP connections on 127.0.0.1:port. */
export async function reachable(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
