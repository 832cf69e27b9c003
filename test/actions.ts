/** The actions, each with inputs that pass validation, for tests that go over all of them. */
import { readInputs as assumeRole } from '../assume-role/inputs.js';
import { readInputs as buildAndPush } from '../build-and-push/inputs.js';
import { readInputs as instanceRefresh } from '../instance-refresh/inputs.js';
import { readInputs as ssmDeploy } from '../ssm-deploy/inputs.js';
import { readInputs as uploadAmi } from '../upload-ami/inputs.js';
import type { InputSource } from '../shared/inputs.js';

export const STORE_PATH = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';
/** The shape of a Nix Ed25519 secret key; not a key anyone uses. */
export const SIGNING_KEY = `cache.example.org-1:${'A'.repeat(86)}==`;

export interface ActionCase {
  action: string;
  readInputs: (source?: InputSource, env?: NodeJS.ProcessEnv) => unknown;
  /** Few inputs that are valid together, with `action.yml` defaults or without. */
  valid: Record<string, string>;
}

export const ACTIONS: ActionCase[] = [
  {
    action: 'assume-role',
    readInputs: assumeRole,
    valid: { 'role-to-assume': 'arn:aws:iam::123456789012:role/deploy' },
  },
  {
    action: 'build-and-push',
    readInputs: buildAndPush,
    valid: { installable: '.#web', 'store-uri': 'file:///tmp/cache', 'signing-key': SIGNING_KEY },
  },
  {
    action: 'instance-refresh',
    readInputs: instanceRefresh,
    valid: { 'auto-scaling-group-name': 'web', 'store-path': STORE_PATH },
  },
  {
    action: 'ssm-deploy',
    readInputs: ssmDeploy,
    valid: { targets: 'tag:Role=web', 'store-path': STORE_PATH },
  },
  {
    action: 'upload-ami',
    readInputs: uploadAmi,
    // The fixture lies outside the Nix store here, where image-name is required.
    valid: { 'image-info': 'upload-ami/fixtures/image/nix-support/image-info.json', 'image-name': 'nixos-fixture' },
  },
];
