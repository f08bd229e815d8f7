/**
 * Breadcrumbs for Sentry events: the operations of the request (or of the work outside any
 * request) an error happened in, in the order they started. Made only with SENTRY_DSN set and
 * SENTRY_MAX_BREADCRUMBS above 0; otherwise nothing below is subscribed anywhere.
 *
 * Where a note goes: the request being served where the operation starts (its record, through
 * the request records' AsyncLocalStorage), else one trail for everything outside requests (as
 * Sentry's SDK keeps those on its global scope). A note is made when the operation starts, in the
 * caller's context, and completed when it ends, wherever that runs: so a reply delivered from a
 * shared socket cannot land on another request's trail.
 *
 * Sources, each a consumer of something that already exists:
 * - pg queries and ioredis commands: the integrations' operation channels;
 * - AI generations: the AI meters' generation channel;
 * - outgoing HTTP: Node's `http.client.request.start`, `http.client.response.finish` and
 *   `http.client.request.error` channels; `fetch`: undici's `undici:request:create`, `:headers`
 *   and `:error` channels. The agent's own requests (to Sentry, to a Collector) are skipped;
 * - the app's `console.warn` and `console.error`: Node's `console.warn`/`console.error` channels.
 */
import * as dc from 'node:diagnostics_channel';
import { format } from 'node:util';
import { context as otelContext } from '@opentelemetry/api';
import { isTracingSuppressed } from '@opentelemetry/core';
import type { Generation } from '../../ai/generation';
import type { ServerRequests, RequestRecord } from '../../http/requests';
import { methodLabel, routeLabel } from '../../http/route-label';
import type { PgQuery } from '../../instrumentations/pg/instrumentation';
import type { RedisOperation } from '../../instrumentations/redis-common/operation';
import { classifyReply } from '../../instrumentations/redis-common/replies';
import type { OperationChannel } from '../../instrumentations/operation-channel';
import { guard } from '../../lifecycle/guard';
import { isAgentInternal } from '../../lifecycle/internal';
import { pathWithoutQuery, toBreadcrumbs, Trail, type Note, type SentryBreadcrumb } from './trail';

/** A console line kept in a breadcrumb, at most (Sentry's own console breadcrumbs are not capped; a stack dump would be). */
export const CONSOLE_MAX_CHARS = 1000;

const NOTE = Symbol('otel-agent.sentry.breadcrumb');
type Noted<T> = T & { [NOTE]?: Note };

const now = () => performance.timeOrigin + performance.now();

export class Breadcrumbs {
  private readonly outside: Trail;

  constructor(
    private readonly requests: ServerRequests,
    readonly max: number,
  ) {
    requests.trackCurrentRequest();
    this.outside = new Trail(max);
  }

  /** Adds a note to the trail of the request being served here (or to the trail outside requests). */
  add(note: Note): void {
    const record = this.requests.currentRecord();
    if (record === undefined) return this.outside.add(note);
    (record.breadcrumbs ??= new Trail(this.max)).add(note);
  }

  /** The breadcrumbs of this request, its own first. */
  ofRecord(record: RequestRecord): SentryBreadcrumb[] {
    const { request, response } = record;
    const route = routeLabel(this.requests.routeTemplate(request), request.originalUrl ?? request.url, response.statusCode || 200);
    return toBreadcrumbs(
      record.breadcrumbs?.ordered() ?? [],
      { at: performance.timeOrigin + record.startedAt, method: methodLabel(request.method), route },
      this.max,
    );
  }

  /** The breadcrumbs where this is called: the current request's, else those outside requests. */
  ofCurrent(): SentryBreadcrumb[] {
    const record = this.requests.currentRecord();
    return record ? this.ofRecord(record) : toBreadcrumbs(this.outside.ordered(), undefined, this.max);
  }
}

/** A query: its verb and statement (shaped when an event is built), duration, SQLSTATE on failure. */
export function recordPgQueries(queries: OperationChannel<PgQuery>, crumbs: Breadcrumbs): void {
  queries.subscribe({
    start(op: Noted<PgQuery>) {
      const note: Note = { kind: 'db', at: now(), verb: op.operation.toUpperCase(), text: op.text };
      op[NOTE] = note;
      crumbs.add(note);
    },
    end(op: Noted<PgQuery>, error) {
      const note = op[NOTE];
      if (note?.kind !== 'db') return;
      note.ms = performance.now() - op.startedAt;
      // pg's callbacks pass null on success.
      if (error !== undefined && error !== null) {
        note.failed = true;
        const code = (error as { code?: unknown } | null)?.code;
        if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) note.errorCode = code;
      }
    },
  });
}

/** A command: its name and outcome (hit, miss, ok, error), never its keys, arguments or reply. */
export function recordRedisCommands(commands: OperationChannel<RedisOperation>, crumbs: Breadcrumbs): void {
  commands.subscribe({
    start(op: Noted<RedisOperation>) {
      const note: Note = { kind: 'cache', at: now(), command: op.operation };
      op[NOTE] = note;
      crumbs.add(note);
    },
    end(op: Noted<RedisOperation>, error) {
      const note = op[NOTE];
      if (note?.kind !== 'cache') return;
      note.ms = now() - note.at;
      const outcomes = classifyReply(op.operation, op.args, op.reply, error !== undefined && error !== null);
      note.result = outcomes.length === 1 ? outcomes[0]!.result : outcomes.map((o) => `${o.result}:${o.count}`).join(',');
    },
  });
}

/** A generation: provider, operation, model, tokens, status and duration; never its prompt or output. */
export function recordAiGenerations(generations: OperationChannel<Generation>, crumbs: Breadcrumbs): void {
  generations.subscribe({
    start(generation: Noted<Generation>) {
      const note: Note = { kind: 'ai', at: now(), provider: generation.start.provider, operation: generation.endpoint.operation };
      generation[NOTE] = note;
      crumbs.add(note);
    },
    end(generation: Noted<Generation>) {
      const note = generation[NOTE];
      if (note?.kind !== 'ai') return;
      const outcome = generation.outcome;
      if (!outcome) {
        note.discarded = true;
        return;
      }
      note.model = outcome.model;
      note.status = outcome.status;
      note.ms = outcome.seconds * 1000;
      if (outcome.usage?.input !== undefined) note.inputTokens = outcome.usage.input;
      if (outcome.usage?.output !== undefined) note.outputTokens = outcome.usage.output;
    },
  });
}

interface ClientRequestLike {
  method?: string;
  protocol?: string;
  host?: string;
  path?: string;
  agent?: unknown;
  [NOTE]?: Note;
}

interface UndiciRequestLike {
  method?: string;
  origin?: unknown;
  path?: string;
  [NOTE]?: Note;
}

/** The agent's own traffic: its transport's sockets, or anything run with tracing suppressed (exports). */
function isAgentTraffic(agent: unknown): boolean {
  return isAgentInternal(agent) || isTracingSuppressed(otelContext.active());
}

/** Outgoing `http`/`https` requests and `fetch` calls: method, host, path without query, status, duration. */
export function recordHttpClients(crumbs: Breadcrumbs): void {
  const begin = (target: { [NOTE]?: Note }, method: string | undefined, origin: string, path: string | undefined) => {
    const note: Note = { kind: 'http', at: now(), method: methodLabel(method), origin, path: pathWithoutQuery(path ?? '/') };
    target[NOTE] = note;
    crumbs.add(note);
  };
  const settle = (target: { [NOTE]?: Note } | undefined, status: number | undefined, error: unknown) => {
    const note = target?.[NOTE];
    if (note?.kind !== 'http' || note.ms !== undefined) return;
    note.ms = now() - note.at;
    if (status !== undefined) note.status = status;
    if (error !== undefined) note.errorCode = errorCodeOf(error);
  };

  dc.subscribe(
    'http.client.request.start',
    guard('sentry breadcrumbs http client', (message: unknown) => {
      const request = (message as { request?: ClientRequestLike }).request;
      if (!request || isAgentTraffic(request.agent)) return;
      begin(request, request.method, `${request.protocol ?? 'http:'}//${request.host ?? ''}`, request.path);
    }),
  );
  dc.subscribe(
    'http.client.response.finish',
    guard('sentry breadcrumbs http client', (message: unknown) => {
      const { request, response } = message as { request?: ClientRequestLike; response?: { statusCode?: number } };
      settle(request, response?.statusCode, undefined);
    }),
  );
  dc.subscribe(
    'http.client.request.error',
    guard('sentry breadcrumbs http client', (message: unknown) => {
      const { request, error } = message as { request?: ClientRequestLike; error?: unknown };
      settle(request, undefined, error ?? 'error');
    }),
  );
  dc.subscribe(
    'undici:request:create',
    guard('sentry breadcrumbs fetch', (message: unknown) => {
      const request = (message as { request?: UndiciRequestLike }).request;
      if (!request || isTracingSuppressed(otelContext.active())) return;
      begin(
        request,
        request.method,
        typeof request.origin === 'string' ? request.origin : String((request.origin as URL | undefined)?.origin ?? ''),
        request.path,
      );
    }),
  );
  dc.subscribe(
    'undici:request:headers',
    guard('sentry breadcrumbs fetch', (message: unknown) => {
      const { request, response } = message as { request?: UndiciRequestLike; response?: { statusCode?: number } };
      settle(request, response?.statusCode, undefined);
    }),
  );
  dc.subscribe(
    'undici:request:error',
    guard('sentry breadcrumbs fetch', (message: unknown) => {
      const { request, error } = message as { request?: UndiciRequestLike; error?: unknown };
      settle(request, undefined, error ?? 'error');
    }),
  );
}

/** A bounded, value-free name for a network error: its code (`ECONNREFUSED`) or class name. */
function errorCodeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z0-9_]{1,40}$/.test(code)) return code;
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,60}$/.test(name) ? name : 'error';
}

/** The app's `console.warn` and `console.error` lines (formatted as the console formats them, capped). */
export function recordConsole(crumbs: Breadcrumbs): void {
  for (const [channel, level] of [
    ['console.warn', 'warning'],
    ['console.error', 'error'],
  ] as const) {
    dc.subscribe(
      channel,
      guard('sentry breadcrumbs console', (args: unknown) => {
        const message = format(...(args as unknown[]));
        // The Sentry SDK's own debug log (SENTRY_DEBUG) is not the app's.
        if (message.startsWith('Sentry Logger [')) return;
        crumbs.add({
          kind: 'console',
          at: now(),
          level,
          message: message.length > CONSOLE_MAX_CHARS ? `${message.slice(0, CONSOLE_MAX_CHARS)}…` : message,
        });
      }),
    );
  }
}
