/**
 * Reads a response body on the side as its bytes arrive (a copy the agent is handed, never the
 * app's stream): decompresses it if the server compressed it, then parses server-sent events one
 * at a time or picks `model` and `usage` out of a JSON body, without keeping the body.
 */
import type * as Zlib from 'node:zlib';
import { guard, reportOnce } from '../lifecycle/guard';
import { SseParser, TopLevelScanner } from './stream-parsers';

export interface BodySink {
  /** One parsed server-sent event's data (its `event:` name is in the data's `type` for these APIs). */
  event(data: unknown): void;
  /** The interesting members of a JSON body (`model`, `usage`). */
  body(members: Record<string, unknown>): void;
  /** The body ended and everything in it was read. */
  end(): void;
}

const JSON_MEMBERS = new Set(['model', 'usage']);

export class BodyReader {
  private sse: SseParser | undefined;
  private scanner: TopLevelScanner | undefined;
  private inflater: Zlib.Gunzip | Zlib.Inflate | Zlib.BrotliDecompress | undefined;
  private closed = false;

  constructor(
    contentType: string,
    contentEncoding: string,
    private readonly sink: BodySink,
  ) {
    if (contentType.includes('text/event-stream')) {
      this.sse = new SseParser((event) => {
        if (event.data === '[DONE]') return;
        let data: unknown;
        try {
          data = JSON.parse(event.data);
        } catch {
          return;
        }
        this.sink.event(data);
      });
    } else if (contentType.includes('json')) {
      this.scanner = new TopLevelScanner(JSON_MEMBERS);
    }
    const encoding = contentEncoding.trim().toLowerCase();
    if ((this.sse || this.scanner) && encoding !== '' && encoding !== 'identity') {
      this.inflater = createInflater(encoding);
      if (!this.inflater) {
        // An encoding the agent does not decode (zstd, a chain): count the call without its usage.
        this.sse = undefined;
        this.scanner = undefined;
      }
    }
    if (this.inflater) {
      // Listeners of the agent's own stream: a throw here would surface in the app's process.
      this.inflater.on(
        'data',
        guard('AI body decompression', (chunk: Buffer) => this.parse(chunk)),
      );
      this.inflater.on(
        'end',
        guard('AI body decompression', () => this.finish()),
      );
      this.inflater.on(
        'error',
        guard('AI body decompression', () => {
          // A body the agent cannot decompress: count the call, without its usage.
          this.sse = undefined;
          this.scanner = undefined;
          this.finish();
        }),
      );
    }
  }

  push(chunk: Uint8Array): void {
    if (this.closed) return;
    if (!this.inflater) this.parse(chunk);
    else if (!this.inflater.destroyed) this.inflater.write(chunk);
  }

  end(): void {
    if (this.closed) return;
    if (!this.inflater) this.finish();
    else if (!this.inflater.destroyed) this.inflater.end();
  }

  /** The exchange failed: stop without reporting an end. */
  abandon(): void {
    this.closed = true;
    if (this.inflater) {
      this.inflater.removeAllListeners('data');
      this.inflater.removeAllListeners('end');
      this.inflater.on('error', () => {});
      this.inflater.destroy();
    }
  }

  private parse(chunk: Uint8Array): void {
    if (this.closed) return;
    try {
      this.sse?.push(chunk);
      this.scanner?.push(chunk);
    } catch (error) {
      reportOnce('AI response body reading', error);
      this.sse = undefined;
      this.scanner = undefined;
    }
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.sse?.end();
      if (this.scanner) this.sink.body(this.scanner.values());
    } catch (error) {
      reportOnce('AI response body reading', error);
    }
    this.sink.end();
  }
}

/** node:zlib is loaded on the first compressed body, not at start (most apps never see one). */
function createInflater(encoding: string): Zlib.Gunzip | Zlib.Inflate | Zlib.BrotliDecompress | undefined {
  if (!['gzip', 'x-gzip', 'deflate', 'br'].includes(encoding)) return undefined;
  const zlib = require('node:zlib') as typeof Zlib;
  switch (encoding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip();
    case 'deflate':
      return zlib.createInflate();
    case 'br':
      return zlib.createBrotliDecompress();
    default:
      return undefined;
  }
}
