// Child processes of a benchmark run: every one is tracked and killed when the run ends, fails or
// is interrupted; readings of an app's CPU time and peak RSS come from /proc.
import { spawn, fork, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

const live = new Set();
const closers = new Set();
let cleanedUp = false;
let stopping = false;

/** True once the run is being torn down (interrupted, failed or timed out). */
export function isStopping() {
  return stopping;
}

/** Spawns a process that is killed (SIGKILL) when the benchmark ends, however it ends. */
export function spawnTracked(command, args, options = {}) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  return track(child);
}

/** Forks a Node script with an IPC channel, tracked like spawnTracked. */
export function forkTracked(script, args = [], options = {}) {
  const child = fork(script, args, { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], ...options });
  return track(child);
}

function track(child) {
  live.add(child);
  child.stdoutText = '';
  child.stderrText = '';
  child.stdout?.setEncoding('utf8').on('data', (d) => (child.stdoutText += d));
  child.stderr?.setEncoding('utf8').on('data', (d) => (child.stderrText = (child.stderrText + d).slice(-20_000)));
  child.exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      child.exitStatus = { code, signal };
      resolve(child.exitStatus);
    }),
  );
  return child;
}

/** Something to close when the run ends (servers, clients). */
export function onCleanup(close) {
  closers.add(close);
  return () => closers.delete(close);
}

export function killAll() {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

export async function cleanup() {
  if (cleanedUp) return;
  cleanedUp = true;
  killAll();
  for (const close of closers) {
    try {
      await close();
    } catch {
      // best effort
    }
  }
}

/** Kills children on Ctrl-C, SIGTERM, an uncaught error, or any exit, and bounds the whole run. */
export function installRunGuards(deadlineMs) {
  const bail = (why, code) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`\n[bench] ${why}; stopping every process it started\n`);
    killAll();
    void cleanup().finally(() => process.exit(code));
    setTimeout(() => process.exit(code), 3000).unref();
  };
  process.on('SIGINT', () => bail('interrupted', 130));
  process.on('SIGTERM', () => bail('terminated', 143));
  process.on('uncaughtException', (error) => bail(`failed: ${error?.stack ?? error}`, 1));
  process.on('unhandledRejection', (error) => bail(`failed: ${error?.stack ?? error}`, 1));
  process.on('exit', killAll);
  const timer = setTimeout(() => bail(`took longer than its bound of ${Math.round(deadlineMs / 1000)} s`, 1), deadlineMs);
  timer.unref();
}

/** Stops a child: SIGKILL, then waits for it to be gone. */
export async function stop(child) {
  if (child.exitStatus) return child.exitStatus;
  child.kill('SIGKILL');
  return child.exited;
}

/** A port that was free a moment ago on 127.0.0.1 (nothing listens on it afterwards). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until check() returns something other than undefined, or throws after timeoutMs. */
export async function waitFor(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await sleep(25);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError.message ?? lastError}` : ''}`);
}

/** Waits for an app that prints {"listening":port} on stdout. */
export function waitForListening(child, timeoutMs = 30_000) {
  return waitFor(
    () => {
      if (child.exitStatus) throw new Error(`app exited early (${JSON.stringify(child.exitStatus)}): ${child.stderrText.slice(-2000)}`);
      const match = /\{"listening":(\d+)\}/.exec(child.stdoutText);
      return match ? Number(match[1]) : undefined;
    },
    timeoutMs,
    'the app to listen',
  ).catch((error) => {
    throw new Error(`${error.message}\n--- app stderr ---\n${child.stderrText.slice(-2000)}`);
  });
}

let ticksPerSecond;
function clockTicks() {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU seconds the process has used so far (/proc/<pid>/stat utime + stime). */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name, which is in parentheses and may contain spaces.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / clockTicks();
}

/** Peak resident set size in MB (VmHWM from /proc/<pid>/status). */
export function peakRssMb(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) / 1024 : NaN;
}
