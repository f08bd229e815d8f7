/**
 * The PostgreSQL servers the health checks probe: a consumer of the pg patch's events. Each
 * server an app client connects to is added once (by endpoint); the Client class of the loaded pg
 * probes a configured URL (TUTOR_OTEL_HEALTH_DATABASE_URL) too.
 */
import type { DependencyRegistry } from '../../health/dependencies';
import { pgKey, pgProbe, POSTGRES_HEALTH, type PgClientClass } from '../../health/pg-probe';
import { reportOnce } from '../../lifecycle/guard';
import type { PgEvents } from './instrumentation';

export function discoverPgServers(events: PgEvents, dependencies: DependencyRegistry): void {
  events.clients.subscribe((client) => {
    try {
      const params = client.connectionParameters;
      if (!params) return;
      const key = pgKey(params);
      if (dependencies.has(POSTGRES_HEALTH.kind, key)) return;
      const { host, port, user, database, password, ssl } = params;
      dependencies.add({ kind: POSTGRES_HEALTH, key, probe: pgProbe(client.constructor, { host, port, user, database, password, ssl }) });
    } catch (error) {
      reportOnce('pg dependency discovery', error);
    }
  });
}

/** The Client class the app loaded (first seen), else the one its working directory resolves. */
export function appPgClientClass(events: PgEvents): () => PgClientClass | undefined {
  let seen: PgClientClass | undefined;
  events.modules.subscribe((Client) => {
    seen ??= Client;
  });
  return () => {
    if (seen) return seen;
    try {
      const { createRequire } = require('node:module') as typeof import('node:module');
      const appRequire = createRequire(`${process.cwd()}/package.json`);
      return (appRequire('pg') as { Client: PgClientClass }).Client;
    } catch {
      return undefined;
    }
  };
}
