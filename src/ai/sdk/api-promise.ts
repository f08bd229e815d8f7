/**
 * How the app reads a call's answer. `post` returns the SDK's `APIPromise`, which does nothing with
 * the response until the app asks: `parse()` (which awaiting it goes through) gives the parsed
 * result, `asResponse()` hands over the raw `Response` (`withResponse()` calls both). The agent
 * hooks those two methods on the APIPromise class, once, and tells the call which one the app used;
 * the promise and its result are the SDK's own.
 */
import { claimPatch } from '../../instrumentations/module-hooks';
import { reportOnce } from '../../lifecycle/guard';
import { hasOwn, isObject, type AnyFunction } from './values';

const PROMISE_PATCHED = Symbol.for('@tutor/otel-agent.ai.apiPromise');

/** What the APIPromise tells its call. */
export interface ReadObserver {
  /** The app asked for the parsed result; `parsed` is the SDK's promise of it. */
  parseRequested(parsed: unknown): void;
  /** The app asked for the raw Response. */
  rawRequested(): void;
}

/** Each APIPromise's call, by the promise of its response (the one object every copy of the APIPromise shares). */
const observersByResponse = new WeakMap<object, ReadObserver>();

/**
 * Links the APIPromise `post` returned to its call, hooking its class if that is not done yet;
 * false for a result the agent does not know (no `responsePromise`, no `parse` and `asResponse`).
 */
export function linkApiPromise(result: unknown, observer: ReadObserver): boolean {
  const responsePromise = isObject(result) ? result.responsePromise : undefined;
  if (typeof responsePromise !== 'object' || responsePromise === null || !patchApiPromise(result as object)) return false;
  observersByResponse.set(responsePromise, observer);
  return true;
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
      const observer = this.responsePromise ? observersByResponse.get(this.responsePromise) : undefined;
      observer?.parseRequested(parsed);
    } catch (error) {
      reportOnce('AI SDK parse', error);
    }
    return parsed;
  };
  target.asResponse = function asResponse(this: { responsePromise?: object }, ...args: unknown[]) {
    try {
      const observer = this.responsePromise ? observersByResponse.get(this.responsePromise) : undefined;
      observer?.rawRequested();
    } catch (error) {
      reportOnce('AI SDK parse', error);
    }
    return originalAsResponse.apply(this, args);
  };
  return true;
}
