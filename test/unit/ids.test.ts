/** The agent's trace and span ids: the SDK's format, from a byte-to-hex table. */
import { trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { fastIdGenerator, newSpanId, newTraceId } from '../../src/tracing/ids';

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

  it('write each random 32-bit word most significant byte first, as the SDK (Buffer.writeUInt32BE then hex)', () => {
    const words = [0xdeadbeef, 0x0a0b0c0d, 0x00000001, 0xff00ff00, 0x80000000, 0x7fffffff];
    const random = vi.spyOn(Math, 'random');
    for (const word of words) random.mockReturnValueOnce(word / 0x1_0000_0000);
    const asBuffer = (...ws: number[]) =>
      Buffer.concat(ws.map((w) => Buffer.from([w >>> 24, (w >>> 16) & 0xff, (w >>> 8) & 0xff, w & 0xff]))).toString('hex');
    expect(newSpanId()).toBe(asBuffer(words[0]!, words[1]!));
    expect(newTraceId()).toBe(asBuffer(words[2]!, words[3]!, words[4]!, words[5]!));
    expect(newSpanId()).not.toBe(asBuffer(words[0]!, words[1]!));
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
