/**
 * A loopback TCP proxy that can be "unplugged": while closed, connections to its port are refused,
 * exactly as when PostgreSQL is down, without touching the real server other tests use.
 */
import net from 'node:net';
import { onTestFinished } from 'vitest';
import { freePort } from './ports.js';

export interface TcpProxy {
  readonly port: number;
  open(): Promise<void>;
  /**
   * Stops forwarding either way on the open connections: what is sent waits, and a side that closes is
   * not told to the other, as on a link that went silent. New connections still pass.
   */
  hold(): void;
  close(): Promise<void>;
}

export async function createTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  const links = new Set<[net.Socket, net.Socket]>();
  let server: net.Server | undefined;
  const held = new Set<net.Socket>();

  const proxy: TcpProxy = {
    port,
    async open() {
      server = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on('close', () => sockets.delete(socket));
          socket.on('error', () => undefined);
        }
        client.pipe(upstream).pipe(client);
        const link: [net.Socket, net.Socket] = [client, upstream];
        links.add(link);
        client.on('close', () => links.delete(link));
        client.on('close', () => held.has(upstream) || upstream.destroy());
        upstream.on('close', () => held.has(client) || client.destroy());
      });
      await new Promise<void>((resolve) => server?.listen(port, '127.0.0.1', resolve));
    },
    hold() {
      for (const [client, upstream] of links) {
        held.add(client).add(upstream);
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.pause();
        upstream.pause();
      }
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      const closing = server;
      server = undefined;
      if (closing) await new Promise<void>((resolve) => closing.close(() => resolve()));
    },
  };
  onTestFinished(() => proxy.close());
  return proxy;
}
