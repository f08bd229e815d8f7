/**
 * The one way the agent reads an environment variable: unset or blank gives the default silently;
 * a value that does not parse gives the default and one warning naming the variable, the default
 * used, and the value only when it cannot carry a credential. Used by config/env.ts, the AI meters
 * and Sentry, so every variable is read in one place with the same rules.
 */
export type Env = Record<string, string | undefined>;

/**
 * Bad values are echoed so the user can find the typo, but never at length, and never for a
 * variable that may carry a credential (a URL with a password, an auth header, a token, resource
 * attributes: people put connection strings and keys there too).
 */
const SECRET_VARIABLE = /URL|ENDPOINT|HEADERS|TOKEN|DSN|PASSWORD|SECRET|AUTH|RESOURCE_ATTRIBUTES/;

/** One line for the operator: which variable was wrong and what is used instead. */
export interface ConfigWarning {
  variable: string;
  message: string;
}

export class EnvReader {
  readonly warnings: ConfigWarning[] = [];

  constructor(readonly env: Env) {}

  /**
   * @param expected what a good value looks like (`a whole number from 1 to 100`)
   * @param shownDefault how the default is named in the warning; by default derived from it
   */
  read<T>(variable: string, parse: (text: string) => T | undefined, fallback: T, expected: string, shownDefault?: string): T {
    const text = this.env[variable];
    if (text === undefined || text.trim() === '') return fallback;
    const value = parse(text);
    if (value !== undefined) return value;
    this.warn(variable, `${variable}=${shownValue(variable, text)} is not ${expected}; using the default ${shownDefault ?? describeValue(fallback)}`);
    return fallback;
  }

  /** The trimmed value, or undefined when unset or blank. */
  text(variable: string): string | undefined {
    return nonBlank(this.env[variable]);
  }

  /** Records a warning; the same one twice (a variable read for traces and for metrics) is kept once. */
  warn(variable: string, message: string): void {
    if (this.warnings.some((w) => w.variable === variable && w.message === message)) return;
    this.warnings.push({ variable, message });
  }
}

export function nonBlank(text: string | undefined): string | undefined {
  return text !== undefined && text.trim() !== '' ? text.trim() : undefined;
}

/** At most `max` characters of a value shown in a warning, marked `...` where it was cut. */
export function clip(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/** A variable's value as a warning may show it: quoted and clipped, or hidden when it may hold a secret. */
export function shownValue(variable: string, text: string): string {
  return SECRET_VARIABLE.test(variable) ? '(value hidden)' : JSON.stringify(clip(text));
}

function describeValue(value: unknown): string {
  if (value === undefined) return '(none)';
  if (value instanceof Set) return [...value].join(',') || '(none)';
  if (Array.isArray(value)) return value.join(',') || '(none)';
  if (typeof value === 'object' || typeof value === 'function') return '(none)';
  return String(value as string | number | boolean | bigint | symbol);
}
