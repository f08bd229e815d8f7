/**
 * node:cluster (and PM2 cluster mode, which forks through node:cluster): one agent port for the
 * whole service. In a cluster worker the agent does not listen (every worker would ask the
 * primary for the same port); it answers the primary's requests for its metrics, `/health` and
 * `/ready` over the cluster's IPC channel. The primary's agent serves the port: `/metrics` sums
 * its own and every worker's text (metrics/cluster-merge.ts), waiting at most
 * `METRICS_DEADLINE_MS` for the workers; `/health` and `/ready` ask the workers, which probe the
 * dependencies they discovered (the primary runs none of the app's clients).
 *
 * The messages travel on Node's internal IPC route: a message whose `cmd` starts with `NODE_` is
 * emitted as `internalMessage`, never as `message`, so the app's own `process.on('message')`,
 * `worker.on('message')` and `cluster.on('message')` handlers never see them, and cluster's own
 * handler ignores every `cmd` but its own. The payload sits under the package's name. A cluster
 * worker's IPC channel keeps it alive already; the agent adds no timer that keeps anything alive.
 */
import type * as NodeCluster from 'node:cluster';
import { appState } from '../lifecycle/app-state';
import { guard, reportOnce } from '../lifecycle/guard';
import { ClusterMetrics } from '../metrics/cluster-merge';
import type { HealthService, ProbeAnswer } from './health-service';

type Cluster = typeof NodeCluster.default;
type Worker = NodeCluster.Worker;

const CMD = 'NODE_TUTOR_OTEL_AGENT';
const NAMESPACE = '@tutor/otel-agent';

/** A scrape waits this long for the workers, then serves what it has. */
export const METRICS_DEADLINE_MS = 1_000;
/** A worker that has not heard from an agent in its primary this long after starting says so once. */
export const HELLO_WAIT_MS = 5_000;

type Ask = 'metrics' | 'health' | 'ready';
type Payload = { hello: true } | { ack: true } | { id: number; ask: Ask } | { id: number; text: string } | { id: number; answer: ProbeAnswer };

function envelope(payload: Payload): Record<string, unknown> {
  return { cmd: CMD, [NAMESPACE]: payload };
}

function payloadOf(message: unknown): Payload | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const record = message as Record<string, unknown>;
  if (record.cmd !== CMD) return undefined;
  const payload = record[NAMESPACE];
  return typeof payload === 'object' && payload !== null ? (payload as Payload) : undefined;
}

/** The cluster's answers for the agent's endpoints: the primary's own until it has workers. */
export interface ClusterAnswers {
  metrics(own: () => Promise<string>): Promise<string>;
  health(own: HealthService): Promise<ProbeAnswer>;
  ready(own: HealthService): Promise<ProbeAnswer>;
}

/** Has the app loaded node:cluster? Node's list of loaded builtins says; without that list, assume it may have. */
function appLoadedCluster(): boolean {
  const loaded = (process as { moduleLoadList?: unknown }).moduleLoadList;
  return !Array.isArray(loaded) || loaded.includes('NativeModule cluster');
}

function loadCluster(): Cluster {
  return require('node:cluster') as Cluster;
}

/** Is this process a cluster worker (node:cluster or PM2 cluster mode) with an IPC channel to its primary? */
export function isClusterWorker(): boolean {
  // Node removes NODE_UNIQUE_ID from the environment before preloads run, having loaded the
  // cluster module (whose isWorker was read from it) to set the worker up.
  return typeof process.send === 'function' && loadCluster().isWorker;
}

/** The cluster worker id of this process (the `worker` label of its gauges). */
export function clusterWorkerId(): string {
  return String(loadCluster().worker?.id ?? '?');
}

export interface WorkerAnswers {
  metrics(): Promise<string>;
  health(): Promise<ProbeAnswer>;
  ready(): Promise<ProbeAnswer>;
}

/** In a cluster worker: answer the primary; `onNoPrimary` once if no agent in the primary makes itself known. */
export function answerPrimary(answers: WorkerAnswers, onNoPrimary: () => void): void {
  const send = (payload: Payload): void => {
    try {
      // With a callback, a closed channel is an error handed to it, not an 'error' event.
      process.send?.(envelope(payload), undefined, undefined, () => {});
    } catch (error) {
      reportOnce('cluster reply', error);
    }
  };
  const timer = setTimeout(guard('cluster hello', onNoPrimary), HELLO_WAIT_MS);
  timer.unref();
  (process as NodeJS.EventEmitter).on(
    'internalMessage',
    guard('cluster request', (message: unknown) => {
      const payload = payloadOf(message);
      if (!payload) return;
      clearTimeout(timer);
      if (!('ask' in payload)) return;
      const { id, ask } = payload;
      const reply: Promise<Payload> =
        ask === 'metrics' ? answers.metrics().then((text) => ({ id, text })) : answers[ask]().then((answer) => ({ id, answer }));
      reply.then(send, (error: unknown) => reportOnce('cluster answer', error));
    }),
  );
  send({ hello: true });
}

const STATUS_RANK: Record<string, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

/**
 * In the primary (every process that is not a cluster worker): while it has workers, the agent's
 * endpoints answer for the cluster; without any, they answer for this process alone, unchanged.
 */
export class ClusterPrimary {
  private seq = 0;
  private readonly pending = new Map<number, (payload: Payload) => void>();
  private readonly sum = new ClusterMetrics();

  constructor(
    private readonly cluster: Cluster,
    /** How long `/health` and `/ready` wait for the workers (their own probes' deadline and a margin). */
    private readonly probeDeadlineMs: number,
  ) {
    cluster.on(
      'fork',
      guard('cluster fork', (worker: Worker) => this.watch(worker)),
    );
    for (const worker of Object.values(cluster.workers ?? {})) if (worker) this.watch(worker);
  }

  /**
   * What the agent's server asks. node:cluster (and the child_process and dgram it loads, about
   * 3 MB) is loaded only once the app has loaded it: a process that never did has no workers.
   */
  static create(probeDeadlineMs: number): ClusterAnswers {
    let primary: ClusterPrimary | undefined;
    const current = (): ClusterPrimary | undefined => (primary ??= appLoadedCluster() ? new ClusterPrimary(loadCluster(), probeDeadlineMs) : undefined);
    return {
      metrics: (own) => current()?.metrics(own) ?? own(),
      health: (own) => current()?.health(own) ?? own.health(),
      ready: (own) => current()?.ready(own) ?? own.ready(),
    };
  }

  private watch(worker: Worker): void {
    (worker.process as NodeJS.EventEmitter).on(
      'internalMessage',
      guard('cluster reply', (message: unknown) => {
        const payload = payloadOf(message);
        if (!payload) return;
        if ('hello' in payload) return this.send(worker, { ack: true });
        if (!('id' in payload) || 'ask' in payload) return;
        const resolve = this.pending.get(payload.id);
        if (!resolve) return;
        this.pending.delete(payload.id);
        resolve(payload);
      }),
    );
  }

  private send(worker: Worker, payload: Payload): void {
    try {
      worker.send(envelope(payload), undefined, () => {});
    } catch (error) {
      reportOnce('cluster request', error);
    }
  }

  private live(): Worker[] {
    return Object.values(this.cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && worker.isConnected());
  }

  /** Every live worker's answer by id (undefined: none within the deadline). */
  private async askAll(ask: Ask, deadlineMs: number): Promise<Map<string, Payload | undefined>> {
    const workers = this.live();
    const answers = new Map<string, Payload | undefined>(workers.map((worker) => [String(worker.id), undefined]));
    if (workers.length === 0) return answers;
    await new Promise<void>((resolve) => {
      let waiting = workers.length;
      const ids: number[] = [];
      const timer = setTimeout(() => {
        for (const id of ids) this.pending.delete(id);
        resolve();
      }, deadlineMs);
      timer.unref();
      for (const worker of workers) {
        const id = ++this.seq;
        ids.push(id);
        this.pending.set(id, (payload) => {
          answers.set(String(worker.id), payload);
          if (--waiting === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
        this.send(worker, { id, ask });
      }
    });
    return answers;
  }

  async metrics(own: () => Promise<string>): Promise<string> {
    const [text, answers] = await Promise.all([own(), this.askAll('metrics', METRICS_DEADLINE_MS)]);
    if (answers.size === 0 && !this.sum.active) return text;
    const texts = new Map<string, string | undefined>();
    for (const [worker, payload] of answers) texts.set(worker, payload && 'text' in payload ? payload.text : undefined);
    return this.sum.render(text, texts);
  }

  /** The worst worker's answer, with every worker's status; the primary's own while it has no workers. */
  async health(own: HealthService): Promise<ProbeAnswer> {
    const answers = await this.askAll('health', this.probeDeadlineMs);
    if (answers.size === 0) return own.health();
    const got = probeAnswers(answers);
    const workers = statuses(answers);
    if (got.length === 0) return { statusCode: 503, body: { status: 'unhealthy', reason: 'no cluster worker answered in time', workers } };
    const worst = got.reduce((a, b) => (rank(b) > rank(a) ? b : a));
    return { statusCode: worst.statusCode, body: { ...worst.body, workers } };
  }

  /** Ready while at least one worker is ready (the service can serve); the primary's own while it has no workers. */
  async ready(own: HealthService): Promise<ProbeAnswer> {
    if (appState().shuttingDown) return own.ready();
    const answers = await this.askAll('ready', this.probeDeadlineMs);
    if (answers.size === 0) return own.ready();
    const got = probeAnswers(answers);
    const workers = statuses(answers);
    if (got.some((answer) => answer.statusCode === 200)) return { statusCode: 200, body: { status: 'ready', workers } };
    const reason = got.map((answer) => answer.body.reason).find((r) => typeof r === 'string') ?? 'no cluster worker answered in time';
    return { statusCode: 503, body: { status: 'not_ready', reason, workers } };
  }
}

function probeAnswers(answers: Map<string, Payload | undefined>): ProbeAnswer[] {
  const got: ProbeAnswer[] = [];
  for (const payload of answers.values()) if (payload && 'answer' in payload) got.push(payload.answer);
  return got;
}

/** Each worker's status by id, `no answer` for one that missed the deadline. */
function statuses(answers: Map<string, Payload | undefined>): Record<string, unknown> {
  return Object.fromEntries([...answers].map(([id, payload]) => [id, payload && 'answer' in payload ? payload.answer.body.status : 'no answer']));
}

function rank(answer: ProbeAnswer): number {
  return STATUS_RANK[String(answer.body.status)] ?? STATUS_RANK.unhealthy!;
}
