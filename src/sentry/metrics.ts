/**
 * The agent's self-metrics for Sentry, served on /metrics next to the app's:
 * - `otel_agent_sentry_events_dropped_total{reason}`: error events that did not reach Sentry;
 * - `otel_agent_sentry_spans_dropped_total{reason}`: spans that did not reach Sentry's OTLP endpoint.
 * `reason` is `queue_overflow` (the capped queue was full), `network_error` (refused, reset,
 * or no answer within the deadline), `rate_limited` (Sentry answered 429), `ratelimit_backoff`
 * (not sent while Sentry's 429 back-off lasts), `send_error` (another non-2xx answer),
 * `sdk_unavailable` (the Sentry SDK could not be loaded), or a reason the Sentry SDK reports
 * (`before_send`, `event_processor`, ...).
 */
import type { Counter, Meter } from '@opentelemetry/api';
import { CATALOGUE } from '../metrics/catalogue';

export class SentryMetrics {
  private readonly events: Counter;
  private readonly spans: Counter;

  constructor(meter: Meter) {
    this.events = meter.createCounter(CATALOGUE.sentryEventsDropped.name, {
      description: CATALOGUE.sentryEventsDropped.description,
    });
    this.spans = meter.createCounter(CATALOGUE.sentrySpansDropped.name, {
      description: CATALOGUE.sentrySpansDropped.description,
    });
  }

  eventsDropped(reason: string, count = 1): void {
    if (count > 0) this.events.add(count, { reason });
  }

  spansDropped(reason: string, count = 1): void {
    if (count > 0) this.spans.add(count, { reason });
  }
}
