/**
 * A local Sentry ingest on loopback: DSN `http://publickey@127.0.0.1:PORT/1`. It decodes what the
 * agent sends the way Sentry does: envelopes at POST /api/1/envelope/ (gzip when the client says
 * so) with `parseEnvelope` from @sentry/core, and OTLP/HTTP protobuf trace posts at
 * /api/1/integration/otlp/v1/traces/ with a small protobuf reader (below). Every body is also kept
 * as received, decompressed, so a test can search everything the agent sent for a secret.
 *
 * Over TLS when given a certificate (`new SentryIngest({ tls })`, DSN `https://...`), to test the
 * agent's CONNECT tunnel through a proxy.
 *
 * Modes: `ok` (200), `rate-limited` (429 with Retry-After and X-Sentry-Rate-Limits), `stalled`
 * (reads the request, never answers), `down` (not listening: connection refused).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { parseEnvelope } from '@sentry/core';
import { decodeTraceRequest, type OtlpSpan } from './otlp-protobuf.mjs';

export { decodeTraceRequest, type OtlpAttributeMap, type OtlpSpan } from './otlp-protobuf.mjs';

export type IngestMode = 'ok' | 'rate-limited' | 'stalled' | 'down';

export const ENVELOPE_PATH = '/api/1/envelope/';
export const OTLP_PATH = '/api/1/integration/otlp/v1/traces/';

export interface ReceivedPost {
  path: string;
  /** The request line's URL (the envelope endpoint carries the key in its query string). */
  url: string;
  headers: http.IncomingHttpHeaders;
  gzipped: boolean;
  /** The body as sent, decompressed. */
  body: Buffer;
  mode: IngestMode;
}

/** A Sentry event as it arrived (the item payload of an `event` envelope item). */
export type SentryEvent = Record<string, any>;

export class SentryIngest {
  readonly posts: ReceivedPost[] = [];
  /** Requests that arrived (whatever the mode), by path. */
  readonly arrivals: Record<string, number> = {};
  /** The most requests left unanswered at once in `stalled` mode, by path. */
  readonly maxStalled: Record<string, number> = {};
  private readonly stalled: Record<string, number> = {};
  private mode: IngestMode = 'ok';
  private port = 0;
  private readonly sockets = new Set<Socket>();
  private readonly server: http.Server;

  constructor(private readonly options: { tls?: { key: string; cert: string } } = {}) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    this.server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler) : http.createServer(handler);
    this.server.on(options.tls ? 'secureConnection' : 'connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens on a free loopback port (or `port`); returns the DSN. */
  async start(mode: IngestMode = 'ok'): Promise<string> {
    await this.listen(0);
    this.port = (this.server.address() as AddressInfo).port;
    await this.setMode(mode);
    return this.dsn;
  }

  get dsn(): string {
    return `${this.options.tls ? 'https' : 'http'}://publickey@127.0.0.1:${this.port}/1`;
  }

  async setMode(mode: IngestMode): Promise<void> {
    const wasDown = this.mode === 'down';
    this.mode = mode;
    if (mode === 'down' && !wasDown) await this.close();
    if (mode !== 'down' && wasDown) await this.listen(this.port);
  }

  async stop(): Promise<void> {
    if (this.mode !== 'down') await this.close();
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  private close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '').split('?')[0] ?? '';
    this.arrivals[path] = (this.arrivals[path] ?? 0) + 1;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const gzipped = req.headers['content-encoding'] === 'gzip';
      let body = raw;
      try {
        if (gzipped) body = gunzipSync(raw);
      } catch {
        body = raw;
      }
      const mode = this.mode;
      this.posts.push({ path, url: req.url ?? '', headers: req.headers, gzipped, body, mode });
      if (mode === 'stalled') {
        // Never answered; the client gives up (or the socket is destroyed on stop()).
        this.stalled[path] = (this.stalled[path] ?? 0) + 1;
        this.maxStalled[path] = Math.max(this.maxStalled[path] ?? 0, this.stalled[path]!);
        res.on('close', () => (this.stalled[path] = (this.stalled[path] ?? 1) - 1));
        return;
      }
      if (mode === 'rate-limited') {
        res.writeHead(429, { 'retry-after': '60', 'x-sentry-rate-limits': '60::organization' });
        res.end();
        return;
      }
      if (path !== ENVELOPE_PATH && path !== OTLP_PATH) {
        res.writeHead(404);
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(path === ENVELOPE_PATH ? '{"id":"0"}' : '{}');
    });
  }

  /** Envelopes answered 200 (Sentry kept them), decoded. */
  envelopes(): Array<[Record<string, any>, Array<[Record<string, any>, any]>]> {
    return this.posts
      .filter((p) => p.path === ENVELOPE_PATH && p.mode === 'ok')
      .map((p) => parseEnvelope(new Uint8Array(p.body)) as unknown as [Record<string, any>, Array<[Record<string, any>, any]>]);
  }

  /** Error and message events Sentry kept. */
  events(): SentryEvent[] {
    const events: SentryEvent[] = [];
    for (const [, items] of this.envelopes()) for (const [header, payload] of items) if (header.type === 'event') events.push(payload);
    return events;
  }

  /** Spans Sentry kept, decoded from OTLP protobuf. */
  spans(): OtlpSpan[] {
    return this.posts.filter((p) => p.path === OTLP_PATH && p.mode === 'ok').flatMap((p) => decodeTraceRequest(p.body));
  }

  /** Everything the agent sent, as text: URLs, headers and bodies (protobuf strings are UTF-8). */
  everythingReceived(): string {
    return this.posts.map((p) => `${p.url}\n${JSON.stringify(p.headers)}\n${p.body.toString('utf8')}`).join('\n');
  }
}
