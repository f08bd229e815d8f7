/** Pure helpers for the HTTP server spans. */

/** `GET /lessons/:id` when the route is known, else just the method (the path would explode span names). */
export function serverSpanName(method: string, route: string | undefined): string {
  return route ? `${method} ${route}` : method;
}

/** The host name of a Host header, without the port: `api.example.com:8443` -> `api.example.com`, `[::1]:80` -> `::1`. */
export function hostName(hostHeader: string | undefined): string | undefined {
  if (!hostHeader) return undefined;
  if (hostHeader.startsWith('[')) {
    const end = hostHeader.indexOf(']');
    return end > 1 ? hostHeader.slice(1, end) : undefined;
  }
  const colon = hostHeader.indexOf(':');
  return colon < 0 ? hostHeader : colon > 0 ? hostHeader.slice(0, colon) : undefined;
}

/**
 * The path part of a request target, without the query string: query strings are where tokens,
 * e-mail addresses and signatures travel, so spans never carry them.
 */
export function pathOf(target: string | undefined): string {
  if (!target) return '/';
  // Absolute form (`GET http://host/x HTTP/1.1`, as proxies are sent): the path starts after the authority.
  if (target.charCodeAt(0) !== 47 /* '/' */ && /^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
    const slash = target.indexOf('/', target.indexOf('//') + 2);
    target = slash < 0 ? '/' : target.slice(slash);
  }
  const query = target.indexOf('?');
  const path = query < 0 ? target : target.slice(0, query);
  const hash = path.indexOf('#');
  return hash < 0 ? path : path.slice(0, hash);
}

/** `https` for a request that came over TLS, else `http`. */
export function schemeOf(request: { socket?: unknown }): 'http' | 'https' {
  return (request.socket as { encrypted?: boolean } | null | undefined)?.encrypted === true ? 'https' : 'http';
}
