/**
 * node:cluster: the primary's agent serves one /metrics for every worker (counters summed, gauges
 * per worker), keeps the sum monotonic across a worker's replacement, answers /health for the
 * service; the workers never try the port, and the app's own IPC handlers see nothing.
 * Real processes: test/fixtures/cluster-app.cjs forks 2 workers sharing one HTTP port; PM2's
 * `pm2-runtime -i 2` runs test/fixtures/pm2-app.cjs in cluster mode.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_ENTRY, AgentApp, FIXTURES, REPO, agentReady, startAgentApp } from '../helpers/agent-process';
import { freePort, waitFor } from '../helpers/ports';
import { select, total } from '../helpers/prometheus-text';

let app: AgentApp | undefined;
const workerPids: number[] = [];
afterEach(async () => {
  await app?.stop();
  app = undefined;
  for (const pid of workerPids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function workersOf(target: AgentApp): Map<number, number> {
  const workers = new Map<number, number>();
  for (const m of target.stdout.matchAll(/\{"worker":(\d+),"pid":(\d+)/g)) workers.set(Number(m[1]), Number(m[2]));
  return workers;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One request per connection, so the primary's round robin spreads them over the workers. */
async function send(target: AgentApp, count: number, path: string): Promise<Set<string>> {
  const servedBy = new Set<string>();
  for (let i = 0; i < count; i++) {
    const response = await target.request(path, { headers: { connection: 'close' } });
    expect(response.status).toBe(200);
    servedBy.add(await response.text());
  }
  return servedBy;
}

describe('node:cluster', () => {
  it('one /metrics summing every worker, monotonic across a worker replacement; /health for the service; SIGTERM ends all', async () => {
    app = await startAgentApp({ fixture: 'cluster-app.cjs' });
    await agentReady(app);
    const workers = workersOf(app);
    workerPids.push(...workers.values());
    expect(workers.size).toBe(2);

    const N = 20;
    const servedBy = await send(app, N, '/hello');
    expect(servedBy.size).toBe(2); // both workers served some

    let samples = await app.scrape();
    expect(select(samples, 'http_requests_total', { route: '/hello' })).toHaveLength(1);
    expect(total(samples, 'http_requests_total', { route: '/hello' })).toBe(N);
    expect(total(samples, 'http_request_duration_seconds_count', { route: '/hello' })).toBe(N);
    expect(select(samples, 'http_request_duration_seconds_bucket', { route: '/hello', le: '+Inf' })).toHaveLength(1);
    // Gauges: one series per process, told apart by the cluster worker id; open connections summed.
    const heapWorkers = select(samples, 'nodejs_heap_size_used_bytes').map((s) => s.labels.worker);
    expect(heapWorkers.sort()).toEqual(['1', '2', 'primary']);
    expect(select(samples, 'active_connections')).toHaveLength(1);
    expect(select(samples, 'active_connections')[0]!.labels.worker).toBeUndefined();

    // A worker dies; the primary forks a replacement (id 3).
    const [deadId, deadPid] = [...workers][0]!;
    process.kill(deadPid, 'SIGKILL');
    await waitFor(() => (workersOf(app!).has(3) ? true : undefined), 20_000, 'the replacement worker');
    workerPids.push(workersOf(app).get(3)!);
    const M = 10;
    await send(app, M, '/hello');
    samples = await app.scrape();
    expect(total(samples, 'http_requests_total', { route: '/hello' })).toBe(N + M);
    expect(select(samples, 'http_requests_total', { route: '/hello' })).toHaveLength(1);
    expect(
      select(samples, 'nodejs_heap_size_used_bytes')
        .map((s) => s.labels.worker)
        .sort(),
    ).toEqual([...[1, 2].filter((id) => id !== deadId).map(String), '3', 'primary'].sort());

    const health = await app.endpoint('/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('healthy');
    expect(Object.keys(health.body.workers).sort()).toEqual([...[1, 2].filter((id) => id !== deadId).map(String), '3'].sort());
    const ready = await app.endpoint('/ready');
    expect(ready.status).toBe(200);

    // The agent's IPC never reaches the app's own message handlers, in the workers or the primary.
    expect((await (await app.request('/app-messages', { headers: { connection: 'close' } })).text()).trim()).toBe('0');
    expect(app.stdout).not.toContain('appMessage');
    // No worker fought for the port: no warning at all; one start-up line per process.
    expect(app.agentLines.filter((l) => /warn|error/.test(l))).toEqual([]);
    expect(app.agentLines.filter((l) => l.includes("served by the cluster's primary"))).toHaveLength(3);

    app.child.kill('SIGTERM');
    expect(await waitFor(() => app!.exited, 10_000, 'the primary to exit')).toEqual({ code: null, signal: 'SIGTERM' });
    await waitFor(() => (workerPids.every((pid) => !alive(pid)) ? true : undefined), 10_000, 'the workers to exit');
  });

  it('a worker whose primary runs without the agent says so once, and does not take the port', async () => {
    // The workers alone get the agent (as with PM2 when only node_args preloads it).
    app = await startAgentApp({
      fixture: 'cluster-app.cjs',
      preload: 'none',
      env: { WORKER_PRELOAD: AGENT_ENTRY },
    });
    await waitFor(() => (app!.agentLines.filter((l) => l.includes('no agent in the cluster')).length === 2 ? true : undefined), 20_000, 'the warnings');
    workerPids.push(...workersOf(app).values());
    await expect(fetch(`${app.metricsUrl}/live`)).rejects.toThrow();
    expect(app.agentLines.filter((l) => /warn|error/.test(l))).toHaveLength(2);
  });
});

describe('PM2 cluster mode', () => {
  it('pm2-runtime -i 2 started with the agent in NODE_OPTIONS: one /metrics summing both instances, /health for both', async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'otel-agent-pm2-'));
    try {
      const [metricsPort, appPort] = [await freePort(), await freePort()];
      const child = spawn(
        process.execPath,
        [path.join(REPO, 'node_modules/pm2/bin/pm2-runtime'), 'start', path.join(FIXTURES, 'pm2-app.cjs'), '-i', '2'],
        {
          cwd: REPO,
          env: {
            PATH: process.env.PATH,
            HOME: home,
            PM2_HOME: home,
            // PM2's own process is the cluster's primary: it needs the agent too, and NODE_OPTIONS gives it to both.
            NODE_OPTIONS: `--import ${AGENT_ENTRY}`,
            OTEL_SERVICE_NAME: 'pm2-app',
            OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
            OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
            APP_PORT: String(appPort),
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      app = new AgentApp(child, metricsPort);
      app.appPort = appPort;
      await waitFor(() => (app!.stdout.match(/\{"instance":"\d"\}/g)?.length === 2 ? true : undefined), 30_000, `both instances (${app.stderr})`);
      await agentReady(app);
      const servedBy = await send(app, 10, '/pm2');
      expect(servedBy).toEqual(new Set(['instance 0', 'instance 1']));
      const samples = await app.scrape();
      expect(select(samples, 'http_requests_total', { route: '/pm2' })).toHaveLength(1);
      expect(total(samples, 'http_requests_total', { route: '/pm2' })).toBe(10);
      expect(select(samples, 'nodejs_heap_size_used_bytes', { service: 'pm2-app' })).toHaveLength(3);
      const health = await app.endpoint('/health');
      expect(health.status).toBe(200);
      expect(Object.keys(health.body.workers)).toHaveLength(2);
      expect(app.agentLines.filter((l) => /warn|error/.test(l))).toEqual([]);
      child.kill('SIGTERM');
      await waitFor(() => app!.exited, 15_000, 'pm2-runtime to exit');
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });
});
