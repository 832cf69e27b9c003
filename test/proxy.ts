/** A real HTTP proxy for the end-to-end tests, on 127.0.0.1. */
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/**
 * An HTTP proxy that tunnels `CONNECT host:port` to 127.0.0.1:port, recording each request line and its
 * Proxy-Authorization; with `refuse`, it answers that status instead. Tests name hosts that do not resolve
 * (`.example`) in the URLs they give the step, so its requests can only arrive through the proxy, as on a runner
 * whose only way out is one.
 */
export async function startProxy(refuse?: number): Promise<{ url: string; seen: Array<{ authority: string; auth?: string }>; close(): Promise<void> }> {
  const seen: Array<{ authority: string; auth?: string }> = [];
  const tunnels = new Set<Socket>();
  const server = createServer((_request, response) => response.writeHead(405).end());
  server.on('connect', (request: IncomingMessage, client: Socket) => {
    tunnels.add(client);
    seen.push({ authority: request.url ?? '', auth: request.headers['proxy-authorization'] });
    if (refuse) return client.end(`HTTP/1.1 ${refuse} Refused\r\nContent-Length: 0\r\n\r\n`);
    const upstream = connect(Number(new URL(`http://${request.url}`).port), '127.0.0.1', () => {
      tunnels.add(upstream);
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    // Tunnels are no longer the server's connections: a kept-alive one would hold close() open.
    close: () => {
      for (const socket of tunnels) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
