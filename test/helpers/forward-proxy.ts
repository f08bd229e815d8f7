/**
 * A small real HTTP proxy on loopback, as corporate egress proxies behave: a plain forward proxy
 * for http targets (absolute URL in the request line) and an HTTP CONNECT tunnel for https
 * targets. It records what passed through it (method and target, never bodies) and, when given
 * credentials, answers 407 to requests without the matching `Proxy-Authorization`.
 */
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  method: string;
  /** The absolute URL (forward) or host:port (CONNECT). */
  target: string;
  authorized: boolean;
}

export class ForwardProxy {
  readonly seen: ProxiedRequest[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly server = http.createServer((req, res) => this.forward(req, res));

  constructor(private readonly credentials?: { user: string; password: string }) {
    this.server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.tunnel(req, socket, head));
    this.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The proxy URL with its credentials, as a user puts it in https_proxy. */
  url(base: string): string {
    if (!this.credentials) return base;
    return base.replace('http://', `http://${encodeURIComponent(this.credentials.user)}:${encodeURIComponent(this.credentials.password)}@`);
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private authorized(req: http.IncomingMessage): boolean {
    if (!this.credentials) return true;
    const expected = `Basic ${Buffer.from(`${this.credentials.user}:${this.credentials.password}`).toString('base64')}`;
    return req.headers['proxy-authorization'] === expected;
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const authorized = this.authorized(req);
    this.seen.push({ method: req.method ?? '', target: req.url ?? '', authorized });
    if (!authorized) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="proxy"' }).end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end();
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const upstream = http.request(
      { method: req.method, hostname: target.hostname, port: target.port, path: `${target.pathname}${target.search}`, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end());
    req.pipe(upstream);
  }

  private tunnel(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    const authorized = this.authorized(req);
    this.seen.push({ method: 'CONNECT', target: req.url ?? '', authorized });
    if (!authorized) {
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="proxy"\r\n\r\n');
      return;
    }
    const [host = '', port = '443'] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = net.connect(Number(port), host.replace(/^\[|\]$/g, ''), () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    this.sockets.add(upstream);
    upstream.on('close', () => this.sockets.delete(upstream));
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  }
}
