/**
 * The client class of both SDKs: `post(path, options)` starts every API call, `makeRequest` runs
 * it with its retries (each retry calls `makeRequest` again), and `fetchWithTimeout` makes each
 * HTTP attempt. The agent wraps those three methods on the prototype that defines them:
 *
 * - `post`, for a generation path (`/chat/completions`, `/completions`, `/embeddings`,
 *   `/responses`, `/v1/messages`), starts a call and runs the SDK's own `post` inside an
 *   AsyncLocalStorage store naming it, and inside its span; it returns the SDK's own APIPromise.
 * - `makeRequest`, the first time for a call, gets the call's outcome: the SDK's own error
 *   (RateLimitError, APIConnectionTimeoutError, APIUserAbortError, ...) is rethrown unchanged.
 * - `fetchWithTimeout` counts each attempt with its status code, and may ask a stream for its
 *   usage (see request-rewrite.ts).
 */
import { context as otelContext, trace, type Context } from '@opentelemetry/api';
import { claimPatch } from '../../instrumentations/module-hooks';
import { reportOnce } from '../../lifecycle/guard';
import { currentSdkCall, runInSdkCall, startSdkCall, type SdkCall, type SdkClient, type SdkHooks } from './call';
import { hasOwn, type AnyFunction } from './values';

const CLIENT_PATCHED = Symbol.for('@tutor/otel-agent.ai.client');

/** Wraps `post`, `makeRequest` and `fetchWithTimeout` on the class's prototype that defines all three, once. */
export function patchClientClass(Client: { prototype?: object }, hooks: SdkHooks): void {
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
      call = startSdkCall(this, args[0], args[1], hooks);
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
      result = runInSdkCall(started, () => (spanContext ? otelContext.with(spanContext, run) : run()));
    } catch (error) {
      started.requestFailed(error);
      throw error;
    }
    started.attach(result);
    return result;
  };

  const originalMakeRequest = target.makeRequest as AnyFunction;
  target.makeRequest = function makeRequest(this: SdkClient, ...args: unknown[]) {
    const call = currentSdkCall();
    if (!call || call.client !== this || !call.startRequest()) return originalMakeRequest.apply(this, args);
    return settleRequest(originalMakeRequest.apply(this, args) as Promise<unknown>, call);
  };

  const originalFetch = target.fetchWithTimeout as AnyFunction;
  target.fetchWithTimeout = function fetchWithTimeout(this: SdkClient, ...args: unknown[]) {
    const call = currentSdkCall();
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
