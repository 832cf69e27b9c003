/**
 * The Nix signing key: from the `signing-key` input, or from an SSM Parameter Store SecureString read with the
 * action's credentials (so that only the role the main branch may assume can read it). Masked the moment it is
 * known, in both forms a log could show: the whole `name:base64` and the base64 alone.
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { ClientFactory } from '../shared/aws-clients.js';
import { errorMessage } from '../shared/errors.js';
import { maskSecrets } from '../shared/mask.js';
import { SECRET_KEY, SECRET_KEY_FORM } from './inputs.js';
import * as log from '../shared/log.js';

export function maskSigningKey(key: string): void {
  maskSecrets(key, key.slice(key.indexOf(':') + 1));
}

export async function readKeyParameter(clients: ClientFactory, name: string, signal?: AbortSignal): Promise<string> {
  let answer;
  try {
    answer = await clients(SSMClient).send(new GetParameterCommand({ Name: name, WithDecryption: true }), { abortSignal: signal });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new Error(`Could not read the signing key from the SSM parameter ${name}: ${errorMessage(error)}`);
  }
  const key = answer.Parameter?.Value?.trim() ?? '';
  maskSigningKey(key);
  if (!SECRET_KEY.test(key)) {
    throw new Error(`The SSM parameter ${name} must hold ${SECRET_KEY_FORM}; it holds a value of ${key.length} characters`);
  }
  if (answer.Parameter?.Type !== 'SecureString') {
    log.warning(`The SSM parameter ${name} is a ${answer.Parameter?.Type}, not a SecureString: the signing key is stored unencrypted.`);
  }
  return key;
}
