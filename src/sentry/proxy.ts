/**
 * Which proxy, if any, a request to Sentry goes through, from the variables every HTTP client
 * reads: `https_proxy` for https targets, `http_proxy` for http targets, `no_proxy` for the
 * exceptions (lower case first, then upper case). Pure: the environment and the target come in,
 * the proxy URL (or none) comes out.
 *
 * `no_proxy` is matched as curl matches it: a comma- or space-separated list; `*` alone matches
 * every host; an entry matches the host itself and every host under it (`example.com` and
 * `.example.com` both match `example.com` and `api.example.com`, not `notexample.com`); an entry
 * with a port (`example.com:8443`, `[::1]:9000`) matches that port only; an IP address entry
 * matches that address, and one in CIDR notation (`10.0.0.0/8`, `fd00::/8`) every address in it.
 * Host names are compared without case and without a trailing dot.
 */
import { isIP } from 'node:net';
import type { Env } from '../config/reader';

export interface ProxyEnv {
  https: string | undefined;
  http: string | undefined;
  noProxy: string | undefined;
}

export function readProxyEnv(env: Env): ProxyEnv {
  const pick = (name: string) => nonEmpty(env[name.toLowerCase()]) ?? nonEmpty(env[name.toUpperCase()]);
  return { https: pick('https_proxy'), http: pick('http_proxy'), noProxy: pick('no_proxy') };
}

function nonEmpty(text: string | undefined): string | undefined {
  const trimmed = text?.trim();
  return trimmed ? trimmed : undefined;
}

/** The proxy for this target URL (with its credentials, if it has any: never log it, see `proxyLabel`), or undefined to connect directly (no variable, a bad one, or no_proxy). */
export function proxyFor(target: URL, proxy: ProxyEnv): URL | undefined {
  const configured = target.protocol === 'https:' ? proxy.https : target.protocol === 'http:' ? proxy.http : undefined;
  if (!configured) return undefined;
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  if (proxy.noProxy && noProxyMatches(target.hostname, port, proxy.noProxy)) return undefined;
  return parseProxyUrl(configured);
}

/** `proxy:3128` and `http://user:pass@proxy:3128` are both accepted (curl's default scheme is http). */
export function parseProxyUrl(text: string): URL | undefined {
  try {
    const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`);
    if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') return undefined;
    return url;
  } catch {
    return undefined;
  }
}

/** The proxy as it may be logged: scheme, host and port, never the credentials. */
export function proxyLabel(url: URL): string {
  return `${url.protocol}//${url.host}`;
}

/** Does `no_proxy` exempt this host and port? */
export function noProxyMatches(hostname: string, port: string, noProxy: string): boolean {
  const host = bare(hostname);
  for (const raw of noProxy.split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const { name, entryPort } = splitPort(entry);
    if (entryPort !== undefined && entryPort !== port) continue;
    if (name === '') continue;
    if (name.includes('/')) {
      if (inCidr(host, name)) return true;
      continue;
    }
    const domain = bare(name.replace(/^\*?\./, ''));
    if (domain === '') continue;
    if (host === domain) return true;
    if (isIP(host) === 0 && host.endsWith(`.${domain}`)) return true;
  }
  return false;
}

/** Lower case, no brackets around IPv6, no trailing dot. */
function bare(host: string): string {
  let out = host.toLowerCase();
  if (out.startsWith('[') && out.endsWith(']')) out = out.slice(1, -1);
  if (out.endsWith('.')) out = out.slice(0, -1);
  return out;
}

function splitPort(entry: string): { name: string; entryPort: string | undefined } {
  if (entry.startsWith('[')) {
    const close = entry.indexOf(']');
    if (close < 0) return { name: entry, entryPort: undefined };
    const rest = entry.slice(close + 1);
    return { name: entry.slice(1, close), entryPort: rest.startsWith(':') && /^\d+$/.test(rest.slice(1)) ? rest.slice(1) : undefined };
  }
  // A bare IPv6 address (two colons or more) has no port.
  const colons = entry.split(':').length - 1;
  if (colons === 1) {
    const [name = '', entryPort = ''] = entry.split(':');
    if (/^\d+$/.test(entryPort)) return { name, entryPort };
  }
  return { name: entry, entryPort: undefined };
}

function inCidr(host: string, cidr: string): boolean {
  const [base = '', bitsText = ''] = cidr.split('/');
  const family = isIP(base);
  if (family === 0 || isIP(host) !== family || !/^\d+$/.test(bitsText)) return false;
  const a = ipBits(host, family);
  const b = ipBits(base, family);
  const bits = Math.min(Number(bitsText), a.length);
  for (let i = 0; i < bits; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** An IP address as a string of 32 or 128 bits. */
function ipBits(ip: string, family: number): string {
  if (family === 4)
    return ip
      .split('.')
      .map((o) => Number(o).toString(2).padStart(8, '0'))
      .join('');
  let text = ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const o = v4[1]!.split('.').map(Number);
    text = `${text.slice(0, -v4[1]!.length)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = [...left, ...new Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups
    .map((g) =>
      parseInt(g || '0', 16)
        .toString(2)
        .padStart(16, '0'),
    )
    .join('');
}
