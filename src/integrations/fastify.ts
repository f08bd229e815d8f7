/**
 * `fastify`: route templates (Fastify 4 and 5) from an `onRoute` hook added to every instance on the
 * `fastify.initialization` channel (http/route-templates.ts), and the
 * upstream hook spans when traces are on.
 */
import { watchFastifyRoutes } from '../http/route-templates';
import type { Integration } from './types';

export const fastifyIntegration: Integration = {
  name: 'fastify',
  switchable: true,
  provides: ['route-templates', 'spans', 'errors'],
  tracedPatches: ['fastify'],
  upstreamSpans() {
    const { FastifyInstrumentation } = require('@opentelemetry/instrumentation-fastify') as typeof import('@opentelemetry/instrumentation-fastify');
    return new FastifyInstrumentation();
  },
  start({ requests }) {
    requests.addRouteTemplateSource(watchFastifyRoutes());
  },
};
