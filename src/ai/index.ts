/**
 * AI meters: entry point called by lifecycle/start when the `openai` or `anthropic`
 * instrumentation is enabled (both are by default). Synchronous; loads nothing heavy. What it
 * measures and the variables it reads are in docs/ai-meters.md.
 */
import { trace } from '@opentelemetry/api';
import { createRouteTemplateLookup } from '../instrumentations/frameworks/route-template';
import type { AgentContext } from '../lifecycle/context';
import { log } from '../logging/logger';
import { readAiConfig } from './config';
import { HostList, ProviderMap } from './endpoints';
import type { AiRuntime } from './generation';
import { observeHttpCalls } from './http-observer';
import { AiMetrics } from './metrics';
import { Pricer } from './pricing';
import { currentRoute, trackInboundRequests } from './route-context';
import { instrumentAiSdks } from './sdk';

export const AI_TRACER_NAME = '@tutor/otel-agent';

export function startAiMeters(context: AgentContext): void {
  const config = readAiConfig(context.env, context.config, (message) => log.warn(message));
  const pricer = new Pricer(config.prices);
  const metrics = new AiMetrics(context.meter, pricer, {
    modelLimit: config.modelLimit,
    routeLimit: config.routeLimit,
    semconv: config.semconvMetrics,
  });
  const names = context.config.instrumentations;
  const templateOf = createRouteTemplateLookup({ express: names.has('express'), fastify: names.has('fastify') });
  const runtime: AiRuntime = {
    metrics,
    tracer: trace.getTracer(AI_TRACER_NAME),
    currentRoute: () => currentRoute(templateOf),
    captureContentChars: config.captureContentChars,
  };
  trackInboundRequests();
  const providers = new ProviderMap(config.providers);
  const packages = [...(config.openai ? ['openai'] : []), ...(config.anthropic ? ['@anthropic-ai/sdk'] : []), ...config.packageAliases];
  instrumentAiSdks({ runtime, config, providers, includeUsage: new HostList(config.includeUsageHosts) }, packages);
  observeHttpCalls({ runtime, config, providers });
}
