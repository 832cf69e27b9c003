/**
 * Parameter Store, read side: parameters are seeded by tests and read with GetParameter. A SecureString's value
 * comes back only with `WithDecryption`; without it the caller gets a KMS-ciphertext-looking blob that does not
 * contain the secret.
 */
import { createHash } from 'node:crypto';
import { AwsError } from '../../errors.js';

export type ParameterType = 'String' | 'StringList' | 'SecureString';

export interface StoredParameterVersion {
  name: string;
  type: ParameterType;
  value: string;
  version: number;
  lastModifiedDate: Date;
}

export class ParameterStore {
  private readonly parameters = new Map<string, StoredParameterVersion[]>();

  put(input: { name: string; value: string; type?: ParameterType }, now: Date): StoredParameterVersion {
    const history = this.parameters.get(input.name) ?? [];
    const entry = {
      name: input.name,
      type: input.type ?? 'String',
      value: input.value,
      version: history.length + 1,
      lastModifiedDate: now,
    };
    this.parameters.set(input.name, [...history, entry]);
    return entry;
  }

  /** GetParameter: `Name` may be a name, an ARN, and may end in `:<version>`. */
  get(request: Record<string, unknown>, region: string, accountId: string): Record<string, unknown> {
    const requested = request.Name as string;
    const arnPrefix = /^arn:[^:]+:ssm:[^:]*:[^:]*:parameter/;
    const withoutArn = arnPrefix.test(requested) ? requested.replace(arnPrefix, '') : requested;
    const selector = /:([^:/]+)$/.exec(withoutArn)?.[1];
    const name = selector === undefined ? withoutArn : withoutArn.slice(0, -selector.length - 1);
    const history = this.parameters.get(name) ?? this.parameters.get(name.replace(/^\//, ''));
    if (!history) throw new AwsError('ParameterNotFound', `Parameter ${requested} not found.`);
    let entry = history[history.length - 1];
    if (selector !== undefined) {
      const found = /^[0-9]+$/.test(selector) ? history[Number(selector) - 1] : undefined;
      if (!found) {
        const message = `Systems Manager could not find version ${selector} of ${name}.`;
        throw new AwsError('ParameterVersionNotFound', message);
      }
      entry = found;
    }
    const decrypt = request.WithDecryption === true;
    return {
      Parameter: {
        Name: entry.name,
        Type: entry.type,
        Value: entry.type === 'SecureString' && !decrypt ? ciphertext(entry) : entry.value,
        Version: entry.version,
        Selector: selector === undefined ? undefined : `:${selector}`,
        LastModifiedDate: entry.lastModifiedDate,
        ARN: `arn:aws:ssm:${region}:${accountId}:parameter/${entry.name.replace(/^\//, '')}`,
        DataType: 'text',
      },
    };
  }
}

/** Shaped like a KMS envelope (`AQICAH...`), derived from the entry so it is stable but reveals nothing. */
function ciphertext(entry: StoredParameterVersion): string {
  const digest = createHash('sha256').update(`${entry.name}\0${entry.version}\0${entry.value}`).digest();
  const envelopeHeader = Buffer.from([0x01, 0x02, 0x02, 0x00, 0x78]);
  return Buffer.concat([envelopeHeader, digest, digest.subarray(0, 12)]).toString('base64');
}
