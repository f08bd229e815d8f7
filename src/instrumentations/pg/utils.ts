/** Pure helpers for the pg instrumentation. */
import type { DbOperation } from '../../metrics/db-metrics';

const VERBS = new Set(['SELECT', 'INSERT', 'UPDATE', 'DELETE']);

/**
 * The SQL verb of a statement, for the `operation` label. Leading comments and parentheses are
 * skipped; for `WITH ...` the verb of the main statement after the CTE list is used. Anything
 * else (DDL, COPY, BEGIN, ...) is `other`, so the label stays bounded.
 */
export function sqlOperation(sql: unknown): DbOperation {
  if (typeof sql !== 'string') return 'other';
  let depth = 0;
  let afterWith = false;
  let i = 0;
  const n = Math.min(sql.length, 20_000);
  while (i < n) {
    const c = sql[i] as string;
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      i = end < 0 ? n : end + 1;
    } else if (c === '(') {
      depth++;
      i++;
    } else if (c === ')') {
      depth = Math.max(0, depth - 1);
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j] as string)) j++;
      const word = sql.slice(i, j).toUpperCase();
      i = j;
      // Inside parentheses only a leading `(SELECT ...)` counts, never a subquery after WITH.
      if (depth > 0 && afterWith) continue;
      if (VERBS.has(word)) return word as DbOperation;
      if (word === 'WITH' && !afterWith) {
        afterWith = true;
        continue;
      }
      if (!afterWith) return 'other';
    } else {
      i++;
    }
  }
  return 'other';
}

/** The SQL text of a `client.query` first argument: a string or a `{ text }` config. */
export function queryText(first: unknown): unknown {
  if (typeof first === 'string') return first;
  if (typeof first === 'object' && first !== null) return (first as { text?: unknown }).text;
  return undefined;
}

/** Longest SQL text a span carries; a generated bulk INSERT can be megabytes. */
export const MAX_QUERY_TEXT = 4096;

/** The stable database span name: `SELECT test` (operation and database), or what is known of them. */
export function pgSpanName(operation: DbOperation, database: string | undefined): string {
  const verb = operation === 'other' ? '' : operation;
  if (verb && database) return `${verb} ${database}`;
  return verb || database || 'postgresql';
}

/**
 * Attributes of a query span. Bound parameter values are never included; the SQL text is, as
 * written by the app (literals in it are the app's choice; Sentry's copy is scrubbed).
 */
export function pgSpanAttributes(
  params: { host?: string; port?: number; database?: string } | undefined,
  text: unknown,
  operation: DbOperation,
): Record<string, string | number> {
  const attributes: Record<string, string | number> = { 'db.system.name': 'postgresql' };
  if (operation !== 'other') attributes['db.operation.name'] = operation;
  if (typeof text === 'string') attributes['db.query.text'] = text.length > MAX_QUERY_TEXT ? text.slice(0, MAX_QUERY_TEXT) : text;
  if (params?.database) attributes['db.namespace'] = params.database;
  if (params?.host) attributes['server.address'] = params.host;
  if (typeof params?.port === 'number') attributes['server.port'] = params.port;
  return attributes;
}
