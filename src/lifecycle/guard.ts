/**
 * Every callback the agent places inside the host (module patches, channel subscribers, timers)
 * runs through `guard`: an agent bug becomes one warning (the first time at each place), never an
 * exception in the app.
 */
import { describeError, log } from '../logging/logger';

const reported = new Set<string>();

export function guard<A extends unknown[]>(where: string, fn: (...args: A) => void): (...args: A) => void {
  // `apply(this, arguments)` rather than rest and spread: these run on every request, and V8
  // passes `arguments` through without building an array.
  return function guarded(this: unknown) {
    try {
      // eslint-disable-next-line prefer-rest-params
      fn.apply(this, arguments as unknown as A);
    } catch (error) {
      reportOnce(where, error);
    }
  };
}

/** Logs an internal failure the first time it happens at a given place. */
export function reportOnce(where: string, error: unknown): void {
  if (reported.has(where)) return;
  reported.add(where);
  log.warn(`internal error in ${where} (${describeError(error)}); the app is unaffected, this part of the telemetry may be incomplete`);
}
