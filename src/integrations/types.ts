/**
 * The integration contract. Every integration (a framework, a client library, an SDK, Sentry, the
 * runtime metrics) is one module exporting one object of this shape; integrations/registry.ts
 * lists them. The enabled-name parsing, the ESM hook's package list, the upstream span
 * instrumentations, the health check kinds and the start sequence all derive from that list.
 */
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { AgentConfig } from '../config/types';
import type { Dependency, DependencyRegistry, HealthKind } from '../health/dependencies';
import type { ServerRequests } from '../http/requests';
import type { Generation } from '../ai/generation';
import type { RedisOperation } from '../instrumentations/redis-common/operation';
import type { OperationChannel } from '../instrumentations/operation-channel';
import type { PgQuery } from '../instrumentations/pg/instrumentation';
import type { Flusher } from '../lifecycle/shutdown';
import type { MetricsPipeline } from '../metrics/provider';
import type { AgentTracer } from '../tracing/agent-tracer';

/** What an integration gives the user; the README's support table and the start-up line use it. */
export type Capability = 'metrics' | 'spans' | 'health' | 'route-templates' | 'errors';

/** An upstream OpenTelemetry instrumentation, as the agent drives it. */
export interface UpstreamInstrumentation {
  setTracerProvider(provider: TracerProvider): void;
  setMeterProvider(provider: MeterProvider): void;
  enable(): void;
  disable(): void;
}

/**
 * The operation channels of the enabled client integrations, for consumers that live in another
 * integration (Sentry's breadcrumbs). Each owner sets its channel in its `start`; a consumer reads
 * them in its own `start`, which comes later in the registry's order.
 */
export interface OperationChannels {
  pgQueries?: OperationChannel<PgQuery>;
  /** One per Redis client library in use (ioredis, node-redis). */
  redisCommands: OperationChannel<RedisOperation>[];
  aiGenerations?: OperationChannel<Generation>;
}

/** What every integration's `prepare` and `start` receive. */
export interface IntegrationContext {
  config: AgentConfig;
  env: NodeJS.ProcessEnv;
  /** The agent's metrics: instruments made here are served on /metrics. */
  metrics: Pick<MetricsPipeline, 'meter' | 'aggregates'>;
  /** The agent's tracer, when traces are on (undefined otherwise: make no spans). */
  tracer: AgentTracer | undefined;
  /** The incoming HTTP requests, one record each (see http/requests.ts). */
  requests: ServerRequests;
  /** What /health probes. */
  dependencies: DependencyRegistry;
  /** The client integrations' operation channels (see OperationChannels). */
  channels: OperationChannels;
  /** Work to finish (bounded by the shutdown deadline) on SIGTERM/SIGINT and at natural exit. */
  addFlusher(flush: Flusher): void;
}

export interface Integration {
  /** The short name users switch it with in OTEL_NODE_ENABLED/DISABLED_INSTRUMENTATIONS. */
  name: string;
  /** Other spellings of the same switch (`https` for `http`). */
  aliases?: readonly string[];
  /**
   * False: not switched by the instrumentation lists; `enabled` alone decides (Sentry: by its DSN;
   * runtime metrics: always).
   */
  switchable: boolean;
  provides: readonly Capability[];
  /** When it runs; by default, when its name is among the enabled instrumentations. */
  enabled?(config: AgentConfig): boolean;
  /** Packages the agent's own patches hook when enabled (for require and for the ESM hook). */
  patches?(config: AgentConfig): readonly string[];
  /** Packages the upstream span instrumentation hooks, when traces are on. */
  tracedPatches?: readonly string[];
  /** The upstream span instrumentation, loaded only when traces are on. */
  upstreamSpans?(): UpstreamInstrumentation;
  /**
   * The dependency kind it adds to /health, and the variable naming an extra target of that kind
   * (probed even when the integration itself is switched off).
   */
  health?: HealthKind & {
    urlVariable: string;
    /** URL schemes the variable accepts, with their colon (`postgres:`). */
    urlProtocols: readonly string[];
    configured(url: string): Pick<Dependency, 'key' | 'probe'>;
  };
  /**
   * Runs before tracing starts; returns span processors to add to the tracer provider (Sentry).
   * Context fields that need tracing (`tracer`) are not set yet.
   */
  prepare?(context: Omit<IntegrationContext, 'tracer'>): SpanProcessor[] | undefined;
  /** Installs its hooks and consumers. Synchronous: it runs in the preload, before the app's first import. */
  start(context: IntegrationContext): void;
}
