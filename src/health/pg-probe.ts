/**
 * Probes a PostgreSQL server with the app's own `pg` Client class: connect, `SELECT 1`, close.
 * The probe client is marked internal so it is neither counted in the app's metrics nor traced.
 */
import { AGENT_INTERNAL } from '../lifecycle/internal';
import { withTimeout } from './dependencies';

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

let seenClientClass: PgClientClass | undefined;

/** The pg instrumentation reports the Client class the app loaded, for probes of configured URLs. */
export function rememberPgClientClass(Client: PgClientClass): void {
  seenClientClass ??= Client;
}

/** The app's pg Client class: the one it loaded, else the one its working directory resolves. */
export function appPgClientClass(): PgClientClass | undefined {
  if (seenClientClass) return seenClientClass;
  try {
    const { createRequire } = require('node:module') as typeof import('node:module');
    const appRequire = createRequire(`${process.cwd()}/package.json`);
    return (appRequire('pg') as { Client: PgClientClass }).Client;
  } catch {
    return undefined;
  }
}
