/**
 * Probes a PostgreSQL server with the app's own `pg` Client class: connect, `SELECT 1`, close.
 * The probe client is marked internal so it is neither counted in the app's metrics nor traced.
 */
import { AGENT_INTERNAL } from '../lifecycle/internal';
import { withTimeout, type HealthKind } from './dependencies';

export const POSTGRES_HEALTH: HealthKind = { kind: 'database', label: 'PostgreSQL', answered: 'PostgreSQL answered SELECT 1' };

export interface PgConnectionParameters {
  host?: string;
  port?: number;
  user?: string;
  database?: string;
  password?: unknown;
  ssl?: unknown;
}

interface PgClientLike {
  connect(): Promise<void>;
  query(text: string): Promise<unknown>;
  end(): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

export type PgClientClass = new (config: Record<string, unknown>) => PgClientLike;

export function pgProbe(Client: PgClientClass, params: PgConnectionParameters | string) {
  return async (timeoutMs: number): Promise<void> => {
    const base = typeof params === 'string' ? { connectionString: params } : { ...params };
    const client = new Client({
      ...base,
      connectionTimeoutMillis: timeoutMs,
      query_timeout: timeoutMs,
      application_name: 'otel-agent-health',
    });
    (client as unknown as Record<symbol, boolean>)[AGENT_INTERNAL] = true;
    client.on('error', () => {}); // a dropped probe connection must not become an 'error' crash
    const closeQuietly = () => void client.end().catch(() => {});
    try {
      await withTimeout(
        (async () => {
          await client.connect();
          await client.query('SELECT 1');
        })(),
        timeoutMs,
      );
    } finally {
      closeQuietly();
    }
  };
}

/** The endpoint identity of a pg client's parameters, for de-duplication. */
export function pgKey(params: PgConnectionParameters): string {
  return `${params.host ?? 'localhost'}:${params.port ?? 5432}/${params.database ?? ''}`;
}
