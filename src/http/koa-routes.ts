/**
 * The route template of a Koa request, from what `@koa/router` (and `koa-router`, which shares
 * its Layer design) leaves on the context. Pure logic: the integration (integrations/koa.ts) calls
 * it after the router's dispatch has matched.
 *
 * The router puts every layer whose path matched on `ctx.matched` (accumulated across routers)
 * before it runs any of them. A parent router clones a nested router's layers with every prefix
 * applied, so a layer's `path` is already the full template (`/api/articles/:slug/comments`).
 * The route is the last matched layer that has the request's method, as the router itself picks
 * it (`router.use()` middleware layers have no methods and are skipped). `ctx._matchedRoute` is
 * not read: while the chain runs it names whichever layer ran last, a middleware's included.
 */

export interface KoaRoutedContext {
  method?: unknown;
  matched?: unknown;
  /** The path of the layer whose step the router ran last (it sets it before each layer's handlers). */
  _matchedRoute?: unknown;
}

interface KoaLayer {
  path?: unknown;
  methods?: unknown;
}

/**
 * The template of the route the router dispatched to; undefined for no route or a RegExp route.
 * Read when the response finishes: the route that answered is the one whose step ran last
 * (`ctx._matchedRoute`), which is not the last match when an earlier route answers without
 * calling `next()` (`/articles/feed` registered before `/articles/:slug`). A `router.use()` layer
 * that answered (an auth middleware's 401) names no route: then the last matching route counts.
 */
export function koaRouteTemplate(ctx: KoaRoutedContext): string | undefined {
  const matched = ctx.matched;
  if (!Array.isArray(matched) || typeof ctx.method !== 'string') return undefined;
  const method = ctx.method.toUpperCase();
  const ran = ctx._matchedRoute;
  if (typeof ran === 'string') {
    for (const layer of matched as Array<KoaLayer | null | undefined>) {
      if (layer?.path === ran && Array.isArray(layer.methods) && layer.methods.includes(method)) return ran === '' ? '/' : ran;
    }
  }
  for (let i = matched.length - 1; i >= 0; i--) {
    const layer = matched[i] as KoaLayer | null | undefined;
    const methods = layer?.methods;
    if (!Array.isArray(methods) || !methods.includes(method)) continue;
    const path = layer!.path;
    if (typeof path !== 'string') return undefined;
    return path === '' ? '/' : path;
  }
  return undefined;
}
