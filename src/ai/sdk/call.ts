/**
 * One SDK call, from the `post` that starts it to its one record. The call learns its progress
 * from the hooks (client methods, APIPromise, stream, and the HTTP observer for the bytes of each
 * attempt) and decides from it when the Generation ends and how. It runs inside an
 * AsyncLocalStorage store, so the hooks further down (`makeRequest`, `fetchWithTimeout`, undici's
 * channels) find it; `currentSdkCall()` is the only way to read that store.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { reportOnce } from '../../lifecycle/guard';
import type { BodySink } from '../body-reader';
import type { AiConfig } from '../config';
import { hostAddress, normalizeModel, sdkEndpoint, type Endpoint, type HostAddress, type HostList, type ProviderMap } from '../endpoints';
import { errorType, Generation, isAbort, type AiRuntime } from '../generation';
import { linkApiPromise, type ReadObserver } from './api-promise';
import { shouldAddUsage, stripAddedUsage, withIncludeUsage } from './request-rewrite';
import { isSdkStream, observeStream, type StreamObserver } from './stream';
import { isObject, isPromiseLike, type Json } from './values';

export interface SdkHooks {
  runtime: AiRuntime;
  config: AiConfig;
  providers: ProviderMap;
  includeUsage: HostList;
}

/** The parts of an SDK client the agent reads. */
export interface SdkClient {
  baseURL?: unknown;
  _tracer?: unknown;
}

const calls = new AsyncLocalStorage<SdkCall>();
const clientAddresses = new WeakMap<object, HostAddress | null>();

/** The SDK call being made here, if any: the HTTP observer leaves its requests to it. */
export function currentSdkCall(): SdkCall | undefined {
  return calls.getStore();
}

/** Runs `fn` (the SDK's own `post`) as `call`: what it starts finds the call with `currentSdkCall()`. */
export function runInSdkCall<T>(call: SdkCall, fn: () => T): T {
  return calls.run(call, fn);
}

function addressOf(client: SdkClient): HostAddress | undefined {
  const cached = clientAddresses.get(client);
  if (cached !== undefined) return cached ?? undefined;
  const address = typeof client.baseURL === 'string' ? hostAddress(client.baseURL) : undefined;
  clientAddresses.set(client, address ?? null);
  return address;
}

/** What the options of `post` say about the request: the params (body), the model asked for, streamed or not. */
interface RequestFacts {
  params: Json | undefined;
  model: string | undefined;
  stream: boolean;
}

function requestFacts(options: unknown): RequestFacts {
  const opts = isObject(options) && !isPromiseLike(options) ? options : undefined;
  const params = opts && isObject(opts.body) ? opts.body : undefined;
  return { params, model: normalizeModel(params?.model), stream: opts?.stream === true || params?.stream === true };
}

/**
 * The call `post(path, options)` starts, with its Generation; undefined when the path is not a
 * generation. openai 4 to 6 pass the options themselves; openai 7 passes a promise of them, which
 * the call reads when it resolves (before the SDK's own `makeRequest`, which awaits the same
 * promise, builds the request: the model, the stream flag and the params are known by the first
 * attempt).
 */
export function startSdkCall(client: SdkClient, path: unknown, options: unknown, hooks: SdkHooks): SdkCall | undefined {
  const endpoint = sdkEndpoint(path);
  if (!endpoint) return undefined;
  if (endpoint.protocol === 'openai' ? !hooks.config.openai : !hooks.config.anthropic) return undefined;
  const facts = requestFacts(options);
  const address = addressOf(client);
  const provider = (address && hooks.providers.lookup(address)) ?? `${endpoint.protocol}_compatible`;
  // Anthropic's SDK makes its own span for each call unless told not to: one span is enough.
  const ownSpan = !(endpoint.protocol === 'anthropic' && client._tracer);
  const generation = new Generation(hooks.runtime, {
    endpoint,
    provider,
    requestModel: facts.model,
    stream: facts.stream,
    server: address,
    span: ownSpan,
  });
  const call = new SdkCall(client, generation, endpoint, hooks);
  if (isPromiseLike(options)) call.awaitOptions(options as PromiseLike<unknown>);
  else call.noteRequest(facts);
  return call;
}

function statusOf(response: unknown): number | undefined {
  const status = typeof response === 'object' && response !== null ? (response as { status?: unknown }).status : undefined;
  return typeof status === 'number' ? status : undefined;
}

/*
 * The call's state, in three parts that each move only forward, and the outcome.
 *
 * phase: how far the request and its stream got.
 *
 *   from          to            on
 *   created    -> requesting    the call's first `makeRequest` (`startRequest`); its retries run inside it
 *   requesting -> responded     `makeRequest` resolved (`requestSucceeded`): a response the SDK keeps
 *   responded  -> streaming     the app's first iteration of the parsed Stream (`streamStarted`)
 *
 * mode: how the app reads the answer.
 *
 *   pending -> parse   `parse()`: the app awaited the APIPromise (`parseRequested`)
 *   pending -> raw     `asResponse()` (`rawRequested`), or `post` returned an APIPromise the agent
 *                      does not know (`attach`): the call is counted, its body read only from fetch
 *   raw     -> parse   `parse()` after `asResponse()`; `asResponse()` after `parse()` changes nothing
 *
 * outcome: the Generation's, recorded once by `generation.finish` (later finishes do nothing).
 *
 *   phase        mode    ends as                     when
 *   created,     any     error | cancelled           `post` threw, or `makeRequest` threw or rejected
 *   requesting
 *   responded    parse   success                     the parsed body was read
 *   responded    parse   error | cancelled           the SDK's parse rejected
 *   responded    parse   cancelled (AbortError)      a parsed Stream's controller aborted before iteration
 *   responded    raw     success                     the attempt did not go through fetch (bytes unseen)
 *   responded    raw     success | error | cancelled the fetched body ended or failed (`rawEnd`)
 *   streaming    parse   success | cancelled         the iterator ended (cancelled if the controller aborted)
 *   streaming    parse   error | cancelled           the iterator threw
 *   streaming    parse   cancelled (abandoned)       the app left its loop early
 *
 * Per attempt (reset by each `fetchWithTimeout`): `exchangeSeen` and `rawEnd`. Per call:
 * `usageAdded` (an attempt went out with `include_usage` added: hide what it adds to the stream)
 * and `parseWatched` (the SDK's parse promise is watched, once).
 */

/** How far the call got; see the table above. */
type CallPhase = 'created' | 'requesting' | 'responded' | 'streaming';
const PHASE_ORDER: readonly CallPhase[] = ['created', 'requesting', 'responded', 'streaming'];

/** How the app reads the answer: not yet known, through the SDK's parse, or as the raw Response. */
type ReadMode = 'pending' | 'parse' | 'raw';

export class SdkCall implements ReadObserver, StreamObserver {
  private phase: CallPhase = 'created';
  private mode: ReadMode = 'pending';
  private usageAdded = false;
  private parseWatched = false;
  /** The latest attempt went through fetch, where the agent sees its bytes. */
  private exchangeSeen = false;
  /** How the body of the latest attempt ended, when the app reads it raw. */
  private rawEnd: 'done' | { error: unknown } | undefined;

  /** The params the app passed (the request body), once known. */
  private params: Json | undefined;

  constructor(
    readonly client: SdkClient,
    readonly generation: Generation,
    private readonly endpoint: Endpoint,
    private readonly hooks: SdkHooks,
  ) {}

  /** What the request asks for: its params, and (if not known at the start) its model and stream flag. */
  noteRequest(facts: RequestFacts): void {
    this.params = facts.params;
    this.generation.noteRequestModel(facts.model);
    if (facts.stream) this.generation.stream = true;
    const params = facts.params;
    if (this.hooks.runtime.captureContentChars > 0 && params) {
      const input = params.messages ?? params.input ?? params.prompt;
      if (input !== undefined) {
        try {
          this.generation.noteInputContent(JSON.stringify(input));
        } catch {
          // not serialisable: not captured
        }
      }
    }
  }

  /** The options arrive as a promise (openai 7): read them when it resolves; its rejection stays the SDK's. */
  awaitOptions(options: PromiseLike<unknown>): void {
    options.then(
      (resolved) => {
        try {
          this.noteRequest(requestFacts(resolved));
        } catch (error) {
          reportOnce('AI SDK call start', error);
        }
      },
      () => undefined,
    );
  }

  private reached(phase: CallPhase): boolean {
    return PHASE_ORDER.indexOf(this.phase) >= PHASE_ORDER.indexOf(phase);
  }

  /** Links the SDK's APIPromise to this call and hooks its class once. */
  attach(result: unknown): void {
    try {
      if (!linkApiPromise(result, this)) this.mode = 'raw'; // an SDK shape the agent does not know: count the call, not its body
    } catch (error) {
      reportOnce('AI SDK result', error);
    }
  }

  /** created -> requesting: true for the call's first `makeRequest`, the one that has the outcome. */
  startRequest(): boolean {
    if (this.reached('requesting')) return false;
    this.phase = 'requesting';
    return true;
  }

  beforeAttempt(url: unknown, init: unknown): unknown {
    this.exchangeSeen = false;
    this.rawEnd = undefined;
    const request = { endpoint: this.endpoint, stream: this.generation.stream, rawRead: this.mode === 'raw', params: this.params };
    if (!shouldAddUsage(request, url, this.hooks.includeUsage)) return init;
    const changed = withIncludeUsage(init, this.params);
    if (changed !== init) this.usageAdded = true;
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

  /** requesting -> responded. */
  requestSucceeded(): void {
    if (!this.reached('responded')) this.phase = 'responded';
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
    if (this.mode !== 'raw' || !this.reached('responded') || this.generation.finished) return;
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

  private parsed(data: unknown): void {
    try {
      if (this.generation.finished) return;
      if (isSdkStream(data)) {
        observeStream(data, this);
        return;
      }
      this.generation.readBody(data);
      this.generation.finish('success');
    } catch (error) {
      reportOnce('AI SDK result', error);
    }
  }

  /** responded -> streaming: true for the first iteration of the stream (a second one fails in the SDK). */
  streamStarted(): boolean {
    if (this.phase === 'streaming') return false;
    this.phase = 'streaming';
    return true;
  }

  streamItem(value: unknown): boolean {
    this.generation.readEvent(value);
    return this.usageAdded && stripAddedUsage(value);
  }

  streamCompleted(aborted: boolean): void {
    // The SDK's iterator ends quietly when the app aborted the stream's controller.
    this.generation.finish(aborted ? 'cancelled' : 'success', aborted ? 'AbortError' : undefined);
  }

  streamFailed(error: unknown): void {
    this.generation.finish(isAbort(error) ? 'cancelled' : 'error', errorType(error));
  }

  streamAbandoned(): void {
    this.generation.finish('cancelled', 'abandoned');
  }

  streamAborted(): void {
    if (this.phase !== 'streaming') this.generation.finish('cancelled', 'AbortError');
  }
}
