// The setups the benchmark compares, as command-line flags and environment for `node`.
// Everything binds or talks to 127.0.0.1 only.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { freePort } from './processes.mjs';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const AGENT = path.join(REPO, 'dist/register.js');
export const APP = path.join(REPO, 'test/bench/app.mjs');
export const EMPTY = path.join(REPO, 'test/bench/empty.mjs');
export const LOAD = path.join(REPO, 'test/bench/load.mjs');
export const SENTRY_PRELOAD = path.join(REPO, 'test/bench/sentry-preload.mjs');
/**
 * EDOT Node lives in its own tree (test/bench/peers, `npm ci --prefix test/bench/peers`): it pins
 * OpenTelemetry 2.x packages whose peer range excludes this project's @opentelemetry/api 1.10, and
 * the project's override of @opentelemetry/instrumentation would hand its instrumentations another
 * API copy, so in the project's tree it records no spans at all.
 */
export const EDOT_ENTRY = path.join(REPO, 'test/bench/peers/node_modules/@elastic/opentelemetry-node/import.mjs');

/** Upstream's zero-code entry, and the ESM loader hook its docs require for `import`ed modules. */
export const UPSTREAM_REGISTER = '@opentelemetry/auto-instrumentations-node/register';
export const UPSTREAM_ESM_HOOK = '@opentelemetry/instrumentation/hook.mjs';

export const DATABASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A clean environment: nothing OTEL_*, SENTRY_* or NODE_OPTIONS leaks in from the caller's shell. */
export function baseEnv() {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL,
    REDIS_URL,
    OTEL_SERVICE_NAME: 'bench-app',
  };
}

/** The resource detectors that read only this host (the cloud ones call metadata services). */
const LOCAL_DETECTORS = 'env,host,os,process,serviceinstance,container';

async function agentEnv() {
  return { OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1', OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()) };
}

async function upstreamEnv(ctx) {
  return {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_ENDPOINT: ctx.otlpUrl,
    OTEL_METRICS_EXPORTER: 'prometheus',
    OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
    OTEL_EXPORTER_PROMETHEUS_PORT: String(await freePort()),
    OTEL_LOGS_EXPORTER: 'none',
    // The cloud detectors (GCP, AWS, Azure, Alibaba) call metadata services off this host.
    OTEL_NODE_RESOURCE_DETECTORS: LOCAL_DETECTORS,
  };
}

// dd-trace sends traces to the agent URL; everything else it could send (telemetry, remote
// configuration, profiles, runtime and health metrics, data streams, crash reports) is turned off
// so nothing leaves the loopback stand-in, and the run measures tracing alone.
function datadogEnv(ctx) {
  return {
    DD_SERVICE: 'bench-app',
    DD_TRACE_AGENT_URL: ctx.datadogUrl,
    DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
    DD_REMOTE_CONFIGURATION_ENABLED: 'false',
    DD_PROFILING_ENABLED: 'false',
    DD_RUNTIME_METRICS_ENABLED: 'false',
    DD_TRACE_HEALTH_METRICS_ENABLED: 'false',
    DD_TRACE_STATS_COMPUTATION_ENABLED: 'false',
    DD_DATA_STREAMS_ENABLED: 'false',
    DD_CRASHTRACKING_ENABLED: 'false',
    DD_APPSEC_ENABLED: 'false',
    DD_IAST_ENABLED: 'false',
    DD_LLMOBS_ENABLED: 'false',
    DD_DOGSTATSD_HOST: '127.0.0.1',
    DD_AGENT_HOST: '127.0.0.1',
  };
}

// Elastic's OpenTelemetry distribution: traces over OTLP to the loopback receiver, its metrics and
// logs exporters off (the receiver takes traces only), no cloud detectors, no OpAMP endpoint.
function edotEnv(ctx) {
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: ctx.otlpUrl,
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_METRICS_EXPORTER: 'none',
    OTEL_LOGS_EXPORTER: 'none',
    OTEL_NODE_RESOURCE_DETECTORS: LOCAL_DETECTORS,
  };
}

/**
 * Each setup: id, label, node flags, and env(ctx) where ctx carries the sinks' URLs
 * ({ otlpUrl, sentryDsn }). `metricsPort(env)` says where its Prometheus text is served, if anywhere.
 */
export const SETUPS = {
  bare: { id: 'bare', label: 'bare', args: [], env: async () => ({}) },
  agentMetrics: {
    id: 'agent-metrics',
    label: 'agent: metrics',
    args: ['--import', AGENT],
    env: agentEnv,
  },
  agentTraces: {
    id: 'agent-traces',
    label: 'agent: metrics + traces',
    args: ['--import', AGENT],
    env: async (ctx) => ({ ...(await agentEnv()), OTEL_EXPORTER_OTLP_ENDPOINT: ctx.otlpUrl }),
  },
  // The lever users have for trace cost: the standard sampler variables, one trace in ten kept.
  agentTracesSampled: {
    id: 'agent-traces-10pct',
    label: 'agent: metrics + traces, 10 % of traces sampled',
    args: ['--import', AGENT],
    env: async (ctx) => ({
      ...(await agentEnv()),
      OTEL_EXPORTER_OTLP_ENDPOINT: ctx.otlpUrl,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.1',
    }),
  },
  agentSentry: {
    id: 'agent-sentry',
    label: 'agent: metrics + traces + Sentry',
    args: ['--import', AGENT],
    // Every trace to Sentry too (spans go to Sentry only with a rate set).
    env: async (ctx) => ({ ...(await agentEnv()), OTEL_EXPORTER_OTLP_ENDPOINT: ctx.otlpUrl, SENTRY_DSN: ctx.sentryDsn, SENTRY_TRACES_SAMPLE_RATE: '1' }),
  },
  agentSentryOnly: {
    id: 'agent-sentry-dsn',
    label: 'agent: metrics, SENTRY_DSN set',
    args: ['--import', AGENT],
    env: async (ctx) => ({ ...(await agentEnv()), SENTRY_DSN: ctx.sentryDsn }),
  },
  // Continuous profiling through the app's @sentry/profiling-node, every process profiled.
  agentSentryProfiling: {
    id: 'agent-sentry-profiling',
    label: 'agent: metrics, SENTRY_DSN + profiling',
    args: ['--import', AGENT],
    env: async (ctx) => ({ ...(await agentEnv()), SENTRY_DSN: ctx.sentryDsn, SENTRY_PROFILE_SESSION_SAMPLE_RATE: '1' }),
  },
  upstream: {
    id: 'upstream',
    label: 'upstream register + ESM hook',
    args: [`--experimental-loader=${UPSTREAM_ESM_HOOK}`, '--import', UPSTREAM_REGISTER],
    env: upstreamEnv,
  },
  upstreamRegisterOnly: {
    id: 'upstream-register',
    label: 'upstream register',
    args: ['--import', UPSTREAM_REGISTER],
    env: upstreamEnv,
  },
};

/**
 * Other vendors' zero-code tracers, each set up as its docs say for an ES-module app, tracing every
 * request and sending to a loopback stand-in for its backend. `spansTo` names the sink whose spans
 * the report counts for the setup.
 */
export const PEER_SETUPS = [
  {
    id: 'peer-dd-trace',
    label: 'peer: dd-trace',
    args: ['--import', 'dd-trace/initialize.mjs'],
    env: async (ctx) => datadogEnv(ctx),
    spansTo: 'datadog',
  },
  {
    id: 'peer-edot',
    label: 'peer: Elastic EDOT Node',
    args: ['--import', EDOT_ENTRY],
    env: async (ctx) => edotEnv(ctx),
    spansTo: 'otlp',
    missing: existsSync(EDOT_ENTRY) ? undefined : 'not installed: run `npm ci --prefix test/bench/peers`',
  },
  {
    id: 'peer-sentry',
    label: 'peer: @sentry/node, tracesSampleRate 1',
    args: ['--import', SENTRY_PRELOAD],
    env: async (ctx) => ({ SENTRY_DSN: ctx.sentryDsn }),
    spansTo: 'sentry',
  },
];

/**
 * BENCH_BASELINE_AGENT=<another build's dist/register.js>: the same agent setups with that build,
 * measured in the same run, so a change's cost is read against the build before it.
 */
export const BASELINE_AGENT = process.env.BENCH_BASELINE_AGENT;

export const BASELINE_SETUPS = BASELINE_AGENT
  ? [
      { ...SETUPS.agentMetrics, id: 'baseline-metrics', label: 'baseline build: metrics', args: ['--import', BASELINE_AGENT] },
      { ...SETUPS.agentTraces, id: 'baseline-traces', label: 'baseline build: metrics + traces', args: ['--import', BASELINE_AGENT] },
      {
        ...SETUPS.agentTracesSampled,
        id: 'baseline-traces-10pct',
        label: 'baseline build: metrics + traces, 10 % of traces sampled',
        args: ['--import', BASELINE_AGENT],
      },
    ]
  : [];

export function metricsPortOf(env) {
  return env.OTEL_EXPORTER_PROMETHEUS_PORT ? Number(env.OTEL_EXPORTER_PROMETHEUS_PORT) : undefined;
}
