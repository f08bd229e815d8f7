/** A private redis-server on a free port (e.g. with a password), for tests that need one configured differently from the shared one. */
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort, waitFor } from './ports';
import * as net from 'node:net';

export class PrivateRedis {
  private child: ChildProcess | undefined;
  port = 0;

  async start(args: string[] = []): Promise<number> {
    this.port = await freePort();
    this.child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], {
      stdio: 'ignore',
    });
    await waitFor(
      () =>
        new Promise<true | undefined>((resolve) => {
          const socket = net.connect(this.port, '127.0.0.1', () => {
            socket.destroy();
            resolve(true);
          });
          socket.on('error', () => resolve(undefined));
        }),
      10_000,
      'redis-server to listen',
    );
    return this.port;
  }

  stop(): void {
    this.child?.kill('SIGKILL');
  }
}
