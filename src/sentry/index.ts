/**
 * Sentry: entry point of the `sentry` integration (integrations/sentry.ts), which runs only when
 * SENTRY_DSN is set; it prepares before tracing starts, so that the span processors it returns
 * are part of the tracer provider.
 *
 * - prepareSentry reads the settings (a malformed DSN: one warning, nothing else happens) and
 *   returns the processor that sends the agent's spans to Sentry's OTLP endpoint.
 * - startSentry, once the tracer provider is registered, installs the error hooks and the
 *   shutdown flush. The Sentry SDK itself is loaded when the first error is reported.
 *
 * What is sent and what never is: docs/sentry.md.
 */
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { IntegrationContext } from '../integrations/types';
import { log } from '../logging/logger';
import { otlpTracesEndpoint } from './dsn';
import { watchHttpErrors, watchProcessErrors } from './hooks';
import { SentryMetrics } from './metrics';
import { SentryReporter } from './reporter';
import { Scrubber } from './scrub';
import { readSentrySettings, type SentrySettings } from './settings';
import { ErrorSpanIndex, SentryOtlpExporter, SentrySpanProcessor } from './spans';

export interface SentrySetup {
  /** Span processors that send the agent's spans to Sentry (over OTLP). */
  spanProcessors: SpanProcessor[];
}

interface Prepared {
  settings: SentrySettings;
  metrics: SentryMetrics;
  scrubber: Scrubber;
  errors: ErrorSpanIndex | undefined;
}

let prepared: Prepared | undefined;

export function prepareSentry(context: Omit<IntegrationContext, 'tracer'>): SentrySetup | undefined {
  const { settings, warnings } = readSentrySettings(context.env, context.config);
  for (const warning of warnings) log.warn(warning);
  if (!settings) return undefined;

  const metrics = new SentryMetrics(context.metrics.meter);
  const scrubber = new Scrubber(settings.scrubKeys, settings.scrubPattern);
  const spanProcessors: SpanProcessor[] = [];
  let errors: ErrorSpanIndex | undefined;
  if (settings.tracesSampleRate > 0) {
    const endpoint = otlpTracesEndpoint(settings.dsn);
    errors = new ErrorSpanIndex();
    const exporter = new SentryOtlpExporter(endpoint.url, endpoint.headers, scrubber, metrics);
    spanProcessors.push(new SentrySpanProcessor(errors, metrics, exporter, settings.tracesSampleRate));
  }
  prepared = { settings, metrics, scrubber, errors };
  if (settings.debug) {
    log.info(
      `Sentry: errors to ${settings.dsn.host} project ${settings.dsn.projectId}, environment ${settings.environment}, ` +
        `release ${settings.release ?? '(none)'}, spans ${settings.tracesSampleRate > 0 ? `over OTLP, ${settings.tracesSampleRate} of traces` : 'not sent'}`,
    );
  }
  return { spanProcessors };
}

/** Called after the tracer provider is registered: the error hooks and the shutdown flush. */
export function startSentry(context: IntegrationContext): void {
  if (!prepared) return;
  const { settings, metrics, scrubber, errors } = prepared;
  const { config } = context;
  const reporter = new SentryReporter(settings, { name: config.serviceName, version: config.serviceVersion }, scrubber, metrics);
  watchProcessErrors(reporter, errors, config.shutdownTimeoutMs);
  if (config.instrumentations.has('http')) watchHttpErrors(reporter, config.instrumentations, context.requests);
  context.addFlusher(() => reporter.flush(config.shutdownTimeoutMs));
}
