import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Refine } from './models/validate.js';
import type { Sandbox } from './server.js';

export interface CallContext {
  /** Assumed role ARN, access key ID or `anonymous`. */
  caller: string;
  accessKeyId?: string;
  requestId: string;
  sandbox: Sandbox;
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
  /** Short name used in the call log and fault specs: `sts`, `ec2`, `autoscaling`, `ssm`, `oidc`. */
  readonly name: string;
  readonly protocol: 'query' | 'ec2' | 'json';
  /** Query protocols: the `Version` parameter that identifies the API. */
  readonly apiVersion?: string;
  readonly xmlns?: string;
  /** awsJson: the `X-Amz-Target` prefix. */
  readonly targetPrefix?: string;
  readonly operations: Record<string, Operation>;
  /** Service-specific answers to requests the model refuses (see `validateRequest`). */
  readonly refineValidation?: Refine;
  /** Plain HTTP routes (the OIDC issuer). */
  readonly routes?: Route[];
}
