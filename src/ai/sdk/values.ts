/** Type guards for the untyped values the SDKs hand the agent (their options, results, events). */

export type AnyFunction = (...args: unknown[]) => unknown;
export type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function isPromiseLike(value: unknown): boolean {
  return isObject(value) && typeof value.then === 'function';
}

export function hasOwn(target: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(target, key);
}
