/**
 * What the readiness probe needs to know about the app: has one of its HTTP servers started
 * listening, and has shutdown begun. Listening is seen through Node's `net.server.listen`
 * tracing channel, so no server method is patched.
 */
import * as dc from 'node:diagnostics_channel';
import { agentServers } from './internal';
import { guard } from './guard';

const state = { listening: false, shuttingDown: false };

export function appState(): Readonly<typeof state> {
  return state;
}

export function markShuttingDown(): void {
  state.shuttingDown = true;
}

export function watchAppListening(): void {
  dc.subscribe(
    'tracing:net.server.listen:asyncEnd',
    guard('listen channel', (message: unknown) => {
      const server = (message as { server?: object }).server;
      if (server && !agentServers.has(server)) state.listening = true;
    }),
  );
}
