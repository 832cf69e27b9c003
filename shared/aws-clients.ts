/**
 * The one way this project makes AWS SDK clients. Generic over the client class, so that an action's bundle only
 * contains the clients it uses (the EC2 client alone is several megabytes; assume-role must stay small).
 *
 * No `endpoint` is ever set: the SDK then keeps honouring `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`
 * (and `endpoint_url` in the shared config file), which is how the sandbox, VPC endpoints and LocalStack point
 * the actions elsewhere.
 */
import type { STSClientConfig } from '@aws-sdk/client-sts';
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

/** What every client gets; a subset of every SDK v3 client's configuration. */
export interface SharedClientConfig {
  region: string;
  credentials?: Credentials;
  retryMode: 'standard' | 'adaptive';
  maxAttempts: number;
  /** Appended to the SDK's own user agent as `nixos-aws/<version>`, so CloudTrail shows who called. */
  customUserAgent: Array<[string, string]>;
}

export function clientConfig(options: ClientOptions): SharedClientConfig {
  return {
    region: options.region,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    retryMode: options.retryMode ?? 'adaptive',
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    customUserAgent: [[PROJECT_NAME, PROJECT_VERSION]],
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
  const config = clientConfig(options);
  return <C>(Client: ClientClass<C>): C => {
    if (!made.has(Client)) made.set(Client, new Client(config));
    return made.get(Client) as C;
  };
}
