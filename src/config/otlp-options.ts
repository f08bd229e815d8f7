/**
 * The options an OTLP/HTTP exporter (spans or metrics) gets from the agent's configuration. Pure.
 * Every field is given explicitly, so what the agent read and warned about is what is used (the
 * upstream exporters would otherwise read some of the same variables again, without the warnings).
 */
import type { MeterProvider } from '@opentelemetry/api';
import type { OtlpCompression } from './types';

export interface OtlpTarget {
  endpoint: string;
  headers: Record<string, string>;
  timeoutMs: number;
  compression: OtlpCompression;
}

export interface OtlpExporterOptions {
  url: string;
  headers: Record<string, string>;
  timeoutMillis: number;
  // The exporters type this as their own enum of the same two strings.
  compression: never;
  selfObsMeterProvider?: MeterProvider;
}

export function otlpExporterOptions(target: OtlpTarget, selfMetrics?: MeterProvider): OtlpExporterOptions {
  return {
    url: target.endpoint,
    headers: target.headers,
    timeoutMillis: target.timeoutMs,
    compression: target.compression as never,
    ...(selfMetrics ? { selfObsMeterProvider: selfMetrics } : {}),
  };
}
