/**
 * Answers `/health` and `/ready`. Probes run in parallel, each with its own deadline; concurrent
 * callers share one evaluation and its result is reused for a second, so a burst of probes from
 * several kubelets and load balancers opens one connection per dependency, not one per request.
 */
import type { HealthConfig } from '../config/types';
import { appState } from '../lifecycle/app-state';
import { runUntraced } from '../lifecycle/internal';
import { checkNames, overallStatus, runCheck, type NamedCheck, type ServiceStatus } from './checks';
import type { DependencyRegistry } from './dependencies';

const REUSE_MS = 1000;

export interface ProbeAnswer {
  statusCode: number;
  body: Record<string, unknown>;
}

export class HealthService {
  private inFlight: Promise<NamedCheck[]> | undefined;
  private last: { at: number; checks: NamedCheck[] } | undefined;

  constructor(
    private readonly dependencies: DependencyRegistry,
    private readonly config: HealthConfig,
    private readonly identity: { service: string; version: string },
  ) {}

  private async evaluate(): Promise<NamedCheck[]> {
    if (this.last && performance.now() - this.last.at < REUSE_MS) return this.last.checks;
    if (!this.inFlight) {
      const dependencies = this.dependencies.list();
      const names = checkNames(dependencies);
      this.inFlight = Promise.all(
        dependencies.map(async (dependency, i) => ({
          name: names[i] as string,
          kind: dependency.kind.kind,
          result: await runUntraced(() => runCheck(dependency, this.config.timeoutMs, this.config.slowMs)),
        })),
      ).finally(() => {
        this.inFlight = undefined;
      });
      this.inFlight.then(
        (checks) => (this.last = { at: performance.now(), checks }),
        () => {},
      );
    }
    return this.inFlight;
  }

  async health(): Promise<ProbeAnswer> {
    const checks = await this.evaluate();
    const status: ServiceStatus = overallStatus(checks, this.config.critical);
    return {
      statusCode: status === 'unhealthy' ? 503 : 200,
      body: {
        status,
        timestamp: new Date().toISOString(),
        service: this.identity.service,
        version: this.identity.version,
        uptime: Math.floor(process.uptime()),
        checks: Object.fromEntries(checks.map((c) => [c.name, c.result])),
      },
    };
  }

  async ready(): Promise<ProbeAnswer> {
    const state = appState();
    if (state.shuttingDown) return { statusCode: 503, body: { status: 'not_ready', reason: 'shutting down' } };
    if (!state.listening) return { statusCode: 503, body: { status: 'not_ready', reason: 'the app has not started listening yet' } };
    const checks = await this.evaluate();
    const failing = checks.filter((c) => c.result.status === 'fail' && this.config.critical.has(c.kind)).map((c) => c.name);
    if (failing.length > 0) {
      return { statusCode: 503, body: { status: 'not_ready', reason: `failing: ${failing.join(', ')}` } };
    }
    return { statusCode: 200, body: { status: 'ready' } };
  }
}
