/**
 * Runs a fixture app as a user would: `node --import <this package> app` (or --require), in its
 * own process, against real Postgres, Redis and HTTP. Collects its output and knows the app's
 * port (fixtures print `{"listening": port}`) and the agent's metrics port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { freePort, waitFor } from './ports';
import { parsePrometheusText, type Sample } from './prometheus-text';

export const REPO = path.resolve(__dirname, '../..');
export const AGENT_ENTRY = path.join(REPO, 'dist/register.js');
export const FIXTURES = path.join(REPO, 'test/fixtures');

export interface AgentAppOptions {
  fixture: string;
  env?: Record<string, string | undefined>;
  /** How the agent is preloaded; 'none' runs the app bare. */
  preload?: Array<'import' | 'require'> | 'none';
  nodeBinary?: string;
  /** Extra node flags before the script, e.g. `--import @tutor/otel-agent` resolved from `cwd`. */
  nodeArgs?: string[];
  cwd?: string;
  waitForListening?: boolean;
}

export class AgentApp {
  stdout = '';
  stderr = '';
  appPort = 0;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;

  constructor(
    readonly child: ChildProcess,
    readonly metricsPort: number,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exit = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        resolve(this.exited);
      }),
    );
  }

  get agentLines(): string[] {
    return this.stderr.split('\n').filter((l) => l.startsWith('[otel-agent]'));
  }

  get metricsUrl(): string {
    return `http://127.0.0.1:${this.metricsPort}`;
  }

  get appUrl(): string {
    return `http://127.0.0.1:${this.appPort}`;
  }

  async request(pathname: string, init?: RequestInit): Promise<Response> {
    return fetch(this.appUrl + pathname, init);
  }

  async scrapeText(): Promise<string> {
    const response = await fetch(`${this.metricsUrl}/metrics`);
    if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
    return response.text();
  }

  async scrape(): Promise<Sample[]> {
    return parsePrometheusText(await this.scrapeText());
  }

  async endpoint(pathname: string): Promise<{ status: number; body: any }> {
    const response = await fetch(this.metricsUrl + pathname);
    const text = await response.text();
    return { status: response.status, body: text.startsWith('{') ? JSON.parse(text) : text };
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    this.child.kill('SIGKILL');
    await this.exit;
  }
}

export async function startAgentApp(options: AgentAppOptions): Promise<AgentApp> {
  const metricsPort = await freePort();
  const preload = options.preload ?? ['import'];
  const args: string[] = [];
  if (preload !== 'none') for (const kind of preload) args.push(kind === 'import' ? '--import' : '--require', AGENT_ENTRY);
  args.push(...(options.nodeArgs ?? []));
  args.push(path.isAbsolute(options.fixture) ? options.fixture : path.join(FIXTURES, options.fixture));
  const child = spawn(options.nodeBinary ?? process.execPath, args, {
    cwd: options.cwd ?? REPO,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      OTEL_EXPORTER_PROMETHEUS_PORT: String(metricsPort),
      OTEL_EXPORTER_PROMETHEUS_HOST: '127.0.0.1',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const app = new AgentApp(child, metricsPort);
  if (options.waitForListening !== false) {
    app.appPort = await waitFor(
      () => {
        if (app.exited) throw new Error(`app exited early (${JSON.stringify(app.exited)}): ${app.stderr}`);
        const m = /\{"listening":(\d+)\}/.exec(app.stdout);
        return m ? Number(m[1]) : undefined;
      },
      30_000,
      `the fixture to listen (stderr: ${app.stderr})`,
    );
  }
  return app;
}

/** Waits until the agent's endpoint answers (it starts listening asynchronously). */
export async function agentReady(app: AgentApp): Promise<void> {
  await waitFor(async () => ((await fetch(`${app.metricsUrl}/live`)).status === 200 ? true : undefined), 20_000, 'agent /live');
}
