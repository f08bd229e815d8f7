/**
 * `nestjs`: NestJS apps get their controller routes' templates (global prefix included) from the
 * platform's own integration (`express` or `fastify`). What Nest adds is its not-found handler: on
 * Express, Nest answers unknown paths from a catch-all route (`router.all('*path')` under the
 * global prefix, `all(path)` for excluded routes), which would label every unknown path
 * `/api*path`. `ExpressAdapter.prototype.setNotFoundHandler` is wrapped so the handler it
 * registers marks the request as not found: an unmatched path stays `__not_found__`. (On Fastify,
 * Nest's not-found handler is Fastify's, which is no route.)
 */
import type { IncomingMessage } from 'node:http';
import { markNotFound } from '../http/route-templates';
import { claimPatch, onPackageLoad } from '../instrumentations/module-hooks';
import { wrap } from '../instrumentations/wrap';
import { reportOnce } from '../lifecycle/guard';
import type { Integration } from './types';

const PATCHED = Symbol.for('@tutor/otel-agent.nest-express');
type Handler = (this: unknown, request: IncomingMessage, response: unknown, next: unknown) => unknown;

export const nestjsIntegration: Integration = {
  name: 'nestjs',
  switchable: true,
  provides: ['route-templates'],
  patches: () => ['@nestjs/platform-express'],
  start() {
    onPackageLoad(['@nestjs/platform-express'], 'nestjs express adapter patch', patchExpressAdapter);
  },
};

function patchExpressAdapter(exports: unknown): void {
  const adapter = (exports as { ExpressAdapter?: { prototype?: object } } | null | undefined)?.ExpressAdapter;
  const proto = adapter?.prototype;
  if (!proto || typeof (proto as { setNotFoundHandler?: unknown }).setNotFoundHandler !== 'function' || !claimPatch(proto, PATCHED)) return;
  wrap(
    proto,
    'setNotFoundHandler',
    (original) =>
      function setNotFoundHandler(this: unknown, handler: unknown, ...rest: unknown[]) {
        return original.call(this, typeof handler === 'function' ? notFoundHandler(handler as Handler) : handler, ...rest);
      },
  );
}

/** Express tells error handlers by their arity: this one keeps the three parameters Nest's has. */
function notFoundHandler(handler: Handler): Handler {
  return function notFound(this: unknown, request: IncomingMessage, _response: unknown, _next: unknown) {
    try {
      markNotFound(request);
    } catch (error) {
      reportOnce('nestjs not-found route', error);
    }
    // eslint-disable-next-line prefer-rest-params
    return handler.apply(this, arguments as unknown as [IncomingMessage, unknown, unknown]);
  };
}
