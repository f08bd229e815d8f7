/** A downstream service for propagation tests: answers with the headers it received, and keeps them. */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export class HeaderEcho {
  readonly seen: http.IncomingHttpHeaders[] = [];
  private server = http.createServer((req, res) => {
    this.seen.push(req.headers);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.headers));
  });

  async start(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
