/**
 * `send`'s connection bound, against a real black hole: a listener with a backlog of one whose process is stopped,
 * so that once its queue is full the kernel drops every further SYN and a connect hangs, as on a black-holed route.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { ConnectTimeoutError, send } from './http-send.js';
import { isTransientError } from './transient.js';

let hole: ChildProcess;
let holePort: number;
const fillers: Socket[] = [];

beforeAll(async () => {
  const listen = "const s=require('net').createServer();s.listen({port:0,host:'127.0.0.1',backlog:1},()=>console.log(s.address().port))";
  hole = spawn(process.execPath, ['-e', listen], { stdio: ['ignore', 'pipe', 'inherit'] });
  holePort = await new Promise<number>((resolve) => hole.stdout!.once('data', (data) => resolve(Number(String(data)))));
  hole.kill('SIGSTOP');
  // Two connections fill the accept queue of a listener that accepts nothing more.
  for (let i = 0; i < 2; i += 1) {
    const socket = connect(holePort, '127.0.0.1');
    fillers.push(socket);
    await new Promise((resolve) => socket.once('connect', resolve));
  }
});
afterAll(() => {
  for (const socket of fillers) socket.destroy();
  hole.kill('SIGKILL');
});

const POST = { method: 'POST' as const, headers: { 'content-type': 'text/plain' }, body: 'x' };

describe('send', () => {
  it.each<[string, () => URL, Record<string, string>, () => string]>([
    ['straight to the host', () => new URL(`http://127.0.0.1:${holePort}/`), {}, () => `127.0.0.1:${holePort}`],
    ['to the proxy, for a host behind it', () => new URL('http://sts.vpce.example/'), { http_proxy: 'PROXY' }, () => `127.0.0.1:${holePort}`],
  ])('gives up a connection that is not made within connectMs: %s', async (_case, url, proxyEnv, host) => {
    const saved = { http_proxy: process.env.http_proxy, no_proxy: process.env.no_proxy };
    for (const [name, value] of Object.entries(proxyEnv)) process.env[name] = value.replace('PROXY', `http://127.0.0.1:${holePort}`);
    try {
      const error = await send(url(), POST, { connectMs: 300 }).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ConnectTimeoutError);
      expect((error as Error).message).toBe(`could not connect to ${host()} within 300 ms`);
      // Retried like the SDK's own TimeoutError.
      expect(isTransientError(error)).toBe(true);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  describe('with a server that connects at once and answers late', () => {
    let server: Server;
    beforeAll(async () => {
      server = createServer((request, response) => {
        request.resume();
        setTimeout(() => response.writeHead(200, { 'content-type': 'text/plain' }).end(`got ${request.method}`), 1_500);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('does not count the wait for the answer against connectMs', async () => {
      const url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      await expect(send(url, POST, { connectMs: 1_000 })).resolves.toMatchObject({ status: 200, text: 'got POST' });
    });
  });
});
