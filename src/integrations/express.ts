/**
 * `express`: route templates for the `route` label and span names (Express 4 and 5), and the
 * upstream middleware spans when traces are on.
 *
 * The matched route comes from the moment Express assigns `req.route` (http/route-templates.ts).
 * For mount paths with parameters (`articles.use('/:slug/comments', comments)`), the router's
 * `use()` is wrapped, on Express 4's router and on the `router` package behind Express 5, to
 * remember each new layer's mount path; and the layers' request handler is wrapped (once per
 * Layer prototype, found on the first layer `use()` adds) to note, as a mount layer is entered,
 * the template of the base the router has just set. A mount at `/` notes nothing, nor does a
 * static mount whose base is its own template.
 */
import type { IncomingMessage } from 'node:http';
import { mountTemplate } from '../http/express-routes';
import { noteExpressMount, watchExpressRoutes } from '../http/route-templates';
import { claimPatch, onPackageLoad } from '../instrumentations/module-hooks';
import { wrap } from '../instrumentations/wrap';
import { reportOnce } from '../lifecycle/guard';
import type { Integration } from './types';

const ROUTER_PACKAGES = ['express', 'router'];
const PATCHED = Symbol.for('@tutor/otel-agent.express-router');
const MOUNT = Symbol('otel-agent.expressMount');

interface Layer {
  [MOUNT]?: string;
  route?: unknown;
}

interface Router {
  stack?: unknown;
}

export const expressIntegration: Integration = {
  name: 'express',
  switchable: true,
  provides: ['route-templates', 'spans', 'errors'],
  patches: () => ROUTER_PACKAGES,
  tracedPatches: ['express', 'router'],
  upstreamSpans() {
    const { ExpressInstrumentation } = require('@opentelemetry/instrumentation-express') as typeof import('@opentelemetry/instrumentation-express');
    return new ExpressInstrumentation();
  },
  start({ requests }) {
    onPackageLoad(ROUTER_PACKAGES, 'express router patch', patchRouterExports);
    requests.addRouteTemplateSource(watchExpressRoutes());
  },
};

/** `express` (its `Router`) or `router` (the class itself): Express 4's Router is an object of methods, Express 5's a class. */
function patchRouterExports(exports: unknown): void {
  const router = typeof exports === 'function' && !('Router' in exports) ? exports : (exports as { Router?: unknown } | null | undefined)?.Router;
  if (typeof router !== 'function') return;
  const proto = (router as { prototype?: { use?: unknown } }).prototype;
  const methods = proto && typeof proto.use === 'function' ? proto : (router as { use?: unknown });
  if (typeof methods.use !== 'function' || !claimPatch(methods, PATCHED)) return;
  wrap(
    methods,
    'use',
    (original) =>
      function use(this: Router, ...args: unknown[]) {
        const before = Array.isArray(this?.stack) ? this.stack.length : -1;
        const result = original.apply(this, args);
        markMountLayers(this, before, args[0]);
        return result;
      },
  );
}

function markMountLayers(router: Router, before: number, firstArgument: unknown): void {
  try {
    const stack = router?.stack;
    if (before < 0 || !Array.isArray(stack) || stack.length <= before) return;
    const template = mountTemplate(firstArgument);
    for (let i = before; i < stack.length; i++) {
      const layer = stack[i] as Layer | null | undefined;
      if (!layer || typeof layer !== 'object') continue;
      patchLayerPrototype(Object.getPrototypeOf(layer) as object | null);
      if (template !== undefined && template !== '') Object.defineProperty(layer, MOUNT, { value: template, configurable: true });
    }
  } catch (error) {
    reportOnce('express mount path', error);
  }
}

/** Express 4 calls `handle_request`, the `router` package `handleRequest`. */
function patchLayerPrototype(proto: object | null): void {
  if (!proto || !claimPatch(proto, PATCHED)) return;
  for (const name of ['handle_request', 'handleRequest']) {
    wrap(
      proto,
      name,
      (original) =>
        function handleRequest(this: Layer, request: IncomingMessage) {
          const template = this[MOUNT];
          if (template !== undefined && this.route === undefined) {
            try {
              noteExpressMount(request, template);
            } catch (error) {
              reportOnce('express mount template', error);
            }
          }
          // eslint-disable-next-line prefer-rest-params
          return original.apply(this, arguments as unknown as unknown[]);
        },
    );
  }
}
