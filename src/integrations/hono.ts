/**
 * `hono`: route templates for Hono apps served by `@hono/node-server` (which hands each request's
 * node:http objects to Hono as `c.env.incoming` / `c.env.outgoing`), CommonJS and ESM.
 *
 * Hono registers every handler, middleware included, with its router as `[handler, route]`, the
 * path already merged with the app's base path and `route()` mount paths (what `c.req.routePath`
 * reports). The router class's `add` is wrapped (once per loaded copy of `hono`, on the prototype
 * of the router a bare `new Hono()` makes: the default SmartRouter) so each handler notes its
 * path on the raw request when it runs; a handler that hands on with `next()` takes its note back.
 * So the template is the path of the handler that answered, and a request only middleware saw
 * (then Hono's not-found handler) has none: a 404 stays `__not_found__`. Apps built on
 * `hono/quick`, `hono/tiny` or a router passed in by hand are not covered.
 */
import type { IncomingMessage } from 'node:http';
import { honoTemplate } from '../http/framework-routes';
import { claimPatch, onPackageLoad } from '../instrumentations/module-hooks';
import { wrap } from '../instrumentations/wrap';
import type { Integration } from './types';

const PATCHED = Symbol.for('@tutor/otel-agent.hono-router');
const HONO_ROUTE = Symbol('otel-agent.honoRoute');

type HonoRequest = IncomingMessage & { [HONO_ROUTE]?: string };
type Handler = (this: unknown, context: unknown, next?: unknown) => unknown;
interface HonoContext {
  env?: { incoming?: HonoRequest } | null;
}

export const honoIntegration: Integration = {
  name: 'hono',
  switchable: true,
  provides: ['route-templates'],
  patches: () => ['hono'],
  start({ requests }) {
    onPackageLoad(['hono'], 'hono router patch', patchHono);
    requests.addRouteTemplateSource((request) => (request as HonoRequest)[HONO_ROUTE]);
  },
};

function patchHono(exports: unknown): void {
  const Hono = (exports as { Hono?: unknown } | null | undefined)?.Hono;
  if (typeof Hono !== 'function') return;
  const router = (new (Hono as new () => { router?: unknown })().router ?? undefined) as object | undefined;
  const proto = router ? (Object.getPrototypeOf(router) as object | null) : null;
  if (!proto || typeof (proto as { add?: unknown }).add !== 'function' || !claimPatch(proto, PATCHED)) return;
  wrap(
    proto,
    'add',
    (original) =>
      function add(this: unknown, method: unknown, path: unknown, entry: unknown) {
        const template = honoTemplate(path);
        if (template !== undefined && Array.isArray(entry) && typeof entry[0] === 'function') {
          entry = [routedHandler(entry[0] as Handler, template), ...(entry as unknown[]).slice(1)];
        }
        return original.call(this, method, path, entry);
      },
  );
}

function routedHandler(handler: Handler, template: string): Handler {
  // A handler that declares no `next` cannot hand on: no wrapper for `next` is made for it.
  const handsOn = handler.length >= 2;
  return function routed(this: unknown, context: unknown, next?: unknown) {
    const incoming = (context as HonoContext | null | undefined)?.env?.incoming;
    if (!incoming || typeof incoming !== 'object') return handler.call(this, context, next);
    incoming[HONO_ROUTE] = template;
    if (!handsOn || typeof next !== 'function') return handler.call(this, context, next);
    return handler.call(this, context, function handOn() {
      if (incoming[HONO_ROUTE] === template) incoming[HONO_ROUTE] = undefined;
      return (next as () => unknown)();
    });
  };
}
