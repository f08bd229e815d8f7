import { describe, it, expect } from 'vitest';
import { INSTRUMENTATION_NAMES, canonicalInstrumentationName, resolveInstrumentations } from '../../src/config/instrumentation-names';

const CORE = ['http', 'undici', 'pg', 'ioredis', 'redis', 'express', 'fastify', 'koa'];
const without = (...removed: string[]) => INSTRUMENTATION_NAMES.filter((n) => !removed.includes(n)).sort();

describe('INSTRUMENTATION_NAMES', () => {
  it('lists the shipped instrumentations once each, in the short lower-case form', () => {
    for (const name of CORE) expect(INSTRUMENTATION_NAMES).toContain(name);
    expect(new Set(INSTRUMENTATION_NAMES).size).toBe(INSTRUMENTATION_NAMES.length);
    for (const name of INSTRUMENTATION_NAMES) expect(name).toMatch(/^[a-z][a-z0-9-]*$/);
  });
});

describe('canonicalInstrumentationName', () => {
  it.each([...INSTRUMENTATION_NAMES])('%s is its own name', (name) => {
    expect(canonicalInstrumentationName(name)).toBe(name);
  });

  it.each([
    ['https', 'http'],
    ['fetch', 'undici'],
    ['pg-pool', 'pg'],
    ['redis-4', 'redis'],
  ])('alias %s -> %s', (alias, name) => {
    expect(canonicalInstrumentationName(alias)).toBe(name);
  });

  it.each([
    ['@opentelemetry/instrumentation-http', 'http'],
    ['@opentelemetry/instrumentation-pg', 'pg'],
    ['@opentelemetry/instrumentation-fetch', 'undici'],
    ['@opentelemetry/instrumentation-redis', 'redis'],
    ['@opentelemetry/instrumentation-redis-4', 'redis'],
    ['@opentelemetry/instrumentation-ioredis', 'ioredis'],
    ['@opentelemetry/instrumentation-fastify', 'fastify'],
    ['@opentelemetry/instrumentation-koa', 'koa'],
  ])('the full upstream package name %s -> %s', (full, name) => {
    expect(canonicalInstrumentationName(full)).toBe(name);
  });

  it.each(['mysql2', 'grpc', 'mongodb', '', 'instrumentation-http', '@opentelemetry/instrumentation-', 'http2', 'pg-'])('%j is unknown', (name) => {
    expect(canonicalInstrumentationName(name)).toBeUndefined();
  });

  it('is case-sensitive (the config lower-cases the lists before asking)', () => {
    expect(canonicalInstrumentationName('HTTP')).toBeUndefined();
  });
});

describe('resolveInstrumentations', () => {
  it('enables everything when no enabled list is given', () => {
    const names = resolveInstrumentations(undefined, []);
    expect([...names]).toEqual([...INSTRUMENTATION_NAMES]);
  });

  it('enables only the listed names (aliases resolved, duplicates merged)', () => {
    const names = resolveInstrumentations(['fetch', 'undici', 'pg-pool'], []);
    expect([...names].sort()).toEqual(['pg', 'undici']);
  });

  it('subtracts the disabled list, aliases included', () => {
    const names = resolveInstrumentations(undefined, ['pg-pool', 'https']);
    expect([...names].sort()).toEqual(without('pg', 'http'));
  });

  it('disabled wins over enabled', () => {
    const names = resolveInstrumentations(['http', 'pg'], ['pg']);
    expect([...names]).toEqual(['http']);
  });

  it('leaves unknown names out of both lists', () => {
    const names = resolveInstrumentations(['http', 'mysql2'], ['grpc', 'pg']);
    expect([...names]).toEqual(['http']);
  });

  it('an enabled list of only unknown names enables nothing', () => {
    const names = resolveInstrumentations(['kafkajs'], []);
    expect(names.size).toBe(0);
  });

  it('returns a fresh set each time', () => {
    const first = resolveInstrumentations(undefined, []);
    first.delete('http');
    expect(resolveInstrumentations(undefined, []).has('http')).toBe(true);
    expect(INSTRUMENTATION_NAMES).toContain('http');
  });
});
