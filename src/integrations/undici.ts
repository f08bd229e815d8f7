/** `undici` (alias `fetch`): CLIENT spans for the global fetch, by the upstream instrumentation. */
import type { Integration } from './types';

export const undiciIntegration: Integration = {
  name: 'undici',
  aliases: ['fetch'],
  switchable: true,
  provides: ['spans'],
  upstreamSpans() {
    const { UndiciInstrumentation } = require('@opentelemetry/instrumentation-undici') as typeof import('@opentelemetry/instrumentation-undici');
    return new UndiciInstrumentation();
  },
  start() {
    // Spans only: the upstream instrumentation is all there is.
  },
};
