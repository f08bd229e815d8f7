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

const SENSITIVE_NAMES = new Set(SENSITIVE_QUERY_PARAMS.map((name) => name.toLowerCase()));

/** What a credential or a sensitive parameter's value is replaced by (upstream's word for it). */
export const REDACTED = 'REDACTED';

/**
 * A URL as the agent may show it, in a log line or a span: user info becomes `REDACTED` (or
 * `REDACTED:REDACTED` when a password was given, as the semantic conventions have it), and the
 * value of every SENSITIVE_QUERY_PARAMS parameter, in any case, in the query or the fragment,
 * becomes `REDACTED`. Everything else is kept byte for byte (no re-encoding), so the host, port and
 * path still read as given. Works on the text, not through `new URL`: relative URLs, bad `%`
 * escapes and unparsable input are redacted the same way and never throw.
 */
export function redactUrl(url: string): string {
  if (typeof url !== 'string') return '';
  const hashAt = url.indexOf('#');
  const beforeHash = hashAt < 0 ? url : url.slice(0, hashAt);
  const queryAt = beforeHash.indexOf('?');
  const base = queryAt < 0 ? beforeHash : beforeHash.slice(0, queryAt);
  let out = redactUserInfo(base);
  if (queryAt >= 0) out += `?${redactParams(beforeHash.slice(queryAt + 1))}`;
  if (hashAt >= 0) out += `#${redactFragment(url.slice(hashAt + 1))}`;
  return out;
}

/** A fragment carries parameters as `#a=1&b=2` (OAuth's implicit flow) or as `#/route?a=1`. */
function redactFragment(fragment: string): string {
  const queryAt = fragment.indexOf('?');
  return queryAt < 0 ? redactParams(fragment) : `${fragment.slice(0, queryAt + 1)}${redactParams(fragment.slice(queryAt + 1))}`;
}

/** `scheme://user:pass@host/...` or `//user@host/...`: the authority runs to the first `/` or `\`; its last `@` ends the user info. */
function redactUserInfo(base: string): string {
  const authority = /^(?:[a-z][a-z0-9+.-]*:)?[/\\]{2}/i.exec(base);
  if (!authority) return base;
  const start = authority[0].length;
  const slash = base.slice(start).search(/[/\\]/);
  const end = slash < 0 ? base.length : start + slash;
  const at = base.lastIndexOf('@', end - 1);
  if (at <= start) return base;
  const userInfo = base.slice(start, at);
  return `${base.slice(0, start)}${userInfo.includes(':') ? `${REDACTED}:${REDACTED}` : REDACTED}@${base.slice(at + 1)}`;
}

/** `a=1&token=x&b` -> `a=1&token=REDACTED&b`; names are compared decoded and lower-cased. */
function redactParams(query: string): string {
  if (!query.includes('=')) return query;
  return query
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      if (eq < 0) return pair;
      const name = pair.slice(0, eq);
      return SENSITIVE_NAMES.has(decodeName(name)) ? `${name}=${REDACTED}` : pair;
    })
    .join('&');
}

function decodeName(name: string): string {
  const spaced = name.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced).trim().toLowerCase();
  } catch {
    return spaced.trim().toLowerCase();
  }
}
