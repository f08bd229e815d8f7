/**
 * Owns the HTTP server metrics: `http_requests_total`, `http_request_duration_seconds` and
 * `active_connections`, and, when asked for (TUTOR_OTEL_SEMCONV_METRICS), their semantic-convention
 * twin `http.server.request.duration`. Instrumentations report finished requests here; label
 * policy (route cap and series budget, http/series-budget.ts) lives here so every metric carries
 * the same labels.
 */
import type { Histogram } from '@opentelemetry/api';
import type { LabelledCounter, LabelledHistogram } from './aggregates';
import { CATALOGUE } from './catalogue';
import { semconvHistogram, type MetricInstruments } from './provider';
import { HttpSeriesBudget } from '../http/series-budget';

/** Latency buckets in seconds; the alert and dashboard thresholds (0.5, 1, 2, 5 s) are bounds. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

/** The buckets the HTTP semantic conventions advise for `http.server.request.duration`. */
export const SEMCONV_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export interface HttpRequestRecord {
  method: string;
  route: string;
  /** A framework named the route template (such routes never spend the route budget). */
  templated?: boolean;
  statusCode: number;
  seconds: number;
  /** `http` or `https`; only the semantic-convention twin uses it. */
  scheme?: string;
}

export class HttpServerMetrics {
  private readonly requests: LabelledCounter;
  private readonly duration: LabelledHistogram;
  private readonly semconvDuration: Histogram | undefined;
  private readonly budget: HttpSeriesBudget;
  private openConnections = 0;

  constructor({ meter, aggregates }: MetricInstruments, routeLimit: number, semconv: boolean, seriesLimit: number) {
    this.requests = aggregates.counter(
      { name: CATALOGUE.httpRequests.name, description: CATALOGUE.httpRequests.description },
      CATALOGUE.httpRequests.labels,
    );
    this.duration = aggregates.histogram(
      { name: CATALOGUE.httpRequestDuration.name, description: CATALOGUE.httpRequestDuration.description, unit: CATALOGUE.httpRequestDuration.unit },
      CATALOGUE.httpRequestDuration.labels,
      HTTP_DURATION_BUCKETS,
    );
    meter
      .createObservableGauge(CATALOGUE.activeConnections.name, {
        description: CATALOGUE.activeConnections.description,
      })
      .addCallback((result) => result.observe(this.openConnections));
    this.budget = new HttpSeriesBudget(routeLimit, seriesLimit);
    this.semconvDuration = semconvHistogram(
      meter,
      semconv,
      CATALOGUE.httpServerRequestDuration.instrument,
      CATALOGUE.httpServerRequestDuration.description,
      SEMCONV_DURATION_BUCKETS,
    );
  }

  /** Only the semantic-convention twin reads the scheme; without it nobody computes one. */
  get recordsScheme(): boolean {
    return this.semconvDuration !== undefined;
  }

  record(request: HttpRequestRecord): void {
    const { labels, folded } = this.budget.labels(request.method, request.route, request.templated === true, request.statusCode);
    this.requests.add(1, labels);
    this.duration.record(request.seconds, labels);
    this.semconvDuration?.record(request.seconds, {
      'http.request.method': labels[0],
      'http.route': labels[1],
      'http.response.status_code': folded ? labels[2] : request.statusCode,
      'url.scheme': request.scheme ?? 'http',
    });
  }

  connectionOpened(): void {
    this.openConnections++;
  }

  connectionClosed(): void {
    this.openConnections = Math.max(0, this.openConnections - 1);
  }
}
