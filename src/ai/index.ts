/** AI meters: entry point called by lifecycle/start when the `openai` or `anthropic` instrumentation is enabled. */
import type { AgentContext } from '../lifecycle/context';

export function startAiMeters(context: AgentContext): void {
  void context;
}
