/**
 * `sentry`: errors (and, with a sample rate, spans) to Sentry. Not an instrumentation switch:
 * SENTRY_DSN turns it on. Its code is loaded only then; it prepares before tracing starts because
 * the span processor it returns must be part of the tracer provider.
 */
import type { Integration } from './types';

export const sentryIntegration: Integration = {
  name: 'sentry',
  switchable: false,
  provides: ['errors', 'spans'],
  enabled: (config) => config.sentryDsn !== undefined,
  prepare(context) {
    return (require('../sentry') as typeof import('../sentry')).prepareSentry(context)?.spanProcessors;
  },
  start(context) {
    (require('../sentry') as typeof import('../sentry')).startSentry(context);
  },
};
