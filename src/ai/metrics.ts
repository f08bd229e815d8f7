/**
 * Owns every AI metric: generations, their duration and first-token wait, HTTP attempts, tokens,
 * cost, and (only when asked for) the GenAI semantic-convention instruments. Label policy lives
 * here: models and routes are capped with an overflow value, nothing from a prompt, user or
 * request id is ever a label.
 */
import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import { BoundedLabel, OVERFLOW_ROUTE } from '../http/route-label';
import { CATALOGUE, PRICE_TABLE_PLACEHOLDER } from '../metrics/catalogue';
import { UNKNOWN_MODEL, type Operation } from './endpoints';
import type { Pricer } from './pricing';
import type { Usage } from './usage';

/** Duration bounds in seconds; the AIGenerationSlow alert's 5 s is one of them. */
export const AI_DURATION_BUCKETS = [0.5, 1, 2, 3, 5, 8, 10, 20, 30, 60, 120];
export const AI_TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30];
/** The semantic conventions' advice (seconds, doubling from 10 ms; tokens, x4 from 1). */
const SEMCONV_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const SEMCONV_TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864];

export const MODEL_OVERFLOW = '__overflow__';
/** The route of a generation made outside any inbound HTTP request (a job, a script). */
export const NO_ROUTE = '__none__';

export type GenerationStatus = 'success' | 'error' | 'cancelled';

export interface FinishedGeneration {
  provider: string;
  operation: Operation;
  semconvOperation: string;
  /** The model the app asked for (normalised), else the one that answered, else unknown. */
  model: string;
  requestModel: string | undefined;
  responseModel: string | undefined;
  stream: boolean;
  route: string;
  status: GenerationStatus;
  errorType: string | undefined;
  seconds: number;
  firstTokenSeconds: number | undefined;
  usage: Usage | undefined;
}

export class AiMetrics {
  private readonly duration: Histogram;
  private readonly generations: Counter;
  private readonly apiCalls: Counter;
  private readonly tokens: Counter;
  private readonly cachedTokens: Counter;
  private readonly reasoningTokens: Counter;
  private readonly firstToken: Histogram;
  private readonly cost: Counter;
  private readonly unpriced: Counter;
  private readonly semconv: { duration: Histogram; tokens: Histogram } | undefined;
  private readonly models: BoundedLabel;
  private readonly routes: BoundedLabel;

  constructor(
    meter: Meter,
    private readonly pricer: Pricer,
    options: { modelLimit: number; routeLimit: number; semconv: boolean },
  ) {
    this.duration = meter.createHistogram(CATALOGUE.aiGenerationDuration.name, {
      description: CATALOGUE.aiGenerationDuration.description,
      unit: CATALOGUE.aiGenerationDuration.unit,
      advice: { explicitBucketBoundaries: AI_DURATION_BUCKETS },
    });
    const counter = (metric: { name: string; description: string }): Counter => meter.createCounter(metric.name, { description: metric.description });
    this.generations = counter(CATALOGUE.aiGenerations);
    this.apiCalls = counter(CATALOGUE.aiApiCalls);
    this.tokens = counter(CATALOGUE.aiTokens);
    this.cachedTokens = counter(CATALOGUE.aiCachedInputTokens);
    this.reasoningTokens = counter(CATALOGUE.aiReasoningTokens);
    this.firstToken = meter.createHistogram(CATALOGUE.aiTimeToFirstToken.name, {
      description: CATALOGUE.aiTimeToFirstToken.description,
      unit: CATALOGUE.aiTimeToFirstToken.unit,
      advice: { explicitBucketBoundaries: AI_TTFT_BUCKETS },
    });
    this.cost = meter.createCounter(CATALOGUE.aiCost.name, {
      description: CATALOGUE.aiCost.description.replace(PRICE_TABLE_PLACEHOLDER, () => pricer.table.version),
    });
    this.unpriced = meter.createCounter(CATALOGUE.aiUnpricedCalls.name, {
      description: CATALOGUE.aiUnpricedCalls.description,
    });
    if (options.semconv) {
      this.semconv = {
        duration: meter.createHistogram(CATALOGUE.genAiClientOperationDuration.instrument, {
          description: CATALOGUE.genAiClientOperationDuration.description,
          unit: CATALOGUE.genAiClientOperationDuration.unit,
          advice: { explicitBucketBoundaries: SEMCONV_DURATION_BUCKETS },
        }),
        tokens: meter.createHistogram(CATALOGUE.genAiClientTokenUsage.instrument, {
          description: CATALOGUE.genAiClientTokenUsage.description,
          unit: CATALOGUE.genAiClientTokenUsage.unit,
          advice: { explicitBucketBoundaries: SEMCONV_TOKEN_BUCKETS },
        }),
      };
    }
    this.models = new BoundedLabel(options.modelLimit, MODEL_OVERFLOW);
    this.routes = new BoundedLabel(options.routeLimit, OVERFLOW_ROUTE);
  }

  /** The bounded model label. */
  modelLabel(model: string | undefined): string {
    return this.models.admit(model ?? UNKNOWN_MODEL);
  }

  /** One HTTP attempt; `statusCode` undefined when no response came (connection error, timeout, abort). */
  recordAttempt(model: string | undefined, operation: Operation, statusCode: number | undefined): void {
    this.apiCalls.add(1, {
      model: this.modelLabel(model),
      operation,
      status_code: statusCode === undefined ? 'error' : String(statusCode),
    });
  }

  recordGeneration(g: FinishedGeneration): void {
    const model = this.modelLabel(g.model);
    const base = { provider: g.provider, model, operation: g.operation };
    this.generations.add(1, { ...base, status: g.status });
    // A cancelled generation's length is the app's choice, not the model's latency.
    if (g.status !== 'cancelled') this.duration.record(g.seconds, { ...base, stream: String(g.stream) });
    if (g.stream && g.firstTokenSeconds !== undefined) this.firstToken.record(g.firstTokenSeconds, base);

    const usage = g.usage;
    if (usage) {
      const route = this.routes.admit(g.route);
      if (usage.input !== undefined) this.tokens.add(usage.input, { model, token_type: 'input', route });
      if (usage.output !== undefined && g.operation !== 'embeddings') this.tokens.add(usage.output, { model, token_type: 'output', route });
      if (usage.cachedInput) this.cachedTokens.add(usage.cachedInput, { model, route });
      if (usage.reasoning) this.reasoningTokens.add(usage.reasoning, { model, route });
      // The answering model names the exact version; the asked-for name is the fallback.
      let dollars = g.responseModel ? this.pricer.cost(g.responseModel, usage) : undefined;
      if (dollars === undefined && g.requestModel) dollars = this.pricer.cost(g.requestModel, usage);
      if (dollars === undefined) this.unpriced.add(1, { provider: g.provider, model });
      else this.cost.add(dollars, { provider: g.provider, model, route });
    }

    if (this.semconv) {
      const attributes: Attributes = {
        'gen_ai.provider.name': g.provider,
        'gen_ai.operation.name': g.semconvOperation,
        'gen_ai.request.model': model,
      };
      if (g.responseModel) attributes['gen_ai.response.model'] = this.modelLabel(g.responseModel);
      if (g.errorType) attributes['error.type'] = g.errorType;
      this.semconv.duration.record(g.seconds, attributes);
      if (usage?.input !== undefined) this.semconv.tokens.record(usage.input, { ...attributes, 'gen_ai.token.type': 'input' });
      if (usage?.output !== undefined && g.operation !== 'embeddings') {
        this.semconv.tokens.record(usage.output, { ...attributes, 'gen_ai.token.type': 'output' });
      }
    }
  }
}

export { OVERFLOW_ROUTE };
