import { describe, expect, it } from '@jest/globals';
import { inputErrorOf } from '../shared/fixtures/input-error.js';
import { readInputs } from './inputs.js';

const STORE_PATH = '/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05';
const VALID = { targets: 'tag:Role=web', 'store-path': STORE_PATH };
const ENV = { AWS_REGION: 'eu-central-1' };
const PUBLIC_KEY = `cache-1:${'A'.repeat(43)}=`;
/** Units of 248 characters (a 240-character name), and keys of 52, space separated as the document receives them. */
const UNIT_240 = `${'u'.repeat(240)}.service`;
const units = (count: number, last = UNIT_240) => [...Array<string>(count - 1).fill(UNIT_240), last].join('\n');
const keys = (count: number) => Array<string>(count).fill(PUBLIC_KEY).join(' ');
/** http://localhost/ and a path: `length` characters in all. */
const urlOf = (length: number) => `http://localhost/${'a'.repeat(length - 17)}`;
const read = (values: Record<string, string>) => readInputs((name) => values[name] ?? '', ENV);
const failure = (values: Record<string, string>): string => inputErrorOf(() => read(values));

describe('ssm-deploy inputs', () => {
  it('applies the defaults', () => {
    expect(read(VALID)).toEqual({
      roleToAssume: '',
      awsRegion: 'eu-central-1',
      audience: 'sts.amazonaws.com',
      mode: 'command',
      associationName: '',
      schedule: '',
      onFailure: 'revert',
      onAbort: 'revert',
      targets: [{ Key: 'tag:Role', Values: ['web'] }],
      instanceIds: [],
      storePath: STORE_PATH,
      action: 'switch',
      substituters: [],
      trustedPublicKeys: [],
      healthCheckUnits: [],
      healthCheckUrl: '',
      healthCheckTimeoutSeconds: 60,
      rollbackOnFailure: true,
      documentName: 'NixOS-Deploy',
      environmentTag: '',
      manageDocument: true,
      maxConcurrency: '50%',
      maxErrors: '0',
      executionTimeoutSeconds: 3600,
      deliveryTimeoutSeconds: 600,
      cloudwatchLogGroup: '',
      outputS3Bucket: '',
      wait: true,
      timeoutMinutes: 60,
      pollIntervalSeconds: 10,
    });
  });

  it.each<[string, Record<string, string>, object]>([
    ['tag selectors, values ORed', { targets: 'tag:Role=web,api\ntag:Environment=production' }, { targets: [{ Key: 'tag:Role', Values: ['web', 'api'] }, { Key: 'tag:Environment', Values: ['production'] }] }],
    ['instance IDs instead', { targets: '', 'instance-ids': 'i-0123456789abcdef0, i-01234567\nmi-0123456789abcdef0' }, { targets: [], instanceIds: ['i-0123456789abcdef0', 'i-01234567', 'mi-0123456789abcdef0'] }],
    ['caches with the settings a deploy may give', { substituters: 's3://c?region=eu-west-1&endpoint=minio:9000&scheme=http&profile=p&priority=10' }, { substituters: ['s3://c?region=eu-west-1&endpoint=minio:9000&scheme=http&profile=p&priority=10'] }],
    ['caches and keys, space separated', { substituters: 's3://cache?region=eu-west-1 https://cache.nixos.org', 'trusted-public-keys': `${PUBLIC_KEY}  ${PUBLIC_KEY}` }, { substituters: ['s3://cache?region=eu-west-1', 'https://cache.nixos.org'], trustedPublicKeys: [PUBLIC_KEY, PUBLIC_KEY] }],
    ['a health check', { 'health-check-units': 'nginx.service\npostgresql.service', 'health-check-url': 'http://127.0.0.1:8080/health?full=1' }, { healthCheckUnits: ['nginx.service', 'postgresql.service'], healthCheckUrl: 'http://127.0.0.1:8080/health?full=1' }],
    ['rates as counts', { 'max-concurrency': '10', 'max-errors': '2' }, { maxConcurrency: '10', maxErrors: '2' }],
    ['rates as percentages', { 'max-concurrency': '100%', 'max-errors': '5%' }, { maxConcurrency: '100%', maxErrors: '5%' }],
    ['the edges of SendCommand\'s rates', { 'max-concurrency': '9999999', 'max-errors': '0%' }, { maxConcurrency: '9999999', maxErrors: '0%' }],
    ['a single-digit error percentage', { 'max-errors': '9%' }, { maxErrors: '9%' }],
    ['a tag key with letters of any script, spaces and @', { targets: 'tag:Équipe web@2=a b' }, { targets: [{ Key: 'tag:Équipe web@2', Values: ['a b'] }] }],
    ['a shared document by ARN, not managed', { 'manage-document': 'false', 'document-name': 'arn:aws:ssm:eu-central-1:123456789012:document/NixOS-Deploy' }, { documentName: 'arn:aws:ssm:eu-central-1:123456789012:document/NixOS-Deploy' }],
    ['a managed document name of 128 characters', { 'document-name': 'D'.repeat(128) }, { documentName: 'D'.repeat(128) }],
    ['a reboot', { action: 'reboot' }, { action: 'reboot' }],
    ['a health-check URL at the document\'s maxChars (2048)', { 'health-check-url': urlOf(2048) }, { healthCheckUrl: urlOf(2048) }],
    ['units filling the document\'s 4096 characters once joined', { 'health-check-units': units(17, `${'u'.repeat(104)}.service`) }, { healthCheckUnits: expect.arrayContaining([UNIT_240]) }],
    ['77 trusted keys (4080 characters once joined)', { 'trusted-public-keys': keys(77) }, { trustedPublicKeys: expect.arrayContaining([PUBLIC_KEY]) }],
    ['a key named with @', { 'trusted-public-keys': `deploy@example.org-1:${'A'.repeat(43)}=` }, { trustedPublicKeys: [`deploy@example.org-1:${'A'.repeat(43)}=`] }],
    ['a timeout in a fraction of a minute', { 'timeout-minutes': '0.5' }, { timeoutMinutes: 0.5 }],
  ])('reads %s', (_case, values, expected) => {
    expect(read({ ...VALID, ...values })).toMatchObject(expected);
  });

  it.each<[string, Record<string, string>, string]>([
    ['six target lines', { targets: Array.from({ length: 6 }, (_, i) => `tag:K${i}=v`).join('\n') }, "Input 'targets' takes at most 5 items"],
    ['51 values in a target', { targets: `tag:Role=${Array.from({ length: 51 }, (_, i) => `v${i}`).join(',')}` }, "Input 'targets' items must each be a tag selector"],
    ['51 instance IDs', { targets: '', 'instance-ids': Array.from({ length: 51 }, () => 'i-01234567').join(',') }, "Input 'instance-ids' takes at most 50 items"],
    ['a substituter with shell quoting', { substituters: "s3://cache?x='$(id)'" }, "Input 'substituters' items must each be a binary cache URI"],
    ['a substituter that needs no signature', { substituters: 'https://cache.example.org?trusted=1' }, 'got "https://cache.example.org?trusted=1" (it sets "trusted", which a deploy never sets)'],
    ['a signing key on a substituter', { substituters: 's3://cache?region=eu-west-1&secret-key=/k' }, '(it sets "secret-key", which a deploy never sets)'],
    ['signature checks switched off', { substituters: 'https://c.example.org?require-sigs=false' }, '(it sets "require-sigs", which a deploy never sets)'],
    ['an unknown setting', { substituters: 'https://c.example.org?want-mass-query=1' }, '(it sets "want-mass-query", which a deploy never sets)'],
    ['a percent-encoded setting', { substituters: 'https://c.example.org?%74rusted=1' }, '(it sets "trusted", which a deploy never sets)'],
    ['a secret key given as a public one', { 'trusted-public-keys': `cache-1:${'A'.repeat(86)}==` }, "Input 'trusted-public-keys' items must each be a Nix public key"],
    ['a key name with a command', { 'trusted-public-keys': `$(reboot):${'A'.repeat(43)}=` }, "Input 'trusted-public-keys' items must each be a Nix public key, name:<44 characters of base64> (name from A-Z a-z 0-9 . _ + @ -)"],
    ['a key name with a quote', { 'trusted-public-keys': `a'b:${'A'.repeat(43)}=` }, "Input 'trusted-public-keys' items must each be a Nix public key"],
    ['a key with no name', { 'trusted-public-keys': `:${'A'.repeat(43)}=` }, "Input 'trusted-public-keys' items must each be a Nix public key"],
    ['a unit that is not one', { 'health-check-units': 'nginx; reboot' }, "Input 'health-check-units' items must each be a systemd unit name"],
    ['an https health check URL', { 'health-check-url': 'https://localhost/' }, "Input 'health-check-url' must be a URL on the instance itself"],
    ['a look-alike host', { 'health-check-url': 'http://localhost.evil.example/' }, "Input 'health-check-url' must be a URL on the instance itself"],
    ['a delivery timeout under 30 s', { 'delivery-timeout-seconds': '29' }, "Input 'delivery-timeout-seconds' must be an integer 30-2592000"],
    ['more than 100% errors', { 'max-errors': '101%' }, "Input 'max-errors' must be a number of instances from 0 or a percentage"],
    ['an error percentage with a leading zero', { 'max-errors': '05%' }, "Input 'max-errors' must be a number of instances from 0 or a percentage 0%-100% without leading zeros, got \"05%\""],
    ['an error count with a leading zero', { 'max-errors': '01' }, "Input 'max-errors' must be"],
    ['an error count over 7 characters', { 'max-errors': '10000000' }, "Input 'max-errors' must be"],
    ['zero concurrency', { 'max-concurrency': '0' }, "Input 'max-concurrency' must be a number of instances from 1"],
    ['a concurrency of 0%', { 'max-concurrency': '0%' }, "Input 'max-concurrency' must be"],
    ['a concurrency percentage with a leading zero', { 'max-concurrency': '05%' }, "Input 'max-concurrency' must be"],
    ['a tag key with a character SendCommand refuses', { targets: 'tag:Role!=web' }, "Input 'targets' items must each be a tag selector"],
    ['a managed document under a path', { 'document-name': 'team/NixOS-Deploy' }, "Input 'document-name' must be a document name of 3-128 characters from A-Z a-z 0-9 _ - . when 'manage-document' is true"],
    ['a managed document by ARN', { 'document-name': 'arn:aws:ssm:eu-central-1:123456789012:document/NixOS-Deploy' }, "Input 'document-name' must be a document name of 3-128"],
    ['a managed document with a reserved prefix', { 'document-name': 'AWS-NixOS' }, "Input 'document-name' must not start with aws, amazon or amzn"],
    ['a document name of 129 characters', { 'manage-document': 'false', 'document-name': 'D'.repeat(129) }, "Input 'document-name' must be an SSM document name of 3-128"],
    ['a document name with a space', { 'manage-document': 'false', 'document-name': 'NixOS Deploy' }, "Input 'document-name' must be an SSM document name"],
    ['a timeout of no time', { 'timeout-minutes': '0.0' }, "Input 'timeout-minutes' must be more than 0"],
    ['a timeout in words', { 'timeout-minutes': 'an hour' }, "Input 'timeout-minutes' must be a number of minutes"],
    ['a health-check URL of 2049 characters (the document\'s maxChars is 2048)', { 'health-check-url': urlOf(2049) }, "Input 'health-check-url' (the document's healthCheckUrl) must be at most 2048 characters (the document's maxChars), got 2049"],
    ['a health-check URL of 2100 characters', { 'health-check-url': urlOf(2100) }, 'got 2100'],
    ['one character past 4096 once the units are joined', { 'health-check-units': units(17, `${'u'.repeat(105)}.service`) }, "Input 'health-check-units', its items joined by spaces as the document's healthCheckUnits, must be at most 4096 characters (the document's maxChars), got 4097"],
    ['17 units of 240 characters', { 'health-check-units': units(17) }, "Input 'health-check-units', its items joined by spaces"],
    ['100 trusted public keys', { 'trusted-public-keys': keys(100) }, "Input 'trusted-public-keys', its items joined by spaces as the document's trustedPublicKeys, must be at most 4096 characters (the document's maxChars), got 5299"],
    ['substituters past 4096 characters once joined', { substituters: Array<string>(100).fill(`https://cache-${'c'.repeat(30)}.example.org`).join(' ') }, "Input 'substituters', its items joined by spaces as the document's substituters, must be at most 4096"],
    ['a bucket name with capitals', { 'output-s3-bucket': 'My-Bucket' }, "Input 'output-s3-bucket' must be an S3 bucket name"],
  ])('rejects %s', (_case, values, message) => {
    expect(failure({ ...VALID, ...values })).toContain(message);
  });
});

describe('ssm-deploy inputs in association mode', () => {
  const ASSOCIATION = { ...VALID, mode: 'association', 'association-name': 'nixos-prometheus' };

  it.each<[string, Record<string, string>, object]>([
    ['the mode and its defaults', {}, { mode: 'association', associationName: 'nixos-prometheus', schedule: '', onFailure: 'revert', onAbort: 'revert' }],
    ['the mode in capitals', { mode: 'Association' }, { mode: 'association' }],
    ['keep and leave', { 'on-failure': 'keep', 'on-abort': 'leave' }, { onFailure: 'keep', onAbort: 'leave' }],
    ['a rate of 30 minutes, the shortest', { schedule: 'rate(30 minutes)' }, { schedule: 'rate(30 minutes)' }],
    ['a rate of one hour', { schedule: 'rate(1 hour)' }, { schedule: 'rate(1 hour)' }],
    ['a rate of 12 hours', { schedule: 'rate(12 hours)' }, { schedule: 'rate(12 hours)' }],
    ['a rate of one day', { schedule: 'rate(1 day)' }, { schedule: 'rate(1 day)' }],
    ['a rate of 14 days', { schedule: 'rate(14 days)' }, { schedule: 'rate(14 days)' }],
    ['a rate of 30 days, the longest', { schedule: 'rate(30 days)' }, { schedule: 'rate(30 days)' }],
    ['a cron of 6 fields', { schedule: 'cron(0 2 ? * SUN *)' }, { schedule: 'cron(0 2 ? * SUN *)' }],
    ['a cron of 6 fields with #', { schedule: 'cron(0 0 ? * THU#2 *)' }, { schedule: 'cron(0 0 ? * THU#2 *)' }],
    ['a cron with a seconds field of 0', { schedule: 'cron(0 0/30 * * ? * *)' }, { schedule: 'cron(0 0/30 * * ? * *)' }],
    ['an association name of 128 characters', { 'association-name': 'a'.repeat(128) }, { associationName: 'a'.repeat(128) }],
    ['an S3 bucket for the output', { 'output-s3-bucket': 'deploy-logs' }, { outputS3Bucket: 'deploy-logs' }],
  ])('reads %s', (_case, values, expected) => {
    expect(read({ ...ASSOCIATION, ...values })).toMatchObject(expected);
  });

  it.each<[string, Record<string, string>, string]>([
    ['no association name', { 'association-name': '' }, "Input 'association-name' is required with 'mode: association'"],
    ['instance IDs', { targets: '', 'instance-ids': 'i-0123456789abcdef0' }, "Input 'instance-ids' is refused with 'mode: association': give 'targets' as tag selectors"],
    ['instance IDs and targets', { 'instance-ids': 'i-0123456789abcdef0' }, "Input 'instance-ids' is refused with 'mode: association'"],
    ['a CloudWatch log group', { 'cloudwatch-log-group': '/nixos/deploy' }, "Input 'cloudwatch-log-group' is refused with 'mode: association'"],
    ['an association name with a space', { 'association-name': 'nixos prometheus' }, "Input 'association-name' must be an association name of 3-128 characters"],
    ['an association name of 2 characters', { 'association-name': 'ab' }, "Input 'association-name' must be an association name"],
    ['an association name of 129 characters', { 'association-name': 'a'.repeat(129) }, "Input 'association-name' must be an association name"],
    ['an association name with a slash', { 'association-name': 'team/web' }, "Input 'association-name' must be an association name"],
    ['a rate under 30 minutes', { schedule: 'rate(15 minutes)' }, "Input 'schedule' must be rate(N minutes|hours|days) from 30 minutes to 30 days, or cron(...) of six fields: a rate must be 30 minutes or more and less than 31 days, got \"rate(15 minutes)\""],
    ['a rate of one minute', { schedule: 'rate(1 minute)' }, 'a rate must be 30 minutes or more'],
    ['a rate of 31 days', { schedule: 'rate(31 days)' }, 'a rate must be 30 minutes or more and less than 31 days'],
    ['a rate of 744 hours (31 days)', { schedule: 'rate(744 hours)' }, 'less than 31 days'],
    ['a plural rate of one', { schedule: 'rate(1 hours)' }, 'the unit is singular for 1 and plural otherwise'],
    ['a singular rate of two', { schedule: 'rate(2 day)' }, 'the unit is singular for 1 and plural otherwise'],
    ['a rate in weeks', { schedule: 'rate(2 weeks)' }, "Input 'schedule' must be rate("],
    ['a cron of 5 fields', { schedule: 'cron(0 2 * * ?)' }, "Input 'schedule' must be"],
    ['a cron of 7 fields, seconds not 0', { schedule: 'cron(5 0 2 * * ? *)' }, "Input 'schedule' must be"],
    ['a bare cron line', { schedule: '0 2 * * *' }, "Input 'schedule' must be"],
    ['a one-off at()', { schedule: 'at(2026-12-01T00:00:00)' }, "Input 'schedule' must be"],
    ['a schedule with a command', { schedule: 'cron(0 2 * * $(id))' }, "Input 'schedule' must be"],
    ['an unknown failure action', { 'on-failure': 'rollback' }, "Input 'on-failure' must be one of revert, keep"],
    ['an unknown abort action', { 'on-abort': 'cancel' }, "Input 'on-abort' must be one of revert, leave"],
    ['an unknown mode', { mode: 'run-command' }, "Input 'mode' must be one of command, association"],
  ])('rejects %s', (_case, values, message) => {
    expect(failure({ ...ASSOCIATION, ...values })).toContain(message);
  });

  it.each([
    ['association-name', { 'association-name': 'nixos-web' }],
    ['schedule', { schedule: 'rate(1 day)' }],
  ])('refuses %s in command mode', (input, values) => {
    expect(failure({ ...VALID, ...values })).toContain(`Input '${input}' applies only with 'mode: association'`);
  });
});
