/** `anthropic` (alias `@anthropic-ai/sdk`): the AI meters for the Anthropic SDK (see openai.ts). */
import type { Integration } from './types';

export const anthropicIntegration: Integration = {
  name: 'anthropic',
  aliases: ['@anthropic-ai/sdk'],
  switchable: true,
  provides: ['metrics', 'spans'],
  patches: (config) => ['@anthropic-ai/sdk', ...config.aiPackageAliases],
  start(context) {
    (require('../ai') as typeof import('../ai')).startAiMeters(context);
  },
};
