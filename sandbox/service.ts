import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Refine } from './models/validate.js';
import type { Clock } from './clock.js';

/**
 * What every service reads of the account it serves: the Sandbox implements it. Services take this (and the
 * peers they need, by their own types) rather than the Sandbox, so that no service imports the server.
 * Read lazily: `reset()` replaces the clock.
 */
export interface Account {
  readonly region: string;
  readonly accountId: string;
  readonly clock: Clock;
  /** The sandbox's base URL (`http://127.0.0.1:<port>`), once started. */
  readonly url: string;
}

export interface CallContext {
  /** Assumed role ARN, access key ID or `anonymous`. */
  caller: string;
  accessKeyId?: string;
  requestId: string;
  sandbox: Account;
  /** The region the request was signed for (its SigV4 credential scope); the sandbox's own when unsigned. */
  region?: string;
  /** restJson: the raw body of an operation whose input has a blob payload (EBS's block data). */
  payload?: Buffer;
}

/** Takes decoded parameters, returns the result object (field names as on the wire) or throws AwsError. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Operation = (params: any, call: CallContext) => unknown;

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  handle(req: IncomingMessage, res: ServerResponse, url: URL): void | Promise<void>;
}

export interface Service {
  /** Short name used in the call log and fault specs: `sts`, `ec2`, `autoscaling`, `ssm`, `ebs`, `oidc`. */
  readonly name: string;
  readonly protocol: 'query' | 'ec2' | 'json' | 'rest-json';
  /** Query protocols: the `Version` parameter that identifies the API. */
  readonly apiVersion?: string;
  readonly xmlns?: string;
  /** awsJson: the `X-Amz-Target` prefix. */
  readonly targetPrefix?: string;
  readonly operations: Record<string, Operation>;
  /** Service-specific answers to requests the model refuses (see `validateRequest`). */
  readonly refineValidation?: Refine;
  /** Operations whose SigV4 signature the sandbox verifies (`protocol/sigv4.ts`); others only read the key ID. */
  readonly signedOperations?: ReadonlySet<string>;
  /** Plain HTTP routes (the OIDC issuer). */
  readonly routes?: Route[];
}
