/** Pure facts about an incoming request, shared by metrics, spans, Sentry and the AI meters. */

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
 * The path part of a request target, without query string or fragment: query strings are where
 * tokens, e-mail addresses and signatures travel, so spans, labels and events never carry them.
 * The absolute form (`GET http://host/x HTTP/1.1`, as proxies are sent) yields the path after the
 * authority. Everything that reads a request's path goes through here.
 */
export function pathOf(target: string | undefined): string {
  if (!target) return '/';
  const cut = target.search(/[?#]/);
  let path = cut < 0 ? target : target.slice(0, cut);
  if (path.charCodeAt(0) !== 47 /* '/' */ && /^[a-z][a-z0-9+.-]*:\/\//i.test(path)) {
    const slash = path.indexOf('/', path.indexOf('//') + 2);
    path = slash < 0 ? '/' : path.slice(slash);
  }
  return path;
}

/** `https` for a request that came over TLS, else `http`. */
export function schemeOf(request: { socket?: unknown }): 'http' | 'https' {
  return (request.socket as { encrypted?: boolean } | null | undefined)?.encrypted === true ? 'https' : 'http';
}

/**
 * Query parameters whose values are replaced by REDACTED in span URLs: upstream's cloud-signature
 * list plus the names tokens and passwords usually travel under.
 */
export const SENSITIVE_QUERY_PARAMS = [
  'sig',
  'Signature',
  'AWSAccessKeyId',
  'X-Goog-Signature',
  'X-Amz-Signature',
  'X-Amz-Credential',
  'X-Amz-Security-Token',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  'auth',
  'authorization',
  'jwt',
  'session',
  'sessionid',
  'api_key',
  'apikey',
  'api-key',
  'key',
  'secret',
  'client_secret',
  'password',
  'passwd',
  'pwd',
  'code',
  'signature',
];
