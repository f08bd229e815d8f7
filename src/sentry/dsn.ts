/**
 * Sentry DSNs, parsed without loading the Sentry SDK: the same grammar and checks as
 * `makeDsn` in @sentry/core, and the same OTLP endpoint as `getOtlpTracesEndpoint` in
 * @sentry/node (test/sentry/units.test.ts holds both to the SDK's own functions).
 */

export interface Dsn {
  protocol: 'http' | 'https';
  publicKey: string;
  host: string;
  port: string;
  /** Path before the project id, without slashes at either end ('' for most DSNs). */
  path: string;
  projectId: string;
}

/** The version of Sentry's ingestion protocol the SDK speaks (SENTRY_API_VERSION). */
export const SENTRY_API_VERSION = '7';

const DSN_REGEX = /^(?:(\w+):)\/\/(?:(\w+)(?::(\w+)?)?@)((?:\[[:.%\w]+\]|[\w.-]+))(?::(\d+))?\/(.+)/;

/** The DSN's parts, or undefined when the SDK would reject it. */
export function parseDsn(text: string): Dsn | undefined {
  const match = DSN_REGEX.exec(text.trim());
  if (!match) return undefined;
  const [, protocol = '', publicKey = '', , host = '', port = '', lastPath = ''] = match;
  let path = '';
  let projectId = lastPath;
  const split = projectId.split('/');
  if (split.length > 1) {
    path = split.slice(0, -1).join('/');
    projectId = split.pop() ?? '';
  }
  const digits = /^\d+/.exec(projectId);
  if (digits) projectId = digits[0];
  if (protocol !== 'http' && protocol !== 'https') return undefined;
  if (!publicKey || !host || !/^\d+$/.test(projectId)) return undefined;
  return { protocol, publicKey, host, port, path, projectId };
}

function base(dsn: Dsn): string {
  return `${dsn.protocol}://${dsn.host}${dsn.port ? `:${dsn.port}` : ''}${dsn.path ? `/${dsn.path}` : ''}`;
}

/** Where spans go over OTLP/HTTP, and the header that authenticates them. */
export function otlpTracesEndpoint(dsn: Dsn): { url: string; headers: Record<string, string> } {
  return {
    url: `${base(dsn)}/api/${dsn.projectId}/integration/otlp/v1/traces/`,
    headers: { 'X-Sentry-Auth': `Sentry sentry_version=${SENTRY_API_VERSION}, sentry_key=${dsn.publicKey}` },
  };
}

/** The DSN as the SDK prints it (without a secret key, which modern DSNs do not have). */
export function dsnToString(dsn: Dsn): string {
  return `${dsn.protocol}://${dsn.publicKey}@${dsn.host}${dsn.port ? `:${dsn.port}` : ''}/${dsn.path ? `${dsn.path}/` : ''}${dsn.projectId}`;
}
