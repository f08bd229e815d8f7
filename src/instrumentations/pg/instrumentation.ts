/**
 * Times every `pg` query for `db_query_duration_seconds`, makes its CLIENT span when tracing is
 * on, and registers the servers the app connects to for the health checks. Patches
 * `Client.prototype.query` and `.connect` once per loaded copy of pg; pools (pg-pool) run their
 * queries through the same Client methods.
 *
 * With tracing on, callbacks (the app's and the pool's `connect` callback) are bound to the
 * context they were passed in: pg calls them from its socket's data handler, and a pool hands a
 * released client to the next waiter from inside another request, so without the binding a query
 * would be parented by whichever request happened to free the connection.
 *
 * The app gets back exactly what pg returns, with one deliberate difference: for the promise form
 * it gets a promise chained on pg's, which settles the same way (a rejection the app does not
 * handle still surfaces as an unhandled rejection, as it would without the agent).
 */
import { context, SpanKind, SpanStatusCode, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { isAgentInternal } from '../../lifecycle/internal';
import { reportOnce } from '../../lifecycle/guard';
import type { DbMetrics } from '../../metrics/db-metrics';
import type { DependencyRegistry } from '../../health/dependencies';
import { pgKey, pgProbe, type PgClientClass, type PgConnectionParameters } from '../../health/pg-probe';
import { claimPatch, onPackageLoad } from '../module-hooks';
import { rememberPgClientClass } from '../../health/pg-probe';
import { pgSpanAttributes, pgSpanName, queryText, sqlOperation } from './utils';

const PATCHED = Symbol.for('@tutor/otel-agent.pg');

type AnyFunction = (...args: unknown[]) => unknown;

interface PgClientInstance {
  connectionParameters?: PgConnectionParameters;
  constructor: PgClientClass;
}

type PatchableClass = AnyFunction & { prototype: Record<string, unknown> };

/** @param tracer makes the query spans; undefined when tracing is off */
export function instrumentPg(metrics: DbMetrics, dependencies: DependencyRegistry, tracer?: Tracer): void {
  onPackageLoad(['pg'], 'pg patch', (exports) => {
    const Client = (exports as { Client?: unknown } | undefined)?.Client as PatchableClass | undefined;
    if (typeof Client !== 'function' || !claimPatch(Client.prototype, PATCHED)) return;
    rememberPgClientClass(Client as unknown as PgClientClass);
    if (tracer) bindPoolCallbacks((exports as { Pool?: unknown }).Pool as PatchableClass | undefined);

    const noteServer = (client: PgClientInstance) => {
      try {
        const params = client.connectionParameters;
        if (!params) return;
        const key = pgKey(params);
        if (dependencies.has('database', key)) return;
        const { host, port, user, database, password, ssl } = params;
        dependencies.add({
          kind: 'database',
          key,
          probe: pgProbe(client.constructor, { host, port, user, database, password, ssl }),
        });
      } catch (error) {
        reportOnce('pg dependency discovery', error);
      }
    };

    const originalConnect = Client.prototype.connect as AnyFunction;
    Client.prototype.connect = function connect(this: PgClientInstance, ...args: unknown[]) {
      if (!isAgentInternal(this)) noteServer(this);
      return originalConnect.apply(this, args);
    };

    const originalQuery = Client.prototype.query as AnyFunction;
    Client.prototype.query = function query(this: PgClientInstance, ...args: unknown[]) {
      if (isAgentInternal(this)) return originalQuery.apply(this, args);
      let finish: (error: unknown) => void;
      try {
        finish = startQuery(metrics, tracer, this, args[0]);
        wrapCompletion(args, finish, tracer && context.active());
      } catch (error) {
        reportOnce('pg query timing', error);
        return originalQuery.apply(this, args);
      }
      let result: unknown;
      try {
        result = originalQuery.apply(this, args);
      } catch (error) {
        finish(error);
        throw error;
      }
      if (args.length > 0 && isSubmittable(args[0])) return result;
      if (typeof args[args.length - 1] === 'function') return result;
      if (isThenable(result)) {
        return result.then(
          (value: unknown) => {
            finish(undefined);
            return value;
          },
          (error: unknown) => {
            finish(error);
            throw error;
          },
        );
      }
      return result;
    };
  });
}

/**
 * pg-pool calls a `connect` callback when a client is free, from inside whatever released it:
 * bind it to the caller's context. The promise form needs nothing (await restores the context).
 */
function bindPoolCallbacks(Pool: PatchableClass | undefined): void {
  if (typeof Pool !== 'function' || typeof Pool.prototype.connect !== 'function') return;
  const originalConnect = Pool.prototype.connect as AnyFunction;
  Pool.prototype.connect = function connect(this: unknown, callback?: unknown) {
    if (typeof callback !== 'function') return originalConnect.apply(this, arguments as unknown as unknown[]);
    return originalConnect.call(this, context.bind(context.active(), callback as AnyFunction));
  };
}

function startQuery(metrics: DbMetrics, tracer: Tracer | undefined, client: PgClientInstance, first: unknown): (error: unknown) => void {
  const startedAt = performance.now();
  const text = queryText(first);
  const operation = sqlOperation(text);
  let span: Span | undefined;
  if (tracer) {
    const params = client.connectionParameters;
    span = tracer.startSpan(pgSpanName(operation, params?.database), { kind: SpanKind.CLIENT });
    if (span.isRecording()) span.setAttributes(pgSpanAttributes(params, text, operation));
  }
  let done = false;
  return (error) => {
    if (done) return;
    done = true;
    metrics.recordQuery('postgresql', operation, !error, (performance.now() - startedAt) / 1000);
    if (span) endSpan(span, error);
  };
}

function endSpan(span: Span, error: unknown): void {
  try {
    if (error) {
      const code = (error as { code?: unknown } | null)?.code;
      // SQLSTATE (`23505`) says what failed without the values the message may quote.
      if (typeof code === 'string' && code !== '') span.setAttribute('db.response.status_code', code);
      span.setAttribute('error.type', typeof code === 'string' && code !== '' ? code : error instanceof Error ? error.constructor.name : 'error');
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  } catch (internal) {
    reportOnce('pg query span', internal);
  }
}

/**
 * Hooks the ways a pg query reports completion other than a promise: a trailing callback, or a
 * submittable (pg.Query, pg-cursor, pg-query-stream) whose handlers pg calls when done.
 */
function wrapCompletion(args: unknown[], finish: (error: unknown) => void, callerContext: Context | undefined): void {
  const last = args.length - 1;
  const callback = args[last];
  if (last >= 0 && typeof callback === 'function') {
    const wrapped = function wrappedCallback(this: unknown, error: unknown, ...rest: unknown[]) {
      finish(error);
      return (callback as AnyFunction).call(this, error, ...rest);
    };
    args[last] = callerContext ? context.bind(callerContext, wrapped) : wrapped;
    return;
  }
  const first = args[0];
  if (isSubmittable(first)) {
    const target = first as Record<string, unknown>;
    for (const [method, failed] of [
      ['handleReadyForQuery', false],
      ['handleError', true],
    ] as const) {
      const original = target[method];
      if (typeof original !== 'function') continue;
      target[method] = function (this: unknown, ...handlerArgs: unknown[]) {
        finish(failed ? (handlerArgs[0] ?? new Error('query failed')) : undefined);
        return (original as AnyFunction).apply(this, handlerArgs);
      };
    }
  }
}

function isSubmittable(value: unknown): boolean {
  return typeof value === 'object' && value !== null && typeof (value as { submit?: unknown }).submit === 'function';
}

function isThenable(value: unknown): value is Promise<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
