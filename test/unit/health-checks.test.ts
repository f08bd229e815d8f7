import { describe, it, expect } from 'vitest';
import { checkNames, failureMessage, overallStatus, passMessage, runCheck, type NamedCheck } from '../../src/health/checks';
import type { Dependency } from '../../src/health/dependencies';
import { pgErrorCode, POSTGRES_HEALTH } from '../../src/health/pg-probe';
import { REDIS_HEALTH } from '../../src/health/redis-probe';

type DependencyKind = 'database' | 'redis';

const PASSWORD = 'Tr0ub4dor&3-very-secret';
const CONNECTION_STRING = `postgres://tutor_app:${PASSWORD}@db-primary.internal.example:5432/tutor_prod`;
const REDIS_URL = `redis://default:${PASSWORD}@cache-01.internal.example:6379/0`;

function leaky(message: string, code?: unknown): Error {
  const error = new Error(message);
  if (code !== undefined) Object.assign(error, { code });
  return error;
}

function expectNoSecrets(message: string): void {
  for (const fragment of [
    PASSWORD,
    'Tr0ub4dor',
    CONNECTION_STRING,
    REDIS_URL,
    'postgres://',
    'redis://',
    'db-primary',
    'cache-01',
    'tutor_app',
    'tutor_prod',
    '5432',
  ]) {
    expect(message).not.toContain(fragment);
  }
}

describe('failureMessage', () => {
  it('never repeats the error message, even with a known code', () => {
    const error = leaky(`password authentication failed for user "tutor_app" (${CONNECTION_STRING})`, '28P01');
    const message = failureMessage(POSTGRES_HEALTH, error, 1000);
    expect(message).toBe('PostgreSQL check failed: authentication failed (28P01)');
    expectNoSecrets(message);
  });

  it('never repeats the error message when there is no code', () => {
    const message = failureMessage(POSTGRES_HEALTH, leaky(`could not connect with ${CONNECTION_STRING}, password ${PASSWORD}`), 1000);
    expect(message).toBe('PostgreSQL check failed');
    expectNoSecrets(message);
  });

  it('never repeats the error message with an unknown but safe code', () => {
    const message = failureMessage(REDIS_HEALTH, leaky(`ERR something about ${REDIS_URL}`, 'XX000'), 1000);
    expect(message).toBe('Redis check failed (XX000)');
    expectNoSecrets(message);
  });

  it('does not show a code that is not a short word', () => {
    const fromUrl = failureMessage(REDIS_HEALTH, leaky('boom', REDIS_URL), 1000);
    expect(fromUrl).toBe('Redis check failed');
    expectNoSecrets(fromUrl);
    expect(failureMessage(REDIS_HEALTH, leaky('boom', 'A'.repeat(25)), 1000)).toBe('Redis check failed');
    expect(failureMessage(REDIS_HEALTH, leaky('boom', 'has space'), 1000)).toBe('Redis check failed');
    expect(failureMessage(REDIS_HEALTH, leaky('boom', PASSWORD), 1000)).toBe('Redis check failed');
  });

  it('ignores a code that is not a string', () => {
    expect(failureMessage(POSTGRES_HEALTH, leaky(CONNECTION_STRING, 28000), 1000)).toBe('PostgreSQL check failed');
  });

  it.each([
    ['ECONNREFUSED', 'connection refused'],
    ['ECONNRESET', 'connection closed by the server'],
    ['EPIPE', 'connection closed by the server'],
    ['ENOTFOUND', 'host name not found'],
    ['EAI_AGAIN', 'host name lookup failed'],
    ['EHOSTUNREACH', 'host unreachable'],
    ['ENETUNREACH', 'network unreachable'],
    ['28P01', 'authentication failed'],
    ['28000', 'authentication failed'],
    ['3D000', 'database does not exist'],
    ['57P03', 'server is starting up'],
    ['53300', 'too many connections'],
    ['WRONGPASS', 'authentication failed'],
    ['NOAUTH', 'authentication required'],
    ['LOADING', 'server is loading its data set'],
  ])('maps %s to "%s"', (code, text) => {
    const message = failureMessage(POSTGRES_HEALTH, leaky(`${code} at ${CONNECTION_STRING}`, code), 1000);
    expect(message).toBe(`PostgreSQL check failed: ${text} (${code})`);
    expectNoSecrets(message);
  });

  it('reports a timeout by code or by message, with the deadline', () => {
    expect(failureMessage(REDIS_HEALTH, leaky('x', 'ETIMEDOUT'), 750)).toBe('Redis did not answer within 750 ms');
    const byMessage = failureMessage(POSTGRES_HEALTH, leaky(`Connection terminated due to connection timeout to ${CONNECTION_STRING}`), 1000);
    expect(byMessage).toBe('PostgreSQL did not answer within 1000 ms');
    expectNoSecrets(byMessage);
    expect(failureMessage(POSTGRES_HEALTH, leaky('Query read Timed Out'), 250)).toBe('PostgreSQL did not answer within 250 ms');
  });

  it.each([null, undefined, 'a thrown string with postgres://u:pw@h/db', 42, {}, { message: 123 }])('copes with a thrown %j', (thrown) => {
    const message = failureMessage(POSTGRES_HEALTH, thrown, 1000);
    expect(message).toBe('PostgreSQL check failed');
  });
});

describe('passMessage', () => {
  it('names the probe and says when it was slow', () => {
    expect(passMessage(POSTGRES_HEALTH, false)).toBe('PostgreSQL answered SELECT 1');
    expect(passMessage(REDIS_HEALTH, false)).toBe('Redis answered PING');
    expect(passMessage(REDIS_HEALTH, true)).toBe('Redis answered PING, but slowly');
  });
});

function check(kind: DependencyKind, status: 'pass' | 'warn' | 'fail'): NamedCheck {
  return { name: kind, kind, result: { status, message: '', responseTime: 1 } };
}

describe('overallStatus', () => {
  const critical = new Set(['database', 'redis']);

  it('is healthy when every check passes, or when there are none', () => {
    expect(overallStatus([check('database', 'pass'), check('redis', 'pass')], critical)).toBe('healthy');
    expect(overallStatus([], critical)).toBe('healthy');
  });

  it('is degraded when a check warns', () => {
    expect(overallStatus([check('database', 'warn'), check('redis', 'pass')], critical)).toBe('degraded');
  });

  it('is unhealthy when a critical check fails', () => {
    expect(overallStatus([check('database', 'fail'), check('redis', 'pass')], critical)).toBe('unhealthy');
    expect(overallStatus([check('database', 'pass'), check('redis', 'fail')], new Set(['redis']))).toBe('unhealthy');
  });

  it('is only degraded when a non-critical check fails', () => {
    expect(overallStatus([check('database', 'pass'), check('redis', 'fail')], new Set(['database']))).toBe('degraded');
    expect(overallStatus([check('database', 'fail')], new Set())).toBe('degraded');
  });

  it('a failing critical check wins over a warning elsewhere', () => {
    expect(overallStatus([check('redis', 'warn'), check('database', 'fail')], critical)).toBe('unhealthy');
  });
});

function dependency(kind: DependencyKind, probe: Dependency['probe'] = async () => {}): Dependency {
  return { kind: kind === 'database' ? POSTGRES_HEALTH : REDIS_HEALTH, key: `${kind}-key`, probe };
}

describe('checkNames', () => {
  it('names the first of each kind by its kind and numbers the rest', () => {
    const deps = [dependency('database'), dependency('redis'), dependency('database'), dependency('database'), dependency('redis')];
    expect(checkNames(deps)).toEqual(['database', 'redis', 'database_2', 'database_3', 'redis_2']);
  });

  it('gives unique names and none for no dependencies', () => {
    expect(checkNames([])).toEqual([]);
    const names = checkNames(Array.from({ length: 4 }, () => dependency('redis')));
    expect(new Set(names).size).toBe(4);
  });
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('runCheck', () => {
  it('passes when the probe resolves quickly, and hands the probe the timeout', async () => {
    let given: number | undefined;
    const result = await runCheck(
      dependency('database', (timeoutMs) => {
        given = timeoutMs;
        return Promise.resolve();
      }),
      1234,
      500,
    );
    expect(given).toBe(1234);
    expect(result.status).toBe('pass');
    expect(result.message).toBe('PostgreSQL answered SELECT 1');
    expect(result.responseTime).toBeGreaterThanOrEqual(0);
    expect(result.responseTime).toBeLessThan(500);
    expect(Number.isInteger(result.responseTime)).toBe(true);
  });

  it('fails with a safe message when the probe rejects', async () => {
    const result = await runCheck(
      dependency('redis', () => Promise.reject(leaky(`connect ECONNREFUSED ${REDIS_URL}`, 'ECONNREFUSED'))),
      1000,
      500,
    );
    expect(result.status).toBe('fail');
    expect(result.message).toBe('Redis check failed: connection refused (ECONNREFUSED)');
    expectNoSecrets(result.message);
    expect(result.responseTime).toBeGreaterThanOrEqual(0);
  });

  it('fails (and does not throw) when the probe throws synchronously', async () => {
    const result = await runCheck(
      dependency('database', () => {
        throw leaky(`bad config ${CONNECTION_STRING}`);
      }),
      1000,
      500,
    );
    expect(result.status).toBe('fail');
    expectNoSecrets(result.message);
  });

  it('warns when the probe answers, but slower than slowMs', async () => {
    const result = await runCheck(
      dependency('redis', () => sleep(80)),
      1000,
      20,
    );
    expect(result.status).toBe('warn');
    expect(result.message).toBe('Redis answered PING, but slowly');
    expect(result.responseTime).toBeGreaterThan(20);
    expect(result.responseTime).toBeGreaterThanOrEqual(70);
  });

  it('passes a probe slower than nothing but within slowMs', async () => {
    const result = await runCheck(
      dependency('redis', () => sleep(20)),
      1000,
      2000,
    );
    expect(result.status).toBe('pass');
    expect(result.responseTime).toBeGreaterThanOrEqual(15);
  });

  it('reports a timed-out probe with the deadline', async () => {
    const result = await runCheck(
      dependency('database', async () => {
        await sleep(30);
        throw Object.assign(new Error('timed out after 30 ms'), { code: 'ETIMEDOUT' });
      }),
      30,
      10,
    );
    expect(result.status).toBe('fail');
    expect(result.message).toBe('PostgreSQL did not answer within 30 ms');
  });
});

describe('pg errors without a code', () => {
  it("pg's fixed TLS texts become codes the messages know; the text itself is never shown", () => {
    const noTls = new Error('The server does not support SSL connections');
    expect(pgErrorCode(noTls)).toBe('PG_SSL_UNSUPPORTED');
    expect(pgErrorCode(new Error('There was an error establishing an SSL connection'))).toBe('PG_SSL_FAILED');
    expect(failureMessage(POSTGRES_HEALTH, { code: pgErrorCode(noTls) }, 1000)).toBe(
      'PostgreSQL check failed: the client requires TLS and the server does not offer it (PG_SSL_UNSUPPORTED)',
    );
  });

  it('leaves an error with its own code, and any other text, alone', () => {
    expect(pgErrorCode(Object.assign(new Error('The server does not support SSL connections'), { code: 'X' }))).toBeUndefined();
    expect(pgErrorCode(new Error('password authentication failed for user "bob"'))).toBeUndefined();
    expect(pgErrorCode(undefined)).toBeUndefined();
  });

  it("Node's TLS codes longer than a generic code are named", () => {
    expect(failureMessage(REDIS_HEALTH, { code: 'ERR_SSL_WRONG_VERSION_NUMBER' }, 1000)).toBe(
      'Redis check failed: TLS handshake failed: the server does not speak TLS (ERR_SSL_WRONG_VERSION_NUMBER)',
    );
    expect(failureMessage(POSTGRES_HEALTH, { code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 1000)).toMatch(/does not name this host/);
  });
});
