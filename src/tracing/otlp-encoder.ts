/**
 * Spans to an OTLP `ExportTraceServiceRequest` (opentelemetry-proto v1, protobuf). Pure: bytes in
 * memory, no I/O.
 *
 * Written for this agent instead of using upstream's `ProtobufTraceSerializer` because encoding is
 * the one part of span export that runs on the app's thread for every span, and upstream's costs
 * more than it needs to: it walks every batch twice (a size estimate, then the write), allocates a
 * Uint8Array for every trace, span and parent id (hexToBinary), allocates a fresh output buffer per
 * batch, and encodes the same resource and instrumentation scopes again in every batch. Here:
 * - a span can be encoded on its own when it ends (`add`), into the open batch's bytes for its
 *   resource and scope, and the request is put together from those bytes when the batch is sent
 *   (`take`); `encode` does both for a whole batch;
 * - growable buffers per encoder, reused across batches (the result is a copy, since the
 *   transport keeps it for retries while the next batch is encoded);
 * - one pass: a message's length is written after its content, into bytes reserved at its start
 *   (a guess of 1 to 3 bytes; when the guess is wrong, the content moves, as upstream's writer does);
 * - ids go from hex straight into the buffer through a lookup table;
 * - strings are written in place (a char-code loop for short ASCII, Buffer#write otherwise);
 * - a resource's and a scope's bytes are encoded once and copied in afterwards, by object identity
 *   (the SDK hands every span of a tracer the same scope object and of a provider the same resource).
 *
 * The output is byte-for-byte what upstream's serializer writes for the same spans (same fields,
 * same order, same grouping, same int-or-double choice, same flags), which
 * test/unit/otlp-encoder.test.ts checks against it; keep the two in step when upstream changes.
 */
import { Buffer } from 'node:buffer';
import type { Attributes, HrTime, Link, SpanContext } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { Resource } from '@opentelemetry/resources';
import type { ReadableSpan, TimedEvent } from '@opentelemetry/sdk-trace';

/** The first buffer of an encoder; it doubles when a batch needs more. */
const INITIAL_BYTES = 64 * 1024;
/** A buffer that grew past this is let go after the batch, so one huge batch is not kept for good. */
const RETAINED_BYTES = 1024 * 1024;
/** The first buffer of one resource-and-scope group of a batch, and how many are kept for reuse. */
const GROUP_BYTES = 16 * 1024;
const SPARE_GROUPS = 8;

/** OTLP SpanFlags: the parent's remoteness is known (bit 8) and the parent is remote (bit 9). */
const SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE = 0x100;
const SPAN_FLAGS_CONTEXT_IS_REMOTE = 0x200;

/** Integers in this range are written as int_value (varint); every other number as double_value. */
const MIN_INT64 = -(2 ** 63);
const MAX_INT64_EXCLUSIVE = 2 ** 63;

/**
 * Hex digit values by char code, as upstream's hexToBinary decodes them (0-9, a-f; anything else
 * as if it were A-F), so that even a malformed id comes out the same.
 */
const HEX_VALUE = new Int32Array(256);
for (let code = 0; code < 256; code++) HEX_VALUE[code] = hexValue(code);
function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return code - 55;
}

/** Scope fields of the spec's InstrumentationScope that the SDK's type leaves out. */
interface ScopeWithAttributes extends InstrumentationScope {
  readonly attributes?: Attributes;
  readonly droppedAttributesCount?: number;
}

/** The bytes of a resource or scope: its field in the enclosing message, and its schema_url field. */
interface CachedPart {
  head: Uint8Array;
  tail: Uint8Array | undefined;
}

/**
 * The spans of one resource and scope added to an open batch: each already encoded as a
 * `ScopeSpans.spans` field, in the order they were added.
 */
interface ScopeGroup {
  readonly scope: InstrumentationScope;
  buf: Buffer;
  pos: number;
}

export class OtlpTraceEncoder {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  private pos = 0;
  private readonly resources = new WeakMap<Resource, CachedPart>();
  private readonly scopes = new WeakMap<InstrumentationScope, CachedPart>();
  /** The open batch: groups by resource, then scope, in first-seen order (as upstream groups). */
  private readonly groups = new Map<Resource, Map<InstrumentationScope, ScopeGroup>>();
  /** Group buffers of earlier batches, reused. */
  private readonly spare: Buffer[] = [];
  private count = 0;

  /** How many spans the open batch holds. */
  get size(): number {
    return this.count;
  }

  /**
   * Encodes the span now, into the open batch. Only bytes are kept, so the span object is free to
   * go, and it is read while its data is still in the CPU's caches (encoding a whole batch long
   * after its spans ended cost more per span).
   */
  add(span: ReadableSpan): void {
    const { resource, instrumentationScope: scope } = span;
    const byScope = this.groups.get(resource);
    const group = byScope?.get(scope) ?? { scope, buf: this.spare.pop() ?? Buffer.allocUnsafe(GROUP_BYTES), pos: 0 };
    const outerBuf = this.buf;
    const outerPos = this.pos;
    this.buf = group.buf;
    this.pos = group.pos;
    try {
      // ScopeSpans.spans (2)
      this.byte(0x12);
      const spanStart = this.begin(2);
      this.span(span);
      this.end(spanStart, 2);
      // Kept only once the span is whole: a span that failed to encode leaves nothing behind.
      group.buf = this.buf;
      group.pos = this.pos;
      if (byScope === undefined) this.groups.set(resource, new Map([[scope, group]]));
      else if (!byScope.has(scope)) byScope.set(scope, group);
      this.count++;
    } finally {
      this.buf = outerBuf;
      this.pos = outerPos;
    }
  }

  /** The resources of the open batch whose detectors have not all answered yet (their bytes are written by `take`). */
  pendingResources(): Resource[] {
    return [...this.groups.keys()].filter((resource) => resource.asyncAttributesPending === true);
  }

  /** The request for the open batch, grouped by resource, then scope, in first-seen order; the batch is then empty. */
  take(): Uint8Array {
    this.pos = 0;
    try {
      for (const [resource, byScope] of this.groups) {
        // ExportTraceServiceRequest.resource_spans (1)
        this.byte(0x0a);
        const resourceSpans = this.begin(3);
        const resourcePart = this.resourcePart(resource);
        this.bytes(resourcePart.head);
        for (const group of byScope.values()) {
          // ResourceSpans.scope_spans (2)
          this.byte(0x12);
          const scopeSpansStart = this.begin(3);
          const scopePart = this.scopePart(group.scope);
          this.bytes(scopePart.head);
          this.bytes(group.buf.subarray(0, group.pos));
          if (scopePart.tail) this.bytes(scopePart.tail);
          this.end(scopeSpansStart, 3);
        }
        if (resourcePart.tail) this.bytes(resourcePart.tail);
        this.end(resourceSpans, 3);
      }
      return new Uint8Array(this.buf.subarray(0, this.pos));
    } finally {
      if (this.buf.length > RETAINED_BYTES) this.buf = Buffer.allocUnsafe(INITIAL_BYTES);
      this.pos = 0;
      this.clear();
    }
  }

  /** Empties the open batch, keeping group buffers of a reasonable size for the next one. */
  clear(): void {
    for (const byScope of this.groups.values()) {
      for (const group of byScope.values()) if (group.buf.length <= RETAINED_BYTES && this.spare.length < SPARE_GROUPS) this.spare.push(group.buf);
    }
    this.groups.clear();
    this.count = 0;
  }

  /** The request for these spans (the open batch must be empty: this encoder is used for whole batches). */
  encode(spans: readonly ReadableSpan[]): Uint8Array {
    try {
      for (const span of spans) this.add(span);
    } catch (error) {
      this.clear();
      throw error;
    }
    return this.take();
  }

  // --- messages ---

  private span(span: ReadableSpan): void {
    const ctx = span.spanContext();
    this.idFields(ctx);
    const parent = span.parentSpanContext;
    if (parent?.spanId) this.hexField(0x22, parent.spanId);
    this.stringField(0x2a, span.name);
    // OTLP's SpanKind is the API's plus one (0 is SPAN_KIND_UNSPECIFIED, left out).
    const kind = span.kind == null ? 0 : span.kind + 1;
    if (kind !== 0) {
      this.byte(0x30);
      this.varint(kind);
    }
    this.byte(0x39);
    this.hrTime(span.startTime);
    this.byte(0x41);
    this.hrTime(span.endTime);
    if (span.attributes) this.attributes(0x4a, span.attributes);
    this.byte(0x50);
    this.varint(span.droppedAttributesCount);
    for (const event of span.events) this.embedded(0x5a, () => this.event(event));
    this.byte(0x60);
    this.varint(span.droppedEventsCount);
    for (const link of span.links) this.embedded(0x6a, () => this.link(link));
    this.byte(0x70);
    this.varint(span.droppedLinksCount);
    // status (15): message (2) when there is one, code (3) always
    this.byte(0x7a);
    const status = this.begin(1);
    if (span.status.message) this.stringField(0x12, span.status.message);
    this.byte(0x18);
    this.varint(span.status.code);
    this.end(status, 1);
    // flags (16, fixed32): never 0, the has-is-remote bit is always set
    this.ensure(6);
    this.buf[this.pos++] = 0x85;
    this.buf[this.pos++] = 0x01;
    this.fixed32(spanFlags(ctx.traceFlags, parent?.isRemote));
  }

  /** trace_id (1), span_id (2) and trace_state (3): the same field numbers in Span and Span.Link. */
  private idFields(ctx: SpanContext): void {
    this.hexField(0x0a, ctx.traceId);
    this.hexField(0x12, ctx.spanId);
    const traceState = ctx.traceState?.serialize();
    if (traceState) this.stringField(0x1a, traceState);
  }

  private event(event: TimedEvent): void {
    this.byte(0x09);
    this.hrTime(event.time);
    this.stringField(0x12, event.name);
    if (event.attributes) this.attributes(0x1a, event.attributes);
    this.byte(0x20);
    this.varint(event.droppedAttributesCount || 0);
  }

  private link(link: Link): void {
    const ctx: SpanContext = link.context;
    this.idFields(ctx);
    if (link.attributes) this.attributes(0x22, link.attributes);
    this.byte(0x28);
    this.varint(link.droppedAttributesCount || 0);
    this.byte(0x35);
    this.fixed32(spanFlags(ctx.traceFlags, ctx.isRemote));
  }

  /** ResourceSpans.resource (1) and ResourceSpans.schema_url (3), encoded once per resource. */
  private resourcePart(resource: Resource): CachedPart {
    const cached = this.resources.get(resource);
    if (cached) return cached;
    const headStart = this.pos;
    this.byte(0x0a);
    const start = this.begin(1);
    if (resource.attributes) this.attributes(0x0a, resource.attributes);
    // dropped_attributes_count: the SDK's resource never drops any
    this.byte(0x10);
    this.byte(0x00);
    this.end(start, 1);
    const part = { head: this.cut(headStart), tail: this.schemaUrlField(resource.schemaUrl) };
    // A resource whose detectors have not all answered yet shows more attributes later on.
    if (resource.asyncAttributesPending !== true) this.resources.set(resource, part);
    return part;
  }

  /** ScopeSpans.scope (1) and ScopeSpans.schema_url (3), encoded once per scope. */
  private scopePart(scope: ScopeWithAttributes): CachedPart {
    const cached = this.scopes.get(scope);
    if (cached) return cached;
    const headStart = this.pos;
    this.byte(0x0a);
    const start = this.begin(1);
    this.stringField(0x0a, scope.name);
    if (scope.version) {
      this.stringField(0x12, scope.version);
    }
    if (scope.attributes) this.attributes(0x1a, scope.attributes);
    if (scope.droppedAttributesCount) {
      this.byte(0x20);
      this.varint(scope.droppedAttributesCount);
    }
    this.end(start, 1);
    const part = { head: this.cut(headStart), tail: this.schemaUrlField(scope.schemaUrl) };
    this.scopes.set(scope, part);
    return part;
  }

  /** The schema_url field (3 in both ResourceSpans and ScopeSpans), or nothing without one. */
  private schemaUrlField(schemaUrl: string | undefined): Uint8Array | undefined {
    if (!schemaUrl) return undefined;
    const start = this.pos;
    this.stringField(0x1a, schemaUrl);
    return this.cut(start);
  }

  /** Takes the bytes written since `start` out of the buffer, as a copy of their own. */
  private cut(start: number): Uint8Array {
    const part = new Uint8Array(this.buf.subarray(start, this.pos));
    this.pos = start;
    return part;
  }

  /** Repeated KeyValue fields (tag given whole: field number and wire type 2). */
  private attributes(tag: number, attributes: Attributes): void {
    for (const key in attributes) {
      if (!Object.hasOwn(attributes, key)) continue;
      this.byte(tag);
      const keyValue = this.begin(1);
      this.keyValue(key, attributes[key]);
      this.end(keyValue, 1);
    }
  }

  private keyValue(key: string, value: unknown): void {
    this.stringField(0x0a, key);
    this.byte(0x12);
    const anyValue = this.begin(1);
    this.anyValue(value);
    this.end(anyValue, 1);
  }

  /**
   * An AnyValue in upstream's order of tests; a value of no known type (undefined, null, bigint)
   * is an empty AnyValue, as upstream writes it.
   */
  private anyValue(value: unknown): void {
    const type = typeof value;
    if (type === 'string') {
      this.stringField(0x0a, value as string);
    } else if (type === 'boolean') {
      this.byte(0x10);
      this.byte(value ? 1 : 0);
    } else if (type === 'number') {
      const n = value as number;
      if (Number.isInteger(n) && n >= MIN_INT64 && n < MAX_INT64_EXCLUSIVE) {
        this.byte(0x18);
        this.varint(n);
      } else {
        this.byte(0x21);
        this.ensure(8);
        this.buf.writeDoubleLE(n, this.pos);
        this.pos += 8;
      }
    } else if (value instanceof Uint8Array) {
      this.byte(0x3a);
      this.varint(value.length);
      this.ensure(value.length);
      this.buf.set(value, this.pos);
      this.pos += value.length;
    } else if (Array.isArray(value)) {
      // array_value (5): ArrayValue.values (1), each an AnyValue
      this.byte(0x2a);
      const array = this.begin(1);
      for (const item of value) {
        this.byte(0x0a);
        const itemStart = this.begin(1);
        this.anyValue(item);
        this.end(itemStart, 1);
      }
      this.end(array, 1);
    } else if (type === 'object' && value != null) {
      // kvlist_value (6): KeyValueList.values (1), each a KeyValue
      this.byte(0x32);
      const list = this.begin(1);
      this.attributes(0x0a, value as Attributes);
      this.end(list, 1);
    }
  }

  // --- wire primitives ---

  private ensure(bytes: number): void {
    if (this.pos + bytes > this.buf.length) this.grow(this.pos + bytes);
  }

  private grow(needed: number): void {
    let size = this.buf.length * 2;
    while (size < needed) size *= 2;
    const bigger = Buffer.allocUnsafe(size);
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  private byte(value: number): void {
    if (this.pos >= this.buf.length) this.grow(this.pos + 1);
    this.buf[this.pos++] = value;
  }

  private bytes(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** One embedded message field: its tag, then what `write` writes as the length-delimited body. */
  private embedded(tag: number, write: () => void): void {
    this.byte(tag);
    const start = this.begin(1);
    write();
    this.end(start, 1);
  }

  /** Reserves `reserved` bytes for a length written by {@link end}; returns where they start. */
  private begin(reserved: number): number {
    this.ensure(reserved);
    const start = this.pos;
    this.pos += reserved;
    return start;
  }

  /** Writes the length of what followed {@link begin}, moving it when the reserve was not its size. */
  private end(start: number, reserved: number): void {
    const length = this.pos - start - reserved;
    const size = varintSize(length);
    if (size !== reserved) {
      if (size > reserved) this.ensure(size - reserved);
      this.buf.copyWithin(start + size, start + reserved, this.pos);
      this.pos += size - reserved;
    }
    let at = start;
    let v = length;
    while (v > 127) {
      this.buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[at] = v;
  }

  /**
   * A varint as upstream's writer encodes any number: uint32 directly, larger integers by their
   * 64 bits, negative ones in two's complement (10 bytes), and NaN or undefined as 0.
   */
  private varint(value: number): void {
    this.ensure(10);
    const buf = this.buf;
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 127) {
        buf[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      buf[this.pos++] = v;
      return;
    }
    let low: number;
    let high: number;
    if (value >= 0) {
      low = value >>> 0;
      high = (value / 4294967296) >>> 0;
    } else {
      const abs = Math.abs(value);
      low = ~(abs >>> 0) >>> 0;
      high = ~((abs / 4294967296) >>> 0) >>> 0;
      low = (low + 1) >>> 0;
      if (low === 0) high = (high + 1) >>> 0;
    }
    while (high > 0 || low > 127) {
      buf[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    buf[this.pos++] = low & 0x7f;
  }

  private fixed32(value: number): void {
    this.ensure(4);
    const buf = this.buf;
    const v = value >>> 0;
    buf[this.pos++] = v & 0xff;
    buf[this.pos++] = (v >>> 8) & 0xff;
    buf[this.pos++] = (v >>> 16) & 0xff;
    buf[this.pos++] = v >>> 24;
  }

  /**
   * HrTime [seconds, nanoseconds] as fixed64 nanoseconds. The product passes 2^53, so it is built
   * from 32-bit halves: seconds split at 16 bits keep every partial product exact (upstream's way).
   */
  private hrTime(time: HrTime): void {
    const seconds = time[0];
    const nanos = time[1];
    const lowSecondsNanos = (seconds & 0xffff) * 1e9;
    const highSecondsNanos = ((seconds / 65536) >>> 0) * 1e9;
    const lowPart = (lowSecondsNanos >>> 0) + ((((highSecondsNanos & 0xffff) * 65536) >>> 0) + nanos);
    const low = lowPart >>> 0;
    const high = (Math.floor(lowSecondsNanos / 4294967296) + ((highSecondsNanos / 65536) >>> 0) + Math.floor(lowPart / 4294967296)) >>> 0;
    this.ensure(8);
    const buf = this.buf;
    buf[this.pos++] = low & 0xff;
    buf[this.pos++] = (low >>> 8) & 0xff;
    buf[this.pos++] = (low >>> 16) & 0xff;
    buf[this.pos++] = low >>> 24;
    buf[this.pos++] = high & 0xff;
    buf[this.pos++] = (high >>> 8) & 0xff;
    buf[this.pos++] = (high >>> 16) & 0xff;
    buf[this.pos++] = high >>> 24;
  }

  /** A bytes field (tag given whole) holding a hex id decoded in place, one byte per two digits. */
  private hexField(tag: number, hex: string): void {
    const n = hex.length >>> 1;
    this.ensure(n + 6);
    this.buf[this.pos++] = tag;
    this.varint(n);
    const buf = this.buf;
    let at = this.pos;
    for (let i = 0; i < 2 * n; i += 2) {
      const hi = hex.charCodeAt(i);
      const lo = hex.charCodeAt(i + 1);
      buf[at++] = ((hi < 256 ? HEX_VALUE[hi]! : hi - 55) << 4) | (lo < 256 ? HEX_VALUE[lo]! : lo - 55);
    }
    this.pos = at;
  }

  /** A string field (tag given whole: field number and wire type 2). */
  private stringField(tag: number, text: string): void {
    this.byte(tag);
    this.string(text);
  }

  /**
   * A length-prefixed UTF-8 string (lone surrogates become U+FFFD, as with TextEncoder). Under 43
   * UTF-16 units a string takes under 128 bytes, so its length is one byte, written after it.
   */
  private string(text: string): void {
    const length = text.length;
    if (length < 43) {
      this.ensure(1 + 3 * length);
      const buf = this.buf;
      const lengthAt = this.pos;
      let at = lengthAt + 1;
      for (let i = 0; i < length; i++) {
        const code = text.charCodeAt(i);
        if (code > 127) {
          const written = buf.write(text, lengthAt + 1, 'utf8');
          buf[lengthAt] = written;
          this.pos = lengthAt + 1 + written;
          return;
        }
        buf[at++] = code;
      }
      buf[lengthAt] = length;
      this.pos = at;
      return;
    }
    const bytes = Buffer.byteLength(text, 'utf8');
    this.varint(bytes);
    this.ensure(bytes);
    this.pos += this.buf.write(text, this.pos, 'utf8');
  }
}

function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  const flags = (traceFlags & 0xff) | SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE;
  return isRemote ? flags | SPAN_FLAGS_CONTEXT_IS_REMOTE : flags;
}

function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}
