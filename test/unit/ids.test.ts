/** The agent's trace and span ids: the SDK's format, from a byte-to-hex table. */
import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fastIdGenerator, newSpanId, newTraceId, wordHex } from '../../src/tracing/ids';

describe('trace and span ids', () => {
  afterEach(() => vi.restoreAllMocks());

  it('are lowercase hex of 32 and 16 digits, valid for the API', () => {
    for (let i = 0; i < 1000; i++) {
      const traceId = newTraceId();
      const spanId = newSpanId();
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(trace.isSpanContextValid({ traceId, spanId, traceFlags: 1 })).toBe(true);
    }
  });

  it('differ from one call to the next', () => {
    const ids = new Set(Array.from({ length: 10_000 }, () => newSpanId()));
    expect(ids.size).toBe(10_000);
    const traceIds = new Set(Array.from({ length: 10_000 }, () => newTraceId()));
    expect(traceIds.size).toBe(10_000);
  });

  it('write each 32-bit word most significant byte first, as Buffer.writeUInt32BE then hex', () => {
    for (const word of [0, 1, 0xff, 0x100, 0xdeadbeef, 0x0a0b0c0d, 0xffffffff, 0x80000000]) {
      const buffer = Buffer.alloc(4);
      buffer.writeUInt32BE(word);
      expect(wordHex(word)).toBe(buffer.toString('hex'));
    }
  });

  it('spread over every byte value: each of the 16 hex digits appears in every position', () => {
    const seen = Array.from({ length: 32 }, () => new Set<string>());
    for (let i = 0; i < 2000; i++) [...newTraceId()].forEach((digit, at) => seen[at]!.add(digit));
    for (const digits of seen) expect(digits.size).toBe(16);
  });

  it('are never all zeros: the last byte becomes 1, as the SDK does', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(newSpanId()).toBe('0000000000000001');
    expect(newTraceId()).toBe('00000000000000000000000000000001');
  });

  it('with the largest value Math.random returns, every byte is ff', () => {
    vi.spyOn(Math, 'random').mockReturnValue(1 - Number.EPSILON);
    expect(newSpanId()).toBe('f'.repeat(16));
    expect(newTraceId()).toBe('f'.repeat(32));
  });

  it("are the tracer provider's id generator", () => {
    expect(fastIdGenerator.generateTraceId()).toMatch(/^[0-9a-f]{32}$/);
    expect(fastIdGenerator.generateSpanId()).toMatch(/^[0-9a-f]{16}$/);
  });
});
