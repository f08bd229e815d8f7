/**
 * Route templates from what Fastify, Hono and hapi hand the agent. Pure logic: the framework
 * integrations read these values where the framework exposes them and keep the template on the
 * raw request.
 */

/** Fastify's `onRoute` `url` (the prefix already applied); undefined for anything but a path. */
export function fastifyTemplate(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  return url === '' ? '/' : url;
}

/**
 * The path Hono registered a handler under (the app's base path and `route()` mount paths already
 * merged in), as `c.req.routePath` reports it: `/api/articles/:slug`, or `/api/*` for a middleware.
 */
export function honoTemplate(path: unknown): string | undefined {
  if (typeof path !== 'string' || path === '') return undefined;
  return path;
}

/** hapi's `request.route` (its public route): the path in hapi's own spelling (`/users/{id}`); none for hapi's internal not-found and bad-request routes. */
export function hapiTemplate(route: unknown): string | undefined {
  const publicRoute = route as { method?: unknown; path?: unknown } | null | undefined;
  if (!publicRoute || publicRoute.method === '_special') return undefined;
  return typeof publicRoute.path === 'string' && publicRoute.path !== '' ? publicRoute.path : undefined;
}
