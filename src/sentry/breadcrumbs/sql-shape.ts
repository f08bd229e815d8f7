/**
 * The shape of a SQL statement for a breadcrumb: string literals (`'...'`, `E'...'`,
 * `$tag$...$tag$`), numbers and comments are replaced or removed, so no value the app put in the
 * text leaves the process; identifiers, keywords and `$1` placeholders stay (bind values are never
 * read). Whitespace is folded and the result capped. Pure.
 */

export const SQL_SHAPE_MAX_CHARS = 1000;

export function sqlShape(sql: unknown, maxChars = SQL_SHAPE_MAX_CHARS): string | undefined {
  if (typeof sql !== 'string') return undefined;
  const n = Math.min(sql.length, 20_000);
  let out = '';
  let i = 0;
  const isWord = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_$]/.test(c);
  while (i < n && out.length <= maxChars) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? n : end + 1;
      out += ' ';
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
      out += ' ';
    } else if (c === "'") {
      // E'...' strings allow backslash escapes; standard strings double the quote.
      const escapes = (sql[i - 1] === 'E' || sql[i - 1] === 'e') && !isWord(sql[i - 2]);
      if (escapes) out = out.slice(0, -1);
      i = skipQuoted(sql, i, n, escapes);
      out += '?';
    } else if (c === '"') {
      const end = sql.indexOf('"', i + 1);
      const stop = end < 0 ? n : end + 1;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '$' && !isWord(sql[i - 1])) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 66));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? n : end + tag[0].length;
        out += '?';
      } else {
        // A placeholder ($1): kept.
        let j = i + 1;
        while (j < n && /[0-9]/.test(sql[j]!)) j++;
        out += sql.slice(i, j);
        i = j;
      }
    } else if (/[0-9]/.test(c) && !isWord(sql[i - 1])) {
      let j = i;
      while (j < n && /[0-9.]/.test(sql[j]!)) j++;
      if ((sql[j] === 'e' || sql[j] === 'E') && /[-+0-9]/.test(sql[j + 1] ?? '')) {
        j += 2;
        while (j < n && /[0-9]/.test(sql[j]!)) j++;
      }
      out += '?';
      i = j;
    } else if (/\s/.test(c)) {
      if (!out.endsWith(' ')) out += ' ';
      i++;
    } else {
      out += c;
      i++;
    }
  }
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > maxChars || n < sql.length || i < n ? `${out.slice(0, maxChars)}…` : out;
}

function skipQuoted(sql: string, start: number, n: number, escapes: boolean): number {
  let i = start + 1;
  while (i < n) {
    const c = sql[i]!;
    if (escapes && c === '\\') {
      i += 2;
    } else if (c === "'") {
      if (sql[i + 1] === "'") i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return n;
}
