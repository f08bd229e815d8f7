/**
 * Packages the AI meters patch; the ESM hook must include them. Kept free of imports so reading it
 * costs nothing. Besides `openai` and `@anthropic-ai/sdk`, an app may have installed one of them
 * under an npm alias (`"openai-v4": "npm:openai@^4"`, to run two majors side by side): such names
 * are listed in TUTOR_OTEL_AI_PACKAGE_ALIASES (checked and warned about in ./config).
 */
const ALIAS_NAME = /^(@[a-z0-9][a-z0-9._-]*\/)?[a-z0-9][a-z0-9._-]*$/;

function aliasesFromEnv(): string[] {
  const text = typeof process === 'object' ? process.env.TUTOR_OTEL_AI_PACKAGE_ALIASES : undefined;
  if (!text) return [];
  const names = text
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '');
  return names.every((name) => ALIAS_NAME.test(name)) ? names : [];
}

export const AI_PACKAGES = ['openai', '@anthropic-ai/sdk', ...aliasesFromEnv()];
