/**
 * The Grafana dashboard and its provisioning. There is no Grafana here: the JSON structure is
 * checked statically, and every PromQL query is checked by the real promtool (each one wrapped as
 * a recording rule, with Grafana's variables replaced by values). Whether the queries return data
 * is checked against a live Prometheus in prometheus-live.test.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { DASHBOARD_FILE, MONITORING, concreteQuery, dashboardQueries, describeWithTools, readYaml, run, tempDir, tools } from './helpers';

function allPanels(): any[] {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8'));
  const out: any[] = [];
  const visit = (panels: any[]) => {
    for (const p of panels ?? []) {
      out.push(p);
      visit(p.panels);
    }
  };
  visit(dashboard.panels);
  return out;
}

describeWithTools('Grafana dashboard and provisioning', ['promtool', 'yamlParser'], () => {
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8'));
  const text = fs.readFileSync(DASHBOARD_FILE, 'utf8');

  const provisionedUid = () => {
    const dir = path.join(MONITORING, 'grafana', 'provisioning', 'datasources');
    const files = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
    const sources = files.flatMap((f) => readYaml(path.join(dir, f)).datasources ?? []);
    const prom = sources.filter((s: any) => s.type === 'prometheus');
    expect(prom).toHaveLength(1);
    return prom[0] as { uid: string; url: string; isDefault: boolean };
  };

  it('provisions exactly one Prometheus data source with a fixed uid, as the default, at the compose service', () => {
    const ds = provisionedUid();
    expect(ds.uid).toBe('prometheus');
    expect(ds.isDefault).toBe(true);
    expect(ds.url).toBe('http://prometheus:9090');
  });

  it('provisions the dashboard from the directory docker-compose mounts grafana-dashboard.json into', () => {
    const dir = path.join(MONITORING, 'grafana', 'provisioning', 'dashboards');
    const providers = fs
      .readdirSync(dir)
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap((f) => readYaml(path.join(dir, f)).providers ?? []);
    expect(providers).toHaveLength(1);
    expect(providers[0].type).toBe('file');
    const compose = readYaml(path.join(MONITORING, 'docker-compose.monitoring.yml'));
    const volumes: string[] = compose.services.grafana.volumes;
    const dashboardMount = volumes.find((v) => v.startsWith('./grafana-dashboard.json:'));
    expect(dashboardMount, 'grafana-dashboard.json is mounted').toBeDefined();
    const target = dashboardMount!.split(':')[1];
    expect(path.posix.dirname(target)).toBe(providers[0].options.path);
    expect(volumes).toContain('./grafana/provisioning:/etc/grafana/provisioning:ro');
  });

  it('uses the provisioned data source (directly or through the datasource variable), never ${DS_...} inputs', () => {
    const uid = provisionedUid().uid;
    expect(text).not.toMatch(/\$\{DS_/);
    expect(dashboard.__inputs).toBeUndefined();
    const variable = dashboard.templating.list.find((v: any) => v.name === 'datasource');
    expect(variable.type).toBe('datasource');
    expect(variable.query).toBe('prometheus');
    expect(variable.current.value).toBe(uid);
    const allowed = new Set(['${datasource}', uid]);
    for (const p of allPanels()) {
      if (p.type === 'row') continue;
      expect(allowed.has(p.datasource?.uid), `panel ${p.title} datasource ${JSON.stringify(p.datasource)}`).toBe(true);
      for (const t of p.targets) expect(allowed.has(t.datasource?.uid), `${p.title}/${t.refId} datasource`).toBe(true);
    }
  });

  it('has a service variable listing the agent targets whatever the job layout (a recorded series), multi-select with All', () => {
    const variable = dashboard.templating.list.find((v: any) => v.name === 'service');
    expect(variable).toBeDefined();
    expect(variable.type).toBe('query');
    expect(variable.query.query).toBe('label_values(service:up:count, service)');
    expect(variable.query.query).not.toMatch(/job=/);
    expect(variable.multi).toBe(true);
    expect(variable.includeAll).toBe(true);
    expect(variable.datasource.uid).toBe('${datasource}');
  });

  it('gives every panel a unit, a unique id, a position and at least one query', () => {
    const ids = new Set<number>();
    for (const p of allPanels()) {
      expect(ids.has(p.id), `duplicate panel id ${p.id}`).toBe(false);
      ids.add(p.id);
      expect(p.gridPos).toMatchObject({ w: expect.any(Number), h: expect.any(Number), x: expect.any(Number), y: expect.any(Number) });
      if (p.type === 'row') continue;
      expect(p.fieldConfig?.defaults?.unit, `panel "${p.title}" unit`).toMatch(/^[a-zA-Z]+$/);
      expect(p.targets.length, `panel "${p.title}" queries`).toBeGreaterThan(0);
    }
  });

  it('uses $__rate_interval for every range, and filters every agent metric and recorded series by $service', () => {
    for (const q of dashboardQueries()) {
      const ranges = q.expr.match(/\[[^\]]*\]/g) ?? [];
      for (const r of ranges) expect(r, `${q.panel}/${q.refId}`).toBe('[$__rate_interval]');
      const calls = q.expr.match(/\b(rate|irate|increase)\(/g) ?? [];
      expect(ranges.length, `${q.panel}/${q.refId}: one range per rate()`).toBe(calls.length);
      const selectors =
        q.expr.match(
          /(\b(http_|ai_|openai_|db_query_|cache_operations_|nodejs_|process_|active_connections)[a-z_]*|[a-z_]+:[a-z0-9_]+:[a-z0-9_]+)\{[^}]*\}/g,
        ) ?? [];
      for (const s of selectors) expect(s, `${q.panel}/${q.refId}`).toMatch(/service=~"\$service"/);
    }
  });

  it('covers RED per service, connections, AI, database, cache, memory against its limit and event-loop lag', () => {
    const exprs = dashboardQueries()
      .map((q) => q.expr)
      .join('\n');
    for (const needle of [
      'service:http_requests:rate5m{',
      'status_code=~"5.."',
      'histogram_quantile(0.5, sum by (service, le) (service_le:http_request_duration_seconds_bucket:rate5m',
      'histogram_quantile(0.95, sum by (service, le) (service_le:http_request_duration_seconds_bucket:rate5m',
      'histogram_quantile(0.99, sum by (service, le) (service_le:http_request_duration_seconds_bucket:rate5m',
      'active_connections{',
      'service_model_status:ai_generation:rate5m{',
      'service_model_le:ai_generation_duration_seconds_bucket:rate5m{',
      'service_model_token_type:openai_tokens_used:rate5m{',
      'service_model:ai_cost_usd:rate5m{',
      'service_db_system_operation_le:db_query_duration_seconds_bucket:rate5m{',
      'service_result:cache_reads:rate5m{service=~"$service", result="hit"}',
      'service:memory_usage:ratio_max{',
      'process_memory_limit_bytes{',
      'nodejs_heap_size_limit_bytes{',
      'service:nodejs_eventloop_lag_seconds:max{',
    ]) {
      expect(exprs, `a query uses ${needle}`).toContain(needle);
    }
  });

  it('reads the service-level panels from recorded series only, so they work on the global Prometheus too', () => {
    const recorded = new Set(
      readYaml(path.join(MONITORING, 'recording-rules.yml')).groups.flatMap((g: any) => g.rules.map((r: any) => r.record as string)),
    );
    // per-route, per-instance and exporter panels read raw series and stay cluster-only (README, "Scaling out")
    const clusterOnly = new Set([
      'Slowest routes (P95)',
      'Active connections',
      'OpenAI API calls by status code',
      'Memory against its limits',
      'Time spent in garbage collection',
      'PostgreSQL',
      'Redis',
      'PostgreSQL connections used',
    ]);
    let checked = 0;
    for (const q of dashboardQueries()) {
      if (clusterOnly.has(q.panel)) continue;
      const names = q.expr.match(/[a-z_]+:[a-z0-9_]+:[a-z0-9_]+/g) ?? [];
      expect(names.length, `${q.panel}/${q.refId} reads a recorded series`).toBeGreaterThan(0);
      for (const n of names) expect(recorded.has(n), `${n} is recorded in recording-rules.yml`).toBe(true);
      expect(q.expr, `${q.panel}/${q.refId} reads no raw series`).not.toMatch(
        /\brate\(|\b(http|ai|openai|db_query|cache_operations|nodejs|process)_[a-z_]+\{/,
      );
      checked++;
    }
    expect(checked).toBeGreaterThan(15);
  });

  it('every query is valid PromQL for promtool (wrapped as recording rules, variables replaced)', () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(20);
    const variableQuery = dashboard.templating.list.find((v: any) => v.name === 'service').query.query as string;
    const selector = /^label_values\((.*), service\)$/.exec(variableQuery)![1];
    const rules = [...queries.map((q) => ({ ...q, expr: concreteQuery(q.expr, 'checkout') })), { panel: 'service variable', refId: 'A', expr: selector }];
    for (const r of rules) expect(r.expr, `${r.panel}/${r.refId} has no variable left`).not.toMatch(/\$/);
    const file = path.join(tempDir('dashboard-rules'), 'dashboard.rules.yml');
    const groups = [
      {
        name: 'dashboard',
        rules: rules.map((r, i) => ({ record: `dashboard:query_${i}`, expr: r.expr })),
      },
    ];
    fs.writeFileSync(file, JSON.stringify({ groups }, null, 2));
    const res = run(tools().promtool!, ['check', 'rules', file]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain(`SUCCESS: ${rules.length} rules found`);

    // and promtool does reject a broken query, so the check above means something
    fs.writeFileSync(
      file,
      JSON.stringify({ groups: [{ name: 'x', rules: [{ record: 'x:y', expr: 'sum by (service) (rate(http_requests_total[5m])' }] }] }),
    );
    expect(run(tools().promtool!, ['check', 'rules', file]).code).not.toBe(0);
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  });
});
