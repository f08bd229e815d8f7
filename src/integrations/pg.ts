/**
 * `pg` (alias `pg-pool`): `db_query_duration_seconds`, query spans, and the PostgreSQL servers
 * /health probes. The patch publishes query and client events; the three are its consumers.
 */
import { pgProbe, POSTGRES_HEALTH } from '../health/pg-probe';
import { appPgClientClass, discoverPgServers } from '../instrumentations/pg/discovery';
import { createPgEvents, patchPg } from '../instrumentations/pg/instrumentation';
import { tracePgQueries } from '../instrumentations/pg/spans';
import { DbMetrics } from '../metrics/db-metrics';
import type { Integration } from './types';

/** This module's channels: the patch publishes on them, the consumers below subscribe. */
const events = createPgEvents();
const clientClass = appPgClientClass(events);

export const pgIntegration: Integration = {
  name: 'pg',
  aliases: ['pg-pool'],
  switchable: true,
  provides: ['metrics', 'spans', 'health'],
  patches: () => ['pg'],
  health: {
    ...POSTGRES_HEALTH,
    urlVariable: 'TUTOR_OTEL_HEALTH_DATABASE_URL',
    urlProtocols: ['postgres:', 'postgresql:'],
    configured: (url) => ({ key: `configured:${url}`, probe: probePostgresUrl(url) }),
  },
  start({ config, metrics, tracer, dependencies, channels }) {
    channels.pgQueries = events.queries;
    const db = new DbMetrics(metrics, config.semconvMetrics);
    events.queries.subscribe({
      end: (op, error) => db.recordQuery('postgresql', op.operation, !error, (performance.now() - op.startedAt) / 1000),
    });
    if (tracer) tracePgQueries(events.queries, tracer);
    discoverPgServers(events, dependencies);
    patchPg(events);
  },
};

/** A probe of a configured URL, with the app's own pg. */
function probePostgresUrl(url: string) {
  return (timeoutMs: number): Promise<void> => {
    const Client = clientClass();
    if (!Client) return Promise.reject(Object.assign(new Error('pg is not installed'), { code: 'NO_PG_DRIVER' }));
    return pgProbe(Client, url)(timeoutMs);
  };
}
