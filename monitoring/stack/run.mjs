// `npm run stack`: the monitoring pipeline of monitoring/ on this machine, without Docker.
//
// Starts npm start's demo service (the agent preloaded), postgres_exporter and redis_exporter
// against the demo's Postgres and Redis, Alertmanager and Prometheus with configurations derived
// from the shipped ones (configs.mjs: same rules, routes and inhibitions; every target on
// 127.0.0.1), and, when found on PATH, Grafana (dashboard provisioned) and the OpenTelemetry
// Collector (contrib). Data and logs go to a temporary directory, removed on exit.
// Ctrl-C stops everything. Everything listens on 127.0.0.1 only.
//
// Environment:
//   PROMETHEUS_PORT (9090) ALERTMANAGER_PORT (9093) GRAFANA_PORT (3000) DEMO_PORT (8080)
//   DEMO_METRICS_PORT (9464) POSTGRES_EXPORTER_PORT (9187) REDIS_EXPORTER_PORT (9121)
//   OTLP_GRPC_PORT (4317) OTLP_HTTP_PORT (4318) COLLECTOR_HEALTH_PORT (13133)
//   COLLECTOR_METRICS_PORT (8888) COLLECTOR_EXPORTED_PORT (8889)
//   STACK_DURATION_SECONDS=N   stop by itself after N seconds
//   STACK_SCRAPE_INTERVAL=5s   scrape and rule evaluation interval (default: prometheus.yml's)
//   STACK_ALERT_WEBHOOK=url    every Alertmanager receiver posts there (default: no notification sent)
//   STACK_SKIP=grafana,otelcol do not start these optional pieces even if installed
//   STACK_KEEP_DATA=1          keep the temporary directory (data, logs, generated configs)
//   DATABASE_URL, REDIS_URL    as for npm start: the demo's Postgres (default: embedded PGlite)
//                              and Redis (default: 127.0.0.1:6379 if one answers)
//   GRAFANA_HOME               Grafana's home (the directory with conf/defaults.ini) if not found
//   GRAFANA_ADMIN_USER / GRAFANA_ADMIN_PASSWORD (admin / admin)
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  which,
  MONITORING,
  PORTS,
  ROOT,
  alertmanagerConfig,
  collectorConfig,
  grafanaProvisioning,
  portsFrom,
  prometheusConfig,
  shippedDemoService,
  writeConfig,
} from './configs.mjs';

const say = (line) => process.stdout.write(`[stack] ${line}\n`);
const warn = (line) => process.stderr.write(`[stack] ${line}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const INSTALL = 'bash .ci/install-monitoring-tools.sh';

// ------------------------------------------------------------------------------------- binaries

const REQUIRED = [
  { key: 'prometheus', names: ['prometheus'], pkg: 'prometheus', upstream: 'prometheus' },
  { key: 'alertmanager', names: ['prometheus-alertmanager', 'alertmanager'], pkg: 'prometheus-alertmanager', upstream: 'alertmanager' },
  {
    key: 'postgresExporter',
    names: ['prometheus-postgres-exporter', 'postgres_exporter'],
    pkg: 'prometheus-postgres-exporter',
    upstream: 'postgres_exporter',
  },
  { key: 'redisExporter', names: ['prometheus-redis-exporter', 'redis_exporter'], pkg: 'prometheus-redis-exporter', upstream: 'redis_exporter' },
];

const bin = {};
const missing = [];
for (const tool of REQUIRED) {
  bin[tool.key] = which(...tool.names);
  if (!bin[tool.key]) missing.push(tool);
}
if (missing.length) {
  warn(`missing: ${missing.map((t) => `${t.names.join(' or ')} (Debian/Ubuntu package ${t.pkg})`).join(', ')}`);
  warn(`install them on Debian/Ubuntu with: ${INSTALL}`);
  warn(
    `elsewhere, put the release binaries on PATH: ${missing.map((t) => t.upstream).join(', ')} ` +
      '(https://prometheus.io/download/; redis_exporter: https://github.com/oliver006/redis_exporter/releases; ' +
      'macOS: brew install prometheus alertmanager postgres_exporter redis_exporter)',
  );
  process.exit(1);
}
if (!fs.existsSync(path.join(ROOT, 'dist', 'register.js'))) {
  warn('dist/register.js is missing: build the agent first (npm run build), or use npm run stack, which does');
  process.exit(1);
}

const skip = new Set(
  (process.env.STACK_SKIP ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const grafanaBin = skip.has('grafana') ? undefined : which('grafana', 'grafana-server');
const otelcolBin = skip.has('otelcol') ? undefined : which('otelcol-contrib', 'otelcol');

/** Grafana's home: the directory holding conf/defaults.ini. */
function grafanaHome(binary) {
  const candidates = [
    process.env.GRAFANA_HOME,
    path.resolve(path.dirname(binary), '..'),
    path.resolve(path.dirname(binary), '../share/grafana'),
    '/usr/share/grafana',
    '/usr/local/share/grafana',
    '/opt/homebrew/share/grafana',
  ].filter(Boolean);
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'conf', 'defaults.ini')));
}

// ---------------------------------------------------------------------------------------- ports

let ports;
try {
  ports = portsFrom(process.env);
} catch (error) {
  warn(error.message);
  process.exit(1);
}

function portFree(port) {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

{
  const needed = ['prometheus', 'alertmanager', 'demo', 'demoMetrics', 'postgresExporter', 'redisExporter'];
  if (grafanaBin) needed.push('grafana');
  if (otelcolBin) needed.push('otlpGrpc', 'otlpHttp', 'collectorHealth', 'collectorMetrics', 'collectorExported');
  const seen = new Map();
  const busy = [];
  for (const key of needed) {
    const [name] = PORTS[key];
    if (seen.has(ports[key])) busy.push(`${name} and ${seen.get(ports[key])} are both ${ports[key]}`);
    else if (!(await portFree(ports[key]))) busy.push(`port ${ports[key]} (${name}) is in use`);
    seen.set(ports[key], name);
  }
  if (busy.length) {
    warn(`cannot start: ${busy.join('; ')}`);
    warn('stop what uses it, or choose another port, e.g. PROMETHEUS_PORT=19090 npm run stack');
    process.exit(1);
  }
}

// ------------------------------------------------------------------------------------ processes

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otel-agent-stack-'));
const logs = path.join(dir, 'logs');
fs.mkdirSync(logs);

/** Children in start order; stopped in reverse. */
const children = [];
let stopping = false;

function startChild(name, file, args, { env = {}, optional = false, passthrough = false } = {}) {
  if (stopping) throw new Error('stopping');
  const logFile = path.join(logs, `${name}.log`);
  const log = passthrough ? undefined : fs.openSync(logFile, 'a');
  const child = spawn(file, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: passthrough ? ['ignore', 'pipe', 'pipe'] : ['ignore', log, log],
  });
  if (log !== undefined) fs.closeSync(log);
  const entry = { name, child, logFile, optional, output: '', exited: false };
  entry.done = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      entry.exited = true;
      resolve();
      if (stopping) return;
      // Ctrl-C in a terminal reaches every process of the group at once: give our own SIGINT
      // handler the chance to run first, so a child stopped by it is not taken for a crash.
      setTimeout(() => {
        if (stopping) return;
        const detail = signal ? `signal ${signal}` : `code ${code}`;
        if (optional) {
          warn(`${name} exited (${detail}), going on without it; its log:\n${tail(entry)}`);
        } else {
          warn(`${name} exited (${detail}); stopping the stack. Its last output:\n${tail(entry)}`);
          void stop(1);
        }
      }, 1_000);
    });
    child.once('error', (error) => {
      entry.output += `\n${String(error)}`;
    });
  });
  if (passthrough) {
    const keep = (stream) => (chunk) => {
      entry.output = (entry.output + chunk).slice(-20_000);
      stream.write(chunk);
    };
    child.stdout.setEncoding('utf8').on('data', keep(process.stdout));
    child.stderr.setEncoding('utf8').on('data', keep(process.stderr));
  }
  children.push(entry);
  return entry;
}

function tail(entry, lines = 20) {
  let text = entry.output;
  if (!text && fs.existsSync(entry.logFile)) text = fs.readFileSync(entry.logFile, 'utf8');
  return text
    .trim()
    .split('\n')
    .slice(-lines)
    .map((l) => `    ${l}`)
    .join('\n');
}

async function waitFor(what, check, timeoutMs, entry) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (stopping) throw new Error('stopping');
    if (entry?.exited) throw new Error(`${entry.name} exited while starting`);
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
}

const httpOk = (url) => async () => ((await fetch(url, { signal: AbortSignal.timeout(2_000) })).ok ? true : undefined);

async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  say('stopping...');
  for (const entry of [...children].reverse()) {
    if (entry.exited) continue;
    entry.child.kill('SIGTERM');
    const timer = setTimeout(() => entry.exited || entry.child.kill('SIGKILL'), 10_000);
    await entry.done;
    clearTimeout(timer);
  }
  if (process.env.STACK_KEEP_DATA === '1') say(`kept ${dir}`);
  else fs.rmSync(dir, { recursive: true, force: true });
  say('stopped');
  process.exit(code);
}

process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
const duration = Number(process.env.STACK_DURATION_SECONDS ?? 0);
if (duration > 0) setTimeout(() => void stop(0), duration * 1000).unref();

// ----------------------------------------------------------------------------------------- start

async function main() {
  const running = { grafana: false, otelcol: false };
  const demoService = process.env.OTEL_SERVICE_NAME || shippedDemoService() || 'tutoring-demo';
  say(`data, logs and generated configs: ${dir}`);

  // 1. the OpenTelemetry Collector (optional), first so the demo can send it traces
  if (otelcolBin) {
    const sentry = Boolean(process.env.SENTRY_OTLP_HOST && process.env.SENTRY_PROJECT_ID && process.env.SENTRY_PUBLIC_KEY);
    const file = writeConfig(path.join(dir, 'otelcol', 'config.yaml'), collectorConfig({ ports, sentry }));
    const entry = startChild('otelcol', otelcolBin, [`--config=${file}`], { optional: true });
    try {
      await waitFor('the Collector health check', httpOk(`http://127.0.0.1:${ports.collectorHealth}/`), 60_000, entry);
      running.otelcol = true;
      if (!sentry) say('Collector: traces go to its debug exporter (set SENTRY_OTLP_HOST, SENTRY_PROJECT_ID, SENTRY_PUBLIC_KEY for Sentry)');
    } catch (error) {
      warn(`the Collector did not start (${error.message}); going on without it. Log: ${entry.logFile}`);
      entry.child.kill('SIGKILL');
    }
  }

  // 2. npm start's demo: the tutoring service with the agent, and its traffic
  const demoEnv = {
    PORT: String(ports.demo),
    OTEL_EXPORTER_PROMETHEUS_PORT: String(ports.demoMetrics),
    OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
    OTEL_SERVICE_NAME: demoService,
  };
  if (running.otelcol && !process.env.OTEL_EXPORTER_OTLP_ENDPOINT) demoEnv.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${ports.otlpHttp}`;
  const demo = startChild('demo', process.execPath, [path.join(ROOT, 'examples', 'start-demo.mjs')], { env: demoEnv, passthrough: true });
  await waitFor('the demo service', async () => (demo.output.includes('generating traffic') ? true : undefined), 180_000, demo);

  // 3. the exporters, against the demo's Postgres and Redis
  let postgresDsn = process.env.DATABASE_URL;
  if (!postgresDsn) {
    const m = /embedded PGlite on 127\.0\.0\.1:(\d+)/.exec(demo.output);
    if (!m) throw new Error('could not tell where the demo\'s Postgres listens (no "embedded PGlite on" line in its output)');
    postgresDsn = `postgresql://postgres@127.0.0.1:${m[1]}/postgres`;
  }
  const dsn = new URL(postgresDsn.replace(/^postgres:/, 'postgresql:'));
  if (!dsn.searchParams.has('sslmode') && ['127.0.0.1', 'localhost', '[::1]'].includes(dsn.hostname)) dsn.searchParams.set('sslmode', 'disable');
  const pgExporter = startChild('postgres_exporter', bin.postgresExporter, [`--web.listen-address=127.0.0.1:${ports.postgresExporter}`], {
    env: { DATA_SOURCE_NAME: dsn.toString() },
  });
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  const redisExporter = startChild('redis_exporter', bin.redisExporter, [
    `-redis.addr=${redisUrl}`,
    `-web.listen-address=127.0.0.1:${ports.redisExporter}`,
  ]);
  await waitFor('postgres_exporter', httpOk(`http://127.0.0.1:${ports.postgresExporter}/metrics`), 60_000, pgExporter);
  await waitFor('redis_exporter', httpOk(`http://127.0.0.1:${ports.redisExporter}/metrics`), 60_000, redisExporter);
  if (/Redis: none answered/.test(demo.output)) {
    say('no Redis for the demo: redis_up is 0 and RedisDown fires after 1m (start a Redis on 127.0.0.1:6379 or set REDIS_URL)');
  }

  // 4. Grafana (optional): its flags need to know whether it will run, before Prometheus' config
  let grafanaDir;
  if (grafanaBin) {
    const home = grafanaHome(grafanaBin);
    if (!home) warn(`found ${grafanaBin} but not its home (conf/defaults.ini): set GRAFANA_HOME; going on without Grafana`);
    else grafanaDir = { home };
  }

  // 5. Alertmanager: the shipped routes and inhibitions
  const webhook = process.env.STACK_ALERT_WEBHOOK;
  const amFile = writeConfig(path.join(dir, 'alertmanager', 'alertmanager.yml'), alertmanagerConfig({ webhook }));
  const am = startChild('alertmanager', bin.alertmanager, [
    `--config.file=${amFile}`,
    `--storage.path=${path.join(dir, 'alertmanager', 'data')}`,
    `--web.listen-address=127.0.0.1:${ports.alertmanager}`,
    '--cluster.listen-address=',
  ]);
  await waitFor('Alertmanager', httpOk(`http://127.0.0.1:${ports.alertmanager}/-/ready`), 60_000, am);

  if (grafanaDir) {
    const dashboards = path.join(dir, 'grafana', 'dashboards');
    fs.mkdirSync(dashboards, { recursive: true });
    fs.copyFileSync(path.join(MONITORING, 'grafana-dashboard.json'), path.join(dashboards, 'otel-agent.json'));
    const provisioning = path.join(dir, 'grafana', 'provisioning');
    for (const [file, config] of Object.entries(grafanaProvisioning({ ports, dashboardsDir: dashboards })))
      writeConfig(path.join(provisioning, file), config);
    for (const sub of ['plugins', 'alerting', 'notifiers']) fs.mkdirSync(path.join(provisioning, sub), { recursive: true });
    const args = path.basename(grafanaBin) === 'grafana' ? ['server', `--homepath=${grafanaDir.home}`] : [`--homepath=${grafanaDir.home}`];
    const grafana = startChild('grafana', grafanaBin, args, {
      optional: true,
      env: {
        GF_PATHS_PROVISIONING: provisioning,
        GF_PATHS_DATA: path.join(dir, 'grafana', 'data'),
        GF_PATHS_LOGS: path.join(dir, 'grafana', 'logs'),
        GF_PATHS_PLUGINS: path.join(dir, 'grafana', 'plugins'),
        GF_SERVER_HTTP_ADDR: '127.0.0.1',
        GF_SERVER_HTTP_PORT: String(ports.grafana),
        GF_SECURITY_ADMIN_USER: process.env.GRAFANA_ADMIN_USER || 'admin',
        GF_SECURITY_ADMIN_PASSWORD: process.env.GRAFANA_ADMIN_PASSWORD || 'admin',
        GF_USERS_ALLOW_SIGN_UP: 'false',
        GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: path.join(dashboards, 'otel-agent.json'),
        GF_ANALYTICS_REPORTING_ENABLED: 'false',
        GF_ANALYTICS_CHECK_FOR_UPDATES: 'false',
      },
    });
    try {
      await waitFor('Grafana', httpOk(`http://127.0.0.1:${ports.grafana}/api/health`), 120_000, grafana);
      running.grafana = true;
    } catch (error) {
      warn(`Grafana did not start (${error.message}); going on without it. Log: ${grafana.logFile}`);
      grafana.child.kill('SIGKILL');
    }
  }

  // 6. Prometheus: the shipped rules, every target on this machine
  const { config, notes } = prometheusConfig({
    ports,
    dir: path.join(dir, 'prometheus'),
    demoService,
    running,
    scrapeInterval: process.env.STACK_SCRAPE_INTERVAL || undefined,
  });
  const promFile = writeConfig(path.join(dir, 'prometheus', 'prometheus.yml'), config);
  for (const note of notes) say(`Prometheus ${note}`);
  const prom = startChild('prometheus', bin.prometheus, [
    `--config.file=${promFile}`,
    `--storage.tsdb.path=${path.join(dir, 'prometheus', 'data')}`,
    `--web.listen-address=127.0.0.1:${ports.prometheus}`,
    '--web.enable-lifecycle',
  ]);
  await waitFor('Prometheus', httpOk(`http://127.0.0.1:${ports.prometheus}/-/ready`), 90_000, prom);

  const line = (what, url) => say(`  ${what.padEnd(14)} ${url}`);
  say('ready:');
  line('Prometheus', `http://127.0.0.1:${ports.prometheus}   (Status > Targets, Alerts)`);
  line(
    'Alertmanager',
    `http://127.0.0.1:${ports.alertmanager}   ${webhook ? `(receivers post to ${webhook})` : '(notifications not sent: set STACK_ALERT_WEBHOOK=url to receive them)'}`,
  );
  if (running.grafana)
    line(
      'Grafana',
      `http://127.0.0.1:${ports.grafana}   (${process.env.GRAFANA_ADMIN_USER || 'admin'} / ${process.env.GRAFANA_ADMIN_PASSWORD ? '<GRAFANA_ADMIN_PASSWORD>' : 'admin'})`,
    );
  else
    line(
      'Grafana',
      grafanaBin ? 'not running (see above)' : 'not started: no grafana or grafana-server on PATH (optional; https://grafana.com/grafana/download)',
    );
  if (running.otelcol)
    line(
      'Collector',
      `OTLP 127.0.0.1:${ports.otlpGrpc} (gRPC), http://127.0.0.1:${ports.otlpHttp} (HTTP); health http://127.0.0.1:${ports.collectorHealth}/`,
    );
  else line('Collector', otelcolBin ? 'not running (see above)' : 'not started: no otelcol-contrib on PATH (optional)');
  line('demo service', `http://127.0.0.1:${ports.demo}/api/lessons/1   (service ${demoService})`);
  line('demo metrics', `http://127.0.0.1:${ports.demoMetrics}/metrics`);
  line('exporters', `http://127.0.0.1:${ports.postgresExporter}/metrics (postgres), http://127.0.0.1:${ports.redisExporter}/metrics (redis)`);
  say(duration > 0 ? `stopping by itself in ${duration}s (STACK_DURATION_SECONDS); Ctrl-C stops it sooner` : 'Ctrl-C stops everything');

  // tell the user once whether Prometheus actually scrapes the demo
  const target = await waitFor(
    'the first scrape of the demo',
    async () => {
      const res = await fetch(`http://127.0.0.1:${ports.prometheus}/api/v1/targets?state=active`, { signal: AbortSignal.timeout(2_000) });
      const t = (await res.json()).data.activeTargets.find((x) => x.labels.service === demoService);
      return t && t.health !== 'unknown' ? t : undefined;
    },
    120_000,
  ).catch(() => undefined);
  if (target?.health === 'up') say(`Prometheus scrapes the demo (${target.scrapeUrl}): up`);
  else if (target) warn(`Prometheus cannot scrape the demo (${target.scrapeUrl}): ${target.lastError}`);
}

main().catch((error) => {
  if (stopping) return;
  warn(`failed to start: ${error.message}`);
  for (const entry of children) if (!entry.optional && entry.exited) warn(`${entry.name}'s last output:\n${tail(entry)}`);
  warn(`logs: ${logs} (kept)`);
  process.env.STACK_KEEP_DATA = '1';
  void stop(1);
});
