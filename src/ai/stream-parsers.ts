/**
 * Incremental parsers for response and request bodies the agent reads on the side of a plain HTTP
 * call: they take the bytes as they arrive and keep only what they need, so no body is buffered
 * whole.
 *
 * - `SseParser`: server-sent events (`event:` and `data:` lines up to a blank line). An event larger
 *   than the bound is skipped, not kept.
 * - `TopLevelScanner`: a JSON object's top-level members of interest (`model`, `usage`, ...), each
 *   kept up to a bound, while everything else (choices, embeddings, prompts) streams past.
 */

export interface SseEvent {
  event: string | undefined;
  data: string;
}

const MAX_EVENT_CHARS = 1 << 20;

export class SseParser {
  private readonly decoder = new TextDecoder();
  private partial = '';
  private data: string[] = [];
  private dataChars = 0;
  private event: string | undefined;
  private oversized = false;
  private lastWasCR = false;

  constructor(private readonly onEvent: (event: SseEvent) => void) {}

  push(chunk: Uint8Array): void {
    this.feed(this.decoder.decode(chunk, { stream: true }));
  }

  end(): void {
    this.feed(this.decoder.decode());
    if (this.partial !== '') {
      this.line(this.partial);
      this.partial = '';
    }
    this.dispatch();
  }

  private feed(text: string): void {
    let start = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      if (c === 10 && this.lastWasCR && i === start && this.partial === '') {
        // the \n of a \r\n pair split from its \r
        this.lastWasCR = false;
        start = i + 1;
        continue;
      }
      const line = this.partial + text.slice(start, i);
      this.partial = '';
      this.line(line);
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++;
      this.lastWasCR = c === 13 && i + 1 >= text.length;
      start = i + 1;
    }
    if (start < text.length) {
      this.lastWasCR = false;
      if (this.partial.length + (text.length - start) > MAX_EVENT_CHARS) {
        this.oversized = true;
        this.partial = '';
      } else {
        this.partial += text.slice(start);
      }
    }
  }

  private line(line: string): void {
    if (line === '') {
      this.dispatch();
      return;
    }
    if (line.charCodeAt(0) === 58) return; // ':' comment
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'data') {
      this.dataChars += value.length;
      if (this.dataChars > MAX_EVENT_CHARS) this.oversized = true;
      else this.data.push(value);
    } else if (field === 'event') {
      this.event = value;
    }
  }

  private dispatch(): void {
    const event = this.event;
    const data = this.data;
    const oversized = this.oversized;
    this.event = undefined;
    this.data = [];
    this.dataChars = 0;
    this.oversized = false;
    if (oversized || data.length === 0) return;
    this.onEvent({ event, data: data.join('\n') });
  }
}

const QUOTE = 34;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const COLON = 58;
const COMMA = 44;

/**
 * Captures the raw JSON text of selected top-level members of one JSON object. Feed it text; ask
 * `values()` at the end (or at any time for what is complete so far).
 */
export class TopLevelScanner {
  private readonly decoder = new TextDecoder();
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** At depth 1: reading a key (true) or a value (false). */
  private expectKey = false;
  private key = '';
  private readingKey = false;
  private capturing: string | undefined;
  private captured = '';
  private overflow = false;
  private readonly done = new Map<string, string>();
  private broken = false;

  constructor(
    private readonly keys: ReadonlySet<string>,
    private readonly maxChars = 64 * 1024,
  ) {}

  push(chunk: Uint8Array | string): void {
    if (this.broken) return;
    this.feed(typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true }));
  }

  /** Parsed values of the members captured whole; members that overflowed the bound are absent. */
  values(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, raw] of this.done) {
      try {
        out[key] = JSON.parse(raw);
      } catch {
        // not valid JSON after all: leave it out
      }
    }
    return out;
  }

  /** The raw text captured for a member, even a truncated one (content capture). */
  raw(key: string): string | undefined {
    return this.done.get(key);
  }

  private feed(text: string): void {
    const n = text.length;
    let i = 0;
    let segmentStart = this.capturing !== undefined ? 0 : -1;
    let nextQuote = -1;
    let nextBackslash = -1;
    while (i < n) {
      if (this.inString) {
        if (this.escaped) {
          this.escaped = false;
          if (this.readingKey) this.key += text[i];
          i++;
          continue;
        }
        // Jump to the next quote or backslash (found once per feed, not per escape): strings are
        // most of any body.
        if (nextQuote < i) {
          nextQuote = text.indexOf('"', i);
          if (nextQuote < 0) nextQuote = n;
        }
        if (nextBackslash < i) {
          nextBackslash = text.indexOf('\\', i);
          if (nextBackslash < 0) nextBackslash = n;
        }
        if (nextBackslash < nextQuote) {
          if (this.readingKey) this.key += text.slice(i, nextBackslash) + '\\';
          this.escaped = true;
          i = nextBackslash + 1;
          continue;
        }
        if (nextQuote >= n) {
          // The string goes on in the next chunk.
          if (this.readingKey) this.key += text.slice(i);
          break;
        }
        if (this.readingKey) {
          this.key += text.slice(i, nextQuote);
          this.readingKey = false;
          this.expectKey = false;
        }
        this.inString = false;
        i = nextQuote + 1;
        continue;
      }
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.inString = true;
        if (this.depth === 1 && this.expectKey) {
          this.readingKey = true;
          this.key = '';
        }
      } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        this.depth++;
        if (this.depth === 1) {
          if (c !== OPEN_BRACE) {
            this.broken = true;
            return;
          }
          this.expectKey = true;
        }
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (this.depth === 1) {
          segmentStart = this.finishValue(text, segmentStart, i);
        }
        this.depth--;
        if (this.depth < 0) {
          this.broken = true;
          return;
        }
      } else if (this.depth === 1 && c === COLON) {
        let key: string;
        try {
          key = JSON.parse(`"${this.key}"`) as string;
        } catch {
          key = this.key;
        }
        if (this.keys.has(key) && !this.done.has(key)) {
          this.capturing = key;
          this.captured = '';
          this.overflow = false;
          segmentStart = i + 1;
        }
      } else if (this.depth === 1 && c === COMMA) {
        segmentStart = this.finishValue(text, segmentStart, i);
        this.expectKey = true;
      }
      i++;
    }
    if (this.capturing !== undefined && segmentStart >= 0) this.append(text.slice(segmentStart));
  }

  /** A top-level value ended at `end`: keep it if it was being captured. */
  private finishValue(text: string, segmentStart: number, end: number): number {
    if (this.capturing === undefined) return -1;
    if (segmentStart >= 0) this.append(text.slice(segmentStart, end));
    if (!this.overflow) this.done.set(this.capturing, this.captured.trim());
    this.capturing = undefined;
    this.captured = '';
    return -1;
  }

  private append(text: string): void {
    if (this.overflow) return;
    if (this.captured.length + text.length > this.maxChars) {
      this.overflow = true;
      this.captured = '';
      return;
    }
    this.captured += text;
  }
}
