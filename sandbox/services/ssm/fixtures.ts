/** A Command document shaped like the ssm-deploy one, shared by the SSM sandbox tests. */
export const STORE_PATH_PATTERN = '^/nix/store/[0-9a-df-np-sv-z]{32}-[A-Za-z0-9+._?=-]+$';

export const DEPLOY_DOCUMENT = {
  schemaVersion: '2.2',
  description: 'Switch an instance to a NixOS system closure',
  parameters: {
    storePath: {
      type: 'String',
      description: 'The system closure',
      allowedPattern: STORE_PATH_PATTERN,
      interpolationType: 'ENV_VAR',
    },
    action: { type: 'String', default: 'switch', allowedValues: ['switch', 'boot', 'reboot', 'dry-activate'] },
    substituters: {
      type: 'String',
      default: '',
      allowedPattern: '^$|^https?://[A-Za-z0-9./:_-]+( https?://[A-Za-z0-9./:_-]+)*$',
      maxChars: 4096,
    },
    units: { type: 'StringList', default: [], maxItems: 3 },
    executionTimeout: { type: 'String', default: '3600', allowedPattern: '^[1-9][0-9]{0,5}$' },
  },
  mainSteps: [
    {
      action: 'aws:runShellScript',
      name: 'deploy',
      inputs: { timeoutSeconds: '{{ executionTimeout }}', runCommand: ['set -eu', 'echo "$SSM_storePath"'] },
    },
  ],
};

export const DEPLOY_CONTENT = JSON.stringify(DEPLOY_DOCUMENT, null, 2);

export const STORE_PATH = '/nix/store/0123456789abcdfghijklmnpqrsvwxyz-nixos-system-web-24.11';
