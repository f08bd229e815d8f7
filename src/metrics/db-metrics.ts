/** Owns `db_query_duration_seconds`. */
import type { Histogram, Meter } from '@opentelemetry/api';

/** Seconds; the SlowDatabaseQueries alert sits at 1 s, so 1 is a bound. */
export const DB_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type DbOperation = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'other';

export class DbMetrics {
  private readonly duration: Histogram;

  constructor(meter: Meter) {
    this.duration = meter.createHistogram('db_query_duration_seconds', {
      description: 'Database query time as the app saw it (queueing in the client included), by SQL verb and outcome',
      unit: 's',
      advice: { explicitBucketBoundaries: DB_DURATION_BUCKETS },
    });
  }

  recordQuery(dbSystem: string, operation: DbOperation, ok: boolean, seconds: number): void {
    this.duration.record(seconds, { db_system: dbSystem, operation, status: ok ? 'ok' : 'error' });
  }
}
