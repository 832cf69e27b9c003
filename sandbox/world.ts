/**
 * A small AWS account to try the actions against: the roles of the pipeline, a launch template and Auto Scaling
 * group for a stateless service, and SSM-managed instances for a stateful one. `npm run sandbox` seeds it.
 */
import type { Sandbox } from './server.js';
import { githubTrustPolicy } from './services/sts/sts.js';

export interface DemoWorld {
  roles: { build: string; deployStaging: string; deployProduction: string };
  launchTemplateId: string;
  groupName: string;
  ssmInstanceIds: string[];
  signingKeyParameter: string;
}

const REPOSITORY = 'octo-org/octo-repo';

export function seedDemoWorld(sandbox: Sandbox): DemoWorld {
  const { accountId } = sandbox;
  const roles = {
    // Any ref or pull request of the repository may build; only environments may deploy.
    build: sandbox.sts.addRole({ name: 'nixos-build', trustPolicy: githubTrustPolicy(accountId, { sub: `repo:${REPOSITORY}:*` }) }),
    deployStaging: sandbox.sts.addRole({
      name: 'nixos-deploy-staging',
      trustPolicy: githubTrustPolicy(accountId, { sub: `repo:${REPOSITORY}:environment:staging` }),
    }),
    deployProduction: sandbox.sts.addRole({
      name: 'nixos-deploy-production',
      trustPolicy: githubTrustPolicy(accountId, { sub: `repo:${REPOSITORY}:environment:production` }),
    }),
  };
  const template = sandbox.ec2.createLaunchTemplate({
    name: 'web',
    data: {
      ImageId: 'ami-0123456789abcdef0',
      InstanceType: 't4g.small',
      MetadataOptions: { HttpTokens: 'required', InstanceMetadataTags: 'enabled' },
      TagSpecifications: [
        {
          ResourceType: 'instance',
          Tags: [
            { Key: 'Service', Value: 'web' },
            { Key: 'Substituters', Value: 's3://nix-cache?region=us-east-1' },
          ],
        },
      ],
    },
  });
  sandbox.autoscaling.createGroup({
    name: 'web',
    launchTemplate: { id: template.id, version: '1' },
    desiredCapacity: 3,
    tags: { Service: 'web', Environment: 'production' },
  });
  const ssmInstanceIds = ['i-0a1b2c3d4e5f60001', 'i-0a1b2c3d4e5f60002', 'i-0a1b2c3d4e5f60003'];
  for (const instanceId of ssmInstanceIds) {
    sandbox.ssm.addInstance({ instanceId, tags: { Service: 'monitoring', Environment: 'production' } });
  }
  const signingKeyParameter = '/nixos-aws/cache-signing-key';
  sandbox.ssm.putParameter({
    name: signingKeyParameter,
    value: `cache-1:${Buffer.alloc(64, 7).toString('base64')}`,
    type: 'SecureString',
  });
  return { roles, launchTemplateId: template.id, groupName: 'web', ssmInstanceIds, signingKeyParameter };
}
