/**
 * Shared setup of the AI tests: two local model APIs (one standing for OpenAI, one for Anthropic,
 * each named as such in TUTOR_OTEL_AI_PROVIDERS so provider detection by host is exercised), a
 * fixture app preloaded with the agent, and the same app without it to compare what the app sees.
 * Counts are read as differences between two scrapes, so tests in one file do not depend on each
 * other's order.
 */
import { agentReady, startAgentApp, type AgentApp } from '../helpers/agent-process';
import { LlmServer } from '../helpers/llm-server';
import { total, type Sample } from '../helpers/prometheus-text';

export interface ActionSpec {
  sdk: 'openai' | 'openai-v4' | 'openai-v5' | 'openai-v6' | 'anthropic' | 'anthropic-v0' | 'fetch' | 'vercel-openai' | 'vercel-anthropic';
  op?: 'chat' | 'completions' | 'responses' | 'embeddings';
  model: string;
  stream?: boolean;
  includeUsage?: boolean;
  mode?: string;
  read?: 'await' | 'withResponse' | 'asResponse' | 'tee' | 'toReadableStream' | 'helper';
  breakAfter?: number;
  abortAfter?: number;
  throwAfter?: number;
  maxRetries?: number;
  timeout?: number;
  /** fetch only */
  path?: string;
  body?: unknown;
  headers?: Record<string, string>;
  cancelAfter?: number;
  timeoutMs?: number;
  noRead?: boolean;
  /** Which local API: 'openai' (default) or 'anthropic'; or an explicit base URL. */
  server?: 'openai' | 'anthropic';
  baseURL?: string;
}

export interface ActionResult {
  items: any[];
  itemsB?: any[];
  data?: any;
  text?: string;
  status?: number;
  error?: { name: string; status?: number; message?: string; errorName?: string };
  requestId?: string;
  isResponse?: boolean;
  fixtureError?: string;
}

let keys = 0;

export class AiHarness {
  readonly openai = new LlmServer();
  readonly anthropic = new LlmServer();
  app!: AgentApp;
  bare: AgentApp | undefined;

  async start(
    fixture: string,
    options: { env?: Record<string, string | undefined>; bare?: boolean; preload?: Array<'import' | 'require'>; startupCall?: ActionSpec } = {},
  ): Promise<void> {
    await this.openai.start();
    await this.anthropic.start();
    const env = {
      ...(options.startupCall ? { AI_STARTUP_CALL: JSON.stringify(this.spec(options.startupCall)) } : {}),
      OTEL_SERVICE_NAME: 'ai-fixture',
      TUTOR_OTEL_AI_PROVIDERS: `${this.openai.hostPort}=openai,${this.anthropic.hostPort}=anthropic`,
      TUTOR_OTEL_AI_INCLUDE_USAGE_HOSTS: this.openai.hostPort,
      TUTOR_OTEL_AI_PACKAGE_ALIASES: 'openai-v4',
      ...options.env,
    };
    const [app, bare] = await Promise.all([
      startAgentApp({ fixture, env, preload: options.preload }),
      options.bare ? startAgentApp({ fixture, env, preload: 'none' }) : Promise.resolve(undefined),
    ]);
    this.app = app;
    this.bare = bare;
    await agentReady(this.app);
  }

  async stop(): Promise<void> {
    await Promise.all([this.app?.stop(), this.bare?.stop()]);
    await Promise.all([this.openai.stop(), this.anthropic.stop()]);
  }

  /** A fresh x-llm-key, so the server counts this call's attempts apart. */
  key(): string {
    return `call-${process.pid}-${++keys}`;
  }

  spec(spec: ActionSpec): ActionSpec & { key: string; baseURL: string } {
    const server = spec.server ?? (spec.sdk.includes('anthropic') ? 'anthropic' : 'openai');
    const base = server === 'anthropic' ? this.anthropic.url : this.openai.url;
    // The Anthropic SDK adds `/v1` itself; the OpenAI SDKs and Vercel's providers take it in the base URL.
    const bare = spec.sdk === 'anthropic' || spec.sdk === 'anthropic-v0' || spec.sdk === 'fetch';
    return { ...spec, key: this.key(), baseURL: spec.baseURL ?? (bare ? base : `${base}/v1`) };
  }

  /** Runs one action in the app with the agent, inside a request to `route`. */
  async run(spec: ActionSpec, route = '/lessons/42/explain', app: AgentApp = this.app): Promise<ActionResult & { key: string }> {
    const full = this.spec(spec);
    const response = await app.request(route, { method: 'POST', body: JSON.stringify(full), headers: { 'content-type': 'application/json' } });
    const result = (await response.json()) as ActionResult;
    if (result.fixtureError) throw new Error(result.fixtureError);
    return { ...result, key: full.key };
  }

  /** The same action in the same app without the agent. */
  async runBare(spec: ActionSpec, route = '/lessons/42/explain'): Promise<ActionResult & { key: string }> {
    if (!this.bare) throw new Error('started without a bare app');
    return this.run(spec, route, this.bare);
  }

  /**
   * Runs `fn` and returns the change of the agent's metrics across it. Generations finish when the
   * app's read ends, which is before the fixture answers, so one scrape after is enough.
   */
  async delta(fn: () => Promise<unknown>): Promise<Delta> {
    const before = await this.app.scrape();
    await fn();
    const after = await this.app.scrape();
    return new Delta(before, after);
  }
}

export class Delta {
  constructor(
    readonly before: Sample[],
    readonly after: Sample[],
  ) {}

  of(name: string, labels: Record<string, string> = {}): number {
    return round(total(this.after, name, labels) - total(this.before, name, labels));
  }
}

function round(n: number): number {
  return Math.round(n * 1e9) / 1e9;
}
