/**
 * Sentry: entry point of the `sentry` integration (integrations/sentry.ts), which runs only when
 * SENTRY_DSN is set; it prepares before tracing starts, so that the span processors it returns
 * are part of the tracer provider.
 *
 * - prepareSentry reads the settings (a malformed DSN: one warning, nothing else happens) and,
 *   when SENTRY_TRACES_SAMPLE_RATE is above 0, returns the processor that sends the agent's spans
 *   to Sentry's OTLP endpoint (with a DSN alone no span is made for Sentry, as with Sentry's SDK).
 * - startSentry, once the tracer provider is registered and the client integrations have started,
 *   installs the error hooks, the breadcrumb consumers (breadcrumbs/), the profiler when this
 *   process is drawn (profiling.ts) and the shutdown flush. Without profiling, the Sentry SDK
 *   itself is loaded when the first error is reported.
 *
 * What is sent and what never is: docs/sentry.md.
 */
import type { SpanProcessor } from '@opentelemetry/sdk-trace';
import type { IntegrationContext } from '../integrations/types';
import { describeError, log as log } from '../logging/logger';
import { Breadcrumbs, recordAiGenerations, recordConsole, recordHttpClients, recordPgQueries, recordRedisCommands } from './breadcrumbs';
import { otlpTracesEndpoint } from './dsn';
import { watchHttpErrors, watchProcessErrors } from './hooks';
import { SentryMetrics } from './metrics';
import { loadProfiling, PROFILING_PACKAGE, resolveProfilingPackage, type Profiling } from './profiling';
import { proxyFor, proxyLabel } from './proxy';
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
  /** Where spans find the profiler id, once the reporter exists. */
  link: { profilerId: () => string | undefined };
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
  const link = { profilerId: (): string | undefined => undefined };
  if (settings.tracesSampleRate > 0) {
    const endpoint = otlpTracesEndpoint(settings.dsn);
    errors = new ErrorSpanIndex();
    const exporter = new SentryOtlpExporter(endpoint.url, endpoint.headers, scrubber, metrics, settings.proxy, () => link.profilerId());
    spanProcessors.push(new SentrySpanProcessor(errors, metrics, exporter, settings.tracesSampleRate));
  }
  prepared = { settings, metrics, scrubber, errors, link };
  if (settings.debug) {
    const proxy = proxyFor(new URL(`${settings.dsn.protocol}://${settings.dsn.host}`), settings.proxy);
    log.info(
      `Sentry: errors to ${settings.dsn.host} project ${settings.dsn.projectId}, environment ${settings.environment}, ` +
        `release ${settings.release ?? '(none)'}, spans ${settings.tracesSampleRate > 0 ? `over OTLP, ${settings.tracesSampleRate} of traces` : 'not sent (SENTRY_TRACES_SAMPLE_RATE unset)'}, ` +
        `breadcrumbs ${settings.maxBreadcrumbs}, profiling ${settings.profileSessionSampleRate > 0 ? `${settings.profileSessionSampleRate} of processes` : 'off'}, ` +
        `${proxy ? `through the proxy ${proxyLabel(proxy)}` : 'no proxy'}`,
    );
  }
  return { spanProcessors };
}

/** Called after the tracer provider is registered: the error hooks and the shutdown flush. */
export function startSentry(context: IntegrationContext): void {
  if (!prepared) return;
  const { settings, metrics, scrubber, errors, link } = prepared;
  const { config } = context;
  const profiling = settings.profileSessionSampleRate > 0 && Math.random() < settings.profileSessionSampleRate ? profilerOrWarn() : undefined;
  const reporter = new SentryReporter(settings, { name: config.serviceName, version: config.serviceVersion }, scrubber, metrics, profiling);
  const breadcrumbs = settings.maxBreadcrumbs > 0 ? startBreadcrumbs(context, settings.maxBreadcrumbs) : undefined;
  watchProcessErrors(reporter, errors, config.shutdownTimeoutMs, breadcrumbs);
  if (config.instrumentations.has('http')) watchHttpErrors(reporter, config.instrumentations, context.requests, breadcrumbs);
  if (profiling && reporter.startProfiling()) link.profilerId = () => reporter.profilerId();
  context.addFlusher(() => reporter.flush(config.shutdownTimeoutMs));
}

/** The consumers that fill the breadcrumb trails: one per source, on channels that already exist. */
function startBreadcrumbs(context: IntegrationContext, max: number): Breadcrumbs {
  const breadcrumbs = new Breadcrumbs(context.requests, max);
  const { channels } = context;
  if (channels.pgQueries) recordPgQueries(channels.pgQueries, breadcrumbs);
  for (const commands of channels.redisCommands) recordRedisCommands(commands, breadcrumbs);
  if (channels.aiGenerations) recordAiGenerations(channels.aiGenerations, breadcrumbs);
  recordHttpClients(breadcrumbs);
  recordConsole(breadcrumbs);
  return breadcrumbs;
}

/** The app's @sentry/profiling-node, or one warning saying what to install. */
function profilerOrWarn(): Profiling | undefined {
  const resolved = resolveProfilingPackage();
  if (!resolved) {
    log.warn(
      `SENTRY_PROFILE_SESSION_SAMPLE_RATE is set but ${PROFILING_PACKAGE} is not installed; install it in the app (npm install ${PROFILING_PACKAGE}) to send profiles. The app runs without profiling`,
    );
    return undefined;
  }
  try {
    return loadProfiling(resolved);
  } catch (error) {
    log.warn(`${PROFILING_PACKAGE} could not be loaded (${describeError(error)}); the app runs without profiling`);
    return undefined;
  }
}
