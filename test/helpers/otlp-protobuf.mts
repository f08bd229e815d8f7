/**
 * A minimal protobuf reader for OTLP ExportTraceServiceRequest (opentelemetry-proto v1): the spans
 * with their attributes, events, status and resource. Plain enough for Node's type stripping, so
 * the benchmark (test/bench, JavaScript) counts exported spans with the same reader the tests use.
 */
export interface OtlpAttributeMap {
  [key: string]: unknown;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: OtlpAttributeMap;
  events: Array<{ name: string; attributes: OtlpAttributeMap }>;
  statusCode: number;
  statusMessage: string;
  /** W3C trace flags and the OTLP has-/is-remote-parent bits. */
  flags: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  /** The instrumentation scope's name. */
  scope: string;
  resource: OtlpAttributeMap;
}

interface Field {
  no: number;
  wire: number;
  int: bigint;
  bytes: Buffer;
}

function readFields(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated varint');
      const byte = buf[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (pos < buf.length) {
    const key = Number(varint());
    const no = key >>> 3;
    const wire = key & 7;
    if (wire === 0) fields.push({ no, wire, int: varint(), bytes: Buffer.alloc(0) });
    else if (wire === 1) {
      fields.push({ no, wire, int: buf.readBigUInt64LE(pos), bytes: buf.subarray(pos, pos + 8) });
      pos += 8;
    } else if (wire === 2) {
      const length = Number(varint());
      fields.push({ no, wire, int: 0n, bytes: buf.subarray(pos, pos + length) });
      pos += length;
    } else if (wire === 5) {
      fields.push({ no, wire, int: BigInt(buf.readUInt32LE(pos)), bytes: buf.subarray(pos, pos + 4) });
      pos += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return fields;
}

function anyValue(buf: Buffer): unknown {
  for (const f of readFields(buf)) {
    if (f.no === 1) return f.bytes.toString('utf8');
    if (f.no === 2) return f.int !== 0n;
    if (f.no === 3) return Number(BigInt.asIntN(64, f.int));
    if (f.no === 4) return f.bytes.readDoubleLE(0);
    if (f.no === 5)
      return readFields(f.bytes)
        .filter((v) => v.no === 1)
        .map((v) => anyValue(v.bytes));
    if (f.no === 7) return f.bytes;
  }
  return undefined;
}

function attributes(fields: Field[], no: number): OtlpAttributeMap {
  const out: OtlpAttributeMap = {};
  for (const f of fields) {
    if (f.no !== no) continue;
    const kv = readFields(f.bytes);
    const key = kv.find((x) => x.no === 1)?.bytes.toString('utf8') ?? '';
    const value = kv.find((x) => x.no === 2);
    out[key] = value ? anyValue(value.bytes) : undefined;
  }
  return out;
}

export function decodeTraceRequest(body: Buffer): OtlpSpan[] {
  const spans: OtlpSpan[] = [];
  for (const rs of readFields(body).filter((f) => f.no === 1)) {
    const rsFields = readFields(rs.bytes);
    const resourceField = rsFields.find((f) => f.no === 1);
    const resource = resourceField ? attributes(readFields(resourceField.bytes), 1) : {};
    for (const ss of rsFields.filter((f) => f.no === 2)) {
      const ssFields = readFields(ss.bytes);
      const scopeField = ssFields.find((f) => f.no === 1);
      const scope = scopeField
        ? (readFields(scopeField.bytes)
            .find((f) => f.no === 1)
            ?.bytes.toString('utf8') ?? '')
        : '';
      for (const s of ssFields.filter((f) => f.no === 2)) {
        const sf = readFields(s.bytes);
        const hex = (no: number) => sf.find((f) => f.no === no)?.bytes.toString('hex') ?? '';
        const status = sf.find((f) => f.no === 15);
        const statusFields = status ? readFields(status.bytes) : [];
        spans.push({
          traceId: hex(1),
          spanId: hex(2),
          parentSpanId: hex(4),
          name: sf.find((f) => f.no === 5)?.bytes.toString('utf8') ?? '',
          kind: Number(sf.find((f) => f.no === 6)?.int ?? 0n),
          attributes: attributes(sf, 9),
          events: sf
            .filter((f) => f.no === 11)
            .map((e) => {
              const ef = readFields(e.bytes);
              return { name: ef.find((f) => f.no === 2)?.bytes.toString('utf8') ?? '', attributes: attributes(ef, 3) };
            }),
          statusCode: Number(statusFields.find((f) => f.no === 3)?.int ?? 0n),
          statusMessage: statusFields.find((f) => f.no === 2)?.bytes.toString('utf8') ?? '',
          flags: Number(sf.find((f) => f.no === 16)?.int ?? 0n),
          startTimeUnixNano: sf.find((f) => f.no === 7)?.int ?? 0n,
          endTimeUnixNano: sf.find((f) => f.no === 8)?.int ?? 0n,
          scope,
          resource,
        });
      }
    }
  }
  return spans;
}
