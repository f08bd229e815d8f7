/** Packages the AI meters patch; the ESM hook must include them. Kept free of imports so reading it costs nothing. */
export const AI_PACKAGES = ['openai', '@anthropic-ai/sdk'];
