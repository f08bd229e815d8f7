import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace';

/** A span processor that keeps every span that ends, in `into`, for unit tests of span pipelines. */
export function spanCollector(into: ReadableSpan[]): SpanProcessor {
  return {
    onStart: () => undefined,
    onEnd: (span) => void into.push(span),
    forceFlush: () => Promise.resolve(),
    shutdown: () => Promise.resolve(),
  };
}
