/**
 * Small, pure value parsers for environment variables. Each returns the parsed value, or
 * `undefined` when the text is not acceptable, so the caller can warn once and use its default.
 */

export function parseBoolean(text: string): boolean | undefined {
  const value = text.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  return undefined;
}

/** A whole number within [min, max]; rejects fractions, exponents and trailing junk. */
export function parseInteger(text: string, min: number, max: number): number | undefined {
  const value = text.trim();
  if (!/^-?\d{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
}

export function parseRatio(text: string): number | undefined {
  const value = text.trim();
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 0 && n <= 1 ? n : undefined;
}

/** An absolute http(s) URL. */
export function parseHttpUrl(text: string): string | undefined {
  try {
    const url = new URL(text.trim());
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** `a,b , c` -> ['a', 'b', 'c'] (lower-cased, empties dropped). */
export function parseList(text: string): string[] {
  return text
    .split(',')
    .map((item) => item.trim().toLowerCase())
    .filter((item) => item.length > 0);
}

/**
 * The W3C-baggage-like `key=value,key2=value2` form used by OTEL_RESOURCE_ATTRIBUTES and
 * OTEL_EXPORTER_OTLP_HEADERS. Values are percent-decoded. Returns undefined if any pair is
 * malformed, so a typo is reported instead of half-applied.
 */
export function parseKeyValueList(text: string): Record<string, string> | undefined {
  const result: Record<string, string> = {};
  for (const pair of text.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    if (eq <= 0) return undefined;
    const key = pair.slice(0, eq).trim();
    let value = pair.slice(eq + 1).trim();
    try {
      value = decodeURIComponent(value);
    } catch {
      return undefined;
    }
    if (key === '') return undefined;
    result[key] = value;
  }
  return result;
}

/** A host name or IP literal to bind to; rejects URLs, ports and spaces. */
export function parseBindHost(text: string): string | undefined {
  const value = text.trim();
  if (value === '') return undefined;
  if (/^[A-Za-z0-9.-]+$/.test(value)) return value;
  if (/^\[?[0-9A-Fa-f:]+\]?$/.test(value) && value.includes(':')) return value.replace(/^\[|\]$/g, '');
  return undefined;
}

const PACKAGE_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

/** A comma list of npm package names (lower-cased); undefined if any is not one. */
export function parsePackageNames(text: string): string[] | undefined {
  const items = parseList(text);
  if (items.length === 0 || !items.every((name) => PACKAGE_NAME.test(name))) return undefined;
  return items;
}
