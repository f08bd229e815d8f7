/** Owns `cache_operations_total`. */
import type { LabelledCounter } from './aggregates';
import type { MetricInstruments } from './provider';

export type CacheResult = 'hit' | 'miss' | 'ok' | 'error';

export class CacheMetrics {
  private readonly operations: LabelledCounter;

  constructor({ aggregates }: MetricInstruments) {
    this.operations = aggregates.counter(
      {
        name: 'cache_operations_total',
        description: 'Cache commands: reads as hit or miss (per key for multi-key reads), other commands as ok or error',
      },
      ['operation', 'result'],
    );
  }

  record(operation: string, result: CacheResult, count = 1): void {
    if (count > 0) this.operations.add(count, [operation, result]);
  }
}
