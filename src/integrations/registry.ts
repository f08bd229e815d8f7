/**
 * Every integration the agent ships, in start order (in the manner of EDOT Node's
 * instrumentations table). Adding an integration is one module in this folder and one line here;
 * nothing else names integrations: config, the ESM hook, tracing, /health and start-up all read
 * this list. Sentry comes after the client integrations: its breadcrumbs subscribe to the channels
 * they put on the context when they start.
 */
import { anthropicIntegration } from './anthropic';
import { expressIntegration } from './express';
import { fastifyIntegration } from './fastify';
import { hapiIntegration } from './hapi';
import { honoIntegration } from './hono';
import { httpIntegration } from './http';
import { ioredisIntegration } from './ioredis';
import { koaIntegration } from './koa';
import { nestjsIntegration } from './nestjs';
import { openaiIntegration } from './openai';
import { pgIntegration } from './pg';
import { redisIntegration } from './redis';
import { runtimeIntegration } from './runtime';
import { sentryIntegration } from './sentry';
import type { Integration } from './types';
import { undiciIntegration } from './undici';

export const INTEGRATIONS: readonly Integration[] = [
  httpIntegration,
  undiciIntegration,
  pgIntegration,
  ioredisIntegration,
  redisIntegration,
  expressIntegration,
  fastifyIntegration,
  koaIntegration,
  honoIntegration,
  hapiIntegration,
  nestjsIntegration,
  openaiIntegration,
  anthropicIntegration,
  sentryIntegration,
  runtimeIntegration,
];
