/**
 * `express`: route templates for the `route` label and span names (Express 4 and 5), and the
 * upstream middleware spans when traces are on.
 */
import { watchExpressRoutes } from '../http/route-templates';
import type { Integration } from './types';

export const expressIntegration: Integration = {
  name: 'express',
  switchable: true,
  provides: ['route-templates', 'spans', 'errors'],
  tracedPatches: ['express', 'router'],
  upstreamSpans() {
    const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
    return new ExpressInstrumentation();
  },
  start({ requests }) {
    requests.addRouteTemplateSource(watchExpressRoutes());
  },
};
