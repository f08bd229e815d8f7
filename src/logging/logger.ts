/**
 * The agent's own log: one line per message on stderr, prefixed so operators can grep for it.
 * Writes are synchronous-free (`process.stderr.write`) and never throw into the host.
 */
import type { LogLevel } from '../config/types';

const RANK: Record<LogLevel, number> = { none: 0, error: 1, warn: 2, info: 3, debug: 4 };
let threshold = RANK.info;

export function setLogLevel(level: LogLevel): void {
  threshold = RANK[level];
}

function write(level: Exclude<LogLevel, 'none'>, message: string): void {
  if (RANK[level] > threshold) return;
  try {
    process.stderr.write(`[otel-agent] ${level}: ${message}\n`);
  } catch {
    // stderr closed: nothing sensible left to do, and the host must not notice.
  }
}

export const log = {
  error: (message: string) => write('error', message),
  warn: (message: string) => write('warn', message),
  info: (message: string) => write('info', message),
  debug: (message: string) => write('debug', message),
};

/** A short, secret-free description of an unknown thrown value for a log line. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message.split('\n')[0]}`;
  return String(error);
}
