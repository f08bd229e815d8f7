/**
 * `fastify`: route templates from Fastify's `fastify.request.handler` tracing channel and, when
 * traces are on, a span per route handler from the same channel (Fastify 5).
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
