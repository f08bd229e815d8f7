/**
 * Trace and span ids for every span of the process (the agent's own and, through the tracer
 * provider's `idGenerator`, the SDK's): random lowercase hex, never all zeros, as the SDK's
 * `RandomIdGenerator` makes them.
 *
 * Why not the SDK's: it writes each 32-bit word of Math.random into a shared Buffer and then asks
 * the Buffer for hex, a native call per id; in the benchmark that was a quarter of the cost of
 * starting a span. Here each byte becomes two hex digits through a 256-entry table, in plain JavaScript.
 * Math.random is what the SDK uses too: ids need to be unique, not secret.
 */
import type { IdGenerator } from '@opentelemetry/sdk-trace';

const DIGITS = '0123456789abcdef';
/** The character codes of each byte's two hex digits. */
const HIGH_DIGIT = Uint8Array.from({ length: 256 }, (_, byte) => DIGITS.charCodeAt(byte >>> 4));
const LOW_DIGIT = Uint8Array.from({ length: 256 }, (_, byte) => DIGITS.charCodeAt(byte & 0xf));

/** A random unsigned 32-bit word. */
function randomWord(): number {
  return (Math.random() * 0x1_0000_0000) >>> 0;
}

// The character codes of the id being made, handed to String.fromCharCode whole: one call makes
// a flat string. Joining shorter hex strings with `+` makes a rope, which every reader (the
// exporter's hex decoding, a traceparent header) has to flatten first; in the benchmark that cost
// more than the ids were saving.
const SPAN_ID_CODES: number[] = new Array<number>(16).fill(0);
const TRACE_ID_CODES: number[] = new Array<number>(32).fill(0);

/** The 8 hex digits of `word` into `codes` at `at`, most significant byte first (as Buffer.writeUInt32BE then hex). */
function writeWord(codes: number[], at: number, word: number): void {
  for (let shift = 24; shift >= 0; shift -= 8, at += 2) {
    const byte = (word >>> shift) & 0xff;
    codes[at] = HIGH_DIGIT[byte]!;
    codes[at + 1] = LOW_DIGIT[byte]!;
  }
}

/** 16 hex digits (8 bytes); all zeros is not a valid span id, so then the last byte is 1, as in the SDK. */
export function newSpanId(): string {
  const high = randomWord();
  let low = randomWord();
  if (high === 0 && low === 0) low = 1;
  writeWord(SPAN_ID_CODES, 0, high);
  writeWord(SPAN_ID_CODES, 8, low);
  return String.fromCharCode.apply(null, SPAN_ID_CODES);
}

/** 32 hex digits (16 bytes); all zeros is not a valid trace id, so then the last byte is 1, as in the SDK. */
export function newTraceId(): string {
  const a = randomWord();
  const b = randomWord();
  const c = randomWord();
  let d = randomWord();
  if (a === 0 && b === 0 && c === 0 && d === 0) d = 1;
  writeWord(TRACE_ID_CODES, 0, a);
  writeWord(TRACE_ID_CODES, 8, b);
  writeWord(TRACE_ID_CODES, 16, c);
  writeWord(TRACE_ID_CODES, 24, d);
  return String.fromCharCode.apply(null, TRACE_ID_CODES);
}

/** The provider's id generator: the same ids for the SDK's spans as for the agent's. */
export const fastIdGenerator: IdGenerator = {
  generateTraceId: newTraceId,
  generateSpanId: newSpanId,
};
