/**
 * One HTTP(S) request on `node:http`/`node:https`, through the proxy `@actions/http-client` would take: the small
 * client behind the OIDC token request and STS's `AssumeRoleWithWebIdentity`, which would otherwise load undici or
 * the AWS SDK, most of what starting an action costs.
 */
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { getProxyUrl } from '@actions/http-client/lib/proxy';

export interface HttpRequest {
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string;
}

export interface HttpAnswer {
  status: number;
  /** Header names in lower case, as Node gives them. */
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** No connection within its time: the SDK's name for it, so that `isTransientError` retries it. */
export class ConnectTimeoutError extends Error {
  override readonly name = 'TimeoutError';

  constructor(host: string, ms: number) {
    super(`could not connect to ${host} within ${ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`}`);
  }
}

/**
 * Sends `request` to `url` and reads the whole answer (status, headers, body as UTF-8). The proxy is the one
 * `@actions/http-client` would take for this URL (`https_proxy`/`HTTPS_PROXY` for https, `http_proxy`/`HTTP_PROXY`
 * for http, none for loopback hosts or a host in `no_proxy`/`NO_PROXY`, read by its own `getProxyUrl`), gone through
 * with an HTTP `CONNECT` tunnel (TLS inside it for an https URL) as `@actions/http-client` goes through one; the
 * proxy URL's user and password become `Proxy-Authorization: Basic`. `signal` (from `retry`) destroys the request and
 * the tunnel, so an abandoned attempt leaves no socket. `connectMs` bounds the TCP connection (to the proxy, through
 * one) as the SDK's `connectionTimeout` did, with a {@link ConnectTimeoutError}: a black-holed route is given up well
 * before the attempt's own timeout.
 * Rejects on a network error, a proxy's refusal (an error carrying the proxy's status as `$metadata.httpStatusCode`,
 * as an AWS error carries its own) or the signal's abort; any HTTP status resolves.
 */
export async function send(
  url: URL,
  request: HttpRequest,
  options: { signal?: AbortSignal; connectMs?: number } = {},
): Promise<HttpAnswer> {
  const { signal, connectMs } = options;
  const proxy = getProxyUrl(url);
  const tunnel = proxy ? await connectThrough(proxy, url, signal, connectMs) : undefined;
  const https = url.protocol === 'https:';
  // No agent: Node then opens the request on this connection (with `agent: false` it would dial the host itself).
  const through = tunnel && {
    createConnection: () => (https ? tlsConnect({ socket: tunnel, servername: url.hostname }) : tunnel),
  };
  const headers = request.body === undefined ? request.headers : { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) };
  return new Promise((resolve, reject) => {
    const open = https ? httpsRequest : httpRequest;
    const outgoing = open(url, { method: request.method, headers, signal, ...through }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    if (!tunnel && connectMs !== undefined) limitConnect(outgoing, url.host, connectMs);
    outgoing.on('error', reject);
    outgoing.on('close', () => tunnel?.destroy());
    outgoing.end(request.body);
  });
}

interface Outgoing {
  on(event: 'socket', listener: (socket: Socket) => void): unknown;
  destroy(error: Error): void;
}

/** Destroys `outgoing` with a {@link ConnectTimeoutError} when its socket is not connected within `ms`. */
function limitConnect(outgoing: Outgoing, host: string, ms: number): void {
  outgoing.on('socket', (socket) => {
    if (!socket.connecting) return;
    const timer = setTimeout(() => outgoing.destroy(new ConnectTimeoutError(host, ms)), ms);
    socket.once('connect', () => clearTimeout(timer));
    socket.once('close', () => clearTimeout(timer));
  });
}

/** A socket to `target` through the proxy's `CONNECT`; a refusal is an error carrying the proxy's HTTP status. */
function connectThrough(proxy: URL, target: URL, signal: AbortSignal | undefined, connectMs: number | undefined): Promise<Socket> {
  const authority = `${target.hostname}:${target.port || (target.protocol === 'https:' ? '443' : '80')}`;
  // `getProxyUrl`'s URL gives the user and password decoded.
  const credentials = `${proxy.username}:${proxy.password}`;
  const auth = proxy.username ? { 'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}` } : {};
  return new Promise((resolve, reject) => {
    const secure = proxy.protocol === 'https:';
    const request = (secure ? httpsRequest : httpRequest)({
      host: proxy.hostname,
      port: proxy.port || (secure ? 443 : 80),
      method: 'CONNECT',
      path: authority,
      headers: { host: authority, ...auth },
      agent: false,
      signal,
    });
    if (connectMs !== undefined) limitConnect(request, proxy.host, connectMs);
    request.on('connect', (response, socket) => {
      if (response.statusCode === 200) return resolve(socket);
      socket.destroy();
      const status = response.statusCode ?? 0;
      // With the status as an AWS error carries it: `isTransientError` retries a 502 or 503, not a 407.
      const refused = new Error(`The proxy ${proxy.host} answered CONNECT ${authority} with HTTP ${status}`);
      reject(Object.assign(refused, { $metadata: { httpStatusCode: status } }));
    });
    request.on('error', reject);
    request.end();
  });
}

type Created = (error: Error | null, socket: Duplex) => void;
type AgentConnectOptions = ConnectionOptions & { host?: string };

/**
 * Agents for the AWS SDK's `NodeHttpHandler` (its `httpAgent` and `httpsAgent`) that go through the proxy `send`
 * takes, per connection: the same variables, the same `no_proxy` and loopback bypass, the same `CONNECT` tunnel
 * (TLS inside it for https), the same `Proxy-Authorization`, the proxy's connection bounded by `connectMs`. A host
 * the proxy rules bypass is dialled directly, as Node's own agents do. Keep-alive and at most 50 sockets per host,
 * as the SDK's default agents.
 */
export function proxyAgents(connectMs: number): { httpAgent: HttpAgent; httpsAgent: HttpsAgent } {
  const tunnelled = (secure: boolean, options: AgentConnectOptions, created: Created): boolean => {
    const target = new URL(`${secure ? 'https' : 'http'}://${options.host ?? 'localhost'}`);
    if (options.port) target.port = String(options.port);
    const proxy = getProxyUrl(target);
    if (!proxy) return false;
    connectThrough(proxy, target, undefined, connectMs).then(
      (tunnel) => created(null, secure ? tlsConnect({ ...options, socket: tunnel, servername: options.servername ?? target.hostname }) : tunnel),
      (error: Error) => created(error, undefined as unknown as Duplex),
    );
    return true;
  };
  // Node's agents accept a socket given later through the callback (`createConnection` returning nothing).
  class ProxyHttpAgent extends HttpAgent {
    override createConnection(options: AgentConnectOptions, created?: Created): Duplex | null | undefined {
      if (created && tunnelled(false, options, created)) return undefined;
      return super.createConnection(options, created);
    }
  }
  class ProxyHttpsAgent extends HttpsAgent {
    override createConnection(options: AgentConnectOptions, created?: Created): Duplex | null | undefined {
      if (created && tunnelled(true, options, created)) return undefined;
      return super.createConnection(options, created);
    }
  }
  const options = { keepAlive: true, maxSockets: 50 };
  return { httpAgent: new ProxyHttpAgent(options), httpsAgent: new ProxyHttpsAgent(options) };
}
