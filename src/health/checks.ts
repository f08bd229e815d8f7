/**
 * Runs the dependency probes and shapes the `/health` answer. The message of a failed check is
 * built from the error's code only (a driver's message can quote a connection string), so no
 * check ever shows a password, a URL or a host.
 */
import type { Dependency, HealthKind } from './dependencies';

export type CheckStatus = 'pass' | 'warn' | 'fail';
export type ServiceStatus = 'healthy' | 'degraded' | 'unhealthy';

export interface CheckResult {
  status: CheckStatus;
  message: string;
  responseTime: number;
}

export interface NamedCheck {
  name: string;
  kind: string;
  result: CheckResult;
}

const CODE_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection closed by the server',
  EPIPE: 'connection closed by the server',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  '28P01': 'authentication failed',
  '28000': 'authentication failed',
  '3D000': 'database does not exist',
  '57P03': 'server is starting up',
  '53300': 'too many connections',
  WRONGPASS: 'authentication failed',
  NOAUTH: 'authentication required',
  LOADING: 'server is loading its data set',
  // TLS: one side wants it and the other does not, or the certificate is not trusted.
  PG_SSL_UNSUPPORTED: 'the client requires TLS and the server does not offer it',
  PG_SSL_FAILED: 'the TLS connection could not be set up',
  EPROTO: 'TLS handshake failed',
  ERR_SSL_WRONG_VERSION_NUMBER: 'TLS handshake failed: the server does not speak TLS',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server certificate is self-signed and not trusted',
  SELF_SIGNED_CERT_IN_CHAIN: 'the server certificate chain is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the server certificate is not trusted',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the server certificate is not trusted',
  CERT_HAS_EXPIRED: 'the server certificate has expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the server certificate does not name this host',
};

export function failureMessage(kind: HealthKind, error: unknown, timeoutMs: number): string {
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined;
  const what = kind.label;
  if (code === 'ETIMEDOUT' || /timeout|timed out/i.test(String((error as Error)?.message ?? ''))) {
    return `${what} did not answer within ${timeoutMs} ms`;
  }
  if (code && Object.hasOwn(CODE_TEXT, code)) return `${what} check failed: ${CODE_TEXT[code]} (${code})`;
  const safeCode = code && /^[A-Z0-9_]{1,24}$/i.test(code) ? ` (${code})` : '';
  return `${what} check failed${safeCode}`;
}

export function passMessage(kind: HealthKind, slow: boolean): string {
  return slow ? `${kind.answered}, but slowly` : kind.answered;
}

export async function runCheck(dependency: Dependency, timeoutMs: number, slowMs: number): Promise<CheckResult> {
  const startedAt = performance.now();
  try {
    await dependency.probe(timeoutMs);
    const responseTime = Math.round(performance.now() - startedAt);
    const slow = responseTime > slowMs;
    return { status: slow ? 'warn' : 'pass', message: passMessage(dependency.kind, slow), responseTime };
  } catch (error) {
    return {
      status: 'fail',
      message: failureMessage(dependency.kind, error, timeoutMs),
      responseTime: Math.round(performance.now() - startedAt),
    };
  }
}

/** `database`, `redis`, then `database_2`, ... for a second server of the same kind. */
export function checkNames(dependencies: Dependency[]): string[] {
  const seen: Record<string, number> = {};
  return dependencies.map((d) => {
    const kind = d.kind.kind;
    seen[kind] = (seen[kind] ?? 0) + 1;
    return seen[kind] === 1 ? kind : `${kind}_${seen[kind]}`;
  });
}

/** A failing critical dependency makes the service unhealthy; anything else less than pass, degraded. */
export function overallStatus(checks: NamedCheck[], critical: Set<string>): ServiceStatus {
  if (checks.some((c) => c.result.status === 'fail' && critical.has(c.kind))) return 'unhealthy';
  if (checks.some((c) => c.result.status !== 'pass')) return 'degraded';
  return 'healthy';
}
