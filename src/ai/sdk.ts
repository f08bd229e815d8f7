/**
 * Hooks the `openai` (v4 to v6) and `@anthropic-ai/sdk` clients. Both are generated from the same
 * template: a client class whose `post(path, options)` starts every API call, `makeRequest` runs
 * it with its retries (each retry calls `makeRequest` again), and `fetchWithTimeout` makes each
 * HTTP attempt; the call's `APIPromise` parses the response when the app awaits it (`parse()`), or
 * hands over the raw `Response` (`asResponse()`). The agent wraps those four methods on the
 * client's prototype and nothing else:
 *
 * - `post`, for a generation path (`/chat/completions`, `/completions`, `/embeddings`,
 *   `/responses`, `/v1/messages`), starts a Generation and runs the SDK's call inside an
 *   AsyncLocalStorage store naming it, and inside its span; it returns the SDK's own APIPromise.
 * - `makeRequest`, the first time for a call, gets the call's outcome: the SDK's own error
 *   (RateLimitError, APIConnectionTimeoutError, APIUserAbortError, ...) is rethrown unchanged.
 * - `fetchWithTimeout` counts each attempt with its status code, and on an allow-listed host adds
 *   `stream_options.include_usage` to a streamed chat/completions request that did not ask for it.
 * - `APIPromise.prototype.parse` sees the parsed result: usage from a body; for a stream, the
 *   Stream object's `iterator` is wrapped so each event is read as the app reads it, the usage-only
 *   chunk the agent asked for is hidden (with the `usage: null` it adds to the other chunks), and a
 *   stream the app leaves early (break, abort, an exception in its loop) is recorded once, as
 *   cancelled. `tee()` and `toReadableStream()` read through the same iterator.
 *
 * The app gets back the same objects it would without the agent.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { context as otelContext, trace, type Context } from '@opentelemetry/api';
import { reportOnce } from '../lifecycle/guard';
import { claimPatch, onPackageLoad } from '../instrumentations/module-hooks';
import type { BodySink } from './body-reader';
import type { AiConfig } from './config';
import { hostAddress, normalizeModel, sdkEndpoint, type Endpoint, type HostAddress, type HostList, type ProviderMap } from './endpoints';
import { errorType, Generation, isAbort, type AiRuntime } from './generation';

const CLIENT_PATCHED = Symbol.for('@tutor/otel-agent.ai.client');
const PROMISE_PATCHED = Symbol.for('@tutor/otel-agent.ai.apiPromise');

type AnyFunction = (...args: unknown[]) => unknown;
type Json = Record<string, unknown>;

interface SdkClient {
  baseURL?: unknown;
  _tracer?: unknown;
}

export interface SdkHooks {
  runtime: AiRuntime;
  config: AiConfig;
  providers: ProviderMap;
  includeUsage: HostList;
}

const sdkCalls = new AsyncLocalStorage<SdkCall>();
const callsByResponse = new WeakMap<object, SdkCall>();
const clientAddresses = new WeakMap<object, HostAddress | null>();

/** The SDK call being made here, if any: the HTTP observer leaves its requests to it. */
export function currentSdkCall(): SdkCall | undefined {
  return sdkCalls.getStore();
}

export function instrumentAiSdks(hooks: SdkHooks, packages: string[]): void {
  if (packages.length === 0) return;
  onPackageLoad(packages, 'AI SDK patch', (exports) => patchSdkExports(exports, hooks));
}

/** Patches the client classes a package exports (CommonJS exports or an ESM default). */
export function patchSdkExports(exports: unknown, hooks: SdkHooks): void {
  const seen = new Set<unknown>();
  const visit = (candidate: unknown) => {
    if (typeof candidate !== 'function' || seen.has(candidate)) return;
    seen.add(candidate);
    patchClientClass(candidate as AnyFunction & { prototype?: object }, hooks);
  };
  visit(exports);
  if ((typeof exports === 'object' && exports !== null) || typeof exports === 'function') {
    for (const key of ['default', 'OpenAI', 'AzureOpenAI', 'Anthropic', 'BaseAnthropic']) {
      let value: unknown;
      try {
        value = (exports as Json)[key];
      } catch {
        continue;
      }
      visit(value);
    }
  }
}

function hasOwn(target: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(target, key);
}

function patchClientClass(Client: { prototype?: object }, hooks: SdkHooks): void {
  let proto: object | null | undefined = Client.prototype;
  while (proto && proto !== Object.prototype && proto !== Function.prototype) {
    if (hasOwn(proto, 'post') && hasOwn(proto, 'makeRequest') && hasOwn(proto, 'fetchWithTimeout')) break;
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  if (!proto || proto === Object.prototype || proto === Function.prototype) return;
  const target = proto as Record<string, unknown>;
  if (typeof target.post !== 'function' || typeof target.makeRequest !== 'function' || typeof target.fetchWithTimeout !== 'function') return;
  if (!claimPatch(target, CLIENT_PATCHED)) return;

  const originalPost = target.post as AnyFunction;
  target.post = function post(this: SdkClient, ...args: unknown[]) {
    let call: SdkCall | undefined;
    try {
      call = startCall(this, args[0], args[1], hooks);
    } catch (error) {
      reportOnce('AI SDK call start', error);
    }
    if (!call) return originalPost.apply(this, args);
    const started = call;
    const run = () => originalPost.apply(this, args);
    let spanContext: Context | undefined;
    try {
      const span = started.generation.span;
      if (span) spanContext = trace.setSpan(started.generation.parentContext, span);
    } catch (error) {
      reportOnce('AI SDK call start', error);
    }
    let result: unknown;
    try {
      result = sdkCalls.run(started, () => (spanContext ? otelContext.with(spanContext, run) : run()));
    } catch (error) {
      started.requestFailed(error);
      throw error;
    }
    started.attach(result);
    return result;
  };

  const originalMakeRequest = target.makeRequest as AnyFunction;
  target.makeRequest = function makeRequest(this: SdkClient, ...args: unknown[]) {
    const call = sdkCalls.getStore();
    if (!call || call.client !== this || call.requestStarted) return originalMakeRequest.apply(this, args);
    call.requestStarted = true;
    return settleRequest(originalMakeRequest.apply(this, args) as Promise<unknown>, call);
  };

  const originalFetch = target.fetchWithTimeout as AnyFunction;
  target.fetchWithTimeout = function fetchWithTimeout(this: SdkClient, ...args: unknown[]) {
    const call = sdkCalls.getStore();
    if (!call || call.client !== this) return originalFetch.apply(this, args);
    try {
      args[1] = call.beforeAttempt(args[0], args[1]);
    } catch (error) {
      reportOnce('AI SDK attempt', error);
    }
    const attempt = originalFetch.apply(this, args);
    call.watchAttempt(attempt);
    return attempt;
  };
}

/** The call's outcome, with the SDK's promise (and so its rejection) passed on unchanged. */
async function settleRequest(pending: Promise<unknown>, call: SdkCall): Promise<unknown> {
  let props: unknown;
  try {
    props = await pending;
  } catch (error) {
    call.requestFailed(error);
    throw error;
  }
  call.requestSucceeded();
  return props;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isPromiseLike(value: unknown): boolean {
  return isObject(value) && typeof value.then === 'function';
}

function addressOf(client: SdkClient): HostAddress | undefined {
  const cached = clientAddresses.get(client);
  if (cached !== undefined) return cached ?? undefined;
  const address = typeof client.baseURL === 'string' ? hostAddress(client.baseURL) : undefined;
  clientAddresses.set(client, address ?? null);
  return address;
}

function startCall(client: SdkClient, path: unknown, options: unknown, hooks: SdkHooks): SdkCall | undefined {
  const endpoint = sdkEndpoint(path);
  if (!endpoint) return undefined;
  if (endpoint.protocol === 'openai' ? !hooks.config.openai : !hooks.config.anthropic) return undefined;
  const opts = isObject(options) && !isPromiseLike(options) ? options : undefined;
  const params = opts && isObject(opts.body) ? opts.body : undefined;
  const address = addressOf(client);
  const provider = (address && hooks.providers.lookup(address)) ?? `${endpoint.protocol}_compatible`;
  // Anthropic's SDK makes its own span for each call unless told not to: one span is enough.
  const ownSpan = !(endpoint.protocol === 'anthropic' && client._tracer);
  const generation = new Generation(hooks.runtime, {
    endpoint,
    provider,
    requestModel: normalizeModel(params?.model),
    stream: opts?.stream === true || params?.stream === true,
    server: address,
    span: ownSpan,
  });
  if (hooks.runtime.captureContentChars > 0 && params) {
    const input = params.messages ?? params.input ?? params.prompt;
    if (input !== undefined) {
      try {
        generation.noteInputContent(JSON.stringify(input));
      } catch {
        // not serialisable: not captured
      }
    }
  }
  return new SdkCall(client, generation, endpoint, params, hooks);
}

/** How the app reads the answer: not yet known, through the SDK's parse, or as the raw Response. */
type ReadMode = 'pending' | 'parse' | 'raw';

export class SdkCall {
  requestStarted = false;
  private mode: ReadMode = 'pending';
  private injected = false;
  private responded = false;
  private iterating = false;
  private parseWatched = false;
  /** The latest attempt went through fetch, where the agent sees its bytes. */
  private exchangeSeen = false;
  /** How the body of the latest attempt ended, when the app reads it raw. */
  private rawEnd: 'done' | { error: unknown } | undefined;
  private streamSignal: AbortSignal | undefined;

  constructor(
    readonly client: SdkClient,
    readonly generation: Generation,
    private readonly endpoint: Endpoint,
    private readonly params: Json | undefined,
    private readonly hooks: SdkHooks,
  ) {}

  /** Links the SDK's APIPromise to this call and hooks its class once. */
  attach(result: unknown): void {
    try {
      const responsePromise = isObject(result) ? result.responsePromise : undefined;
      if (typeof responsePromise === 'object' && responsePromise !== null && patchApiPromise(result as object)) {
        callsByResponse.set(responsePromise, this);
      } else {
        this.mode = 'raw'; // an SDK shape the agent does not know: count the call, not its body
      }
    } catch (error) {
      reportOnce('AI SDK result', error);
    }
  }

  beforeAttempt(url: unknown, init: unknown): unknown {
    this.exchangeSeen = false;
    this.rawEnd = undefined;
    if (!this.shouldAddUsage(url)) return init;
    const changed = withIncludeUsage(init, this.params);
    if (changed !== init) this.injected = true;
    return changed;
  }

  watchAttempt(attempt: unknown): void {
    const record = (status: number | undefined) => {
      try {
        this.hooks.runtime.metrics.recordAttempt(this.generation.requestModel, this.endpoint.operation, status);
      } catch (error) {
        reportOnce('AI SDK attempt', error);
      }
    };
    if (!isPromiseLike(attempt)) {
      record(undefined);
      return;
    }
    (attempt as Promise<unknown>).then(
      (response) => record(statusOf(response)),
      () => record(undefined),
    );
  }

  requestFailed(error: unknown): void {
    try {
      this.generation.finish(isAbort(error) ? 'cancelled' : 'error', errorType(error));
    } catch (failure) {
      reportOnce('AI SDK call end', failure);
    }
  }

  requestSucceeded(): void {
    this.responded = true;
    try {
      this.finishRawIfDone();
    } catch (error) {
      reportOnce('AI SDK call end', error);
    }
  }

  parseRequested(parsed: unknown): void {
    this.mode = 'parse';
    if (this.parseWatched || !isPromiseLike(parsed)) return;
    this.parseWatched = true;
    (parsed as Promise<unknown>).then(
      (data) => this.parsed(data),
      (error) => this.requestFailed(error),
    );
  }

  rawRequested(): void {
    if (this.mode !== 'pending') return;
    this.mode = 'raw';
    this.finishRawIfDone();
  }

  /** Called by the HTTP observer when the SDK's attempt goes out through fetch. */
  noteExchange(): void {
    this.exchangeSeen = true;
  }

  /** The HTTP observer asks at the response headers whether to read this body for the call. */
  bodySink(statusCode: number): BodySink | undefined {
    if (this.mode === 'parse' || statusCode < 200 || statusCode >= 300) return undefined;
    return {
      event: (data) => {
        if (this.mode !== 'parse') this.generation.readEvent(data);
      },
      body: (members) => {
        if (this.mode !== 'parse') this.generation.readBody(members);
      },
      end: () => {
        const failed = this.generation.reader.streamError;
        this.rawEnd = failed ? { error: { name: failed } } : 'done';
        this.finishRawIfDone();
      },
    };
  }

  /** The body of the raw Response failed (the app cancelled it, or the connection broke). */
  rawFailed(error: unknown): void {
    this.rawEnd = { error };
    this.finishRawIfDone();
  }

  private finishRawIfDone(): void {
    if (this.mode !== 'raw' || !this.responded || this.generation.finished) return;
    if (!this.exchangeSeen) {
      // Not sent through fetch (openai v4's node-fetch, a custom fetch): the bytes are not seen.
      this.generation.finish('success');
      return;
    }
    const end = this.rawEnd;
    if (end === undefined) return;
    if (end === 'done') this.generation.finish('success');
    else this.generation.finish(isAbort(end.error) ? 'cancelled' : 'error', errorType(end.error));
  }

  private shouldAddUsage(url: unknown): boolean {
    if (!this.generation.stream || this.endpoint.protocol !== 'openai') return false;
    if (this.endpoint.operation !== 'chat' && this.endpoint.operation !== 'text_completion') return false;
    if (this.mode === 'raw') return false; // the app reads the raw body: nothing could hide the extra chunk
    const options = this.params?.stream_options;
    if (isObject(options) && options.include_usage === true) return false;
    const address = typeof url === 'string' || url instanceof URL ? hostAddress(url) : undefined;
    return address !== undefined && this.hooks.includeUsage.has(address);
  }

  private parsed(data: unknown): void {
    try {
      if (this.generation.finished) return;
      if (isSdkStream(data)) {
        this.observeStream(data);
        return;
      }
      this.generation.readBody(data);
      this.generation.finish('success');
    } catch (error) {
      reportOnce('AI SDK result', error);
    }
  }

  private observeStream(stream: SdkStream): void {
    const inner = stream.iterator;
    const call = this;
    stream.iterator = function iterator(this: unknown, ...args: unknown[]) {
      return observeIterator(inner.apply(this, args) as AsyncIterator<unknown>, call);
    };
    const signal = stream.controller.signal;
    if (signal && typeof signal.addEventListener === 'function') {
      // An app that aborts a stream it never iterates: nothing else would end the generation.
      signal.addEventListener(
        'abort',
        () =>
          setImmediate(() => {
            if (!this.iterating) this.generation.finish('cancelled', 'AbortError');
          }),
        { once: true },
      );
    }
    this.streamSignal = signal;
  }

  /** Reads one streamed item; true when the app must not see it. */
  streamItem(value: unknown): boolean {
    this.generation.readEvent(value);
    if (!this.injected || !isObject(value)) return false;
    if (Array.isArray(value.choices) && value.choices.length === 0 && isObject(value.usage)) return true;
    if (value.usage === null) delete value.usage;
    return false;
  }

  /** True for the first iteration of the stream: only it records (a second one fails in the SDK). */
  streamStarted(): boolean {
    if (this.iterating) return false;
    this.iterating = true;
    return true;
  }

  streamCompleted(): void {
    // The SDK's iterator ends quietly when the app aborted the stream's controller.
    this.generation.finish(this.streamSignal?.aborted ? 'cancelled' : 'success', this.streamSignal?.aborted ? 'AbortError' : undefined);
  }

  streamFailed(error: unknown): void {
    this.generation.finish(isAbort(error) ? 'cancelled' : 'error', errorType(error));
  }

  streamAbandoned(): void {
    this.generation.finish('cancelled', 'abandoned');
  }
}

interface SdkStream {
  iterator: AnyFunction;
  controller: { signal?: AbortSignal };
}

function isSdkStream(value: unknown): value is SdkStream {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { iterator?: unknown }).iterator === 'function' &&
    typeof (value as { controller?: unknown }).controller === 'object' &&
    (value as { controller?: unknown }).controller !== null
  );
}

/** The app's view of a stream: every item but the ones the agent added, with the end recorded once. */
async function* observeIterator(inner: AsyncIterator<unknown>, call: SdkCall): AsyncGenerator<unknown, unknown, undefined> {
  let first = false;
  guarded(() => {
    first = call.streamStarted();
  });
  if (!first) return yield* { [Symbol.asyncIterator]: () => inner };
  let ended = false;
  try {
    while (true) {
      const step = await inner.next();
      if (step.done) {
        ended = true;
        guarded(() => call.streamCompleted());
        return step.value;
      }
      let hide = false;
      try {
        hide = call.streamItem(step.value);
      } catch (error) {
        reportOnce('AI SDK stream', error);
      }
      if (!hide) yield step.value;
    }
  } catch (error) {
    if (!ended) {
      ended = true;
      guarded(() => call.streamFailed(error));
    }
    throw error;
  } finally {
    if (!ended) {
      // The app left the loop early (break, return, an exception in its body).
      guarded(() => call.streamAbandoned());
      await inner.return?.();
    }
  }
}

function guarded(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    reportOnce('AI SDK stream', error);
  }
}

function statusOf(response: unknown): number | undefined {
  const status = typeof response === 'object' && response !== null ? (response as { status?: unknown }).status : undefined;
  return typeof status === 'number' ? status : undefined;
}

/** Hooks `parse` and `asResponse` on the class of an SDK's APIPromise; false when it has no such methods. */
function patchApiPromise(promise: object): boolean {
  let proto = Object.getPrototypeOf(promise) as object | null;
  while (proto && proto !== Promise.prototype && proto !== Object.prototype) {
    if (hasOwn(proto, 'parse') && hasOwn(proto, 'asResponse')) break;
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  if (!proto || proto === Promise.prototype || proto === Object.prototype) return false;
  const target = proto as Record<string, unknown>;
  if (!claimPatch(target, PROMISE_PATCHED)) return true;
  const originalParse = target.parse as AnyFunction;
  const originalAsResponse = target.asResponse as AnyFunction;
  target.parse = function parse(this: { responsePromise?: object }, ...args: unknown[]) {
    const parsed = originalParse.apply(this, args);
    try {
      const call = this.responsePromise ? callsByResponse.get(this.responsePromise) : undefined;
      call?.parseRequested(parsed);
    } catch (error) {
      reportOnce('AI SDK parse', error);
    }
    return parsed;
  };
  target.asResponse = function asResponse(this: { responsePromise?: object }, ...args: unknown[]) {
    try {
      const call = this.responsePromise ? callsByResponse.get(this.responsePromise) : undefined;
      call?.rawRequested();
    } catch (error) {
      reportOnce('AI SDK parse', error);
    }
    return originalAsResponse.apply(this, args);
  };
  return true;
}

const INCLUDE_USAGE = '"stream_options":{"include_usage":true}';

/**
 * The request with `stream_options.include_usage` set, or the same request when it cannot be
 * changed safely (a body that is not a JSON string). The body is the SDK's own serialisation of
 * the params, so a params object without `stream_options` gets the member inserted as text.
 */
export function withIncludeUsage(init: unknown, params: Json | undefined): unknown {
  if (!isObject(init) || typeof init.body !== 'string') return init;
  const body = init.body;
  let changed: string | undefined;
  const open = /^\s*\{/.exec(body);
  if (!open) return init;
  if (params && !Object.prototype.hasOwnProperty.call(params, 'stream_options')) {
    const rest = body.slice(open[0].length);
    changed = open[0] + (/^\s*\}/.test(rest) ? INCLUDE_USAGE : `${INCLUDE_USAGE},`) + rest;
  } else {
    try {
      const parsed = JSON.parse(body) as unknown;
      if (!isObject(parsed)) return init;
      parsed.stream_options = { ...(isObject(parsed.stream_options) ? parsed.stream_options : {}), include_usage: true };
      changed = JSON.stringify(parsed);
    } catch {
      return init;
    }
  }
  const headers = withContentLength(init.headers, changed);
  return headers === undefined ? { ...init, body: changed } : { ...init, body: changed, headers };
}

/** Request headers with a content-length the new body matches, or undefined when there is none to fix. */
function withContentLength(headers: unknown, body: string): unknown {
  if (!headers || typeof headers !== 'object') return undefined;
  const length = String(Buffer.byteLength(body));
  const h = headers as { has?: unknown; set?: unknown };
  if (typeof h.has === 'function' && typeof h.set === 'function') {
    const instance = headers as Headers;
    if (!instance.has('content-length')) return undefined;
    const copy = new Headers(instance);
    copy.set('content-length', length);
    return copy;
  }
  const record = headers as Record<string, unknown>;
  const key = Object.keys(record).find((name) => name.toLowerCase() === 'content-length');
  if (key === undefined) return undefined;
  return { ...record, [key]: length };
}
