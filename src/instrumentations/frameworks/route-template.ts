/**
 * Route templates from the web frameworks the app uses, read without wrapping any middleware:
 * - Express 4 and 5 assign the matched route to `req.route` while `req.baseUrl` holds the mount
 *   path. The mount path is restored when an error leaves a router, so the agent notes the
 *   template at the moment of assignment, through an accessor on IncomingMessage.prototype.
 * - Fastify 5 announces each handler on its `fastify.request.handler` tracing channel with the
 *   route's URL template; the agent notes it on the raw request.
 */
import * as dc from 'node:diagnostics_channel';
import { IncomingMessage } from 'node:http';
import { guard } from '../../lifecycle/guard';

const FASTIFY_ROUTE = Symbol('otel-agent.fastifyRoute');
const EXPRESS_ROUTE = Symbol('otel-agent.expressRoute');
const EXPRESS_TEMPLATE = Symbol('otel-agent.expressTemplate');

type RoutedRequest = IncomingMessage & {
  [FASTIFY_ROUTE]?: string;
  [EXPRESS_ROUTE]?: unknown;
  [EXPRESS_TEMPLATE]?: string;
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

export function watchExpressRoutes(): void {
  const proto = IncomingMessage.prototype as RoutedRequest;
  if (Object.getOwnPropertyDescriptor(proto, 'route')) return;
  Object.defineProperty(proto, 'route', {
    configurable: true,
    enumerable: false,
    get(this: RoutedRequest) {
      return this[EXPRESS_ROUTE];
    },
    set(this: RoutedRequest, value: unknown) {
      this[EXPRESS_ROUTE] = value;
      try {
        const template = expressTemplate({ route: value as { path?: unknown }, baseUrl: this.baseUrl });
        if (template) this[EXPRESS_TEMPLATE] = template;
      } catch {
        // an exotic route object: fall back to the folded path
      }
    },
  });
}

export function createRouteTemplateLookup(frameworks: { express: boolean; fastify: boolean }) {
  return (request: IncomingMessage): string | undefined => {
    const routed = request as RoutedRequest;
    if (frameworks.fastify && routed[FASTIFY_ROUTE]) return routed[FASTIFY_ROUTE];
    if (frameworks.express) return routed[EXPRESS_TEMPLATE] ?? expressTemplate(routed);
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
