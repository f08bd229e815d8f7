/** Owns `cache_operations_total`. */
import type { Counter, Meter } from '@opentelemetry/api';

export type CacheResult = 'hit' | 'miss' | 'ok' | 'error';

export class CacheMetrics {
  private readonly operations: Counter;

  constructor(meter: Meter) {
    this.operations = meter.createCounter('cache_operations_total', {
      description: 'Cache commands: reads as hit or miss (per key for multi-key reads), other commands as ok or error',
    });
  }

  record(operation: string, result: CacheResult, count = 1): void {
    if (count > 0) this.operations.add(count, { operation, result });
  }
}
