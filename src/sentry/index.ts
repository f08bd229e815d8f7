/**
 * Sentry: entry point called by lifecycle/start only when SENTRY_DSN is set, before tracing
 * starts, so that the span processors it returns are part of the tracer provider.
 */
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { AgentContext } from '../lifecycle/context';

export interface SentrySetup {
  /** Span processors that send the agent's spans to Sentry (over OTLP). */
  spanProcessors: SpanProcessor[];
}

export function prepareSentry(context: AgentContext): SentrySetup | undefined {
  void context;
  return undefined;
}

/** Called after the tracer provider is registered (Sentry.init with openTelemetryIntegration goes here). */
export function startSentry(context: AgentContext): void {
  void context;
}
