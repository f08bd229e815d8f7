/**
 * OTEL_LOG_LEVEL=debug routes OpenTelemetry's own diagnostics (`diag`: export failures, dropped
 * spans, instrumentation notes) to the agent's log, rate-limited so a Collector that refuses every
 * export cannot flood stderr. At any other level `diag` stays silent, as before.
 */
import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import type { LogLevel } from '../config/types';
import { log } from './logger';

/** At most this many diagnostics lines per window; the rest are counted and summed up in one line. */
export const DIAG_LINES_PER_WINDOW = 20;
export const DIAG_WINDOW_MS = 10_000;

/** A fixed-window line budget. Pure: the clock comes in. */
export class LineBudget {
  private windowStart = -Infinity;
  private used = 0;
  private suppressed = 0;

  constructor(
    private readonly perWindow: number,
    private readonly windowMs: number,
  ) {}

  /**
   * Whether a line may be written at `now`; `dropped` is how many were refused in the window that
   * just closed (to be reported once, before this line).
   */
  take(now: number): { allowed: boolean; dropped: number } {
    let dropped = 0;
    if (now - this.windowStart >= this.windowMs) {
      dropped = this.suppressed;
      this.windowStart = now;
      this.used = 0;
      this.suppressed = 0;
    }
    if (this.used < this.perWindow) {
      this.used++;
      return { allowed: true, dropped };
    }
    this.suppressed++;
    return { allowed: false, dropped };
  }
}

export function routeDiagnostics(level: LogLevel): void {
  if (level !== 'debug') return;
  const budget = new LineBudget(DIAG_LINES_PER_WINDOW, DIAG_WINDOW_MS);
  const emit =
    (write: (message: string) => void) =>
    (message: string, ...args: unknown[]) => {
      const { allowed, dropped } = budget.take(Date.now());
      if (dropped > 0) log.warn(`${dropped} OpenTelemetry diagnostics lines suppressed in the last ${DIAG_WINDOW_MS / 1000} s`);
      if (allowed) write(`otel: ${[message, ...args.map(describe)].join(' ')}`);
    };
  const logger: DiagLogger = {
    error: emit(log.error),
    warn: emit(log.warn),
    info: emit(log.debug),
    debug: emit(log.debug),
    verbose: emit(log.debug),
  };
  diag.setLogger(logger, { logLevel: DiagLogLevel.DEBUG, suppressOverrideMessage: true });
}

function describe(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message.split('\n')[0]}`;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value)?.slice(0, 300) ?? String(value);
  } catch {
    return String(value);
  }
}
