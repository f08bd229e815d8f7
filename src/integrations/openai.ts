/**
 * `openai`: the AI meters for the openai SDK (and, with the `anthropic` integration, plain fetch
 * calls to known AI hosts). The meters' code is loaded only when an AI integration is enabled.
 */
import type { Integration } from './types';

export const openaiIntegration: Integration = {
  name: 'openai',
  switchable: true,
  provides: ['metrics', 'spans'],
  // Aliased installs (`"openai-v4": "npm:openai@^4"`) are hooked too; see TUTOR_OTEL_AI_PACKAGE_ALIASES.
  patches: (config) => ['openai', ...config.aiPackageAliases],
  start(context) {
    (require('../ai') as typeof import('../ai')).startAiMeters(context);
  },
};
