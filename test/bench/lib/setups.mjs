// The setups the benchmark compares, as command-line flags and environment for `node`.
// Everything binds or talks to 127.0.0.1 only.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { freePort } from './processes.mjs';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const AGENT = path.join(REPO, 'dist/register.js');
export const APP = path.join(REPO, 'test/bench/app.mjs');
export const EMPTY = path.join(REPO, 'test/bench/empty.mjs');
export const LOAD = path.join(REPO, 'test/bench/load.mjs');

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
    OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os,process,serviceinstance,container',
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
