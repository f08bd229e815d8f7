/**
 * The one way the agent replaces a method on a library's object: the wrapper remembers the
 * original, so `unwrap` can put it back (tests use it) and a second wrap of the same method by the
 * agent is refused rather than stacked.
 */
type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;
/** Any function: a wrapper declares its own `this` and parameters. */
type Wrapper = (this: never, ...args: never[]) => unknown;

const ORIGINAL = Symbol.for('@tutor/otel-agent.original');

type Wrapped = AnyFunction & { [ORIGINAL]?: AnyFunction };

/** Replaces `target[name]` with `makeWrapper(original)`; false when it is not a function or already the agent's. */
export function wrap(target: object, name: string, makeWrapper: (original: AnyFunction) => Wrapper): boolean {
  const record = target as Record<string, unknown>;
  const original = record[name] as Wrapped | undefined;
  if (typeof original !== 'function' || original[ORIGINAL] !== undefined) return false;
  const wrapper = makeWrapper(original) as unknown as Wrapped;
  Object.defineProperty(wrapper, ORIGINAL, { value: original, enumerable: false });
  record[name] = wrapper;
  return true;
}

/** Puts back the original of a method the agent wrapped; anything else is left alone. */
export function unwrap(target: object, name: string): void {
  const record = target as Record<string, unknown>;
  const current = record[name] as Wrapped | undefined;
  const original = typeof current === 'function' ? current[ORIGINAL] : undefined;
  if (original !== undefined) record[name] = original;
}
