/**
 * The route template of an Express request (Express 4's router and the `router` package behind
 * Express 5 share the design). Pure logic: integrations/express.ts and http/route-templates.ts
 * feed it what the router leaves on the request.
 *
 * A router only knows the concrete part of the path it stripped for a mount (`req.baseUrl` is
 * `/api/articles/Hello-world-1/comments`, not `/api/articles/:slug/comments`). So the agent keeps,
 * per request, the template of each concrete base that differs from it, written when a mount
 * layer is entered: the parent's template (looked up by the parent's concrete base, the base the
 * router replaced) plus the layer's own `use()` path. Bases that are their own template are not
 * stored.
 */

/** What `use()` mounted at, as a template piece: `'/api/'` -> `'/api'`, `'/'` -> `''`; undefined for a RegExp or a list of paths. */
export function mountTemplate(firstUseArgument: unknown): string | undefined {
  // `use(fn)`, `use([fn, fn])`: mounted at `/`.
  if (typeof firstUseArgument === 'function') return '';
  if (Array.isArray(firstUseArgument) && firstUseArgument.length > 0 && firstUseArgument.every((item) => typeof item === 'function')) return '';
  if (typeof firstUseArgument !== 'string') return undefined;
  return withoutTrailingSlash(firstUseArgument);
}

/** `/api/` -> `/api`, `/` -> `` (a router strips the concrete path the same way into `baseUrl`). */
export function withoutTrailingSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

/**
 * The parent's concrete base when a mount layer is entered: the base the router replaced, if the
 * new base extends it (the router stripped a part of the path); else nothing was stripped and the
 * parent's base is the base itself.
 */
export function parentBase(concreteBase: string, replacedBase: string | undefined): string {
  return replacedBase !== undefined && concreteBase.length > replacedBase.length && concreteBase.startsWith(replacedBase) ? replacedBase : concreteBase;
}

/** A route's full template: `('/api/articles', '/:slug')` -> `/api/articles/:slug`; a nested `/` route is its base. */
export function joinRoute(base: string, routePath: string): string {
  if (routePath === '/' && base !== '') return base;
  const joined = base + routePath;
  return joined === '' ? '/' : joined;
}

/** The mount templates of one request: concrete base -> template, only where they differ. */
export type MountTemplates = Map<string, string>;

/**
 * Notes the template of the base a mount layer was entered with. Returns the map to keep on the
 * request (created only when a template differs from its concrete base), or the one given.
 */
export function noteMount(mounts: MountTemplates | undefined, concreteBase: string, parent: string, layerTemplate: string): MountTemplates | undefined {
  const template = (mounts?.get(parent) ?? parent) + layerTemplate;
  if (template === concreteBase) {
    // A static mount: its base is its template, unless a sibling with the same base left another.
    mounts?.delete(concreteBase);
    return mounts;
  }
  mounts ??= new Map();
  mounts.set(concreteBase, template);
  return mounts;
}

/** The template of a route under a (concrete) base. */
export function expressTemplate(request: { route?: { path?: unknown }; baseUrl?: unknown }, mounts?: MountTemplates): string | undefined {
  const path = request.route?.path;
  if (typeof path !== 'string') return undefined;
  const base = typeof request.baseUrl === 'string' ? request.baseUrl : '';
  return joinRoute(mounts?.get(base) ?? base, path);
}
