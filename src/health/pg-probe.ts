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
    } catch (error) {
      const code = pgErrorCode(error);
      throw code === undefined ? error : Object.assign(new Error('PostgreSQL probe failed'), { code });
    } finally {
      closeQuietly();
    }
  };
}

/**
 * pg's connection errors that carry no code, by their fixed text (pg/lib/connection.js), as codes
 * the /health messages know. The text itself is never shown. Undefined: the error's own code, if
 * any, stands.
 */
const CODELESS_PG_ERRORS: Record<string, string> = {
  'The server does not support SSL connections': 'PG_SSL_UNSUPPORTED',
  'There was an error establishing an SSL connection': 'PG_SSL_FAILED',
};

export function pgErrorCode(error: unknown): string | undefined {
  if (typeof (error as { code?: unknown } | null)?.code === 'string') return undefined;
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && Object.hasOwn(CODELESS_PG_ERRORS, message) ? CODELESS_PG_ERRORS[message] : undefined;
}

/** The endpoint identity of a pg client's parameters, for de-duplication. */
export function pgKey(params: PgConnectionParameters): string {
  return `${params.host ?? 'localhost'}:${params.port ?? 5432}/${params.database ?? ''}`;
}
