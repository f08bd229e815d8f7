/**
 * SIGTERM/SIGINT: mark the service not ready, flush telemetry for at most the deadline, then let
 * the signal do what it would have done without the agent. If the app has its own handler, the
 * app decides when to exit; if not, the agent re-raises the signal so the process ends exactly
 * as Node would have ended it (upstream's register keeps a killed server running).
 */
import { describeError, log } from '../logging/logger';
import { markShuttingDown } from './app-state';

export type Flusher = () => Promise<void>;

/**
 * Resolves when every flusher settled (true) or the deadline passed (false), whichever is first.
 */
export function flushWithin(flushers: Flusher[], timeoutMs: number): Promise<boolean> {
  if (flushers.length === 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      log.debug(`flush did not finish within ${timeoutMs} ms; exiting without it`);
      resolve(false);
    }, timeoutMs);
    timer.unref();
    // `Promise.resolve().then(flush)`: a flusher that throws synchronously is a failed flush, not a crash.
    const settled = flushers.map((flush) =>
      Promise.resolve()
        .then(flush)
        .catch((error: unknown) => log.debug(`flush failed: ${describeError(error)}`)),
    );
    void Promise.allSettled(settled).then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export function installShutdown(flushers: Flusher[], timeoutMs: number): void {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    let flushing = false;
    const onSignal = () => {
      markShuttingDown();
      const appHandlesIt = process.listenerCount(signal) > 1;
      if (flushing) {
        // A second signal while flushing: stop waiting, as Node would.
        if (!appHandlesIt) reraise(signal, onSignal);
        return;
      }
      flushing = true;
      void flushWithin(flushers, timeoutMs).then(() => {
        if (!appHandlesIt && process.listenerCount(signal) === 1) reraise(signal, onSignal);
      });
    };
    process.on(signal, onSignal);
  }

  // A script that ends on its own: send what is buffered once, then let it exit. If the flush
  // ran out of time, an exporter's retry timers could still hold the loop: end the process with
  // the exit code it was going to have.
  if (flushers.length > 0) {
    process.once('beforeExit', () => {
      void flushWithin(flushers, timeoutMs).then((completed) => {
        if (!completed) process.exit();
      });
    });
  }
}

function reraise(signal: NodeJS.Signals, listener: () => void): void {
  process.removeListener(signal, listener);
  process.kill(process.pid, signal);
}
