/**
 * Turns what the hooks saw into Sentry events. The Sentry SDK (@sentry/core, ~0.1 s and ~25 MB)
 * is loaded when the first error is reported, not at start: a healthy service never pays for
 * it. Everything an event needs (the error, the span it happened in, the request) is noted when
 * the error happens, so an event built later still names the right trace.
 *
 * No Sentry global is touched: the client is not bound to Sentry's global scope and each event
 * gets its own scope, so an app that also uses Sentry keeps its own client untouched. Sentry's
 * own auto-instrumentation is not loaded at all (the agent's OpenTelemetry instrumentations make
 * the spans); only linked errors, de-duplication and source context lines are.
 */
import { context as otelContext, ROOT_CONTEXT } from '@opentelemetry/api';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import type { Client, ErrorEvent, Event, EventHint, Integration, Scope, StackParser } from '@sentry/core';
import { describeError, log } from '../logging/logger';
import type { SentryBreadcrumb } from './breadcrumbs/trail';
import type { SentryMetrics } from './metrics';
import { PROFILED_THREAD, type Profiling } from './profiling';
import type { Scrubber } from './scrub';
import type { SentrySettings } from './settings';
import { createPoster } from './transport';

/** One error or 5xx to report, with everything noted at the moment it happened. */
export interface Capture {
  /** The thrown value; absent for a 5xx answered without one. */
  error?: unknown;
  message?: string;
  level: 'fatal' | 'error';
  mechanism: string;
  trace?: { traceId: string; spanId: string; sampled: boolean };
  http?: HttpFacts;
  /** The breadcrumbs of the request (or of the work outside requests) it happened in, oldest first. */
  breadcrumbs?: SentryBreadcrumb[];
}

export interface HttpFacts {
  method: string;
  route: string;
  statusCode: number | undefined;
  url: string | undefined;
  headers: Record<string, string>;
}

/** Captures waiting for the SDK to load, at most; past it they are dropped and counted. */
export const PENDING_LIMIT = 100;
/** Envelopes being built or sent at once, at most (the Sentry SDK's own buffer). */
export const SEND_BUFFER = 30;
const SEND_TIMEOUT_MS = 5000;

interface Sdk {
  core: typeof import('@sentry/core');
  ServerRuntimeClient: typeof import('@sentry/core/server').ServerRuntimeClient;
  stackParser: StackParser;
  contextLines: (() => Integration) | undefined;
}

/**
 * @sentry/core as @sentry/node resolves it (it is @sentry/node's dependency), and two small
 * parts of @sentry/node by file (its Node stack parser and the context-lines integration),
 * instead of @sentry/node's entry point, which loads every integration it ships (~0.4 s, ~50 MB).
 */
function loadSdk(): Sdk {
  const fromNode = createRequire(require.resolve('@sentry/node'));
  const core = fromNode('@sentry/core') as typeof import('@sentry/core');
  const server = fromNode('@sentry/core/server') as typeof import('@sentry/core/server');
  let stackParser: StackParser;
  try {
    stackParser = (fromNode('./sdk/api.js') as { defaultStackParser: StackParser }).defaultStackParser;
  } catch {
    stackParser = core.createStackParser(server.nodeStackLineParser());
  }
  let contextLines: (() => Integration) | undefined;
  try {
    contextLines = (fromNode('./integrations/contextlines.js') as { contextLinesIntegration: () => Integration }).contextLinesIntegration;
  } catch {
    contextLines = undefined;
  }
  return { core, ServerRuntimeClient: server.ServerRuntimeClient, stackParser, contextLines };
}

export class SentryReporter {
  private sdk: Sdk | undefined;
  private client: Client | undefined;
  private failed = false;
  private pending: Capture[] = [];
  private scheduled = false;

  constructor(
    private readonly settings: SentrySettings,
    private readonly service: { name: string; version: string },
    private readonly scrubber: Scrubber,
    private readonly metrics: SentryMetrics,
    private readonly profiling?: Profiling,
  ) {}

  /** Loads the SDK now (not on the first error) and starts the continuous profiler; false if the SDK could not load. */
  startProfiling(): boolean {
    if (!this.profiling || !this.ensureClient()) return false;
    this.profiling.start();
    return true;
  }

  /** The profiler id spans and events are linked to, while this process profiles. */
  profilerId(): string | undefined {
    return this.client ? this.profiling?.profilerId() : undefined;
  }

  /** Queues a capture; the event is built on the next turn of the event loop. */
  capture(capture: Capture): void {
    if (this.failed) return this.metrics.eventsDropped('sdk_unavailable');
    if (this.pending.length >= PENDING_LIMIT) return this.metrics.eventsDropped('queue_overflow');
    this.pending.push(capture);
    if (this.scheduled) return;
    this.scheduled = true;
    // Built outside the request's trace, so nothing Sentry does is traced or mistaken for it.
    otelContext.with(ROOT_CONTEXT, () =>
      setImmediate(() => {
        this.scheduled = false;
        this.drain();
      }),
    );
  }

  /** Builds and sends what is queued, then waits for it for at most `timeoutMs`. */
  async flush(timeoutMs: number): Promise<void> {
    if (this.pending.length > 0) otelContext.with(ROOT_CONTEXT, () => this.drain());
    const client = this.client;
    if (!client) return;
    // The process is ending: the profile's last chunk goes with the events.
    if (this.profiling) {
      try {
        otelContext.with(ROOT_CONTEXT, () => this.profiling!.stop());
      } catch (error) {
        log.debug(`Sentry profile not stopped: ${describeError(error)}`);
      }
    }
    // Sentry's sockets are unref'd; this keeps the process alive while the flush is bounded.
    const hold = setTimeout(() => {}, timeoutMs);
    try {
      await client.flush(timeoutMs);
    } catch {
      // a transport failure was counted where it happened
    } finally {
      clearTimeout(hold);
    }
  }

  private drain(): void {
    const batch = this.pending.splice(0);
    if (batch.length === 0) return;
    const client = this.ensureClient();
    if (!client) return this.metrics.eventsDropped('sdk_unavailable', batch.length);
    for (const capture of batch) {
      try {
        this.send(client, capture);
      } catch (error) {
        this.metrics.eventsDropped('event_processor');
        log.debug(`Sentry event not built: ${describeError(error)}`);
      }
    }
  }

  private ensureClient(): Client | undefined {
    if (this.client || this.failed) return this.client;
    try {
      this.sdk = loadSdk();
      this.client = this.createClient(this.sdk);
    } catch (error) {
      this.failed = true;
      // @sentry/node is an optional peer dependency: the app installs it when it sets SENTRY_DSN.
      const absent = (error as { code?: unknown } | undefined)?.code === 'MODULE_NOT_FOUND';
      log.warn(
        absent
          ? 'SENTRY_DSN is set but @sentry/node is not installed beside the app (npm install @sentry/node); errors are not sent to Sentry'
          : `the Sentry SDK could not be loaded (${describeError(error)}); errors are not sent to Sentry`,
      );
    }
    return this.client;
  }

  private createClient(sdk: Sdk): Client {
    const { core } = sdk;
    const { settings, metrics } = this;
    if (settings.debug) core.debug.enable();
    const integrations: Integration[] = [core.linkedErrorsIntegration(), core.dedupeIntegration()];
    if (sdk.contextLines) integrations.push(sdk.contextLines());
    if (this.profiling) integrations.push(this.profiling.integration);

    const options = {
      dsn: settings.dsnText,
      environment: settings.environment,
      release: settings.release,
      serverName: os.hostname(),
      platform: 'node',
      runtime: { name: 'node', version: process.version },
      integrations,
      stackParser: sdk.stackParser,
      debug: settings.debug,
      // Breadcrumbs are the agent's own (breadcrumbs/), set on each event; the SDK keeps none.
      maxBreadcrumbs: 0,
      // The process was already drawn by SENTRY_PROFILE_SESSION_SAMPLE_RATE (index.ts); the agent starts and stops it.
      ...(this.profiling ? { profileSessionSampleRate: 1, profileLifecycle: 'manual' as const } : {}),
      sendClientReports: false,
      traceLifecycle: 'static' as const,
      // No personal data, no headers, bodies, cookies, query strings, GenAI or SQL content.
      dataCollection: {
        userInfo: false,
        cookies: false,
        httpHeaders: false,
        httpBodies: [],
        urlQueryParams: false,
        graphQL: { document: false, variables: false },
        genAI: { inputs: false, outputs: false },
        mcp: { inputs: false, outputs: false },
        databaseQueryData: false,
        queues: false,
        stackFrameVariables: false,
      },
      transportOptions: { bufferSize: SEND_BUFFER },
      transport: (transportOptions: import('@sentry/core').BaseTransportOptions) => {
        const post = createPoster(transportOptions.url, SEND_TIMEOUT_MS, settings.proxy);
        return core.createTransport(
          {
            ...transportOptions,
            recordDroppedEvent: (reason, category, count) => {
              if (category === 'error' || category === 'default') metrics.eventsDropped(reason, count ?? 1);
              transportOptions.recordDroppedEvent(reason, category, count);
            },
          },
          async (request) => {
            const response = await post(request.body, { 'content-type': 'application/x-sentry-envelope' });
            // 413 is counted by the SDK itself; 429 and other refusals are not.
            if (response.statusCode === 429) metrics.eventsDropped('rate_limited');
            else if (response.statusCode >= 400 && response.statusCode !== 413) metrics.eventsDropped('send_error');
            return { statusCode: response.statusCode, headers: { 'retry-after': response.retryAfter, 'x-sentry-rate-limits': response.rateLimits } };
          },
        );
      },
      beforeSend: (event: ErrorEvent, hint: EventHint) => this.scrubEvent(event, hint),
      // Spans reach Sentry over OTLP only; a Sentry transaction would be a duplicate.
      beforeSendTransaction: () => null,
    };
    core.applySdkMetadata(options, 'node');
    const client = new sdk.ServerRuntimeClient(options);
    const record = client.recordDroppedEvent.bind(client);
    client.recordDroppedEvent = (reason, category, count) => {
      if (category === 'error' || category === 'default') metrics.eventsDropped(reason, count ?? 1);
      record(reason, category, count);
    };
    client.init();
    return client;
  }

  private send(client: Client, capture: Capture): void {
    const { core } = this.sdk!;
    const scope: Scope = new core.Scope();
    scope.setLevel(capture.level);
    scope.setTag('service', this.service.name);
    if (capture.trace) {
      scope.setPropagationContext({
        traceId: capture.trace.traceId,
        propagationSpanId: capture.trace.spanId,
        sampled: capture.trace.sampled,
        sampleRand: Math.random(),
      });
    }
    const profilerId = this.profilerId();
    if (profilerId) scope.setContext('profile', { profiler_id: profilerId });
    const breadcrumbs = capture.breadcrumbs;
    if ((breadcrumbs && breadcrumbs.length > 0) || profilerId) {
      scope.addEventProcessor((event: Event) => {
        if (breadcrumbs && breadcrumbs.length > 0) event.breadcrumbs = breadcrumbs;
        if (profilerId && event.contexts?.trace) {
          event.contexts.trace.data = { ...event.contexts.trace.data, 'thread.id': PROFILED_THREAD.id, 'thread.name': PROFILED_THREAD.name };
        }
        return event;
      });
    }
    const http = capture.http;
    if (http) {
      scope.setTags({ 'http.method': http.method, 'http.route': http.route });
      if (http.statusCode !== undefined) {
        scope.setTag('http.status_code', String(http.statusCode));
        scope.setContext('response', { status_code: http.statusCode });
      }
      scope.setTransactionName(`${http.method} ${http.route}`);
      scope.addEventProcessor((event: Event) => {
        event.request = { method: http.method, ...(http.url ? { url: http.url } : {}), headers: http.headers };
        return event;
      });
    }
    const hint: EventHint = { mechanism: { type: capture.mechanism, handled: false } };
    if (capture.error !== undefined) {
      client.captureException(capture.error, { ...hint, originalException: capture.error }, scope);
    } else {
      client.captureMessage(capture.message ?? 'error', capture.level, hint, scope);
    }
  }

  /** beforeSend: the last look at every error event before it leaves. */
  private scrubEvent(event: ErrorEvent, hint: EventHint): ErrorEvent {
    if (looksLikeDatabaseError(hint.originalException)) {
      for (const value of event.exception?.values ?? []) if (value.value) value.value = this.scrubber.dbMessage(value.value);
    }
    const metadata = event.sdkProcessingMetadata;
    delete event.sdkProcessingMetadata;
    delete event.user;
    const scrubbed = this.scrubber.deep(event);
    if (metadata) scrubbed.sdkProcessingMetadata = metadata;
    return scrubbed;
  }
}

/** A PostgreSQL error (pg's DatabaseError): its message may quote the row's values. */
function looksLikeDatabaseError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; severity?: unknown; routine?: unknown };
  return typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && (typeof e.severity === 'string' || typeof e.routine === 'string');
}
