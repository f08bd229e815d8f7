/**
 * The one way anything reaches Sentry: a POST with a deadline, on at most two sockets, outside
 * any trace. Sockets are unref'd, so a Sentry that stalls never keeps a process alive that
 * would have exited; the flushes hold the process open themselves, for a bounded time.
 * Bodies over 32 KiB are gzipped (as the Sentry SDK does).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { gzip } from 'node:zlib';
import { runUntraced } from '../lifecycle/internal';

export interface PostResponse {
  statusCode: number;
  retryAfter: string | null;
  rateLimits: string | null;
}

export type Poster = (body: Uint8Array | string, headers: Record<string, string>) => Promise<PostResponse>;

export const GZIP_THRESHOLD = 32 * 1024;

export function createPoster(url: string, timeoutMs: number): Poster {
  const target = new URL(url);
  const module = target.protocol === 'https:' ? https : http;
  const agent = new module.Agent({ keepAlive: true, maxSockets: 2, maxFreeSockets: 1 });
  const hostname = target.hostname.startsWith('[') ? target.hostname.slice(1, -1) : target.hostname;

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
        const request = module.request(
          { method: 'POST', agent, hostname, port: target.port, path: `${target.pathname}${target.search}`, headers: sent },
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
