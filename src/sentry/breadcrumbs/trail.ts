/**
 * Breadcrumbs as the agent keeps them: a capped ring per request (on its record) and one for the
 * work outside any request, holding small notes made on the hot path. A note is turned into a
 * Sentry breadcrumb only when an error event is built (`toBreadcrumbs`), so recording costs an
 * object and an array slot; SQL is shaped (literals out), URLs cut to host and path, and
 * everything else goes through the event scrubber afterwards like the rest of the event. Pure.
 */
import { sqlShape } from './sql-shape';

/** What each kind of note holds. `at` is epoch milliseconds; `ms` the duration once it ended. */
export type Note =
  | { kind: 'http'; at: number; method: string; origin: string; path: string; status?: number; errorCode?: string; ms?: number }
  | { kind: 'db'; at: number; verb: string; text: unknown; errorCode?: string; failed?: boolean; ms?: number }
  | { kind: 'cache'; at: number; command: string; result?: string; ms?: number }
  | {
      kind: 'ai';
      at: number;
      provider: string;
      operation: string;
      model?: string;
      inputTokens?: number;
      outputTokens?: number;
      status?: string;
      ms?: number;
      discarded?: boolean;
    }
  | { kind: 'console'; at: number; level: 'warning' | 'error'; message: string };

/** A Sentry breadcrumb (the event's `breadcrumbs` entries); `timestamp` in seconds. */
export interface SentryBreadcrumb {
  type: string;
  category: string;
  level: 'info' | 'warning' | 'error';
  message?: string;
  data?: Record<string, string | number>;
  timestamp: number;
}

export class Trail {
  private readonly notes: Note[] = [];
  private next = 0;

  constructor(readonly capacity: number) {}

  add(note: Note): void {
    if (this.notes.length < this.capacity) {
      this.notes.push(note);
      return;
    }
    this.notes[this.next] = note;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The notes, oldest first. */
  ordered(): Note[] {
    return this.next === 0 ? this.notes.slice() : [...this.notes.slice(this.next), ...this.notes.slice(0, this.next)];
  }
}

/** The incoming request a trail belongs to (its first breadcrumb). */
export interface RequestNote {
  at: number;
  method: string;
  route: string;
}

/** Sentry breadcrumbs, oldest first, at most `max` (the request's own first, then its latest notes). */
export function toBreadcrumbs(notes: readonly Note[], request: RequestNote | undefined, max: number): SentryBreadcrumb[] {
  const out: SentryBreadcrumb[] = [];
  if (max <= 0) return out;
  if (request) {
    out.push({
      type: 'http',
      category: 'http.server',
      level: 'info',
      message: `${request.method} ${request.route}`,
      data: { method: request.method, route: request.route },
      timestamp: request.at / 1000,
    });
  }
  const kept = notes.filter((note) => !(note.kind === 'ai' && note.discarded));
  for (const note of kept.slice(Math.max(0, kept.length - (max - out.length)))) out.push(breadcrumbOf(note));
  return out;
}

const round = (ms: number) => Math.round(ms * 100) / 100;

function breadcrumbOf(note: Note): SentryBreadcrumb {
  const timestamp = note.at / 1000;
  switch (note.kind) {
    case 'http': {
      const data: Record<string, string | number> = { method: note.method, url: `${note.origin}${note.path}` };
      if (note.status !== undefined) data.status_code = note.status;
      if (note.errorCode !== undefined) data.error = note.errorCode;
      if (note.ms !== undefined) data.duration_ms = round(note.ms);
      const failed = note.errorCode !== undefined || (note.status ?? 0) >= 500;
      return { type: 'http', category: 'http', level: failed ? 'error' : (note.status ?? 0) >= 400 ? 'warning' : 'info', data, timestamp };
    }
    case 'db': {
      const data: Record<string, string | number> = { 'db.system': 'postgresql', 'db.operation': note.verb };
      if (note.ms !== undefined) data.duration_ms = round(note.ms);
      if (note.errorCode !== undefined) data.error_code = note.errorCode;
      return { type: 'query', category: 'db.query', level: note.failed ? 'error' : 'info', message: sqlShape(note.text) ?? note.verb, data, timestamp };
    }
    case 'cache': {
      const data: Record<string, string | number> = { 'db.system': 'redis', command: note.command };
      if (note.result !== undefined) data.result = note.result;
      if (note.ms !== undefined) data.duration_ms = round(note.ms);
      return { type: 'query', category: 'cache', level: note.result === 'error' ? 'error' : 'info', message: note.command, data, timestamp };
    }
    case 'ai': {
      const data: Record<string, string | number> = { provider: note.provider, operation: note.operation, status: note.status ?? 'in_progress' };
      if (note.model !== undefined) data.model = note.model;
      if (note.inputTokens !== undefined) data.input_tokens = note.inputTokens;
      if (note.outputTokens !== undefined) data.output_tokens = note.outputTokens;
      if (note.ms !== undefined) data.duration_ms = round(note.ms);
      return {
        type: 'http',
        category: 'ai',
        level: note.status === 'error' ? 'error' : 'info',
        message: `${note.provider} ${note.operation}${note.model ? ` ${note.model}` : ''}`,
        data,
        timestamp,
      };
    }
    case 'console':
      return { type: 'debug', category: 'console', level: note.level, message: note.message, timestamp };
  }
}

/** `GET`, an origin and a path without its query or fragment, from a client request's parts. */
export function pathWithoutQuery(path: string): string {
  const cut = path.search(/[?#]/);
  return cut < 0 ? path : path.slice(0, cut);
}
