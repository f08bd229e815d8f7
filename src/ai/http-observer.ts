/**
 * Generations made with plain `fetch` (Node's undici): every POST to a known AI host whose path
 * names a generation (`/v1/chat/completions`, `/v1/responses`, `/v1/embeddings`,
 * `/v1/completions`, `/v1/messages`, Azure's `/openai/deployments/{name}/...`).
 *
 * Read from undici's diagnostics channels, without wrapping fetch or the Response the app gets:
 * `undici:request:create` (the caller's async context: its route and span), `bodyChunkSent` (the
 * request body, scanned for `model`), `headers` (the status), `bodyChunkReceived` (the response
 * bytes, read on the side as they arrive: events one by one, or only `model` and `usage` of a JSON
 * body), `trailers` (the end) and `error` (an abort by the app is `cancelled`; a timeout or a broken
 * connection is `error`).
 *
 * A request made inside an SDK call belongs to that call: it is not counted again here, and its
 * bytes are read for the call only when the app reads the raw Response (`.asResponse()`).
 */
import * as dc from 'node:diagnostics_channel';
import { guard } from '../lifecycle/guard';
import { BodyReader, type BodySink } from './body-reader';
import type { AiConfig } from './config';
import { hostAddress, httpEndpoint, normalizeModel, type Endpoint, type HostAddress, type ProviderMap } from './endpoints';
import { errorType, Generation, isAbort, type AiRuntime } from './generation';
import { currentSdkCall, type SdkCall } from './sdk/call';
import { TopLevelScanner } from './stream-parsers';

interface UndiciRequest {
  origin?: unknown;
  path?: unknown;
  method?: unknown;
}

interface Exchange {
  requestChunk(chunk: unknown): void;
  headers(statusCode: number, rawHeaders: unknown): void;
  chunk(chunk: Uint8Array): void;
  end(): void;
  error(error: unknown): void;
}

export interface HttpHooks {
  runtime: AiRuntime;
  config: AiConfig;
  providers: ProviderMap;
}

const exchanges = new WeakMap<object, Exchange>();
let observing = false;

export function observeHttpCalls(hooks: HttpHooks): void {
  if (observing) return;
  observing = true;
  const on = (channel: string, handler: (message: Record<string, unknown>, exchange: Exchange) => void) => {
    dc.subscribe(
      channel,
      guard(`AI fetch ${channel}`, (message: unknown) => {
        const request = (message as { request?: object }).request;
        if (!request) return;
        const exchange = exchanges.get(request);
        if (exchange) handler(message as Record<string, unknown>, exchange);
      }),
    );
  };

  dc.subscribe(
    'undici:request:create',
    guard('AI fetch undici:request:create', (message: unknown) => {
      const request = (message as { request?: UndiciRequest }).request;
      if (!request) return;
      const call = currentSdkCall();
      if (call) {
        call.noteExchange();
        exchanges.set(request, new SdkExchange(call));
        return;
      }
      if (!hooks.config.http || String(request.method).toUpperCase() !== 'POST') return;
      const exchange = plainExchange(request, hooks);
      if (exchange) exchanges.set(request, exchange);
    }),
  );
  on('undici:request:bodyChunkSent', (message, exchange) => exchange.requestChunk(message.chunk));
  on('undici:request:headers', (message, exchange) => {
    const response = message.response as { statusCode?: unknown; headers?: unknown } | undefined;
    exchange.headers(typeof response?.statusCode === 'number' ? response.statusCode : 0, response?.headers);
  });
  on('undici:request:bodyChunkReceived', (message, exchange) => {
    const chunk = message.chunk;
    if (chunk instanceof Uint8Array) exchange.chunk(chunk);
  });
  on('undici:request:trailers', (message, exchange) => {
    exchanges.delete(message.request as object);
    exchange.end();
  });
  on('undici:request:error', (message, exchange) => {
    exchanges.delete(message.request as object);
    exchange.error(message.error);
  });
}

function plainExchange(request: UndiciRequest, hooks: HttpHooks): Exchange | undefined {
  const origin = request.origin instanceof URL ? request.origin : typeof request.origin === 'string' ? request.origin : undefined;
  if (origin === undefined || typeof request.path !== 'string') return undefined;
  const address = hostAddress(origin);
  if (!address) return undefined;
  const provider = hooks.providers.lookup(address);
  if (!provider) return undefined;
  const endpoint = httpEndpoint(request.path);
  if (!endpoint) return undefined;
  if (endpoint.protocol === 'openai' ? !hooks.config.openai : !hooks.config.anthropic) return undefined;
  return new PlainExchange(hooks.runtime, endpoint, provider, address);
}

/** content-type and content-encoding from undici's flat [name, value, name, value, ...] list of buffers. */
function bodyHeaders(rawHeaders: unknown): { contentType: string; contentEncoding: string } {
  const out = { contentType: '', contentEncoding: '' };
  if (!Array.isArray(rawHeaders)) return out;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const key = rawHeaders[i] as unknown;
    const length = typeof key === 'string' || key instanceof Uint8Array ? key.length : 0;
    // Only names of the right length are decoded: 12 is content-type, 16 content-encoding.
    if (length !== 12 && length !== 16) continue;
    const name = text(key).toLowerCase();
    if (name === 'content-type') out.contentType = text(rawHeaders[i + 1]).toLowerCase();
    else if (name === 'content-encoding') out.contentEncoding = text(rawHeaders[i + 1]);
  }
  return out;
}

function text(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('latin1');
  return '';
}

const REQUEST_MEMBERS = new Set(['model', 'stream']);
const CONTENT_MEMBERS = ['messages', 'input', 'prompt'];

/** A plain fetch to an AI API: a generation of its own. */
class PlainExchange implements Exchange {
  private readonly generation: Generation;
  private readonly request: TopLevelScanner;
  private reader: BodyReader | undefined;
  private statusCode: number | undefined;

  constructor(
    private readonly runtime: AiRuntime,
    private readonly endpoint: Endpoint,
    provider: string,
    address: HostAddress,
  ) {
    this.generation = new Generation(runtime, { endpoint, provider, requestModel: undefined, stream: false, server: address, span: true });
    const members = runtime.captureContentChars > 0 ? new Set([...REQUEST_MEMBERS, ...CONTENT_MEMBERS]) : REQUEST_MEMBERS;
    this.request = new TopLevelScanner(members, Math.max(64 * 1024, runtime.captureContentChars));
  }

  requestChunk(chunk: unknown): void {
    if (typeof chunk === 'string' || chunk instanceof Uint8Array) this.request.push(chunk);
  }

  headers(statusCode: number, rawHeaders: unknown): void {
    this.statusCode = statusCode;
    const request = this.request.values();
    this.generation.noteRequestModel(normalizeModel(request.model));
    if (request.stream === true) this.generation.stream = true;
    if (this.runtime.captureContentChars > 0) {
      for (const member of CONTENT_MEMBERS) {
        const raw = this.request.raw(member);
        if (raw !== undefined) {
          this.generation.noteInputContent(raw);
          break;
        }
      }
    }
    if (statusCode >= 300 && statusCode < 400) {
      // fetch follows the redirect with a request of its own, which is the generation.
      this.generation.discard();
      return;
    }
    this.runtime.metrics.recordAttempt(this.generation.requestModel, this.endpoint.operation, statusCode);
    if (statusCode < 200 || statusCode >= 300) {
      this.generation.finish('error', String(statusCode));
      return;
    }
    const { contentType, contentEncoding } = bodyHeaders(rawHeaders);
    if (contentType.includes('text/event-stream')) this.generation.stream = true;
    const generation = this.generation;
    const sink: BodySink = {
      event: (data) => generation.readEvent(data),
      body: (members) => generation.readBody(members),
      end: () => {
        const failed = generation.reader.streamError;
        generation.finish(failed ? 'error' : 'success', failed);
      },
    };
    this.reader = new BodyReader(contentType, contentEncoding, sink);
  }

  chunk(chunk: Uint8Array): void {
    this.reader?.push(chunk);
  }

  end(): void {
    if (this.reader) this.reader.end();
    else if (this.statusCode !== undefined) this.generation.finish(this.statusCode < 400 ? 'success' : 'error', String(this.statusCode));
  }

  error(error: unknown): void {
    if (this.statusCode === undefined) {
      const request = this.request.values();
      this.generation.noteRequestModel(normalizeModel(request.model));
      this.runtime.metrics.recordAttempt(this.generation.requestModel, this.endpoint.operation, undefined);
    }
    this.reader?.abandon();
    this.generation.finish(isAbort(error) ? 'cancelled' : 'error', errorType(error));
  }
}

/** An SDK call's attempt: its body is read only if the app takes the raw Response. */
class SdkExchange implements Exchange {
  private reader: BodyReader | undefined;

  constructor(private readonly call: SdkCall) {}

  requestChunk(): void {}

  headers(statusCode: number, rawHeaders: unknown): void {
    const sink = this.call.bodySink(statusCode);
    if (!sink) return;
    const { contentType, contentEncoding } = bodyHeaders(rawHeaders);
    this.reader = new BodyReader(contentType, contentEncoding, sink);
  }

  chunk(chunk: Uint8Array): void {
    this.reader?.push(chunk);
  }

  end(): void {
    this.reader?.end();
  }

  error(error: unknown): void {
    if (!this.reader) return;
    this.reader.abandon();
    this.call.rawFailed(error);
  }
}
