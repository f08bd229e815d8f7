/**
 * Hostile and measuring clients for the agent's port, on raw sockets: pipelined requests that are
 * never read, slow-loris connections, a latency sampler for the app's own route, and the app's
 * resident memory read from /proc.
 */
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';

/** Resident set size of a process, in bytes (Linux). */
export function rssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for ${pid}`);
  return Number(match[1]) * 1024;
}

/** Samples a process's RSS every `everyMs` until stopped; returns the highest value seen. */
export function sampleRss(pid: number, everyMs = 50): { stop: () => number } {
  let max = rssBytes(pid);
  const timer = setInterval(() => {
    try {
      max = Math.max(max, rssBytes(pid));
    } catch {
      // the process is gone: the caller's assertions will say so
    }
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return max;
    },
  };
}

/**
 * Opens `connections` sockets to 127.0.0.1:`port`, each writing `requests` pipelined
 * `GET <path>` at once and then never reading a byte. Resolves once everything is written to the
 * kernel (or the server dropped the connection).
 */
export async function pipelinedFlood(port: number, connections: number, requests: number, path = '/metrics'): Promise<net.Socket[]> {
  const payload = Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`.repeat(requests));
  return Promise.all(
    Array.from(
      { length: connections },
      () =>
        new Promise<net.Socket>((resolve) => {
          const socket = net.connect(port, '127.0.0.1');
          socket.pause();
          socket.on('error', () => resolve(socket));
          socket.on('close', () => resolve(socket));
          socket.on('connect', () => socket.write(payload, () => resolve(socket)));
        }),
    ),
  );
}

export interface SlowClients {
  /** Sockets that connected. */
  connected(): number;
  /** Sockets the server closed (or reset). */
  closed(): number;
  stop(): void;
}

/**
 * `count` slow-loris connections: each sends a request line and then one header line a second,
 * never finishing the headers.
 */
export function slowConnections(port: number, count: number): SlowClients {
  const sockets: net.Socket[] = [];
  let connected = 0;
  let closed = 0;
  for (let i = 0; i < count; i++) {
    const socket = net.connect(port, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => {});
    socket.on('data', () => {});
    socket.on('connect', () => {
      connected++;
      socket.write('GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    });
    socket.on('close', () => closed++);
  }
  let n = 0;
  const drip = setInterval(() => {
    n++;
    for (const socket of sockets) if (!socket.destroyed && socket.writable) socket.write(`x-slow-${n}: 1\r\n`);
  }, 1000);
  return {
    connected: () => connected,
    closed: () => closed,
    stop: () => {
      clearInterval(drip);
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** Latencies (ms) of sequential GETs to `url`, one every `everyMs`, until stopped; a failure counts as Infinity. */
export function sampleLatency(url: string, everyMs = 20, timeoutMs = 5000): { stop: () => Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
        await response.text();
        latencies.push(response.status === 200 ? performance.now() - started : Infinity);
      } catch {
        latencies.push(Infinity);
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return latencies;
    },
  };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** One raw request on its own connection; resolves with everything the server sent before closing (or after `timeoutMs`). */
export function rawExchange(port: number, request: string | Buffer, timeoutMs = 5000): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(request));
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer: false });
    }, timeoutMs);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closedByServer: true });
    });
  });
}
