/**
 * The one way anything reaches Sentry (events, spans, profile chunks): a POST with a deadline, on
 * at most two sockets, outside any trace. Sockets are unref'd, so a Sentry that stalls never keeps
 * a process alive that would have exited; the flushes hold the process open themselves, for a
 * bounded time. Bodies over 32 KiB are gzipped (as the Sentry SDK does).
 *
 * Through a proxy when `https_proxy`/`http_proxy` says so and `no_proxy` does not exempt the host
 * (proxy.ts), as Sentry's own transport does: an https target through an HTTP CONNECT tunnel (TLS
 * end to end, the proxy sees only the host and port), an http target as a plain forward-proxy
 * request (absolute URL). Proxy credentials go only in `Proxy-Authorization` to the proxy.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import { gzip } from 'node:zlib';
import { AGENT_INTERNAL, runUntraced } from '../lifecycle/internal';
import { proxyFor, type ProxyEnv } from './proxy';

export interface PostResponse {
  statusCode: number;
  retryAfter: string | null;
  rateLimits: string | null;
}

export type Poster = (body: Uint8Array | string, headers: Record<string, string>) => Promise<PostResponse>;

export const GZIP_THRESHOLD = 32 * 1024;

export function createPoster(url: string, timeoutMs: number, proxyEnv: ProxyEnv): Poster {
  const target = new URL(url);
  const route = routeTo(target, proxyFor(target, proxyEnv), timeoutMs);

  return async (body, headers) => {
    let payload = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    const sent: Record<string, string> = { ...headers };
    if (payload.length > GZIP_THRESHOLD) {
      payload = await new Promise<Buffer>((resolve, reject) => gzip(payload, (error, zipped) => (error ? reject(error) : resolve(zipped))));
      sent['content-encoding'] = 'gzip';
    }
    sent['content-length'] = String(payload.length);
    return new Promise<PostResponse>((resolve, reject) => {
      runUntraced(() => {
        const request = route.module.request(
          { method: 'POST', agent: route.agent, hostname: route.hostname, port: route.port, path: route.path, headers: { ...sent, ...route.headers } },
          (response) => {
            response.resume(); // drain, so the socket can be reused
            const header = (name: string) => {
              const value = response.headers[name];
              return Array.isArray(value) ? (value[0] ?? null) : (value ?? null);
            };
            resolve({ statusCode: response.statusCode ?? 0, retryAfter: header('retry-after'), rateLimits: header('x-sentry-rate-limits') });
          },
        );
        const timer = setTimeout(() => request.destroy(new Error(`no answer from Sentry within ${timeoutMs} ms`)), timeoutMs);
        timer.unref();
        request.on('socket', (socket) => socket.unref());
        request.on('error', (error) => {
          clearTimeout(timer);
          reject(error);
        });
        request.on('close', () => clearTimeout(timer));
        request.end(payload);
      });
    });
  };
}

interface Route {
  module: typeof http | typeof https;
  agent: http.Agent;
  hostname: string;
  port: string;
  path: string;
  headers: Record<string, string>;
}

const unbracket = (hostname: string) => (hostname.startsWith('[') ? hostname.slice(1, -1) : hostname);

/** Where the POST goes: to Sentry, to the proxy as a forward request, or to Sentry through a CONNECT tunnel. */
function routeTo(target: URL, proxy: URL | undefined, timeoutMs: number): Route {
  const path = `${target.pathname}${target.search}`;
  const sockets = { keepAlive: true, maxSockets: 2, maxFreeSockets: 1 };
  if (!proxy) {
    const module = target.protocol === 'https:' ? https : http;
    return { module, agent: internal(new module.Agent(sockets)), hostname: unbracket(target.hostname), port: target.port, path, headers: {} };
  }
  const auth = proxyAuthorization(proxy);
  if (target.protocol === 'http:') {
    // A forward proxy: the absolute URL in the request line, the target in Host.
    const module = proxy.protocol === 'https:' ? https : http;
    return {
      module,
      agent: internal(new module.Agent(sockets)),
      hostname: unbracket(proxy.hostname),
      port: proxy.port || (proxy.protocol === 'https:' ? '443' : '80'),
      path: target.toString(),
      headers: { host: target.host, ...auth },
    };
  }
  return {
    module: https,
    agent: internal(new TunnelAgent(proxy, auth, timeoutMs, sockets)),
    hostname: unbracket(target.hostname),
    port: target.port,
    path,
    headers: {},
  };
}

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (proxy.username === '' && proxy.password === '') return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` };
}

/** Marks the agent's own sockets' agents, so breadcrumbs and metrics never count the agent's traffic. */
function internal<T extends object>(agent: T): T {
  (agent as Record<symbol, unknown>)[AGENT_INTERNAL] = true;
  return agent;
}

type ConnectCallback = (error: Error | null, socket: Duplex) => void;

/** An https agent whose sockets are TLS connections made through the proxy's CONNECT tunnel. */
class TunnelAgent extends https.Agent {
  private readonly connectAgent: http.Agent;

  constructor(
    private readonly proxy: URL,
    private readonly auth: Record<string, string>,
    private readonly timeoutMs: number,
    options: https.AgentOptions,
  ) {
    super(options);
    this.connectAgent = internal(new (proxy.protocol === 'https:' ? https : http).Agent({ keepAlive: false }));
  }

  // Node's Agent calls createConnection(options, callback) and waits for the callback when nothing is returned.
  override createConnection(options: https.RequestOptions, callback?: ConnectCallback): undefined {
    const done = once(callback);
    const host = options.hostname ?? options.host ?? 'localhost';
    const authority = `${host.includes(':') ? `[${host}]` : host}:${options.port ?? 443}`;
    const module = this.proxy.protocol === 'https:' ? https : http;
    const connect = module.request({
      method: 'CONNECT',
      agent: this.connectAgent,
      hostname: unbracket(this.proxy.hostname),
      port: this.proxy.port || (this.proxy.protocol === 'https:' ? '443' : '80'),
      path: authority,
      headers: { host: authority, ...this.auth },
    });
    connect.on('socket', (socket) => socket.unref());
    connect.setTimeout(this.timeoutMs, () => connect.destroy(new Error(`no answer from the proxy within ${this.timeoutMs} ms`)));
    connect.once('connect', (response, socket) => {
      connect.setTimeout(0);
      if (response.statusCode !== 200) {
        socket.destroy();
        done(new Error(`the proxy answered ${response.statusCode} to CONNECT`), socket);
        return;
      }
      const secure = tls.connect({
        ...(options as tls.ConnectionOptions),
        socket,
        servername: options.servername ?? (isIP(host) !== 0 ? undefined : host),
      });
      done(null, secure);
    });
    connect.once('error', (error) => done(error, undefined as unknown as Duplex));
    connect.end();
    return undefined;
  }
}

function once(callback: ConnectCallback | undefined): ConnectCallback {
  let called = false;
  return (error, socket) => {
    if (called) return;
    called = true;
    callback?.(error, socket);
  };
}

/**
 * Milliseconds to wait after a 429, from Retry-After (seconds or an HTTP date); 60 s when the
 * header is missing or unreadable, as the Sentry SDK does.
 */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header) {
    const seconds = Number(header);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(header);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  return 60_000;
}
