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
import { guard } from '../lifecycle/guard';

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

/** Names the route template a request matched, or undefined. */
export type RouteTemplateSource = (request: IncomingMessage) => string | undefined;

export function watchFastifyRoutes(): RouteTemplateSource {
  dc.subscribe(
    'tracing:fastify.request.handler:start',
    guard('fastify route channel', (message: unknown) => {
      const store = message as { request?: { raw?: RoutedRequest }; route?: { url?: unknown } };
      const raw = store.request?.raw;
      if (raw && typeof store.route?.url === 'string') raw[FASTIFY_ROUTE] = store.route.url;
    }),
  );
  return (request) => (request as RoutedRequest)[FASTIFY_ROUTE] || undefined;
}

export function watchExpressRoutes(): RouteTemplateSource {
  const proto = IncomingMessage.prototype as RoutedRequest;
  if (!Object.getOwnPropertyDescriptor(proto, 'route')) {
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
  return (request) => {
    const routed = request as RoutedRequest;
    return routed[EXPRESS_TEMPLATE] ?? expressTemplate(routed);
  };
}

/** The first template any source names; the sources are the enabled frameworks, in registry order. */
export function createRouteTemplateLookup(sources: readonly RouteTemplateSource[]): RouteTemplateSource {
  return (request) => {
    for (let i = 0; i < sources.length; i++) {
      const template = sources[i]!(request);
      if (template !== undefined) return template;
    }
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
