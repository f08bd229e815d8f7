/**
 * `koa`: route templates for Koa apps routed by `@koa/router` (or `koa-router`, the same design),
 * CommonJS and ESM. Each loaded copy of the router gets its `middleware()` and `routes()` wrapped:
 * the dispatch function they return keeps the router's context on the raw request (`ctx.req`), and
 * the route template source reads from it, when asked, the full template (router prefixes and
 * nested routers included) of the route that answered. An unmatched request gets no template (a
 * 404 stays `__not_found__`).
 */
import type { IncomingMessage } from 'node:http';
import { koaRouteTemplate, type KoaRoutedContext } from '../http/koa-routes';
import { claimPatch, onPackageLoad } from '../instrumentations/module-hooks';
import { wrap } from '../instrumentations/wrap';
import { reportOnce } from '../lifecycle/guard';
import type { Integration } from './types';

const ROUTER_PACKAGES = ['@koa/router', 'koa-router'];
const PATCHED = Symbol.for('@tutor/otel-agent.koa-router');
const OBSERVED = Symbol('otel-agent.koaDispatch');
const KOA_CONTEXT = Symbol('otel-agent.koaContext');

type KoaRequest = IncomingMessage & { [KOA_CONTEXT]?: KoaRoutedContext };
type KoaContext = KoaRoutedContext & { req?: KoaRequest };
type Dispatch = ((this: unknown, ctx: KoaContext, next: unknown) => unknown) & { [OBSERVED]?: true };

export const koaIntegration: Integration = {
  name: 'koa',
  switchable: true,
  provides: ['route-templates'],
  patches: () => ROUTER_PACKAGES,
  start({ requests }) {
    onPackageLoad(ROUTER_PACKAGES, 'koa router patch', patchRouter);
    requests.addRouteTemplateSource(templateOf);
  },
};

function patchRouter(exports: unknown): void {
  const proto = routerClass(exports)?.prototype;
  if (!proto || typeof (proto as { middleware?: unknown }).middleware !== 'function' || !claimPatch(proto, PATCHED)) return;
  // `routes()` calls `middleware()` in current versions and is the same function in older ones:
  // both are wrapped, and a dispatch function is observed once.
  for (const name of ['middleware', 'routes']) {
    wrap(
      proto,
      name,
      (original) =>
        function routerMiddleware(this: unknown, ...args: unknown[]) {
          return observeDispatch(original.apply(this, args));
        },
    );
  }
}

/** The Router class: the module itself (CommonJS, ESM default) or its `Router` export. */
function routerClass(exports: unknown): { prototype?: object } | undefined {
  if (typeof exports === 'function') return exports as { prototype?: object };
  const named = (exports as { Router?: unknown } | null | undefined)?.Router;
  return typeof named === 'function' ? (named as { prototype?: object }) : undefined;
}

function observeDispatch(dispatch: unknown): unknown {
  if (typeof dispatch !== 'function' || (dispatch as Dispatch)[OBSERVED]) return dispatch;
  const original = dispatch as Dispatch;
  const observed = function routerDispatch(this: unknown, ctx: KoaContext, next: unknown) {
    try {
      return original.call(this, ctx, next);
    } finally {
      // The router fills `ctx.matched` before it runs the matched layers.
      noteRoute(ctx);
    }
  } as Dispatch;
  // Own properties carry over: `router` is how a parent router recognises a nested one in `use()`.
  Object.assign(observed, original);
  Object.defineProperty(observed, OBSERVED, { value: true });
  return observed;
}

/** Keeps the router's context on the raw request: the template is read when it is asked for (see koa-routes.ts). */
function noteRoute(ctx: KoaContext): void {
  const request = ctx?.req;
  if (request && Array.isArray(ctx.matched)) request[KOA_CONTEXT] = ctx;
}

function templateOf(request: IncomingMessage): string | undefined {
  const ctx = (request as KoaRequest)[KOA_CONTEXT];
  if (ctx === undefined) return undefined;
  try {
    return koaRouteTemplate(ctx);
  } catch (error) {
    reportOnce('koa route template', error);
    return undefined;
  }
}
