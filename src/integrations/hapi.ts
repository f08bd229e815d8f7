/**
 * `hapi`: route templates for `@hapi/hapi` servers, CommonJS and ESM, in hapi's own spelling
 * (`/api/articles/{slug}`). hapi assigns the matched route's public settings to `request.route`
 * (first its internal not-found route, then the route the router found); an accessor for `route`
 * on hapi's Request class (its `lib/request.js`, the module the loaded hapi uses) notes the path
 * on the raw request at that moment. hapi's own not-found and bad-request routes name no template:
 * an unmatched path stays `__not_found__`, a handler's own 404 keeps its route.
 */
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { hapiTemplate } from '../http/framework-routes';
import { claimPatch, onPackageLoad } from '../instrumentations/module-hooks';
import { reportOnce } from '../lifecycle/guard';
import type { Integration } from './types';

const PATCHED = Symbol.for('@tutor/otel-agent.hapi-request');
const HAPI_ROUTE = Symbol('otel-agent.hapiRoute');
const ROUTE_VALUE = Symbol('otel-agent.hapiRouteValue');

type HapiRawRequest = IncomingMessage & { [HAPI_ROUTE]?: string };
interface HapiRequest {
  raw?: { req?: HapiRawRequest } | null;
  [ROUTE_VALUE]?: unknown;
}

export const hapiIntegration: Integration = {
  name: 'hapi',
  switchable: true,
  provides: ['route-templates'],
  patches: () => ['@hapi/hapi'],
  start({ requests }) {
    onPackageLoad(['@hapi/hapi'], 'hapi request patch', patchHapi);
    requests.addRouteTemplateSource((request) => (request as HapiRawRequest)[HAPI_ROUTE]);
  },
};

function patchHapi(_exports: unknown, baseDir: string | undefined): void {
  if (!baseDir) return;
  // Already loaded by hapi itself: this is the same module, from the require cache.
  const Request = createRequire(path.join(baseDir, 'package.json'))('./lib/request.js') as { prototype?: object } | undefined;
  const proto = Request?.prototype;
  if (typeof Request !== 'function' || !proto || Object.getOwnPropertyDescriptor(proto, 'route') || !claimPatch(proto, PATCHED)) return;
  Object.defineProperty(proto, 'route', {
    configurable: true,
    enumerable: false,
    get(this: HapiRequest) {
      return this[ROUTE_VALUE];
    },
    set(this: HapiRequest, value: unknown) {
      this[ROUTE_VALUE] = value;
      try {
        const raw = this.raw?.req;
        if (raw) raw[HAPI_ROUTE] = hapiTemplate(value);
      } catch (error) {
        reportOnce('hapi route template', error);
      }
    },
  });
}
