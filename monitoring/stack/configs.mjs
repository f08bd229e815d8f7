// Derives the configuration of the Docker-free stack (`npm run stack`) from the shipped files:
// the same rules, routes, inhibitions, dashboard and pipelines, with every address rewritten to
// 127.0.0.1 and the ports the stack was given. Pure functions, no process started here.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const MONITORING = path.join(ROOT, 'monitoring');
export const COLLECTOR = path.join(ROOT, 'collector');

/** Every port the stack listens on: the environment variable that changes it, and its default. */
/** Finds an executable on PATH, trying each name in turn (Debian and upstream names differ). */
export function which(...names) {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const name of names) {
    for (const dir of dirs) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        if (fs.statSync(candidate).isFile()) return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

export const PORTS = {
  prometheus: ['PROMETHEUS_PORT', 9090],
  alertmanager: ['ALERTMANAGER_PORT', 9093],
  grafana: ['GRAFANA_PORT', 3000],
  // npm start's demo defaults to 3000, Grafana's port: the stack moves the demo to 8080
  demo: ['DEMO_PORT', 8080],
  demoMetrics: ['DEMO_METRICS_PORT', 9464],
  postgresExporter: ['POSTGRES_EXPORTER_PORT', 9187],
  redisExporter: ['REDIS_EXPORTER_PORT', 9121],
  otlpGrpc: ['OTLP_GRPC_PORT', 4317],
  otlpHttp: ['OTLP_HTTP_PORT', 4318],
  collectorHealth: ['COLLECTOR_HEALTH_PORT', 13133],
  collectorMetrics: ['COLLECTOR_METRICS_PORT', 8888],
  collectorExported: ['COLLECTOR_EXPORTED_PORT', 8889],
};

/** Reads the ports from `env`; throws on a value that is not a port. */
export function portsFrom(env) {
  const ports = {};
  for (const [key, [name, fallback]] of Object.entries(PORTS)) {
    const raw = env[name];
    const port = raw === undefined || raw === '' ? fallback : Number(raw);
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${name}=${raw} is not a port number`);
    ports[key] = port;
  }
  return ports;
}

// ------------------------------------------------------------------------------------------ YAML

let yamlPackage;
function yamlModule() {
  if (yamlPackage === undefined) {
    try {
      yamlPackage = createRequire(path.join(ROOT, 'package.json'))('yaml');
    } catch {
      yamlPackage = null;
    }
  }
  return yamlPackage;
}

/** Parses a YAML file with the `yaml` devDependency, or python3's yaml module (python3-yaml). */
export function loadYaml(file) {
  const text = fs.readFileSync(file, 'utf8');
  const yaml = yamlModule();
  if (yaml) return yaml.parse(text);
  try {
    const out = execFileSync('python3', ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'], {
      input: text,
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'ignore'],
      timeout: 30_000,
    });
    return JSON.parse(out);
  } catch {
    throw new Error(
      `cannot parse ${path.relative(ROOT, file)}: needs the yaml npm devDependency (npm install) or python3 with the yaml module (Debian package python3-yaml)`,
    );
  }
}

/** Prometheus, Alertmanager, Grafana and the Collector all read JSON as YAML. */
export function writeConfig(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  return file;
}

// ------------------------------------------------------------------------------------ Prometheus

/** The scrape jobs of prometheus.yml that are not agents: which port they map to, which optional piece they need. */
const STATIC_JOBS = {
  'postgres-exporter': { port: 'postgresExporter' },
  'redis-exporter': { port: 'redisExporter' },
  'otel-collector': { port: 'collectorMetrics', needs: 'otelcol' },
  'otel-collector-exported': { port: 'collectorExported', needs: 'otelcol' },
  prometheus: { port: 'prometheus' },
  alertmanager: { port: 'alertmanager' },
  grafana: { port: 'grafana', needs: 'grafana' },
};

const LOCAL_HOSTS = new Set(['host.docker.internal', 'localhost', '127.0.0.1']);
const AGENT_PORT = 9464;

/** The files a file_sd pattern of prometheus.yml matches (relative to monitoring/; `*` only). */
function matchFiles(pattern) {
  const dir = path.resolve(MONITORING, path.dirname(pattern));
  const re = new RegExp(
    `^${path
      .basename(pattern)
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')}$`,
  );
  return fs.existsSync(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => re.test(f))
        .map((f) => path.join(dir, f))
    : [];
}

/**
 * The agent targets of the shipped target files, for this machine: entries on the Docker host
 * (host.docker.internal, localhost) become 127.0.0.1, the agent's port 9464 becomes the demo's
 * metrics port and its service label the demo's name; entries naming containers are left out.
 */
export function localAgentTargets(shippedJob, ports, demoService) {
  const groups = [];
  const skipped = [];
  let demo = false;
  for (const sd of shippedJob.file_sd_configs ?? []) {
    for (const pattern of sd.files ?? []) {
      for (const file of matchFiles(pattern)) {
        for (const group of loadYaml(file) ?? []) {
          const targets = [];
          let isDemo = false;
          for (const target of group.targets ?? []) {
            const [host, port] = target.split(':');
            if (!LOCAL_HOSTS.has(host)) {
              skipped.push(target);
              continue;
            }
            const local = Number(port) === AGENT_PORT ? ports.demoMetrics : Number(port);
            isDemo ||= local === ports.demoMetrics;
            targets.push(`127.0.0.1:${local}`);
          }
          if (targets.length === 0) continue;
          demo ||= isDemo;
          groups.push({ targets, labels: { ...group.labels, ...(isDemo ? { service: demoService } : {}) } });
        }
      }
    }
  }
  if (!demo) groups.push({ targets: [`127.0.0.1:${ports.demoMetrics}`], labels: { service: demoService } });
  return { groups, skipped };
}

/** The service label the shipped target files give the agent on the Docker host (npm start's demo). */
export function shippedDemoService() {
  const config = loadYaml(path.join(MONITORING, 'prometheus.yml'));
  const job = config.scrape_configs.find((j) => j.job_name === 'node-services');
  for (const sd of job?.file_sd_configs ?? []) {
    for (const pattern of sd.files ?? []) {
      for (const file of matchFiles(pattern)) {
        for (const group of loadYaml(file) ?? []) {
          if ((group.targets ?? []).some((t) => t.startsWith('host.docker.internal:'))) return group.labels?.service;
        }
      }
    }
  }
  return undefined;
}

/**
 * prometheus.yml for the stack: the shipped global settings (intervals overridable for tests),
 * the shipped rule files by absolute path, Alertmanager and every target on 127.0.0.1.
 * `running` says which optional pieces run (otelcol, grafana); their jobs are dropped otherwise.
 */
export function prometheusConfig({ ports, dir, demoService, running, scrapeInterval }) {
  const config = loadYaml(path.join(MONITORING, 'prometheus.yml'));
  const notes = [];
  if (scrapeInterval) {
    config.global = { ...config.global, scrape_interval: scrapeInterval, scrape_timeout: scrapeInterval, evaluation_interval: scrapeInterval };
  }
  config.rule_files = (config.rule_files ?? []).map((f) => path.resolve(MONITORING, f));
  config.alerting = { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${ports.alertmanager}`] }] }] };
  for (const rw of config.remote_write ?? []) notes.push(`remote_write ${rw.name ?? rw.url}: left out (no long-term store on this machine)`);
  delete config.remote_write;
  const jobs = [];
  for (const job of config.scrape_configs) {
    if (job.file_sd_configs) {
      const { groups, skipped } = localAgentTargets(job, ports, demoService);
      if (skipped.length) notes.push(`job ${job.job_name}: left out ${skipped.join(', ')} (container names, not on this machine)`);
      const file = writeConfig(path.join(dir, 'targets', `${job.job_name}.json`), groups);
      job.file_sd_configs = [{ files: [file], refresh_interval: '10s' }];
      jobs.push(job);
      continue;
    }
    const local = STATIC_JOBS[job.job_name];
    if (!local) {
      notes.push(`job ${job.job_name}: kept as written in prometheus.yml`);
      jobs.push(job);
      continue;
    }
    if (local.needs && !running[local.needs]) {
      notes.push(`job ${job.job_name}: not scraped (${local.needs} is not running)`);
      continue;
    }
    job.static_configs = (job.static_configs ?? []).map((sc) => ({ ...sc, targets: [`127.0.0.1:${ports[local.port]}`] }));
    jobs.push(job);
  }
  config.scrape_configs = jobs;
  return { config, notes };
}

// ---------------------------------------------------------------------------------- Alertmanager

/**
 * alertmanager.yml for the stack: the shipped routes, grouping, inhibit rules and time intervals.
 * The receivers keep their names but, on a laptop, send nothing (their e-mail, Slack and paging
 * addresses are production ones, with secrets read from files): alerts show in the UI. With
 * `webhook`, every receiver posts to that URL instead.
 */
export function alertmanagerConfig({ webhook }) {
  const config = loadYaml(path.join(MONITORING, 'alertmanager.yml'));
  config.global = { resolve_timeout: config.global?.resolve_timeout ?? '5m' };
  config.receivers = config.receivers.map((r) =>
    webhook ? { name: r.name, webhook_configs: [{ url: webhook, send_resolved: true }] } : { name: r.name },
  );
  return config;
}

// --------------------------------------------------------------------------------------- Grafana

/** Grafana provisioning for the stack: the shipped data sources and dashboard provider, local addresses. */
export function grafanaProvisioning({ ports, dashboardsDir }) {
  const provisioning = path.join(MONITORING, 'grafana', 'provisioning');
  const out = {};
  for (const kind of ['datasources', 'dashboards']) {
    const dir = path.join(provisioning, kind);
    for (const file of fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)) : []) {
      const config = loadYaml(path.join(dir, file));
      for (const ds of config.datasources ?? []) {
        if (ds.type === 'prometheus') ds.url = `http://127.0.0.1:${ports.prometheus}`;
        if (ds.type === 'alertmanager') ds.url = `http://127.0.0.1:${ports.alertmanager}`;
      }
      for (const provider of config.providers ?? []) {
        if (provider.options?.path) provider.options.path = dashboardsDir;
      }
      out[`${kind}/${file}`] = config;
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------- Collector

const COLLECTOR_PORTS = { 4317: 'otlpGrpc', 4318: 'otlpHttp', 13133: 'collectorHealth', 8889: 'collectorExported' };

/**
 * The shipped Collector configuration on 127.0.0.1 and the stack's ports. Without the Sentry
 * variables, traces go to the `debug` exporter (printed in the Collector's log) instead of Sentry.
 */
export function collectorConfig({ ports, sentry }) {
  const config = loadYaml(path.join(COLLECTOR, 'otel-collector-config.yaml'));
  const rewrite = (value) => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        const m = k === 'endpoint' && typeof v === 'string' ? /^(?:0\.0\.0\.0|localhost|127\.0\.0\.1)?:(\d+)$/.exec(v) : null;
        value[k] = m && COLLECTOR_PORTS[m[1]] ? `127.0.0.1:${ports[COLLECTOR_PORTS[m[1]]]}` : rewrite(v);
      }
    }
    return value;
  };
  rewrite(config.receivers);
  rewrite(config.extensions);
  rewrite(config.exporters);
  for (const reader of config.service?.telemetry?.metrics?.readers ?? []) {
    const prom = reader.pull?.exporter?.prometheus;
    if (prom) Object.assign(prom, { host: '127.0.0.1', port: ports.collectorMetrics });
  }
  if (!sentry) {
    for (const name of Object.keys(config.exporters)) if (name.startsWith('otlphttp/sentry')) delete config.exporters[name];
    config.exporters.debug = { verbosity: 'basic' };
    for (const pipeline of Object.values(config.service.pipelines)) {
      const exporters = pipeline.exporters.filter((e) => e in config.exporters);
      pipeline.exporters = exporters.length ? exporters : ['debug'];
    }
  }
  return config;
}
