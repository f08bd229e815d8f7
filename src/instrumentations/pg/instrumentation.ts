/**
 * Times every `pg` query for `db_query_duration_seconds` and registers the servers the app
 * connects to for the health checks. Patches `Client.prototype.query` and `.connect` once per
 * loaded copy of pg; pools (pg-pool) run their queries through the same Client methods.
 *
 * The app gets back exactly what pg returns, with one deliberate difference: for the promise form
 * it gets a promise chained on pg's, which settles the same way (a rejection the app does not
 * handle still surfaces as an unhandled rejection, as it would without the agent).
 */
import { isAgentInternal } from '../../lifecycle/internal';
import { reportOnce } from '../../lifecycle/guard';
import type { DbMetrics } from '../../metrics/db-metrics';
import type { DependencyRegistry } from '../../health/dependencies';
import { pgKey, pgProbe, type PgClientClass, type PgConnectionParameters } from '../../health/pg-probe';
import { claimPatch, onPackageLoad } from '../module-hooks';
import { rememberPgClientClass } from '../../health/pg-probe';
import { queryText, sqlOperation } from './utils';

const PATCHED = Symbol.for('@tutor/otel-agent.pg');

type AnyFunction = (...args: unknown[]) => unknown;

interface PgClientInstance {
  connectionParameters?: PgConnectionParameters;
  constructor: PgClientClass;
}

export function instrumentPg(metrics: DbMetrics, dependencies: DependencyRegistry): void {
  onPackageLoad(['pg'], 'pg patch', (exports) => {
    const Client = (exports as { Client?: unknown } | undefined)?.Client as (AnyFunction & { prototype: Record<string, unknown> }) | undefined;
    if (typeof Client !== 'function' || !claimPatch(Client.prototype, PATCHED)) return;
    rememberPgClientClass(Client as unknown as PgClientClass);

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
        finish = startTimer(metrics, args[0]);
        wrapCompletion(args, finish);
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

function startTimer(metrics: DbMetrics, first: unknown): (error: unknown) => void {
  const startedAt = performance.now();
  const operation = sqlOperation(queryText(first));
  let done = false;
  return (error) => {
    if (done) return;
    done = true;
    metrics.recordQuery('postgresql', operation, !error, (performance.now() - startedAt) / 1000);
  };
}

/**
 * Hooks the ways a pg query reports completion other than a promise: a trailing callback, or a
 * submittable (pg.Query, pg-cursor, pg-query-stream) whose handlers pg calls when done.
 */
function wrapCompletion(args: unknown[], finish: (error: unknown) => void): void {
  const last = args.length - 1;
  const callback = args[last];
  if (last >= 0 && typeof callback === 'function') {
    args[last] = function wrappedCallback(this: unknown, error: unknown, ...rest: unknown[]) {
      finish(error);
      return (callback as AnyFunction).call(this, error, ...rest);
    };
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
