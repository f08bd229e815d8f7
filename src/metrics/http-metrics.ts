/**
 * Owns the HTTP server metrics: `http_requests_total`, `http_request_duration_seconds` and
 * `active_connections`. Instrumentations report finished requests here; label policy (route cap)
 * lives here so both metrics always carry the same route value.
 */
import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import { BoundedLabel } from './route';

/** Latency buckets in seconds; the alert and dashboard thresholds (0.5, 1, 2, 5 s) are bounds. */
export const HTTP_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

export interface HttpRequestRecord {
  method: string;
  route: string;
  statusCode: number;
  seconds: number;
}

export class HttpServerMetrics {
  private readonly requests: Counter;
  private readonly duration: Histogram;
  private readonly routes: BoundedLabel;
  private openConnections = 0;

  constructor(meter: Meter, routeLimit: number) {
    this.requests = meter.createCounter('http_requests_total', {
      description: 'HTTP requests served by the app, by method, route and status code',
    });
    this.duration = meter.createHistogram('http_request_duration_seconds', {
      description: 'Time from request headers received to response finished',
      unit: 's',
      advice: { explicitBucketBoundaries: HTTP_DURATION_BUCKETS },
    });
    meter
      .createObservableGauge('active_connections', {
        description: "Open client connections to the app's HTTP servers",
      })
      .addCallback((result) => result.observe(this.openConnections));
    this.routes = new BoundedLabel(routeLimit);
  }

  record(request: HttpRequestRecord): void {
    const attributes = {
      method: request.method,
      route: this.routes.admit(request.route),
      status_code: String(request.statusCode),
    };
    this.requests.add(1, attributes);
    this.duration.record(request.seconds, attributes);
  }

  connectionOpened(): void {
    this.openConnections++;
  }

  connectionClosed(): void {
    this.openConnections = Math.max(0, this.openConnections - 1);
  }
}
