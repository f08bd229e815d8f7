/**
 * A grep over the agent's source: every URL-like value interpolated into a log line or a /health
 * message goes through redactUrl, and the health code interpolates no URL at all (its checks
 * report codes only). Catches the next `log.info(\`... ${endpoint}\`)` before it ships.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? sourceFiles(full) : entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The argument text of every call to one of `callees`, by balanced parentheses. */
function callArguments(text: string, callees: RegExp): string[] {
  const found: string[] = [];
  for (const match of text.matchAll(callees)) {
    let depth = 0;
    const start = match.index + match[0].length;
    for (let i = start - 1; i < text.length; i++) {
      if (text[i] === '(') depth++;
      else if (text[i] === ')' && --depth === 0) {
        found.push(text.slice(start, i));
        break;
      }
    }
  }
  return found;
}

/** The `${...}` expressions of a template literal's text (one level deep is enough here). */
function interpolations(text: string): string[] {
  return [...text.matchAll(/\$\{((?:[^{}]|\{[^{}]*\})*)\}/g)].map((m) => m[1]!.trim());
}

const URL_LIKE = /url|endpoint|href|dsn\b|target/i;
const LOG_CALLS = /\b(?:log\.(?:info|warn|debug|error)|warn|info|reader\.warn)\(/g;

describe('URLs in the log and in /health messages', () => {
  const files = sourceFiles(SRC);

  it('finds the log calls it checks (so the check below is not vacuous)', () => {
    const all = files.flatMap((file) => callArguments(fs.readFileSync(file, 'utf8'), LOG_CALLS));
    expect(all.length).toBeGreaterThan(20);
    expect(all.some((args) => args.includes('redactUrl(config.traces.otlpEndpoint'))).toBe(true);
  });

  it('every URL-like value in a log message goes through redactUrl', () => {
    const offenders: string[] = [];
    for (const file of files) {
      for (const args of callArguments(fs.readFileSync(file, 'utf8'), LOG_CALLS)) {
        for (const expression of interpolations(args)) {
          // A host, port or Sentry project id alone is no credential.
          const partOnly = /\.(?:host|hostname|port|projectId)$/.test(expression);
          if (URL_LIKE.test(expression) && !partOnly && !/redactUrl\(/.test(expression)) offenders.push(`${path.relative(SRC, file)}: \${${expression}}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it('the health code never puts a URL, host or credential into a message', () => {
    let checked = 0;
    for (const file of files.filter((f) => f.includes(`${path.sep}health${path.sep}`))) {
      const text = fs.readFileSync(file, 'utf8');
      for (const expression of [...text.matchAll(/`[^`]*`/g)].flatMap((m) => interpolations(m[0]))) {
        checked++;
        expect(expression, path.relative(SRC, file)).not.toMatch(/\burl\b|\.href\b|password|username/i);
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});
