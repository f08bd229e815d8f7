/**
 * `fastify`: route templates (Fastify 4 and 5) from an `onRoute` hook added to every instance on the
 * `fastify.initialization` channel (http/route-templates.ts), and, when traces are on, a span per
 * route handler from Fastify's `fastify.request.handler` tracing channel (Fastify 5; Fastify 4 has
 * no such channel and keeps its server span only).
 */
import { watchFastifyRoutes } from '../http/route-templates';
import { traceFastifyHandlers } from '../instrumentations/fastify/spans';
import type { Integration } from './types';

export const fastifyIntegration: Integration = {
  name: 'fastify',
  switchable: true,
  provides: ['route-templates', 'spans', 'errors'],
  start({ requests, tracer }) {
    requests.addRouteTemplateSource(watchFastifyRoutes());
    if (tracer) traceFastifyHandlers(tracer);
  },
};
