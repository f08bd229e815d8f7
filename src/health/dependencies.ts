/**
 * The dependencies the health checks probe. The client integrations (pg, ioredis) add what the app
 * connects to (deduplicated by endpoint, capped), and env variables can add more. A probe opens
 * its own short-lived connection, so it never takes one the app needs.
 */

/**
 * A kind of dependency, as its integration declares it (integrations/registry.ts): the check's
 * name on /health and in TUTOR_OTEL_HEALTH_CRITICAL, and how its messages name it.
 */
export interface HealthKind {
  /** `database`, `redis`: the check's name and the value TUTOR_OTEL_HEALTH_CRITICAL lists. */
  kind: string;
  /** `PostgreSQL`: how messages name the server. */
  label: string;
  /** `PostgreSQL answered SELECT 1`: what a passing probe did. */
  answered: string;
}

export interface Dependency {
  kind: HealthKind;
  /** Identity for de-duplication (host, port, database); never shown to users. */
  key: string;
  /** Resolves when the dependency answered, rejects otherwise. Must honour the timeout. */
  probe(timeoutMs: number): Promise<void>;
}

const MAX_PER_KIND = 4;

export class DependencyRegistry {
  private readonly entries = new Map<string, Dependency>();

  add(dependency: Dependency): void {
    const id = `${dependency.kind.kind}|${dependency.key}`;
    if (this.entries.has(id)) return;
    if (this.list().filter((d) => d.kind.kind === dependency.kind.kind).length >= MAX_PER_KIND) return;
    this.entries.set(id, dependency);
  }

  has(kind: string, key: string): boolean {
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
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the work's own rejection, passed on as it is
        reject(error);
      },
    );
  });
}
