/**
 * What the agent's optional features (AI meters, Sentry) receive at start: the configuration, the
 * agent's meter (everything on it reaches /metrics), the dependency registry, and a way to be
 * flushed on shutdown. Features read their own variables from `env` with the parsers in
 * config/parse.ts and report bad values with `log.warn`, one line per variable.
 */
import type { Meter } from '@opentelemetry/api';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { AgentConfig } from '../config/types';
import type { DependencyRegistry } from '../health/dependencies';
import type { Flusher } from './shutdown';

export interface AgentContext {
  config: AgentConfig;
  env: NodeJS.ProcessEnv;
  /** The agent's meter: instruments created on it are served on /metrics. */
  meter: Meter;
  meterProvider: MeterProvider;
  dependencies: DependencyRegistry;
  /** Registers work to finish (bounded by the shutdown deadline) on SIGTERM/SIGINT and at natural exit. */
  addFlusher(flush: Flusher): void;
}
