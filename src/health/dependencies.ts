/**
 * The dependencies the health checks probe. The pg and ioredis instrumentations add what the app
 * connects to (deduplicated by endpoint, capped), and env variables can add more. A probe opens
 * its own short-lived connection, so it never takes one the app needs.
 */

export type DependencyKind = 'database' | 'redis';

export interface Dependency {
  kind: DependencyKind;
  /** Identity for de-duplication (host, port, database); never shown to users. */
  key: string;
  /** Resolves when the dependency answered, rejects otherwise. Must honour the timeout. */
  probe(timeoutMs: number): Promise<void>;
}

const MAX_PER_KIND = 4;

export class DependencyRegistry {
  private readonly entries = new Map<string, Dependency>();

  add(dependency: Dependency): void {
    const id = `${dependency.kind}|${dependency.key}`;
    if (this.entries.has(id)) return;
    if (this.list().filter((d) => d.kind === dependency.kind).length >= MAX_PER_KIND) return;
    this.entries.set(id, dependency);
  }

  has(kind: DependencyKind, key: string): boolean {
    return this.entries.has(`${kind}|${key}`);
  }

  list(): Dependency[] {
    return [...this.entries.values()];
  }
}

/** Rejects with a timeout error if `work` takes longer than `ms`; the timer never holds the process. */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout?: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout?.();
      reject(Object.assign(new Error(`timed out after ${ms} ms`), { code: 'ETIMEDOUT' }));
    }, ms);
    timer.unref();
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
