/**
 * The Redis probe against the real Redis on 127.0.0.1:6379 (the service the agent tests use).
 * The parts that need no Redis (command encoding, URLs, keys, refused, silent and closing
 * servers) are in test/unit/redis-probe.test.ts, which `npm run test:unit` runs without services.
 */
import { describe, expect, it } from 'vitest';
import { failureMessage } from '../../src/health/checks';
import { REDIS_HEALTH, redisEndpointFromUrl, redisProbe } from '../../src/health/redis-probe';

const REDIS_HOST = '127.0.0.1';
const REDIS_PORT = 6379;

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error('expected the probe to reject');
}

describe('redisProbe against the real Redis', () => {
  it('resolves against the real Redis', async () => {
    await expect(redisProbe({ host: REDIS_HOST, port: REDIS_PORT })(2000)).resolves.toBeUndefined();
  });

  it('resolves against the real Redis from a URL', async () => {
    await expect(redisProbe(redisEndpointFromUrl(`redis://${REDIS_HOST}:${REDIS_PORT}/0`))(2000)).resolves.toBeUndefined();
  });

  it('can be run many times in a row', async () => {
    const probe = redisProbe({ host: REDIS_HOST, port: REDIS_PORT });
    for (let i = 0; i < 5; i++) await probe(2000);
    await Promise.all(Array.from({ length: 5 }, () => probe(2000)));
  });

  it('rejects with the server error code, not the password, when the real Redis refuses AUTH', async () => {
    const secret = 'not-the-password-7d1c';
    for (const endpoint of [
      { host: REDIS_HOST, port: REDIS_PORT, password: secret },
      { host: REDIS_HOST, port: REDIS_PORT, username: 'nobody', password: secret },
    ]) {
      const error = await rejection(redisProbe(endpoint)(2000));
      expect(error.code).toMatch(/^(ERR|WRONGPASS|NOAUTH)$/);
      expect(error.message).not.toContain(secret);
      expect(failureMessage(REDIS_HEALTH, error, 2000)).not.toContain(secret);
    }
  });
});
