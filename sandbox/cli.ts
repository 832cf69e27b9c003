/**
 * `npm run sandbox`: the local AWS and GitHub OIDC stand-in, seeded with a small account, until Ctrl-C.
 * Options: --port N (default 4599; 0 picks a free one), --speed N (clock speed-up), --empty (no seeding).
 */
import { parseArgs } from 'node:util';
import { Sandbox } from './server.js';
import { seedDemoWorld } from './world.js';

const USAGE = 'usage: npm run sandbox -- [--port 0-65535] [--speed N] [--empty]';

function options(): { port: number; speed: number; empty: boolean } {
  try {
    const { values } = parseArgs({
      options: {
        port: { type: 'string', default: '4599' },
        speed: { type: 'string', default: '1' },
        empty: { type: 'boolean', default: false },
      },
    });
    const port = Number(values.port);
    const speed = Number(values.speed);
    if (Number.isInteger(port) && port >= 0 && port <= 65535 && speed >= 0) return { port, speed, empty: values.empty };
  } catch (error) {
    console.error((error as Error).message);
  }
  console.error(USAGE);
  process.exit(2);
}

const { port, speed, empty } = options();

const sandbox = new Sandbox({ port, speed });
try {
  await sandbox.start();
} catch (error) {
  console.error(`Could not listen on 127.0.0.1:${port}: ${(error as Error).message}. Try --port 0 for a free port.`);
  process.exit(1);
}
const world = empty ? undefined : seedDemoWorld(sandbox);

const lines = [
  `nixos-aws sandbox on ${sandbox.url} (clock x${speed})`,
  '',
  '# Point the AWS SDK, the actions and @actions/core at it:',
  ...Object.entries(sandbox.env()).map(([name, value]) => `export ${name}=${value}`),
  '',
  `# Debian's AWS CLI predates AWS_ENDPOINT_URL: aws --endpoint-url ${sandbox.url} sts get-caller-identity`,
];
if (world) {
  lines.push(
    '',
    '# Seeded:',
    `#   roles: ${Object.values(world.roles).join(', ')}`,
    `#   launch template web (${world.launchTemplateId}) and Auto Scaling group ${world.groupName} (3 instances)`,
    `#   SSM instances tagged Service=monitoring: ${world.ssmInstanceIds.join(', ')}`,
    `#   SecureString parameter ${world.signingKeyParameter}`,
  );
}
lines.push(
  '',
  `# Control: GET ${sandbox.url}/_sandbox/calls, POST /_sandbox/reset, /_sandbox/faults, /_sandbox/clock`,
  '# Ctrl-C stops it.',
);
console.log(lines.join('\n'));

const stop = async () => {
  await sandbox.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
