/**
 * A static check of TUTOR_OTEL_SENTRY_SCRUB_PATTERN before it is compiled. The pattern runs over
 * every string sent to Sentry, on the app's thread, with a backtracking engine: a pattern such as
 * `(a+)+$` takes exponential time on a string like `aaaa…!` and would freeze the app on the first
 * error carrying one. Pure: the pattern text comes in, the reason it is refused (or undefined) out.
 *
 * Refused (conservatively; a refused pattern costs one warning, the built-in scrubbing still runs):
 * - longer than MAX_PATTERN_LENGTH characters;
 * - a backreference (`\1`, `\k<name>`);
 * - a repeated group holding something that itself repeats a variable number of times (`(a+)+`,
 *   `(a*)*`, `(.*)*`, `(\w+\s?)+`), unless every way through the group must cross a character the
 *   inner repetition cannot match (`([\w-]+\.)+` is accepted: each round ends at a `.`);
 * - a repeated group whose alternatives can start with the same character (`(a|a)*`, `(\d|\w)+`).
 * Not detected: polynomial blow-ups from adjacent repetitions (`\d+\d+\d+x`), which stay bounded
 * on the strings an error event carries.
 */

export const MAX_PATTERN_LENGTH = 1000;

/** Why the pattern is refused, or undefined when it is safe to run. Also undefined for a syntax error (the caller's RegExp reports that). */
export function unsafeScrubPattern(source: string): string | undefined {
  if (source.length > MAX_PATTERN_LENGTH) return `it is longer than ${MAX_PATTERN_LENGTH} characters`;
  let tree: Alternatives;
  try {
    tree = new Parser(source).parse();
  } catch (error) {
    if (error instanceof Refused) return error.message;
    return undefined;
  }
  return inspect(tree);
}

// ---- a small parser for JavaScript regular expression syntax (flags `gi`, no `u`) -------------

type Range = [number, number];
/** A character set as sorted, merged code-unit ranges. */
type CharSet = Range[];

type Atom = { type: 'chars'; set: CharSet; code?: number } | { type: 'group'; body: Alternatives; lookaround: boolean } | { type: 'assertion' };

interface Term {
  atom: Atom;
  min: number;
  max: number;
}
type Sequence = Term[];
type Alternatives = Sequence[];

class Refused extends Error {}

const MAX_CODE = 0xffff;
const ALL: CharSet = [[0, MAX_CODE]];
const DIGIT: CharSet = [[0x30, 0x39]];
const WORD: CharSet = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
];
const SPACE: CharSet = normalize([
  [0x09, 0x0d],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
]);

class Parser {
  private at = 0;
  constructor(private readonly source: string) {}

  parse(): Alternatives {
    const tree = this.alternatives();
    if (this.at < this.source.length) throw new Error('unbalanced )');
    return tree;
  }

  private peek(): string | undefined {
    return this.source[this.at];
  }

  private alternatives(): Alternatives {
    const out: Alternatives = [this.sequence()];
    while (this.peek() === '|') {
      this.at++;
      out.push(this.sequence());
    }
    return out;
  }

  private sequence(): Sequence {
    const terms: Sequence = [];
    while (this.at < this.source.length && this.peek() !== '|' && this.peek() !== ')') {
      const atom = this.atom();
      const [min, max] = this.quantifier();
      terms.push({ atom, min, max });
    }
    return terms;
  }

  private atom(): Atom {
    const c = this.source[this.at++]!;
    switch (c) {
      case '^':
      case '$':
        return { type: 'assertion' };
      case '.':
        return { type: 'chars', set: ALL };
      case '[':
        return { type: 'chars', set: this.charClass() };
      case '(':
        return this.group();
      case '\\':
        return this.escape(false);
      default:
        return { type: 'chars', set: literal(c.charCodeAt(0)) };
    }
  }

  private group(): Atom {
    let lookaround = false;
    if (this.source.startsWith('?:', this.at)) this.at += 2;
    else if (this.source.startsWith('?=', this.at) || this.source.startsWith('?!', this.at)) {
      this.at += 2;
      lookaround = true;
    } else if (this.source.startsWith('?<=', this.at) || this.source.startsWith('?<!', this.at)) {
      this.at += 3;
      lookaround = true;
    } else if (this.source.startsWith('?<', this.at)) {
      const end = this.source.indexOf('>', this.at);
      if (end < 0) throw new Error('bad group name');
      this.at = end + 1;
    }
    const body = this.alternatives();
    if (this.source[this.at++] !== ')') throw new Error('unterminated group');
    return { type: 'group', body, lookaround };
  }

  /** After a backslash; inClass: inside [...], where \b is a backspace. */
  private escape(inClass: boolean): Atom {
    const c = this.source[this.at++];
    if (c === undefined) throw new Error('trailing backslash');
    switch (c) {
      case 'd':
        return chars(DIGIT);
      case 'D':
        return chars(complement(DIGIT));
      case 'w':
        return chars(WORD);
      case 'W':
        return chars(complement(WORD));
      case 's':
        return chars(SPACE);
      case 'S':
        return chars(complement(SPACE));
      case 'b':
        return inClass ? char(8) : { type: 'assertion' };
      case 'B':
        return { type: 'assertion' };
      case 'n':
        return char(10);
      case 'r':
        return char(13);
      case 't':
        return char(9);
      case 'f':
        return char(12);
      case 'v':
        return char(11);
      case 'k':
        if (!inClass && this.peek() === '<') throw new Refused('it uses a backreference (\\k<name>), which can take exponential time');
        return char(c.charCodeAt(0));
      case 'x': {
        const hex = /^[0-9a-fA-F]{2}/.exec(this.source.slice(this.at));
        if (!hex) return char(c.charCodeAt(0));
        this.at += 2;
        return char(parseInt(hex[0], 16));
      }
      case 'u': {
        const hex = /^[0-9a-fA-F]{4}/.exec(this.source.slice(this.at));
        if (!hex) return char(c.charCodeAt(0));
        this.at += 4;
        return char(parseInt(hex[0], 16));
      }
      case 'c': {
        const letter = this.peek();
        if (letter && /[A-Za-z]/.test(letter)) {
          this.at++;
          return char(letter.charCodeAt(0) % 32);
        }
        return char(0x5c);
      }
      default:
        if (/[1-9]/.test(c) && !inClass) throw new Refused(`it uses a backreference (\\${c}), which can take exponential time`);
        if (c === '0') return char(0);
        return char(c.charCodeAt(0));
    }
  }

  private charClass(): CharSet {
    let negated = false;
    if (this.peek() === '^') {
      negated = true;
      this.at++;
    }
    const ranges: Range[] = [];
    while (this.at < this.source.length && this.peek() !== ']') {
      const from = this.classAtom();
      const dash = this.peek() === '-' && this.at + 1 < this.source.length && this.source[this.at + 1] !== ']';
      if (dash && from.code !== undefined) {
        this.at++;
        const to = this.classAtom();
        if (to.code !== undefined) ranges.push(...foldCase([[from.code, to.code]]));
        else ranges.push(...from.set, ...literal(0x2d), ...to.set);
        continue;
      }
      ranges.push(...from.set);
    }
    if (this.source[this.at++] !== ']') throw new Error('unterminated class');
    const set = normalize(ranges);
    return negated ? complement(set) : set;
  }

  /** One member of a class; `code` when it is a single character (so it may start or end a range). */
  private classAtom(): { set: CharSet; code?: number } {
    const c = this.source[this.at++]!;
    if (c !== '\\') return { set: literal(c.charCodeAt(0)), code: c.charCodeAt(0) };
    const atom = this.escape(true);
    return atom.type === 'chars' ? { set: atom.set, code: atom.code } : { set: [] };
  }

  private quantifier(): [number, number] {
    const c = this.peek();
    let min: number;
    let max: number;
    if (c === '*') [min, max] = [0, Infinity];
    else if (c === '+') [min, max] = [1, Infinity];
    else if (c === '?') [min, max] = [0, 1];
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.source.slice(this.at));
      if (!m) return [1, 1]; // a literal `{` (allowed without the u flag)
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
      this.at += m[0].length - 1;
    } else return [1, 1];
    this.at++;
    if (this.peek() === '?') this.at++; // lazy: the same backtracking
    return [min, max];
  }
}

function chars(set: CharSet): Atom {
  return { type: 'chars', set };
}

/** One character (its code kept, so it may bound a class range). */
function char(code: number): Atom {
  return { type: 'chars', set: literal(code), code };
}

/** A literal character, with its other case (the pattern is compiled with the `i` flag). */
function literal(code: number): CharSet {
  return foldCase([[code, code]]);
}

function foldCase(ranges: Range[]): CharSet {
  const out: Range[] = [...ranges];
  for (const [from, to] of ranges) {
    const lower: Range = [Math.max(from, 0x61), Math.min(to, 0x7a)];
    if (lower[0] <= lower[1]) out.push([lower[0] - 32, lower[1] - 32]);
    const upper: Range = [Math.max(from, 0x41), Math.min(to, 0x5a)];
    if (upper[0] <= upper[1]) out.push([upper[0] + 32, upper[1] + 32]);
    if (to > 0x7f) out.push([Math.max(from, 0x80), to]); // beyond ASCII: keep it simple, the range itself
  }
  return normalize(out);
}

function normalize(ranges: Range[]): CharSet {
  const sorted = ranges.filter(([a, b]) => a <= b).sort((x, y) => x[0] - y[0]);
  const out: Range[] = [];
  for (const [a, b] of sorted) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

function complement(set: CharSet): CharSet {
  const out: Range[] = [];
  let next = 0;
  for (const [a, b] of normalize(set)) {
    if (a > next) out.push([next, a - 1]);
    next = b + 1;
  }
  if (next <= MAX_CODE) out.push([next, MAX_CODE]);
  return out;
}

function union(sets: CharSet[]): CharSet {
  return normalize(sets.flat().map(([a, b]): Range => [a, b]));
}

function overlaps(a: CharSet, b: CharSet): boolean {
  for (const [a0, a1] of a) for (const [b0, b1] of b) if (a0 <= b1 && b0 <= a1) return true;
  return false;
}

// ---- the analysis -------------------------------------------------------------------------------

function inspect(tree: Alternatives): string | undefined {
  for (const sequence of tree) {
    for (const term of sequence) {
      const found = inspectTerm(term);
      if (found) return found;
    }
  }
  return undefined;
}

function inspectTerm(term: Term): string | undefined {
  if (term.atom.type !== 'group') return undefined;
  const { body } = term.atom;
  if (term.max > 1) {
    for (const alternative of body) {
      const inner = variableTerms(alternative);
      const risky = inner.filter((t) => t.max === Infinity || term.max === Infinity);
      if (risky.length > 0 && !hasSeparator(alternative, union(risky.map(charsOf)))) {
        return 'it repeats a group that itself repeats (a nested quantifier like (a+)+), which can take exponential time';
      }
    }
    if (body.length > 1) {
      const starts = body.map(firstChars);
      for (let i = 0; i < starts.length; i++) {
        for (let j = i + 1; j < starts.length; j++) {
          if (overlaps(starts[i]!, starts[j]!)) {
            return 'it repeats a group whose alternatives can match the same text (like (a|a)*), which can take exponential time';
          }
        }
      }
    }
  }
  return inspect(body);
}

/** Terms anywhere inside a sequence that repeat a variable number of times. */
function variableTerms(sequence: Sequence): Term[] {
  const out: Term[] = [];
  for (const term of sequence) {
    if (term.max > term.min) out.push(term);
    if (term.atom.type === 'group' && !term.atom.lookaround) for (const alternative of term.atom.body) out.push(...variableTerms(alternative));
  }
  return out;
}

/** Every character a term may consume. */
function charsOf(term: Term): CharSet {
  const { atom } = term;
  if (atom.type === 'chars') return atom.set;
  if (atom.type === 'assertion' || atom.lookaround) return [];
  return union(atom.body.flatMap((alternative) => alternative.map(charsOf)));
}

/** A mandatory single character the repeated parts cannot consume: each round must stop there. */
function hasSeparator(sequence: Sequence, repeated: CharSet): boolean {
  return sequence.some((term) => term.min >= 1 && term.atom.type === 'chars' && term.atom.set.length > 0 && !overlaps(term.atom.set, repeated));
}

/** Characters a sequence can start with; everything when it can match the empty string. */
function firstChars(sequence: Sequence): CharSet {
  const out: CharSet[] = [];
  for (const term of sequence) {
    const { atom } = term;
    if (atom.type === 'assertion' || (atom.type === 'group' && atom.lookaround)) continue;
    out.push(atom.type === 'chars' ? atom.set : union(atom.body.map(firstChars)));
    if (term.min >= 1 && !canBeEmpty(term)) return union(out);
  }
  return ALL;
}

function canBeEmpty(term: Term): boolean {
  if (term.min === 0) return true;
  const { atom } = term;
  if (atom.type === 'chars') return false;
  if (atom.type === 'assertion' || atom.lookaround) return true;
  return atom.body.some((alternative) => alternative.every(canBeEmpty));
}
