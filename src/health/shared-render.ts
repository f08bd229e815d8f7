/**
 * One rendering of `/metrics` shared by every scrape that asks for it at about the same time, and
 * renders paced so that no number of clients can keep the app's thread busy rendering.
 *
 * A caller that arrives while a render runs, or while the next one is waiting for its turn, gets
 * that render's result. Renders start at least `minGapMs` apart, and at least as long apart as the
 * last one took (so rendering takes at most half of the thread however many clients ask), up to
 * `maxGapMs`. A render never starts before a caller arrived, so a scrape sees every measurement
 * made before it was asked for: nothing is served from an older cache.
 */
export interface SharedRenderOptions {
  minGapMs: number;
  maxGapMs: number;
  now?: () => number;
}

export function sharedRender<T>(render: () => Promise<T>, options: SharedRenderOptions): () => Promise<T> {
  const now = options.now ?? (() => performance.now());
  let pending: Promise<T> | undefined;
  let lastEnd = -Infinity;
  let lastDuration = 0;

  const run = async (): Promise<T> => {
    const start = now();
    try {
      return await render();
    } finally {
      lastEnd = now();
      lastDuration = lastEnd - start;
      pending = undefined;
    }
  };

  return () => {
    if (pending) return pending;
    const gap = Math.min(options.maxGapMs, Math.max(options.minGapMs, lastDuration));
    const wait = lastEnd + gap - now();
    if (wait <= 0) {
      pending = run();
    } else {
      pending = new Promise<void>((resolve) => setTimeout(resolve, wait).unref()).then(run);
    }
    return pending;
  };
}
