/**
 * The `pg` patch: it only publishes. `Client.prototype.query` and `.connect` are wrapped once per
 * loaded copy of pg (pools, pg-pool, run their queries through the same Client methods); each
 * query becomes a start and an end event on `events.queries`, each connect a `events.clients`
 * event, each loaded copy a `events.modules` event. The DB metrics, the query spans and the health
 * checks' discovery are consumers (see integrations/pg.ts).
 *
 * Two things happen on `pg.Pool` itself. A pool is published on `events.clients` when it is
 * created, with the connection parameters pg computes for its clients (options, connection string,
 * PG* variables), so /health probes its database before the app's first query. And a
 * `pool.query` that fails before any client takes it (connection refused, TLS refused, pool
 * timeout) never reaches `Client.query`: it is published as a failed query of its own.
 *
 * When a consumer asks for it (spans), callbacks (the app's and a pool's `connect` callback) are
 * bound to the context they were passed in: pg calls them from its socket's data handler, and a
 * pool hands a released client to the next waiter from inside another request, so without the
 * binding a query would be parented by whichever request happened to free the connection.
 *
 * The app gets back exactly what pg returns, with one deliberate difference: for the promise form
 * it gets a promise chained on pg's, which settles the same way (a rejection the app does not
 * handle still surfaces as an unhandled rejection, as it would without the agent).
 */
import { context, type Context, type Span } from '@opentelemetry/api';
import type { PgClientClass, PgConnectionParameters } from '../../health/pg-probe';
import { reportOnce } from '../../lifecycle/guard';
import { AGENT_INTERNAL, isAgentInternal } from '../../lifecycle/internal';
import type { DbOperation } from '../../metrics/db-metrics';
import { claimPatch, onPackageLoad } from '../module-hooks';
import { EventChannel, OperationChannel } from '../operation-channel';
import { wrap } from '../wrap';
import { queryText, sqlOperation } from './utils';

const PATCHED = Symbol.for('@tutor/otel-agent.pg');

type AnyFunction = (...args: unknown[]) => unknown;

export interface PgClientInstance {
  connectionParameters?: PgConnectionParameters;
  constructor: PgClientClass;
}

/** One query, from the moment the app called `query` until pg settled it. */
export interface PgQuery {
  readonly client: PgClientInstance;
  /** The statement as given (a string, or whatever a query config object held). */
  readonly text: unknown;
  readonly operation: DbOperation;
  /** performance.now() at the call. */
  readonly startedAt: number;
  /** The query's span, kept here by the span consumer. */
  span?: Span;
}

export interface PgEvents {
  queries: OperationChannel<PgQuery>;
  /** A client of the app connects (pools' clients included). */
  clients: EventChannel<PgClientInstance>;
  /** A copy of pg was loaded: its Client class. */
  modules: EventChannel<PgClientClass>;
}

export function createPgEvents(): PgEvents {
  return { queries: new OperationChannel('pg query'), clients: new EventChannel('pg client'), modules: new EventChannel('pg module') };
}

export function patchPg(events: PgEvents): void {
  onPackageLoad(['pg'], 'pg patch', (exports) => {
    const Client = (exports as { Client?: unknown } | undefined)?.Client as (AnyFunction & { prototype: object }) | undefined;
    if (typeof Client !== 'function' || !claimPatch(Client.prototype, PATCHED)) return;
    events.modules.publish(Client as unknown as PgClientClass);
    const Pool = (exports as { Pool?: unknown }).Pool;
    if (typeof Pool === 'function' && (Pool as { prototype?: unknown }).prototype) {
      const pools = new PoolViews(Client as unknown as PgClientClass);
      publishPoolCreation(Pool as PoolClass, (pool) => {
        if (!events.clients.hasConsumers) return;
        const view = pools.of(pool);
        if (view) events.clients.publish(view);
      });
      patchPoolQueries((Pool as PoolClass).prototype, events.queries, pools);
    }

    wrap(
      Client.prototype,
      'connect',
      (original) =>
        function connect(this: PgClientInstance, ...args: unknown[]) {
          if (!isAgentInternal(this)) events.clients.publish(this);
          return original.apply(this, args);
        },
    );
    wrap(
      Client.prototype,
      'query',
      (original) =>
        function query(this: PgClientInstance, ...args: unknown[]) {
          if (isAgentInternal(this) || !events.queries.hasConsumers) return original.apply(this, args);
          return runQuery(events.queries, this, original, args);
        },
    );
  });
}

function runQuery(
  queries: OperationChannel<PgQuery>,
  client: PgClientInstance,
  original: (this: unknown, ...args: unknown[]) => unknown,
  args: unknown[],
): unknown {
  let finish: (error: unknown) => void;
  try {
    const text = queryText(args[0]);
    const op: PgQuery = { client, text, operation: sqlOperation(text), startedAt: performance.now() };
    queries.start(op);
    let done = false;
    finish = (error) => {
      if (done) return;
      done = true;
      queries.end(op, error);
    };
    wrapCompletion(args, finish, queries.bindsCallerContext ? context.active() : undefined);
  } catch (error) {
    reportOnce('pg query timing', error);
    return original.apply(client, args);
  }
  let result: unknown;
  try {
    result = original.apply(client, args);
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
}

interface PgPoolInstance {
  options?: Record<string, unknown>;
  Client?: unknown;
}

type PoolClass = (new (...args: unknown[]) => PgPoolInstance) & { prototype: object };

/**
 * What a pool stands for, as a client: the connection parameters pg computes for the pool's
 * clients, read from a client that is made and never connected (pg's own rules: options,
 * connection string, PG* variables, defaults). Only for pools of this pg's Client class.
 */
class PoolViews {
  private readonly views = new WeakMap<object, PgClientInstance | null>();

  constructor(private readonly Client: PgClientClass) {}

  of(pool: PgPoolInstance): PgClientInstance | undefined {
    let view = this.views.get(pool);
    if (view === undefined) {
      view = null;
      if (pool.Client === this.Client) {
        const unconnected = new this.Client(pool.options ?? {}) as unknown as PgClientInstance;
        (unconnected as unknown as Record<symbol, boolean>)[AGENT_INTERNAL] = true;
        view = { connectionParameters: unconnected.connectionParameters, constructor: this.Client };
      }
      this.views.set(pool, view);
    }
    return view ?? undefined;
  }
}

/**
 * Calls `created` with each new `pg.Pool`. pg's Pool (`BoundPool`) is a class whose constructor
 * only calls pg-pool's; a class placed between the two runs after pg-pool's constructor, for
 * every way the app reaches the class (`pg.Pool`, ESM `import { Pool }`, a subclass of its own).
 */
function publishPoolCreation(Pool: PoolClass, created: (pool: PgPoolInstance) => void): void {
  const Base = Object.getPrototypeOf(Pool) as unknown;
  if (typeof Base !== 'function' || Base === Function.prototype) return;
  const PoolBase = Base as new (...args: unknown[]) => PgPoolInstance;
  class PublishedPool extends PoolBase {
    constructor(...args: unknown[]) {
      super(...args);
      try {
        created(this);
      } catch (error) {
        reportOnce('pg pool discovery', error);
      }
    }
  }
  Object.defineProperty(PublishedPool, 'name', { value: PoolBase.name });
  Object.setPrototypeOf(Pool, PublishedPool);
  Object.setPrototypeOf(Pool.prototype, PublishedPool.prototype);
}

/**
 * `pool.query` checks out a client with `pool.connect` (synchronously, from inside `query`) and
 * runs the query on it. When the checkout fails, no `Client.query` happens: the failure is
 * published here as the query's end, timed from the app's call. A checkout that succeeds leaves
 * the query to the Client patch, which times it as for any client.
 *
 * With spans on, a `connect` callback is also bound to the caller's context: pg-pool calls it
 * when a client is free, from inside whatever released it. The promise form needs nothing (await
 * restores the context).
 */
function patchPoolQueries(proto: object, queries: OperationChannel<PgQuery>, pools: PoolViews): void {
  /** The app's `pool.query` on the stack, for the checkout it makes synchronously. */
  let querying: { pool: PgPoolInstance; text: unknown; startedAt: number } | undefined;
  wrap(
    proto,
    'query',
    (original) =>
      function query(this: PgPoolInstance, ...args: unknown[]) {
        if (!queries.hasConsumers || isAgentInternal(this)) return original.apply(this, args);
        const previous = querying;
        querying = { pool: this, text: queryText(args[0]), startedAt: performance.now() };
        try {
          return original.apply(this, args);
        } finally {
          querying = previous;
        }
      },
  );
  wrap(
    proto,
    'connect',
    (original) =>
      function connect(this: unknown, callback?: unknown) {
        const pending = querying;
        querying = undefined;
        // eslint-disable-next-line prefer-rest-params -- pass pg-pool exactly the arguments it was given
        if (typeof callback !== 'function') return original.apply(this, arguments as unknown as unknown[]);
        let handler = callback as AnyFunction;
        if (pending) {
          const appCallback = handler;
          handler = function checkedOut(this: unknown, error: unknown, ...rest: unknown[]) {
            if (error) publishFailedCheckout(queries, pools, pending, error);
            return appCallback.call(this, error, ...rest);
          };
        }
        return original.call(this, queries.bindsCallerContext ? runsIn(context.active(), handler) : handler);
      },
  );
}

function publishFailedCheckout(
  queries: OperationChannel<PgQuery>,
  pools: PoolViews,
  pending: { pool: PgPoolInstance; text: unknown; startedAt: number },
  error: unknown,
): void {
  try {
    const client = pools.of(pending.pool) ?? { constructor: undefined as unknown as PgClientClass };
    const op: PgQuery = { client, text: pending.text, operation: sqlOperation(pending.text), startedAt: pending.startedAt };
    queries.start(op);
    queries.end(op, error);
  } catch (internal) {
    reportOnce('pg pool query timing', internal);
  }
}

/**
 * `fn`, called in `ctx` whoever calls it: what `context.bind` does for a function, without the
 * context manager's extra closure per call and `length` property per bind (this runs for every
 * query of a pool with spans on, sampled or not).
 */
function runsIn(ctx: Context, fn: AnyFunction): AnyFunction {
  return function inCallerContext(this: unknown, ...args: unknown[]) {
    return context.with(ctx, fn, this, ...args);
  };
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
    args[last] = callerContext ? runsIn(callerContext, wrapped) : wrapped;
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
