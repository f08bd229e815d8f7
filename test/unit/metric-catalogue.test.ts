/**
 * src/metrics/catalogue.ts is the one table of the agent's metrics. This keeps it true:
 * - every name is unique and a valid Prometheus name once the exporter has turned dots into underscores;
 * - no file of src/ but the catalogue writes a metric name (as a string, a template or a property
 *   name) or a metric's HELP text, so each owner module must take them from the catalogue;
 * - the owner modules, driven in-process onto a real Prometheus exporter, emit exactly the
 *   catalogue's names, HELP, TYPE, UNIT and label names (the runtime and Sentry families too,
 *   which the /metrics golden test does not see);
 * - docs/metrics.md is the table rendered from the catalogue:
 *   `UPDATE_METRICS_DOC=1 npx vitest run test/unit/metric-catalogue.test.ts` rewrites it.
 */
import * as fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { AiMetrics } from '../../src/ai/metrics';
import { SHIPPED_PRICES } from '../../src/ai/prices';
import { Pricer } from '../../src/ai/pricing';
import type { AgentConfig } from '../../src/config/types';
import { CacheMetrics } from '../../src/metrics/cache-metrics';
import { CATALOGUE, instrumentName, METRICS, PRICE_TABLE_PLACEHOLDER, type MetricDefinition } from '../../src/metrics/catalogue';
import { DbMetrics } from '../../src/metrics/db-metrics';
import { HttpServerMetrics } from '../../src/metrics/http-metrics';
import { createMetricsPipeline } from '../../src/metrics/provider';
import { readConfig } from '../../src/config/env';
import { registerRuntimeMetrics } from '../../src/metrics/runtime-metrics';
import { SentryMetrics } from '../../src/sentry/metrics';
import { parseFamilies } from '../helpers/prometheus-text';

const ROOT = path.join(__dirname, '..', '..');
const SRC = path.join(ROOT, 'src');
const CATALOGUE_FILE = path.join(SRC, 'metrics', 'catalogue.ts');
const DOC_FILE = path.join(ROOT, 'docs', 'metrics.md');

const PROMETHEUS_METRIC_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/; // the exporter's output never needs the `:` of recording rules
const PROMETHEUS_LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Gauges whose names end in `_total`: prom-client's counts of live handles, pending requests and
 * active resources, which the Node.js dashboards query under these names. The exporter adds
 * `_total` only to monotonic sums and leaves these names as they are.
 */
const TOTAL_GAUGES = new Set<string>([
  CATALOGUE.nodejsActiveHandlesTotal.name,
  CATALOGUE.nodejsActiveRequestsTotal.name,
  CATALOGUE.nodejsActiveResourcesTotal.name,
]);

/** Every name a metric goes by in src/: the Prometheus family and, when different, the instrument. */
const ALL_NAMES = METRICS.flatMap((m) => (m.instrument ? [m.name, m.instrument] : [m.name]));

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.(ts|js|mjs|cjs|json)$/.test(entry.name) ? [full] : [];
  });
}

/** Where a TypeScript file writes a metric name outside comments: literals, template parts, identifiers. */
function namesWritten(file: string, text: string, names: ReadonlySet<string>): string[] {
  const found: string[] = [];
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node: ts.Node): void => {
    let value: string | undefined;
    if (ts.isStringLiteralLike(node) || ts.isTemplateLiteralToken(node)) value = node.text;
    else if (ts.isIdentifier(node) || ts.isPrivateIdentifier(node)) value = node.text;
    if (value !== undefined && names.has(value)) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart());
      found.push(`${path.relative(ROOT, file)}:${line + 1}: ${value}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('metric catalogue: names', () => {
  it('has one entry per name: no Prometheus or instrument name twice', () => {
    expect(new Set(ALL_NAMES).size).toBe(ALL_NAMES.length);
    expect(new Set(METRICS.map((m) => m.name)).size).toBe(METRICS.length);
  });

  it.each(METRICS.map((m) => [m.name, m] as const))('%s is a valid Prometheus name after the exporter converts it', (_name, m) => {
    // The exporter writes an instrument name with its dots as underscores, and adds no suffix.
    expect(instrumentName(m).replace(/\./g, '_')).toBe(m.name);
    if (m.instrument !== undefined) expect(m.instrument).not.toBe(m.name);
    expect(m.name).toMatch(PROMETHEUS_METRIC_NAME);
    expect(m.name.startsWith('__')).toBe(false);
    if (m.type === 'counter') expect(m.name).toMatch(/_total$/);
    else if (TOTAL_GAUGES.has(m.name)) expect(m.type).toBe('gauge');
    else expect(m.name).not.toMatch(/_(total|bucket|count|sum|created)$/);
  });

  it.each(METRICS.map((m) => [m.name, m] as const))('%s has valid, distinct label names and the fields the docs need', (_name, m) => {
    for (const label of m.labels) {
      expect(label).toMatch(PROMETHEUS_LABEL_NAME);
      expect(label.startsWith('__')).toBe(false);
      // `service` is the constant label of every series; `le` is the exporter's bucket label.
      expect(['service', 'le']).not.toContain(label);
    }
    expect(new Set(m.labels).size).toBe(m.labels.length);
    expect(m.description.trim()).not.toBe('');
    expect(m.description).not.toMatch(/\n/);
    expect(fs.existsSync(path.join(ROOT, m.owner)), m.owner).toBe(true);
    if (!m.onByDefault) expect(m.when, `${m.name}: what turns it on`).toBeTruthy();
  });
});

describe('metric catalogue: one module owns each name', () => {
  const files = sourceFiles(SRC).filter((f) => f !== CATALOGUE_FILE);
  const names = new Set(ALL_NAMES);

  it('src/ writes no metric name in quotes outside catalogue.ts', () => {
    const found: string[] = [];
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      for (const name of ALL_NAMES) {
        // Single or double quotes; templates and identifiers are the next test's (comments may name a metric in backticks).
        if (new RegExp(`(['"])${escapeRegExp(name)}\\1`).test(text)) found.push(`${path.relative(ROOT, file)}: ${name}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('src/ writes no metric name as a literal, template part or identifier outside catalogue.ts', () => {
    const found = files.filter((f) => f.endsWith('.ts')).flatMap((f) => namesWritten(f, fs.readFileSync(f, 'utf8'), names));
    expect(found).toEqual([]);
  });

  it("src/ writes no metric's HELP text outside catalogue.ts", () => {
    const found: string[] = [];
    for (const file of files) {
      const text = fs.readFileSync(file, 'utf8');
      for (const m of METRICS) {
        const fixed = m.description.split(PRICE_TABLE_PLACEHOLDER)[0] as string;
        if (text.includes(fixed)) found.push(`${path.relative(ROOT, file)}: ${m.name}`);
      }
    }
    expect(found).toEqual([]);
  });

  it('the scan does see a name written outside the catalogue', () => {
    const sample = `const a = meter.createCounter('${CATALOGUE.httpRequests.name}');\nconst b = { ${CATALOGUE.nodejsEventloopLag.name}: 1 };\n// \`${CATALOGUE.cacheOperations.name}\` in a comment is fine`;
    expect(namesWritten('sample.ts', sample, names).map((s) => s.replace(/^.*: /, ''))).toEqual([
      CATALOGUE.httpRequests.name,
      CATALOGUE.nodejsEventloopLag.name,
    ]);
  });
});

function scrape(pipeline: ReturnType<typeof createMetricsPipeline>): Promise<string> {
  return new Promise((resolve) => {
    const response = { statusCode: 0, setHeader: () => undefined, end: (text: string) => resolve(text) };
    pipeline.exporter!.getMetricsRequestHandler({} as never, response as unknown as ServerResponse);
  });
}

/**
 * Families that appear only where the machine provides them: a cgroup memory limit, a GC so far,
 * a libuv request pending at the scrape, and /proc (Linux).
 */
const LINUX_ONLY = [CATALOGUE.processVirtualMemory, CATALOGUE.processHeap, CATALOGUE.processOpenFds, CATALOGUE.processMaxFds].map((m) => m.name);
const CONDITIONAL = new Set<string>([
  CATALOGUE.processMemoryLimit.name,
  CATALOGUE.nodejsGcDuration.name,
  CATALOGUE.nodejsActiveRequests.name,
  ...(process.platform === 'linux' ? [] : LINUX_ONLY),
]);

describe('metric catalogue: what the owner modules emit', () => {
  it('every family on /metrics is in the catalogue with its HELP, TYPE, UNIT and labels, and every entry is emitted', async () => {
    const config: AgentConfig = { ...readConfig({}).config, serviceName: 'catalogue', serviceVersion: '0.0.0', resourceAttributes: {} };
    const pipeline = createMetricsPipeline(config);
    try {
      const http = new HttpServerMetrics(pipeline, 10, true, 2000);
      http.record({ method: 'GET', route: '/a', statusCode: 200, seconds: 0.01, scheme: 'http' });
      http.connectionOpened();
      const db = new DbMetrics(pipeline, true);
      db.recordQuery('postgresql', 'SELECT', true, 0.002);
      db.recordQuery('postgresql', 'other', false, 0.002);
      new CacheMetrics(pipeline).record('get', 'hit');
      registerRuntimeMetrics(pipeline.meter);
      const pricer = new Pricer(SHIPPED_PRICES);
      const ai = new AiMetrics(pipeline.meter, pricer, { modelLimit: 10, routeLimit: 10, semconv: true });
      ai.recordAttempt('gpt-4o', 'chat', 200);
      const generation = {
        provider: 'openai',
        operation: 'chat',
        semconvOperation: 'chat',
        model: 'gpt-4o',
        requestModel: 'gpt-4o',
        responseModel: 'gpt-4o',
        stream: true,
        route: '/a',
        status: 'success',
        errorType: undefined,
        seconds: 1,
        firstTokenSeconds: 0.2,
        usage: { input: 10, output: 5, cachedInput: 2, reasoning: 1 },
      } as const;
      ai.recordGeneration(generation);
      ai.recordGeneration({
        ...generation,
        model: 'no-such-model',
        requestModel: 'no-such-model',
        responseModel: undefined,
        status: 'error',
        errorType: '500',
      });
      const sentry = new SentryMetrics(pipeline.meter);
      sentry.eventsDropped('network_error');
      sentry.spansDropped('queue_overflow');

      const families = parseFamilies(await scrape(pipeline));
      const byName = new Map(METRICS.map((m) => [m.name, m]));
      const problems: string[] = [];
      for (const [name, f] of families) {
        const m = byName.get(name);
        if (!m) {
          problems.push(`${name}: on /metrics, not in the catalogue`);
          continue;
        }
        const help = m.description.replace(PRICE_TABLE_PLACEHOLDER, pricer.table.version);
        if (f.help !== help) problems.push(`${name}: HELP ${JSON.stringify(f.help)}, catalogue ${JSON.stringify(help)}`);
        if (f.type !== m.type) problems.push(`${name}: TYPE ${f.type}, catalogue ${m.type}`);
        if (f.unit !== m.unit) problems.push(`${name}: UNIT ${f.unit}, catalogue ${m.unit}`);
        const labels = [...f.labels].sort();
        if (labels.join() !== [...m.labels].sort().join()) problems.push(`${name}: labels ${labels.join()}, catalogue ${m.labels.join()}`);
      }
      for (const m of METRICS) {
        if (!families.has(m.name) && !CONDITIONAL.has(m.name)) problems.push(`${m.name}: in the catalogue, not on /metrics`);
      }
      expect(problems).toEqual([]);
    } finally {
      await pipeline.provider.shutdown();
    }
  });
});

/** docs/metrics.md, rendered from the catalogue. */
function renderMetricsDoc(metrics: readonly MetricDefinition[]): string {
  const code = (s: string) => `\`${s}\``;
  const rows = metrics.map((m) => {
    const name = m.instrument ? `${code(m.name)} (instrument ${code(m.instrument)})` : code(m.name);
    const labels = m.labels.map(code).join(', ');
    const when = (m.when ?? '').replace(/\b([A-Z][A-Z0-9_]{3,}(?:=\S+)?)/g, '`$1`'); // settings as code
    const on = m.onByDefault ? (when ? `yes, when ${when}` : 'yes') : `no: ${when}`;
    const help = m.description.replace(/\|/g, '\\|');
    return `| ${name} | ${m.type} | ${m.unit ? code(m.unit) : ''} | ${labels} | ${code(m.owner)} | ${on} | ${help} |`;
  });
  return [
    '# Metrics',
    '',
    '<!-- Generated from src/metrics/catalogue.ts by test/unit/metric-catalogue.test.ts; do not edit by hand.',
    '     UPDATE_METRICS_DOC=1 npx vitest run test/unit/metric-catalogue.test.ts rewrites it. -->',
    '',
    `Every metric the agent's own modules can put on \`/metrics\` (${metrics.length}), in the order of`,
    '`src/metrics/catalogue.ts`, which is the one place their names, units and HELP texts are written.',
    'Every series also carries the constant label `service`; histograms add `le` to their `_bucket` series.',
    'An entry "on by default" appears once its integration is active and has something to count.',
    '`{priceTable}` in a HELP text stands for the version of the price table in use.',
    '',
    "Not listed, because the agent's modules do not create them: the OpenTelemetry SDK's span",
    'pipeline self-metrics (`otel_sdk_*`, when traces are on) and the instruments of the OpenTelemetry',
    'instrumentation libraries (only with `TUTOR_OTEL_SEMCONV_METRICS=true`).',
    '',
    '| name | type | unit | labels | owner | on by default | HELP |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

describe('docs/metrics.md', () => {
  it('is the table rendered from the catalogue', () => {
    const rendered = renderMetricsDoc(METRICS);
    if (process.env.UPDATE_METRICS_DOC === '1') fs.writeFileSync(DOC_FILE, rendered);
    const doc = fs.readFileSync(DOC_FILE, 'utf8');
    // First the names, so a drift reads as a name list; then the whole text.
    const listed = [...doc.matchAll(/^\| `([^`]+)`/gm)].map((m) => m[1]);
    expect(listed).toEqual(METRICS.map((m) => m.name));
    expect(doc, 'rerun with UPDATE_METRICS_DOC=1 and review the diff').toBe(rendered);
  });
});
