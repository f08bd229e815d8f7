// The parent's side of load.mjs: one long-lived load process, one phase at a time.
import { forkTracked, stop, waitFor } from './processes.mjs';
import { LOAD, REPO } from './setups.mjs';

export async function startLoad() {
  const child = forkTracked(LOAD, [], { cwd: REPO, execPath: process.execPath, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } });
  let ready = false;
  let pending;
  child.on('message', (message) => {
    if (message?.type === 'ready') ready = true;
    else if (message?.type === 'result') pending?.resolve(message.result);
    else if (message?.type === 'error') pending?.reject(new Error(`load generator: ${message.error}`));
  });
  child.once('exit', () => pending?.reject(new Error(`load generator exited: ${child.stderrText.slice(-1000)}`)));
  await waitFor(() => (ready ? true : child.exitStatus ? Promise.reject(new Error(child.stderrText)) : undefined), 30_000, 'the load generator');

  return {
    /** Runs one phase; rejects if it takes far longer than asked. */
    run(phase) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`load phase ${phase.mode} did not finish in time`)), (phase.seconds + 30) * 1000);
        pending = {
          resolve: (value) => (clearTimeout(timer), (pending = undefined), resolve(value)),
          reject: (error) => (clearTimeout(timer), (pending = undefined), reject(error)),
        };
        child.send({ type: 'run', phase });
      });
    },
    async close() {
      if (child.connected) child.send({ type: 'exit' });
      await Promise.race([child.exited, new Promise((r) => setTimeout(r, 2000))]);
      await stop(child);
    },
  };
}
