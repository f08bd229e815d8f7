/**
 * Route templates from the web frameworks the app uses, read without wrapping any middleware:
 * - Express 4 and 5 assign the matched route to `req.route` while `req.baseUrl` holds the mount
 *   path. The mount path is restored when an error leaves a router, so the agent notes the
 *   template at the moment of assignment, through an accessor on IncomingMessage.prototype.
 *   `req.baseUrl` is concrete (`/api/articles/Hello-world-1/comments`): an accessor for it keeps
 *   the base each write replaced, and integrations/express.ts notes the templates of mount paths
 *   (`noteExpressMount`) as each mount layer is entered (see http/express-routes.ts).
 * - Fastify 4 and 5 announce each new instance on the `fastify.initialization` channel: the agent
 *   adds an `onRoute` hook, which gives every route a first route-level `onRequest` hook noting
 *   the route's URL template on the raw request. It runs as soon as the route matched, before
 *   the app's own hooks: a 401 from an auth hook and the handler's own 404 keep the template; the
 *   not-found handler is no route and gets none. (Fastify 4 has no `fastify.request.handler`
 *   tracing channel.)
 */
import * as dc from 'node:diagnostics_channel';
import { IncomingMessage } from 'node:http';
import { guard } from '../lifecycle/guard';
import { expressTemplate, noteMount, parentBase, type MountTemplates } from './express-routes';
import { fastifyTemplate } from './framework-routes';

const FASTIFY_ROUTE = Symbol('otel-agent.fastifyRoute');
const NOT_FOUND = Symbol('otel-agent.notFound');
const EXPRESS_ROUTE = Symbol('otel-agent.expressRoute');
const EXPRESS_TEMPLATE = Symbol('otel-agent.expressTemplate');
const EXPRESS_MOUNTS = Symbol('otel-agent.expressMounts');
const EXPRESS_BASE = Symbol('otel-agent.expressBase');
const EXPRESS_REPLACED_BASE = Symbol('otel-agent.expressReplacedBase');

type RoutedRequest = IncomingMessage & {
  [FASTIFY_ROUTE]?: string;
  [EXPRESS_ROUTE]?: unknown;
  [EXPRESS_TEMPLATE]?: string;
  [EXPRESS_MOUNTS]?: MountTemplates;
  [EXPRESS_BASE]?: unknown;
  [EXPRESS_REPLACED_BASE]?: unknown;
  route?: { path?: unknown };
  baseUrl?: unknown;
};

/** Names the route template a request matched, or undefined. */
export type RouteTemplateSource = (request: IncomingMessage) => string | undefined;

export function watchFastifyRoutes(): RouteTemplateSource {
  dc.subscribe(
    'fastify.initialization',
    guard('fastify route hook', (message: unknown) => {
      const fastify = (message as { fastify?: { addHook?: unknown } } | null | undefined)?.fastify;
      if (typeof fastify?.addHook === 'function')
        (fastify.addHook as (name: string, hook: (route: FastifyRouteOptions) => void) => void)('onRoute', guard('fastify route', addRouteHook));
    }),
  );
  return (request) => (request as RoutedRequest)[FASTIFY_ROUTE] || undefined;
}

interface FastifyRouteOptions {
  url?: unknown;
  onRequest?: unknown;
}

/** Puts a first `onRequest` hook on the route that notes its template on the raw request. */
function addRouteHook(route: FastifyRouteOptions): void {
  const template = fastifyTemplate(route.url);
  if (template === undefined) return;
  const noteRoute = function noteRoute(request: { raw?: RoutedRequest } | undefined, _reply: unknown, done: () => void) {
    const raw = request?.raw;
    if (raw) raw[FASTIFY_ROUTE] = template;
    done();
  };
  const existing = route.onRequest;
  route.onRequest =
    existing === undefined || existing === null ? [noteRoute] : [noteRoute, ...(Array.isArray(existing) ? (existing as unknown[]) : [existing])];
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
          const template = expressTemplate({ route: value as { path?: unknown }, baseUrl: this.baseUrl }, this[EXPRESS_MOUNTS]);
          if (template) this[EXPRESS_TEMPLATE] = template;
        } catch {
          // an exotic route object: fall back to the folded path
        }
      },
    });
  }
  if (!Object.getOwnPropertyDescriptor(proto, 'baseUrl')) {
    Object.defineProperty(proto, 'baseUrl', {
      configurable: true,
      enumerable: false,
      get(this: RoutedRequest) {
        return this[EXPRESS_BASE];
      },
      set(this: RoutedRequest, value: unknown) {
        this[EXPRESS_REPLACED_BASE] = this[EXPRESS_BASE];
        this[EXPRESS_BASE] = value;
      },
    });
  }
  return (request) => {
    const routed = request as RoutedRequest;
    return routed[EXPRESS_TEMPLATE] ?? expressTemplate(routed, routed[EXPRESS_MOUNTS]);
  };
}

/**
 * An Express mount layer (`use(path, ...)`) was entered: the router has just set `req.baseUrl` to
 * the parent's base plus the concrete part of the path the layer matched.
 */
export function noteExpressMount(request: IncomingMessage, layerTemplate: string): void {
  const routed = request as RoutedRequest;
  const base = routed[EXPRESS_BASE];
  if (typeof base !== 'string') return;
  const replaced = routed[EXPRESS_REPLACED_BASE];
  const parent = parentBase(base, typeof replaced === 'string' ? replaced : undefined);
  const mounts = noteMount(routed[EXPRESS_MOUNTS], base, parent, layerTemplate);
  if (mounts !== undefined) routed[EXPRESS_MOUNTS] = mounts;
}

/**
 * A framework's not-found handler is answering this request: no template, whatever route the
 * framework matched to get there (NestJS answers unknown paths from an Express catch-all route).
 */
export function markNotFound(request: IncomingMessage): void {
  (request as IncomingMessage & { [NOT_FOUND]?: true })[NOT_FOUND] = true;
}

/** The first template any source names; the sources are the enabled frameworks, in registry order. */
export function createRouteTemplateLookup(sources: readonly RouteTemplateSource[]): RouteTemplateSource {
  return (request) => {
    if ((request as IncomingMessage & { [NOT_FOUND]?: true })[NOT_FOUND] === true) return undefined;
    for (let i = 0; i < sources.length; i++) {
      const template = sources[i]!(request);
      if (template !== undefined) return template;
    }
    return undefined;
  };
}
