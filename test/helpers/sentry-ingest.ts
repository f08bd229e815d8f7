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

export interface OtlpAttributeMap {
  [key: string]: unknown;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: OtlpAttributeMap;
  events: Array<{ name: string; attributes: OtlpAttributeMap }>;
  statusCode: number;
  statusMessage: string;
  /** W3C trace flags and the OTLP has-/is-remote-parent bits. */
  flags: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  /** The instrumentation scope's name. */
  scope: string;
  resource: OtlpAttributeMap;
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

// ---- A minimal protobuf reader for ExportTraceServiceRequest (opentelemetry-proto v1) ----

interface Field {
  no: number;
  wire: number;
  int: bigint;
  bytes: Buffer;
}

function readFields(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const byte = buf[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) fields.push({ no, wire, int: varint(), bytes: Buffer.alloc(0) });
    else if (wire === 1) {
      fields.push({ no, wire, int: buf.readBigUInt64LE(pos), bytes: buf.subarray(pos, pos + 8) });
      pos += 8;
    } else if (wire === 2) {
      const length = Number(varint());
      fields.push({ no, wire, int: 0n, bytes: buf.subarray(pos, pos + length) });
      pos += length;
    } else if (wire === 5) {
      fields.push({ no, wire, int: BigInt(buf.readUInt32LE(pos)), bytes: buf.subarray(pos, pos + 4) });
      pos += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return fields;
}

function anyValue(buf: Buffer): unknown {
  for (const f of readFields(buf)) {
    if (f.no === 1) return f.bytes.toString('utf8');
    if (f.no === 2) return f.int !== 0n;
    if (f.no === 3) return Number(BigInt.asIntN(64, f.int));
    if (f.no === 4) return f.bytes.readDoubleLE(0);
    if (f.no === 5)
      return readFields(f.bytes)
        .filter((v) => v.no === 1)
        .map((v) => anyValue(v.bytes));
    if (f.no === 7) return f.bytes;
  }
  return undefined;
}

function attributes(fields: Field[], no: number): OtlpAttributeMap {
  const out: OtlpAttributeMap = {};
  for (const f of fields) {
    if (f.no !== no) continue;
    const kv = readFields(f.bytes);
    const key = kv.find((x) => x.no === 1)?.bytes.toString('utf8') ?? '';
    const value = kv.find((x) => x.no === 2);
    out[key] = value ? anyValue(value.bytes) : undefined;
  }
  return out;
}

export function decodeTraceRequest(body: Buffer): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  for (const rs of readFields(body).filter((f) => f.no === 1)) {
    const rsFields = readFields(rs.bytes);
    const resourceField = rsFields.find((f) => f.no === 1);
    const resource = resourceField ? attributes(readFields(resourceField.bytes), 1) : {};
    for (const ss of rsFields.filter((f) => f.no === 2)) {
      const ssFields = readFields(ss.bytes);
      const scopeField = ssFields.find((f) => f.no === 1);
      const scope = scopeField
        ? (readFields(scopeField.bytes)
            .find((f) => f.no === 1)
            ?.bytes.toString('utf8') ?? '')
        : '';
      for (const s of ssFields.filter((f) => f.no === 2)) {
        const sf = readFields(s.bytes);
        const hex = (no: number) => sf.find((f) => f.no === no)?.bytes.toString('hex') ?? '';
        const status = sf.find((f) => f.no === 15);
        const statusFields = status ? readFields(status.bytes) : [];
        spans.push({
          traceId: hex(1),
          spanId: hex(2),
          parentSpanId: hex(4),
          name: sf.find((f) => f.no === 5)?.bytes.toString('utf8') ?? '',
          kind: Number(sf.find((f) => f.no === 6)?.int ?? 0n),
          attributes: attributes(sf, 9),
          events: sf
            .filter((f) => f.no === 11)
            .map((e) => {
              const ef = readFields(e.bytes);
              return { name: ef.find((f) => f.no === 2)?.bytes.toString('utf8') ?? '', attributes: attributes(ef, 3) };
            }),
          statusCode: Number(statusFields.find((f) => f.no === 3)?.int ?? 0n),
          statusMessage: statusFields.find((f) => f.no === 2)?.bytes.toString('utf8') ?? '',
          flags: Number(sf.find((f) => f.no === 16)?.int ?? 0n),
          startTimeUnixNano: sf.find((f) => f.no === 7)?.int ?? 0n,
          endTimeUnixNano: sf.find((f) => f.no === 8)?.int ?? 0n,
          scope,
          resource,
        });
      }
    }
  }
  return spans;
}
