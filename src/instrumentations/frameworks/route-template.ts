/**
 * Route templates from the web frameworks the app uses, read without wrapping any middleware:
 * - Express 4 and 5 leave the matched route on `req.route` (and the mount path on `req.baseUrl`).
 * - Fastify 5 announces each handler on its `fastify.request.handler` tracing channel with the
 *   route's URL template; the agent notes it on the raw request.
 */
import * as dc from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { guard } from '../../lifecycle/guard';

const FASTIFY_ROUTE = Symbol('otel-agent.fastifyRoute');

type RoutedRequest = IncomingMessage & {
  [FASTIFY_ROUTE]?: string;
  route?: { path?: unknown };
  baseUrl?: unknown;
};

export function watchFastifyRoutes(): void {
  dc.subscribe(
    'tracing:fastify.request.handler:start',
    guard('fastify route channel', (message: unknown) => {
      const store = message as { request?: { raw?: RoutedRequest }; route?: { url?: unknown } };
      const raw = store.request?.raw;
      if (raw && typeof store.route?.url === 'string') raw[FASTIFY_ROUTE] = store.route.url;
    }),
  );
}

export function createRouteTemplateLookup(frameworks: { express: boolean; fastify: boolean }) {
  return (request: IncomingMessage): string | undefined => {
    const routed = request as RoutedRequest;
    if (frameworks.fastify && routed[FASTIFY_ROUTE]) return routed[FASTIFY_ROUTE];
    if (frameworks.express) return expressTemplate(routed);
    return undefined;
  };
}

export function expressTemplate(request: { route?: { path?: unknown }; baseUrl?: unknown }): string | undefined {
  const path = request.route?.path;
  if (typeof path !== 'string') return undefined;
  const base = typeof request.baseUrl === 'string' ? request.baseUrl : '';
  const joined = base + path;
  return joined === '' ? '/' : joined;
}
