/**
 * AI meters: started by the `openai` and `anthropic` integrations (both enabled by default; the
 * first to start does it, once). Synchronous; loads nothing heavy. What it measures and the
 * variables it reads are in docs/ai-meters.md.
 */
import { trace } from '@opentelemetry/api';
import type { IntegrationContext } from '../integrations/types';
import { log } from '../logging/logger';
import { readAiConfig } from './config';
import { HostList, ProviderMap } from './endpoints';
import { OperationChannel } from '../instrumentations/operation-channel';
import type { AiRuntime, Generation } from './generation';
import { observeHttpCalls } from './http-observer';
import { AiMetrics } from './metrics';
import { Pricer } from './pricing';
import { routeOfCurrentRequest } from './route-context';
import { instrumentAiSdks } from './sdk';

export const AI_TRACER_NAME = '@tutor/otel-agent';

let started = false;

export function startAiMeters(context: IntegrationContext): void {
  if (started) return;
  started = true;
  const agent = context.config;
  const config = readAiConfig(context.env, agent, (message) => log.warn(message));
  const pricer = new Pricer(config.prices);
  const metrics = new AiMetrics(context.metrics.meter, pricer, {
    modelLimit: config.modelLimit,
    routeLimit: config.routeLimit,
    semconv: config.semconvMetrics,
  });
  const runtime: AiRuntime = {
    metrics,
    tracer: trace.getTracer(AI_TRACER_NAME),
    currentRoute: routeOfCurrentRequest(context.requests),
    captureContentChars: config.captureContentChars,
    generations: new OperationChannel<Generation>('AI generation'),
  };
  context.channels.aiGenerations = runtime.generations;
  const providers = new ProviderMap(config.providers);
  const packages = [...(config.openai ? ['openai'] : []), ...(config.anthropic ? ['@anthropic-ai/sdk'] : []), ...agent.aiPackageAliases];
  instrumentAiSdks({ runtime, config, providers, includeUsage: new HostList(config.includeUsageHosts) }, packages);
  observeHttpCalls({ runtime, config, providers });
}
