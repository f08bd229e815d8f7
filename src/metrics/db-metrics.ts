/**
 * Owns `db_query_duration_seconds` and, when asked for (TUTOR_OTEL_SEMCONV_METRICS), its
 * semantic-convention twin `db.client.operation.duration`.
 */
import type { Histogram } from '@opentelemetry/api';
import type { LabelledHistogram } from './aggregates';
import { CATALOGUE } from './catalogue';
import { semconvHistogram, type MetricInstruments } from './provider';

/** Seconds; the SlowDatabaseQueries alert sits at 1 s, so 1 is a bound. */
export const DB_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type DbOperation = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE' | 'other';

/** The buckets the database semantic conventions advise for `db.client.operation.duration`. */
export const SEMCONV_DB_DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

export class DbMetrics {
  private readonly duration: LabelledHistogram;
  private readonly semconvDuration: Histogram | undefined;

  constructor({ meter, aggregates }: MetricInstruments, semconv = false) {
    this.duration = aggregates.histogram(
      {
        name: CATALOGUE.dbQueryDuration.name,
        description: CATALOGUE.dbQueryDuration.description,
        unit: CATALOGUE.dbQueryDuration.unit,
      },
      CATALOGUE.dbQueryDuration.labels,
      DB_DURATION_BUCKETS,
    );
    this.semconvDuration = semconvHistogram(
      meter,
      semconv,
      CATALOGUE.dbClientOperationDuration.instrument,
      CATALOGUE.dbClientOperationDuration.description,
      SEMCONV_DB_DURATION_BUCKETS,
    );
  }

  recordQuery(dbSystem: string, operation: DbOperation, ok: boolean, seconds: number): void {
    this.duration.record(seconds, [dbSystem, operation, ok ? 'ok' : 'error']);
    if (this.semconvDuration) {
      const attributes: Record<string, string> = { 'db.system.name': dbSystem };
      if (operation !== 'other') attributes['db.operation.name'] = operation;
      if (!ok) attributes['error.type'] = 'error';
      this.semconvDuration.record(seconds, attributes);
    }
  }
}
