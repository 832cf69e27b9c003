import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { Sandbox } from '../server.js';
import type { Operation, Route, Service } from '../service.js';

export interface SigningKeys {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** The GitHub Actions OIDC issuer and the runner's token request endpoint (TODO: helper A). */
export class OidcIssuer implements Service {
  readonly name = 'oidc';
  readonly protocol = 'query' as const;
  readonly operations: Record<string, Operation> = {};
  readonly keys: SigningKeys;
  /** The bearer token the runner hands a job in `ACTIONS_ID_TOKEN_REQUEST_TOKEN`. */
  readonly requestToken = `sandbox-request-${randomBytes(16).toString('hex')}`;
  readonly routes: Route[] = [];

  constructor(
    private readonly sandbox: Sandbox,
    keys?: SigningKeys,
  ) {
    this.keys = keys ?? newKeys();
  }

  get issuer(): string {
    return `${this.sandbox.url}/oidc`;
  }

  requestUrl(): string {
    return `${this.sandbox.url}/oidc/token?api-version=2.0`;
  }
}

function newKeys(): SigningKeys {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid: randomBytes(8).toString('hex'), privateKey, publicKey };
}
