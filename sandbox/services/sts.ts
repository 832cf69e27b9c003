import { randomBytes } from 'node:crypto';
import type { Sandbox } from '../server.js';
import { STATIC_CREDENTIALS } from '../server.js';
import type { Operation, Service } from '../service.js';

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>` */
  assumedRoleArn: string;
  assumedRoleId: string;
}

/** STS: AssumeRoleWithWebIdentity (TODO: helper A) and GetCallerIdentity. */
export class StsService implements Service {
  readonly name = 'sts';
  readonly protocol = 'query' as const;
  readonly apiVersion = '2011-06-15';
  readonly xmlns = 'https://sts.amazonaws.com/doc/2011-06-15/';
  /** Credentials this sandbox issued, by access key ID. */
  readonly issued = new Map<string, IssuedCredentials>();

  constructor(private readonly sandbox: Sandbox) {}

  /** Who a request's access key belongs to, for the call log. */
  callerFor(accessKeyId: string | undefined): string {
    if (!accessKeyId) return 'anonymous';
    return this.issued.get(accessKeyId)?.assumedRoleArn ?? accessKeyId;
  }

  issue(assumedRoleArn: string, assumedRoleId: string, durationSeconds: number): IssuedCredentials {
    const credentials: IssuedCredentials = {
      accessKeyId: `ASIA${randomBytes(8).toString('hex').toUpperCase()}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: `IQoJsandbox${randomBytes(96).toString('base64')}`,
      expiration: new Date(this.sandbox.clock.nowMs() + durationSeconds * 1000),
      assumedRoleArn,
      assumedRoleId,
    };
    this.issued.set(credentials.accessKeyId, credentials);
    return credentials;
  }

  readonly operations: Record<string, Operation> = {
    GetCallerIdentity: (_params, call) => {
      const issued = call.accessKeyId ? this.issued.get(call.accessKeyId) : undefined;
      if (issued) {
        return { UserId: issued.assumedRoleId, Account: this.sandbox.accountId, Arn: issued.assumedRoleArn };
      }
      const user = call.accessKeyId === STATIC_CREDENTIALS.accessKeyId ? 'sandbox' : 'unknown';
      return {
        UserId: call.accessKeyId ?? 'anonymous',
        Account: this.sandbox.accountId,
        Arn: `arn:aws:iam::${this.sandbox.accountId}:user/${user}`,
      };
    },
  };
}
