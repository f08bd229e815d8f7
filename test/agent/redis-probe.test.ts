/**
 * The Redis probe against the real Redis on 127.0.0.1:6379 (the service the agent tests use).
 * The parts that need no Redis (command encoding, URLs, keys, refused, silent and closing
 * servers) are in test/unit/redis-probe.test.ts, which `npm run test:unit` runs without services.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureMessage } from '../../src/health/checks';
import { REDIS_HEALTH, redisEndpointFromUrl, redisProbe } from '../../src/health/redis-probe';
import { PrivateRedis } from '../helpers/redis-server';
import { rejection } from '../helpers/rejection';

const REDIS_HOST = '127.0.0.1';
const REDIS_PORT = 6379;

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

  it('passes with a leftover password on the real Redis that has none, as ioredis does', async () => {
    await expect(redisProbe({ host: REDIS_HOST, port: REDIS_PORT, password: 'leftover' })(2000)).resolves.toBeUndefined();
    await expect(redisProbe(redisEndpointFromUrl(`redis://:leftover@${REDIS_HOST}:${REDIS_PORT}`))(2000)).resolves.toBeUndefined();
  });

  it('rejects with the server error code, not the password, when the real Redis refuses AUTH for an unknown user', async () => {
    const secret = 'not-the-password-7d1c';
    const error = await rejection(redisProbe({ host: REDIS_HOST, port: REDIS_PORT, username: 'nobody', password: secret })(2000));
    expect(error.code).toBe('WRONGPASS');
    expect(error.message).not.toContain(secret);
    expect(failureMessage(REDIS_HEALTH, error, 2000)).not.toContain(secret);
  });
});

describe('redisProbe against a real Redis with a password', () => {
  const redis = new PrivateRedis();
  const password = 'right-password-3k9q';
  let port = 0;

  beforeAll(async () => {
    port = await redis.start(['--requirepass', password]);
  });

  afterAll(() => redis.stop());

  it('passes with the right password', async () => {
    await expect(redisProbe({ host: REDIS_HOST, port, password })(2000)).resolves.toBeUndefined();
  });

  it('fails with WRONGPASS on a wrong password, naming neither password', async () => {
    const wrong = 'wrong-password-8v2m';
    for (const endpoint of [
      { host: REDIS_HOST, port, password: wrong },
      { host: REDIS_HOST, port, username: 'default', password: wrong },
    ]) {
      const error = await rejection(redisProbe(endpoint)(2000));
      expect(error.code).toBe('WRONGPASS');
      expect(`${error.message} ${failureMessage(REDIS_HEALTH, error, 2000)}`).not.toMatch(new RegExp(`${wrong}|${password}`));
    }
  });

  it('fails with NOAUTH without a password', async () => {
    expect((await rejection(redisProbe({ host: REDIS_HOST, port })(2000))).code).toBe('NOAUTH');
  });
});
