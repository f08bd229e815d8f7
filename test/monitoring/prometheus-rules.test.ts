/**
 * prometheus.yml and alerts.yml with the real promtool: the config and rules load, the rule unit
 * tests (monitoring/tests/alerts.test.yml) pass, every alert has a firing and a silent case, and
 * the rules follow the conventions the README promises (severity, runbook, by service).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { MONITORING, alertNames, describeWithTools, loadAlertRules, parseYaml, readYaml, run, tempDir, tools, type AlertRule } from './helpers';

describeWithTools('prometheus.yml and alerts.yml (promtool)', ['promtool', 'yamlParser'], () => {
  const promtool = () => tools().promtool!;

  it('promtool check config accepts prometheus.yml, its rule file and its target files, from any directory', () => {
    for (const cwd of [MONITORING, path.dirname(MONITORING)]) {
      const res = run(promtool(), ['check', 'config', path.join(MONITORING, 'prometheus.yml')], { cwd });
      expect(res.code, res.stdout + res.stderr).toBe(0);
      expect(res.stdout).toMatch(/SUCCESS: 2 rule files found/);
    }
  });

  it('promtool check config rejects a broken target file, so the check above really reads them', () => {
    const dir = tempDir('prom-broken');
    fs.cpSync(MONITORING, dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'targets', 'node-services.yml'), "- targets: ['unterminated\n");
    const res = run(promtool(), ['check', 'config', path.join(dir, 'prometheus.yml')]);
    expect(res.code).not.toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('promtool check rules accepts alerts.yml, recording-rules.yml and global/alerts.yml', () => {
    for (const file of ['alerts.yml', 'recording-rules.yml', 'global/alerts.yml']) {
      const res = run(promtool(), ['check', 'rules', path.join(MONITORING, file)]);
      expect(res.code, file + res.stdout + res.stderr).toBe(0);
      expect(res.stdout).toMatch(/SUCCESS: \d+ rules found/);
    }
  });

  it('promtool check config accepts the global Prometheus; it federates only recorded series and up, keeping their labels', () => {
    const file = path.join(MONITORING, 'global', 'prometheus.yml');
    const res = run(promtool(), ['check', 'config', file]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    const config = readYaml(file);
    expect(config.scrape_configs).toHaveLength(1);
    const job = config.scrape_configs[0];
    expect(job.metrics_path).toBe('/federate');
    expect(job.honor_labels).toBe(true);
    expect(job.params['match[]']).toEqual(['{__name__=~".+:.+"}', '{__name__="up"}']);
    for (const group of job.static_configs) expect(group.labels.cluster).toMatch(/^[a-z0-9-]+$/);
  });

  it('every recording rule follows level:metric:operation, aggregates by service (or target), and has an exact-value unit test', () => {
    const rules = readYaml(path.join(MONITORING, 'recording-rules.yml')).groups.flatMap((g: any) => g.rules) as Array<{ record: string; expr: string }>;
    expect(rules.length).toBeGreaterThan(20);
    const suite = readYaml(path.join(MONITORING, 'tests', 'recording-rules.test.yml')) as {
      tests: Array<{ promql_expr_test?: Array<{ expr: string; exp_samples: Array<{ labels: string; value: number }> }> }>;
    };
    const tested = new Set<string>();
    for (const t of suite.tests) {
      for (const c of t.promql_expr_test ?? []) {
        expect(c.exp_samples.length, `${c.expr} expects samples`).toBeGreaterThan(0);
        for (const sample of c.exp_samples) expect(typeof sample.value, `${sample.labels} has an exact value`).toBe('number');
        tested.add(c.expr.replace(/\{.*$/, ''));
      }
    }
    for (const r of rules) {
      expect(r.record, 'level:metric:operation').toMatch(/^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$/);
      expect(r.record.split(':')[0], `${r.record}: the level starts with service or job_instance`).toMatch(/^(service|job_instance)(_|$)/);
      expect(tested.has(r.record), `${r.record} has a unit test`).toBe(true);
      expect(r.expr, `${r.record}: no job name`).not.toMatch(/job\s*=/);
    }
  });

  it('promtool test rules passes every unit test in monitoring/tests', () => {
    const files = fs.readdirSync(path.join(MONITORING, 'tests')).filter((f) => f.endsWith('.test.yml'));
    expect(files.length).toBeGreaterThan(0);
    const res = run(promtool(), ['test', 'rules', ...files], { cwd: path.join(MONITORING, 'tests'), timeoutMs: 120_000 });
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toMatch(/SUCCESS/);
    expect(res.stdout + res.stderr).not.toMatch(/FAILED/);
  });

  it('the unit tests would catch a weakened rule: a HighErrorRate threshold of 20% fails them', () => {
    const dir = tempDir('prom-mutant');
    fs.cpSync(MONITORING, dir, { recursive: true });
    const rules = fs.readFileSync(path.join(dir, 'alerts.yml'), 'utf8');
    const mutated = rules.replace('> 0.05', '> 0.2');
    expect(mutated).not.toBe(rules);
    fs.writeFileSync(path.join(dir, 'alerts.yml'), mutated);
    const res = run(promtool(), ['test', 'rules', 'alerts.test.yml'], { cwd: path.join(dir, 'tests'), timeoutMs: 120_000 });
    expect(res.code).not.toBe(0);
    expect(res.stdout + res.stderr).toMatch(/HighErrorRate/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('every alert (cluster and global) has a unit test where it fires and one where it stays silent', () => {
    const fires = new Set<string>();
    const silent = new Set<string>();
    const globalFires = new Set<string>();
    const globalSilent = new Set<string>();
    for (const [file, yes, no] of [
      ['alerts.test.yml', fires, silent],
      ['global-alerts.test.yml', globalFires, globalSilent],
    ] as const) {
      const suite = readYaml(path.join(MONITORING, 'tests', file)) as {
        tests: Array<{ name: string; alert_rule_test?: Array<{ alertname: string; exp_alerts?: unknown[] }> }>;
      };
      for (const t of suite.tests) {
        expect(t.name, 'every test group is named').toBeTruthy();
        for (const a of t.alert_rule_test ?? []) {
          if ((a.exp_alerts ?? []).length > 0) yes.add(a.alertname);
          else no.add(a.alertname);
        }
      }
    }
    const globalNames = (readYaml(path.join(MONITORING, 'global', 'alerts.yml')).groups as Array<{ rules: AlertRule[] }>).flatMap((g) =>
      g.rules.map((r) => r.alert!),
    );
    expect(globalNames).toEqual(['ServiceDown', 'FederationTargetDown']);
    for (const name of globalNames) {
      expect(globalFires.has(name), `global ${name} has a firing test`).toBe(true);
      expect(globalSilent.has(name), `global ${name} has a silent test`).toBe(true);
    }
    const names = alertNames();
    expect(names).toEqual(
      expect.arrayContaining([
        'ServiceDown',
        'HighErrorRate',
        'HighResponseTime',
        'AIGenerationSlow',
        'HighMemoryUsage',
        'SlowDatabaseQueries',
        'LowCacheHitRate',
        'PostgresDown',
        'RedisDown',
        'PostgresConnectionsHigh',
        'AgentScrapeFailing',
      ]),
    );
    for (const name of names) {
      expect(fires.has(name), `${name} has a firing test`).toBe(true);
      expect(silent.has(name), `${name} has a silent test`).toBe(true);
    }
  });

  it('every alert has for:, a severity, summary, description and a runbook that exists', () => {
    for (const group of loadAlertRules().groups) {
      for (const rule of group.rules) {
        if (!rule.alert) continue;
        expect(rule.for, `${rule.alert} for:`).toMatch(/^\d+[smh]$/);
        expect(['critical', 'warning'], `${rule.alert} severity`).toContain(rule.labels?.severity);
        expect(rule.annotations?.summary, `${rule.alert} summary`).toBeTruthy();
        expect(rule.annotations?.description, `${rule.alert} description`).toBeTruthy();
        const url = rule.annotations?.runbook_url ?? '';
        const match = /\/monitoring\/runbooks\/([A-Za-z]+\.md)$/.exec(url);
        expect(match, `${rule.alert} runbook_url ${url}`).not.toBeNull();
        expect(match![1]).toBe(`${rule.alert}.md`);
        const runbook = path.join(MONITORING, 'runbooks', match![1]);
        expect(fs.existsSync(runbook), `${runbook} exists`).toBe(true);
        expect(fs.readFileSync(runbook, 'utf8')).toMatch(new RegExp(`^# ${rule.alert}\\b`));
      }
    }
  });

  it('alerts read agent metrics only through per-service recorded series, name no job, and ratios guard against zero traffic', () => {
    const rawAgentMetric = /(^|[^:a-z_])(http_|ai_|openai_|db_query_|cache_operations_|nodejs_|process_)[a-z_]*/;
    const recorded = new Set<string>(
      readYaml(path.join(MONITORING, 'recording-rules.yml')).groups.flatMap((g: any) => g.rules.map((r: any) => r.record)),
    );
    for (const group of loadAlertRules().groups) {
      for (const rule of group.rules) {
        if (!rule.alert) continue;
        expect(rule.expr, `${rule.alert} selects no job`).not.toMatch(/job\s*[!=]/);
        expect(rule.expr, `${rule.alert} reads no raw agent metric`).not.toMatch(rawAgentMetric);
        for (const name of rule.expr.match(/[a-z_]+:[a-z0-9_]+:[a-z0-9_]+/g) ?? []) expect(recorded.has(name), `${rule.alert} reads ${name}`).toBe(true);
      }
    }
    for (const group of readYaml(path.join(MONITORING, 'recording-rules.yml')).groups as Array<{ rules: Array<{ record: string; expr: string }> }>) {
      for (const rule of group.rules) {
        if (/\n\s*\/\n/.test(rule.expr)) expect(rule.expr, `${rule.record} filters its denominator with > 0`).toMatch(/\/\s*\n\s*\(.*> 0\)/s);
      }
    }
  });

  it('remote-writes the recorded and availability series only, with queue settings, and labels the cluster', () => {
    const config = readYaml(path.join(MONITORING, 'prometheus.yml'));
    expect(config.global.external_labels.cluster).toMatch(/^[a-z0-9-]+$/);
    expect(config.rule_files).toEqual(['recording-rules.yml', 'alerts.yml']);
    expect(config.remote_write).toHaveLength(1);
    const rw = config.remote_write[0];
    expect(rw.url).toMatch(/^http:\/\/long-term-store:8428\/api\/v1\/write$/);
    expect(rw.queue_config).toMatchObject({ capacity: expect.any(Number), max_shards: expect.any(Number), max_samples_per_send: expect.any(Number) });
    expect(rw.write_relabel_configs).toEqual([{ source_labels: ['__name__'], regex: '.+:.+|up|ALERTS|pg_up|redis_up', action: 'keep' }]);
    const keep = new RegExp(`^(?:${rw.write_relabel_configs[0].regex})$`);
    for (const name of ['service:http_requests:rate5m', 'job_instance:up:otel_agent', 'up', 'ALERTS']) expect(keep.test(name), name).toBe(true);
    for (const name of ['http_requests_total', 'http_request_duration_seconds_bucket', 'nodejs_version_info']) expect(keep.test(name), name).toBe(false);
    const compose = readYaml(path.join(MONITORING, 'docker-compose.monitoring.yml'));
    expect(compose.services['long-term-store'].command).toContain('-httpListenAddr=:8428');
  });

  it('scrapes every target with a service label, keeps the agent label with honor_labels, and loads rules by relative path', () => {
    const config = readYaml(path.join(MONITORING, 'prometheus.yml'));
    for (const file of config.rule_files as string[]) {
      expect(path.isAbsolute(file), `${file} is relative`).toBe(false);
      expect(fs.existsSync(path.join(MONITORING, file))).toBe(true);
    }
    const jobs = config.scrape_configs as Array<Record<string, any>>;
    const agent = jobs.find((j) => j.job_name === 'node-services');
    expect(agent, 'the agent job of the shipped layout (the rules do not depend on its name)').toBeDefined();
    expect(agent!.honor_labels).toBe(true);
    expect(agent!.metrics_path ?? '/metrics').toBe('/metrics');
    const jobNames = jobs.map((j) => j.job_name);
    expect(jobNames).toEqual(expect.arrayContaining(['postgres-exporter', 'redis-exporter', 'otel-collector', 'prometheus']));
    for (const job of jobs) {
      const groups: Array<{ targets: string[]; labels?: Record<string, string> }> = [...(job.static_configs ?? [])];
      for (const sd of job.file_sd_configs ?? []) {
        for (const pattern of sd.files as string[]) {
          const dir = path.join(MONITORING, path.dirname(pattern));
          const re = new RegExp(`^${path.basename(pattern).replace(/\./g, '\\.').replace(/\*/g, '.*')}$`);
          const files = fs.readdirSync(dir).filter((f) => re.test(f));
          expect(files.length, `${pattern} matches a file`).toBeGreaterThan(0);
          for (const f of files) groups.push(...(parseYaml(fs.readFileSync(path.join(dir, f), 'utf8')) ?? []));
        }
      }
      expect(groups.length, `${job.job_name} has targets`).toBeGreaterThan(0);
      for (const g of groups) expect(g.labels?.service, `${job.job_name} ${g.targets.join(',')} service label`).toMatch(/^[a-z][a-z0-9-]*$/);
      if (job.job_name === 'node-services') {
        for (const g of groups) for (const t of g.targets) expect(t).toMatch(/:9464$/);
      }
    }
  });

  it('the Kubernetes annotation-based scrape job passes promtool (service discovery swapped for a static target)', () => {
    // Debian's Prometheus is built without Kubernetes discovery, so the relabelling is checked
    // with the discovery block replaced by a static target; the discovery block itself only
    // statically (role endpoints).
    const file = path.join(MONITORING, 'kubernetes', 'prometheus-scrape-annotations.yml');
    const config = readYaml(file);
    const job = config.scrape_configs[0];
    expect(job.job_name).toBe('node-services');
    expect(job.honor_labels).toBe(true);
    expect(job.kubernetes_sd_configs).toEqual([{ role: 'endpoints' }]);
    delete job.kubernetes_sd_configs;
    job.static_configs = [{ targets: ['pod:3000'] }];
    const dir = tempDir('prom-k8s');
    fs.copyFileSync(path.join(MONITORING, 'alerts.yml'), path.join(dir, 'alerts.yml'));
    fs.copyFileSync(path.join(MONITORING, 'recording-rules.yml'), path.join(dir, 'recording-rules.yml'));
    fs.writeFileSync(path.join(dir, 'prometheus.yml'), JSON.stringify(config));
    const res = run(promtool(), ['check', 'config', path.join(dir, 'prometheus.yml')]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
