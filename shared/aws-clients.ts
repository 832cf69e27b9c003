/**
 * The one way this project makes AWS SDK clients. Generic over the client class, so that an action's bundle only
 * contains the clients it uses (the EC2 client alone is several megabytes; assume-role must stay small).
 *
 * No `endpoint` is ever set: the SDK then keeps honouring `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`
 * (and `endpoint_url` in the shared config file), which is how the sandbox, VPC endpoints and LocalStack point
 * the actions elsewhere.
 */
import type { STSClientConfig } from '@aws-sdk/client-sts';
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent } from 'node:https';
import { proxyAgents } from './http-send.js';
import { PROJECT_NAME, PROJECT_VERSION } from './version.js';

/** Static keys, or a provider the SDK calls (and refreshes) on demand. */
export type Credentials = NonNullable<STSClientConfig['credentials']>;

export interface ClientOptions {
  region: string;
  /** Omitted: the SDK's default chain (environment, shared files, web identity, container, instance metadata). */
  credentials?: Credentials;
  /** Attempts per request, the first included. Default {@link DEFAULT_MAX_ATTEMPTS}. */
  maxAttempts?: number;
  /**
   * Default `adaptive`. A caller that runs its own retry policy (maxAttempts 1) takes `standard`, so the adaptive
   * rate limiter does not add its own delays on top of that policy's backoff.
   */
  retryMode?: 'standard' | 'adaptive';
}

/**
 * Five attempts, the SDK's default being three. With the SDK's backoff (full jitter, base 1 s for throttling,
 * 50 ms otherwise) five attempts wait at most 1+2+4+8 = 15 s on a throttled call (about 7.5 s on average):
 * enough to ride out a throttling burst from a matrix of jobs sharing one account's Auto Scaling or SSM
 * bucket, short enough that a poll interval is not swallowed whole and a permanent outage fails within a
 * minute. Adaptive mode adds a client-side rate limiter that slows this client down once it is throttled.
 * Errors that cannot succeed on retry (AccessDenied, ValidationError) are never retried by the SDK.
 */
export const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * How long one attempt may take to connect. AWS endpoints (and VPC endpoints) accept a TCP connection in
 * milliseconds; five seconds is a dead route, a black-holed proxy or a saturated NAT, all worth a new attempt.
 */
export const CONNECT_TIMEOUT_MS = 5_000;

/**
 * How long one attempt may take from sending the request to the answer's headers, and how long the socket may then
 * stay silent while the body arrives. The SDK's own defaults are none and five minutes of silence, so a call that
 * hangs holds a deploy for five minutes per attempt. Every call of these actions is a small control-plane request
 * that AWS answers in well under a second (a page of 50 invocations with details in about one); fifteen seconds is
 * an outage, and the attempt is abandoned with a `TimeoutError`, which the SDK retries like any transient error.
 */
export const ATTEMPT_TIMEOUT_MS = 15_000;

/**
 * For tests only: a shorter per-attempt timeout (milliseconds), so that a test can hang a request and see the retry
 * within a fraction of a second. It applies to AWS calls and the OIDC token request, and can only shorten: a value
 * above the defaults, or not a positive number, is ignored.
 */
export const TEST_TIMEOUT_VARIABLE = 'NIXOS_AWS_TEST_ATTEMPT_TIMEOUT_MS';

/** The per-attempt timeouts in force: the defaults, or shorter ones from {@link TEST_TIMEOUT_VARIABLE}. */
export function attemptTimeouts(env: NodeJS.ProcessEnv = process.env): { connectMs: number; attemptMs: number } {
  const override = Number(env[TEST_TIMEOUT_VARIABLE]);
  const shorten = (ms: number) => (Number.isFinite(override) && override > 0 ? Math.min(ms, override) : ms);
  return { connectMs: shorten(CONNECT_TIMEOUT_MS), attemptMs: shorten(ATTEMPT_TIMEOUT_MS) };
}

/** What every client gets; a subset of every SDK v3 client's configuration. */
export interface SharedClientConfig {
  region: string;
  credentials?: Credentials;
  retryMode: 'standard' | 'adaptive';
  maxAttempts: number;
  /** Appended to the SDK's own user agent as `nixos-aws/<version>`, so CloudTrail shows who called. */
  customUserAgent: Array<[string, string]>;
  /**
   * The options of the SDK's Node HTTP handler: per-attempt timeouts (see {@link ATTEMPT_TIMEOUT_MS}), and agents
   * that go through `HTTPS_PROXY`/`HTTP_PROXY` save for `NO_PROXY`, as the OIDC token request does (`proxyAgents`).
   */
  requestHandler: {
    connectionTimeout: number;
    requestTimeout: number;
    throwOnRequestTimeout: true;
    socketTimeout: number;
    httpAgent: HttpAgent;
    httpsAgent: HttpsAgent;
  };
}

export function clientConfig(options: ClientOptions, env: NodeJS.ProcessEnv = process.env): SharedClientConfig {
  const { connectMs, attemptMs } = attemptTimeouts(env);
  return {
    region: options.region,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    retryMode: options.retryMode ?? 'adaptive',
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    customUserAgent: [[PROJECT_NAME, PROJECT_VERSION]],
    // requestTimeout alone only logs a warning (smithy node-http-handler 4.x): throwOnRequestTimeout makes it end
    // the attempt. socketTimeout bounds a silence after the headers, which requestTimeout no longer watches.
    // Options rather than a handler, and agents made per call: each client builds its own, so destroying one closes
    // no other's sockets.
    // The SDK alone ignores the proxy variables, which self-hosted runners behind a proxy set.
    requestHandler: {
      connectionTimeout: connectMs,
      requestTimeout: attemptMs,
      throwOnRequestTimeout: true,
      socketTimeout: attemptMs,
      ...proxyAgents(connectMs),
    },
  };
}

/** Any SDK v3 client class: `STSClient`, `EC2Client`, `AutoScalingClient`, `SSMClient`. */
export type ClientClass<C> = new (config: SharedClientConfig) => C;

/**
 * Makes (once) and returns the client of a class: `const asg = clients(AutoScalingClient)`. One instance per class
 * and factory, because the retry quota and the adaptive rate limiter live in the instance: every call of an
 * action to one service should learn from the same throttling. Tests fake it with any function of this type.
 */
export type ClientFactory = <C>(Client: ClientClass<C>) => C;

export function clientFactory(options: ClientOptions): ClientFactory {
  const made = new Map<ClientClass<unknown>, unknown>();
  return <C>(Client: ClientClass<C>): C => {
    if (!made.has(Client)) {
      const client = new Client(clientConfig(options));
      nameFailedCalls(client as unknown as MiddlewareHost);
      made.set(Client, client);
    }
    return made.get(Client) as C;
  };
}

interface MiddlewareHost {
  middlewareStack: {
    add(middleware: unknown, options: { step: string; name: string; priority?: string }): void;
  };
}

type Next = (args: unknown) => Promise<{ response: unknown; output?: unknown }>;
interface Context {
  clientName?: string;
  commandName?: string;
}
interface RawResponse {
  statusCode?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/** Content types of AWS's own answers: Query and EC2 XML, awsJson. */
const AWS_CONTENT = /xml|json/i;

/**
 * Every failed call names its operation and service (`$operation`, `$service`), and an answer that is not AWS's
 * (an HTML 502 from a proxy) keeps its start as `$responseBodyText`, so that `errorMessage` can say which call got
 * what. The SDK keeps the body only for XML; for awsJson it has read the stream by the time the error is thrown.
 */
function nameFailedCalls(client: MiddlewareHost): void {
  client.middlewareStack.add(
    (next: Next, context: Context) => async (args: unknown) => {
      try {
        return await next(args);
      } catch (error) {
        if (typeof error === 'object' && error !== null && !('$operation' in error)) {
          Object.defineProperties(error, {
            $operation: { value: context.commandName?.replace(/Command$/, '') },
            $service: { value: context.clientName?.replace(/Client$/, '') },
          });
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'nixosAwsNameFailedCalls', priority: 'high' },
  );
  // Innermost: sees the raw answer of each attempt before the deserializer reads it.
  client.middlewareStack.add(
    (next: Next) => async (args: unknown) => {
      const result = await next(args);
      const response = result.response as RawResponse;
      const type = Object.entries(response.headers ?? {}).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
      if (type !== undefined && !AWS_CONTENT.test(type) && isStream(response.body)) {
        const bytes = await readAll(response.body);
        Object.defineProperty(response, '$foreignBodyText', { value: bytes.toString('utf8'), configurable: true });
        response.body = new Uint8Array(bytes);
      }
      return result;
    },
    { step: 'deserialize', name: 'nixosAwsKeepForeignBody', priority: 'low' },
  );
}

function isStream(body: unknown): body is AsyncIterable<Uint8Array> {
  return typeof body === 'object' && body !== null && Symbol.asyncIterator in body;
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
