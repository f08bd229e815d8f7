/** Owns `cache_operations_total`. */
import type { LabelledCounter } from './aggregates';
import { CATALOGUE } from './catalogue';
import type { MetricInstruments } from './provider';

export type CacheResult = 'hit' | 'miss' | 'ok' | 'error';

export class CacheMetrics {
  private readonly operations: LabelledCounter;

  constructor({ aggregates }: MetricInstruments) {
    this.operations = aggregates.counter(
      {
        name: CATALOGUE.cacheOperations.name,
        description: CATALOGUE.cacheOperations.description,
      },
      CATALOGUE.cacheOperations.labels,
    );
  }

  record(operation: string, result: CacheResult, count = 1): void {
    if (count > 0) this.operations.add(count, [operation, result]);
  }
}
