/**
 * The files that cannot run here, checked statically: the compose file (through the real
 * `docker-compose config`, no Docker daemon needed), the OpenTelemetry Collector configuration
 * (no otelcol binary here: structure, pipeline references, secrets) and the Kubernetes
 * manifests (no cluster: probes, annotations, selectors). Also the cross-file facts that
 * tie them together (ports, mounts, job names).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { COLLECTOR, MONITORING, alertNames, describeWithTools, parseYamlAll, readYaml, run, tools } from './helpers';

const COMPOSE = path.join(MONITORING, 'docker-compose.monitoring.yml');

/** Merges Collector config files the way the Collector does: maps deep, lists and scalars replaced. */
function merge(base: any, over: any): any {
  if (over === null || typeof over !== 'object' || Array.isArray(over)) return over;
  const out: any = { ...(base && typeof base === 'object' && !Array.isArray(base) ? base : {}) };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? merge(out[k], v) : v;
  return out;
}

const collectorFile = (name: string) => path.join(COLLECTOR, name);
const collectorConfigs = (): Record<string, any> => {
  const base = readYaml(collectorFile('otel-collector-config.yaml'));
  const backend = readYaml(collectorFile('otel-collector-backend.yaml'));
  const datastores = readYaml(collectorFile('otel-collector-datastores.yaml'));
  return {
    base,
    'base + backend': merge(base, backend),
    'base + datastores': merge(base, datastores),
    'base + backend + datastores': merge(merge(base, backend), datastores),
  };
};

const KNOWN = {
  receivers: ['otlp', 'postgresql', 'redis'],
  processors: ['memory_limiter', 'batch', 'resource'],
  exporters: ['otlphttp', 'otlp', 'prometheus', 'debug'],
  extensions: ['health_check'],
};

const port = (address: string) => Number(/:(\d+)$/.exec(address)?.[1]);

describeWithTools('docker-compose.monitoring.yml', ['dockerCompose', 'yamlParser'], () => {
  it('docker-compose config -q accepts it', () => {
    const res = run(tools().dockerCompose!, ['-f', COMPOSE, 'config', '-q'], { cwd: MONITORING });
    expect(res.code, res.stdout + res.stderr).toBe(0);
  });

  it('docker-compose config -q rejects a broken file, so the check above means something', () => {
    const broken = path.join(MONITORING, '.broken-compose.test.yml');
    fs.writeFileSync(broken, fs.readFileSync(COMPOSE, 'utf8').replace('image: prom/prometheus', 'imagee: prom/prometheus'));
    try {
      expect(run(tools().dockerCompose!, ['-f', broken, 'config', '-q'], { cwd: MONITORING }).code).not.toBe(0);
    } finally {
      fs.rmSync(broken, { force: true });
    }
  });

  it('runs the seven components on the documented ports with pinned images', () => {
    const compose = readYaml(COMPOSE);
    const services = compose.services;
    expect(Object.keys(services).sort()).toEqual([
      'alertmanager',
      'grafana',
      'long-term-store',
      'otel-collector',
      'postgres-exporter',
      'prometheus',
      'redis-exporter',
    ]);
    for (const [name, s] of Object.entries<any>(services)) {
      expect(s.image, `${name} image`).toMatch(/:v?\d+\.\d+\.\d+$/);
    }
    const published = (name: string) => (services[name].ports ?? []).map((p: string) => p.split(':')[0]);
    expect(published('prometheus')).toContain('9090');
    expect(published('alertmanager')).toContain('9093');
    expect(published('grafana')).toContain('3000');
    expect(published('otel-collector')).toEqual(expect.arrayContaining(['4317', '4318']));
    expect(published('long-term-store')).toContain('8428');
    expect(services.grafana.environment.GF_SECURITY_ADMIN_USER).toBe('${GRAFANA_ADMIN_USER:-admin}');
    expect(services.grafana.environment.GF_SECURITY_ADMIN_PASSWORD).toBe('${GRAFANA_ADMIN_PASSWORD:-admin}');
  });

  it('pins Prometheus and Alertmanager to the versions the configs are tested with here', () => {
    const compose = readYaml(COMPOSE);
    const minor = (text: string) => /(\d+\.\d+)\.\d+/.exec(text)?.[1];
    if (tools().prometheus) {
      const local = minor(run(tools().prometheus!, ['--version']).stdout + run(tools().prometheus!, ['--version']).stderr);
      expect(minor(compose.services.prometheus.image)).toBe(local);
    }
    if (tools().alertmanager) {
      const out = run(tools().alertmanager!, ['--version']);
      expect(minor(compose.services.alertmanager.image)).toBe(minor(out.stdout + out.stderr));
    }
    expect(compose.services.prometheus.image).toMatch(/^prom\/prometheus:v2\.42\./);
    expect(compose.services.alertmanager.image).toMatch(/^prom\/alertmanager:v0\.25\./);
  });

  it('mounts files that exist, with alerts.yml next to prometheus.yml so the relative rule path resolves', () => {
    const compose = readYaml(COMPOSE);
    for (const [name, s] of Object.entries<any>(compose.services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0];
        if (!source.startsWith('.')) continue; // named volume
        expect(fs.existsSync(path.resolve(MONITORING, source)), `${name} mounts ${source}`).toBe(true);
      }
    }
    const prom = compose.services.prometheus;
    const configFlag = prom.command.find((c: string) => c.startsWith('--config.file='));
    const configDir = path.posix.dirname(configFlag.split('=')[1]);
    expect(prom.volumes).toContain(`./prometheus.yml:${configDir}/prometheus.yml:ro`);
    expect(prom.volumes).toContain(`./alerts.yml:${configDir}/alerts.yml:ro`);
    expect(prom.volumes).toContain(`./recording-rules.yml:${configDir}/recording-rules.yml:ro`);
    expect(prom.volumes).toContain(`./targets:${configDir}/targets:ro`);
  });

  it('gives every service that prometheus.yml scrapes by host name a compose service of that name', () => {
    const compose = readYaml(COMPOSE);
    const config = readYaml(path.join(MONITORING, 'prometheus.yml'));
    for (const job of config.scrape_configs) {
      for (const group of job.static_configs ?? []) {
        for (const target of group.targets as string[]) {
          const host = target.split(':')[0];
          if (host === 'localhost') continue;
          expect(compose.services[host], `${job.job_name} scrapes ${target}`).toBeDefined();
        }
      }
    }
  });
});

describeWithTools('OpenTelemetry Collector configuration (static: no otelcol binary here)', ['yamlParser'], () => {
  it('receives OTLP over gRPC on 4317 and HTTP on 4318, with the health_check extension enabled', () => {
    const c = readYaml(collectorFile('otel-collector-config.yaml'));
    expect(port(c.receivers.otlp.protocols.grpc.endpoint)).toBe(4317);
    expect(port(c.receivers.otlp.protocols.http.endpoint)).toBe(4318);
    expect(c.service.extensions).toContain('health_check');
    expect(c.extensions.health_check).toBeDefined();
  });

  for (const [name, config] of Object.entries(collectorConfigs())) {
    it(`${name}: every pipeline starts with memory_limiter, batches, and references only defined components`, () => {
      const pipelines = Object.entries<any>(config.service.pipelines);
      expect(pipelines.length).toBeGreaterThan(0);
      for (const [pipeline, p] of pipelines) {
        expect(pipeline, 'pipeline type').toMatch(/^(traces|metrics|logs)(\/[a-z0-9_]+)?$/);
        expect(p.processors[0], `${pipeline} starts with memory_limiter`).toBe('memory_limiter');
        expect(p.processors.at(-1), `${pipeline} ends with batch`).toBe('batch');
        for (const kind of ['receivers', 'processors', 'exporters'] as const) {
          expect(p[kind].length, `${pipeline} ${kind}`).toBeGreaterThan(0);
          for (const id of p[kind]) {
            expect(config[kind]?.[id], `${pipeline} uses ${kind} ${id}, which is defined`).toBeDefined();
            expect(KNOWN[kind], `${id} is a known ${kind} type`).toContain(id.split('/')[0]);
          }
        }
      }
      for (const id of config.service.extensions) {
        expect(config.extensions[id]).toBeDefined();
        expect(KNOWN.extensions).toContain(id.split('/')[0]);
      }
    });
  }

  it('sends traces to Sentry over OTLP/HTTP with the X-Sentry-Auth header, and metrics to the Prometheus exporter', () => {
    const c = readYaml(collectorFile('otel-collector-config.yaml'));
    const sentry = c.exporters['otlphttp/sentry'];
    expect(sentry.traces_endpoint).toMatch(/^https:\/\/\$\{env:[A-Z_]+\}\/api\/\$\{env:[A-Z_]+\}\/integration\/otlp\/v1\/traces\/$/);
    expect(sentry.headers['X-Sentry-Auth']).toMatch(/^sentry sentry_key=\$\{env:[A-Z_]+\}$/);
    expect(c.service.pipelines.traces.exporters).toContain('otlphttp/sentry');
    expect(c.service.pipelines.metrics.exporters).toContain('prometheus');
    expect(c.exporters.prometheus.resource_to_telemetry_conversion.enabled).toBe(true);
    const backend = merge(c, readYaml(collectorFile('otel-collector-backend.yaml')));
    expect(backend.service.pipelines.traces.exporters).toEqual(['otlphttp/sentry', 'otlp/backend']);
  });

  it('sends metrics only to the Prometheus exporter, so recording rules, federation and the remote-write filter apply to them', () => {
    for (const [name, config] of Object.entries(collectorConfigs())) {
      for (const [pipeline, p] of Object.entries<any>(config.service.pipelines)) {
        if (pipeline.startsWith('metrics')) expect(p.exporters, `${name} ${pipeline}`).toEqual(['prometheus']);
      }
    }
  });

  it('is scraped where prometheus.yml looks: the exporter on 8889, its own telemetry on 8888', () => {
    const c = readYaml(collectorFile('otel-collector-config.yaml'));
    const prom = readYaml(path.join(MONITORING, 'prometheus.yml'));
    const job = (name: string) => prom.scrape_configs.find((j: any) => j.job_name === name);
    expect(port(job('otel-collector-exported').static_configs[0].targets[0])).toBe(port(c.exporters.prometheus.endpoint));
    expect(port(job('otel-collector').static_configs[0].targets[0])).toBe(c.service.telemetry.metrics.readers[0].pull.exporter.prometheus.port);
    expect(job('otel-collector-exported').honor_labels).toBe(true);
    expect(job('otel-collector-exported').metric_relabel_configs).toEqual([
      { source_labels: ['service_name'], regex: '(.+)', target_label: 'service', replacement: '$1' },
    ]);
  });

  it('takes every secret and endpoint from the environment, documents each variable, and compose passes them', () => {
    const files = ['otel-collector-config.yaml', 'otel-collector-backend.yaml', 'otel-collector-datastores.yaml'];
    const readme = fs.readFileSync(collectorFile('README.md'), 'utf8');
    const compose = readYaml(COMPOSE);
    const composeEnv = compose.services['otel-collector'].environment;
    const secretKey = /(password|secret|token|api_?key|authorization|auth)$/i;
    for (const file of files) {
      const text = fs.readFileSync(collectorFile(file), 'utf8');
      expect(text, `${file}: only \${env:VAR} expansion`).not.toMatch(/\$\{(?!env:)/);
      expect(text, `${file}: no literal Sentry key`).not.toMatch(/sentry_key=[0-9a-f]{16,}/);
      const walk = (node: unknown, key: string) => {
        if (node && typeof node === 'object') for (const [k, v] of Object.entries(node)) walk(v, k);
        else if (secretKey.test(key) && typeof node === 'string') {
          expect(node, `${file}: ${key} comes from the environment`).toMatch(/\$\{env:[A-Z_]+(:-[^}]*)?\}/);
        }
      };
      walk(readYaml(collectorFile(file)), '');
      const code = text
        .split('\n')
        .filter((line) => !line.trim().startsWith('#'))
        .join('\n');
      const used = [...code.matchAll(/\$\{env:([A-Z_]+)(:-[^}]*)?\}/g)];
      expect(used.length, `${file} reads the environment`).toBeGreaterThan(0);
      for (const m of used) {
        expect(readme, `${m[1]} documented in collector/README.md`).toContain(m[1]);
        if (file === 'otel-collector-config.yaml' && !m[2]) expect(composeEnv[m[1]], `compose passes ${m[1]}`).toBeDefined();
      }
    }
  });
});

describeWithTools('Kubernetes manifests (static: no cluster here)', ['yamlParser'], () => {
  const load = (file: string) => parseYamlAll(fs.readFileSync(path.join(MONITORING, 'kubernetes', file), 'utf8')).filter(Boolean) as any[];

  it('annotates the Service for Prometheus: scrape, port 9464, path /metrics, and exposes the agent port', () => {
    const [svc] = load('service.yaml');
    expect(svc.kind).toBe('Service');
    expect(svc.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '9464', 'prometheus.io/path': '/metrics' });
    expect(svc.spec.ports).toContainEqual(expect.objectContaining({ name: 'metrics', port: 9464 }));
  });

  it('probes liveness on /live and readiness on /ready at port 9464, with a memory limit for HighMemoryUsage', () => {
    const [deploy] = load('deployment.yaml');
    const [svc] = load('service.yaml');
    expect(deploy.kind).toBe('Deployment');
    expect(deploy.spec.selector.matchLabels).toEqual(svc.spec.selector);
    expect(deploy.spec.template.metadata.labels).toMatchObject(deploy.spec.selector.matchLabels);
    const container = deploy.spec.template.spec.containers[0];
    expect(container.livenessProbe.httpGet).toEqual({ path: '/live', port: 9464 });
    expect(container.readinessProbe.httpGet).toEqual({ path: '/ready', port: 9464 });
    expect(container.ports).toContainEqual({ name: 'metrics', containerPort: 9464 });
    expect(container.resources.limits.memory).toBeTruthy();
    const env = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
    expect(env.OTEL_SERVICE_NAME).toBe(svc.metadata.labels['app.kubernetes.io/name']);
    expect(env.OTEL_EXPORTER_PROMETHEUS_PORT).toBe('9464');
  });

  it('has a ServiceMonitor that selects the Service and labels targets the way the alerts expect', () => {
    const [sm] = load('servicemonitor.yaml');
    const [svc] = load('service.yaml');
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.kind).toBe('ServiceMonitor');
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) expect(svc.metadata.labels[k]).toBe(v);
    const endpoint = sm.spec.endpoints[0];
    expect(svc.spec.ports.map((p: any) => p.name)).toContain(endpoint.port);
    expect(endpoint.path).toBe('/metrics');
    expect(endpoint.honorLabels).toBe(true);
    expect(endpoint.relabelings).toContainEqual({ targetLabel: 'job', replacement: 'node-services' });
    expect(endpoint.relabelings).toContainEqual({ sourceLabels: ['__meta_kubernetes_service_label_app_kubernetes_io_name'], targetLabel: 'service' });
  });

  it('documents scaling out: Collector gateway and remote_write to Mimir or Thanos', () => {
    const readme = fs.readFileSync(path.join(MONITORING, 'kubernetes', 'README.md'), 'utf8');
    for (const word of ['gateway', 'remote_write', 'Mimir', 'Thanos']) expect(readme).toContain(word);
  });
});

describeWithTools('monitoring/README.md', ['yamlParser'], () => {
  it('lists every alert with a link to its runbook', () => {
    const readme = fs.readFileSync(path.join(MONITORING, 'README.md'), 'utf8');
    for (const name of alertNames()) expect(readme, `README links runbooks/${name}.md`).toContain(`runbooks/${name}.md`);
  });
});
