/**
 * The preload entry: `node --import @tutor/otel-agent app.js` (ESM or CommonJS apps) or
 * `node --require @tutor/otel-agent app.js`. Nothing heavy is loaded until preflight says the
 * agent starts here; nothing here may throw into the app.
 */
import { preflight } from './src/lifecycle/preflight';

try {
  const decision = preflight();
  if (decision.start) {
    (require('./src/lifecycle/start') as typeof import('./src/lifecycle/start')).start();
  } else if (decision.say) {
    process.stderr.write(`[otel-agent] warn: ${decision.say}\n`);
  }
} catch (error) {
  try {
    process.stderr.write(`[otel-agent] error: the agent could not start (${String(error)}); the app runs without it\n`);
  } catch {
    // nothing left to report to
  }
}
