/**
 * A streamed answer as the app reads it. When `parse()` gives the app an SDK Stream, its
 * `iterator` method is wrapped, so each event is read as the app reads it, and the call can hide
 * an event from the app (the usage-only chunk the agent asked for). `tee()` and
 * `toReadableStream()` read through the same iterator. Only the first iteration records: the SDK
 * refuses a second one. The end is reported exactly once: completed, failed, or abandoned (the app
 * left its loop early: break, return, an exception in its body). A stream the app aborts without
 * ever iterating it is reported through its controller's signal.
 */
import { reportOnce } from '../../lifecycle/guard';
import type { AnyFunction } from './values';

/** The parts of an SDK's Stream the agent uses. */
export interface SdkStream {
  iterator: AnyFunction;
  controller: { signal?: AbortSignal };
}

/** What the stream tells its call. */
export interface StreamObserver {
  /** True for the first iteration of the stream, the one that records. */
  streamStarted(): boolean;
  /** Reads one item; true when the app must not see it. */
  streamItem(value: unknown): boolean;
  /** The SDK's iterator ended; `aborted` when the app aborted the stream's controller (it then ends quietly). */
  streamCompleted(aborted: boolean): void;
  streamFailed(error: unknown): void;
  /** The app left the loop before the end. */
  streamAbandoned(): void;
  /** The stream's controller was aborted (a turn of the event loop ago). */
  streamAborted(): void;
}

export function isSdkStream(value: unknown): value is SdkStream {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { iterator?: unknown }).iterator === 'function' &&
    typeof (value as { controller?: unknown }).controller === 'object' &&
    (value as { controller?: unknown }).controller !== null
  );
}

/** Wraps the stream's `iterator` (the app keeps the same Stream object) and watches its abort signal. */
export function observeStream(stream: SdkStream, observer: StreamObserver): void {
  const inner = stream.iterator;
  const signal = stream.controller.signal;
  stream.iterator = function iterator(this: unknown, ...args: unknown[]) {
    return observeIterator(inner.apply(this, args) as AsyncIterator<unknown>, observer, signal);
  };
  if (signal && typeof signal.addEventListener === 'function') {
    // An app that aborts a stream it never iterates: nothing else would end the generation.
    signal.addEventListener('abort', () => setImmediate(() => observer.streamAborted()), { once: true });
  }
}

/** The app's view of a stream: every item but the ones the agent added, with the end recorded once. */
async function* observeIterator(
  inner: AsyncIterator<unknown>,
  observer: StreamObserver,
  signal: AbortSignal | undefined,
): AsyncGenerator<unknown, unknown, undefined> {
  let first = false;
  guarded(() => {
    first = observer.streamStarted();
  });
  if (!first) return (yield* { [Symbol.asyncIterator]: () => inner }) as unknown;
  let ended = false;
  try {
    while (true) {
      const step = await inner.next();
      if (step.done) {
        ended = true;
        guarded(() => observer.streamCompleted(signal?.aborted === true));
        return step.value as unknown;
      }
      let hide = false;
      try {
        hide = observer.streamItem(step.value);
      } catch (error) {
        reportOnce('AI SDK stream', error);
      }
      if (!hide) yield step.value;
    }
  } catch (error) {
    if (!ended) {
      ended = true;
      guarded(() => observer.streamFailed(error));
    }
    throw error;
  } finally {
    if (!ended) {
      // The app left the loop early (break, return, an exception in its body).
      guarded(() => observer.streamAbandoned());
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
