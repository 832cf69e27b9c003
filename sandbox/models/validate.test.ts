import { describe, expect, it } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { javaRegex } from './java-regex.js';
import { BOTOCORE_DATA, loadModel, type ModeledService } from './models.js';
import { readShape, validateRequest } from './validate.js';

const POLICY_PATTERN = '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+';
const MAX_ERRORS_PATTERN = '^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$';
const INSTANCE_ID_PATTERN = '(^i-(\\w{8}|\\w{17})$)|(^mi-\\w{17}$)';
const one = (detail: string) => `1 validation error detected: ${detail}`;
const sts = { RoleArn: 'arn:aws:iam::123456789012:role/deploy', RoleSessionName: 'ci', WebIdentityToken: 'eyJ.token.sig' };
const send = { DocumentName: 'NixOS-Deploy', InstanceIds: ['i-0123456789abcdef0'] };
const template = { LaunchTemplateId: 'lt-0123456789abcdef0', LaunchTemplateData: { ImageId: 'ami-1' } };

describe('validateRequest against the official models', () => {
  // [case, service, operation, params, code, message]
  const refused: Array<[string, ModeledService, string, Record<string, unknown>, string, string]> = [
    // awsJson (SSM): every constraint kind
    ['required', 'ssm', 'SendCommand', { InstanceIds: send.InstanceIds }, 'ValidationException',
      one("Value null at 'documentName' failed to satisfy constraint: Member must not be null")],
    ['pattern', 'ssm', 'SendCommand', { ...send, MaxErrors: '05%' }, 'ValidationException',
      one(`Value '05%' at 'maxErrors' failed to satisfy constraint: Member must satisfy regular expression pattern: ${MAX_ERRORS_PATTERN}`)],
    ['string length', 'ssm', 'SendCommand', { ...send, Comment: 'c'.repeat(101) }, 'ValidationException',
      one(`Value '${'c'.repeat(101)}' at 'comment' failed to satisfy constraint: Member must have length less than or equal to 100`)],
    ['range', 'ssm', 'SendCommand', { ...send, TimeoutSeconds: 29 }, 'ValidationException',
      one("Value '29' at 'timeoutSeconds' failed to satisfy constraint: Member must have value greater than or equal to 30")],
    ['enum', 'ssm', 'SendCommand', { ...send, DocumentHashType: 'Md5' }, 'ValidationException',
      one("Value 'Md5' at 'documentHashType' failed to satisfy constraint: Member must satisfy enum value set: [Sha256, Sha1]")],
    ['list length', 'ssm', 'SendCommand', { DocumentName: 'd-x', Targets: Array(6).fill({ Key: 'tag:a', Values: ['b'] }) }, 'ValidationException',
      one(`Value '[${Array(6).fill('{Key: tag:a,Values: [b]}').join(', ')}]' at 'targets' failed to satisfy constraint: Member must have length less than or equal to 5`)],
    ['list element', 'ssm', 'SendCommand', { DocumentName: 'd-x', InstanceIds: ['i-1', 'web'] }, 'ValidationException',
      one(`Value '[i-1, web]' at 'instanceIds' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy regular expression pattern: ${INSTANCE_ID_PATTERN}]`)],
    ['member of a listed structure', 'ssm', 'SendCommand', { DocumentName: 'd-x', Targets: [{ Key: 'tag:a b!', Values: ['x'] }] }, 'ValidationException',
      one("Value 'tag:a b!' at 'targets.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[\\p{L}\\p{Z}\\p{N}_.:/=\\-@]*$|resource-groups:ResourceTypeFilters|resource-groups:Name")],
    ['two at once, in member order', 'ssm', 'SendCommand', { ...send, TimeoutSeconds: 29, MaxErrors: '05%' }, 'ValidationException',
      "2 validation errors detected: Value '29' at 'timeoutSeconds' failed to satisfy constraint: Member must have value greater than or equal to 30; " +
        `Value '05%' at 'maxErrors' failed to satisfy constraint: Member must satisfy regular expression pattern: ${MAX_ERRORS_PATTERN}`],
    ['map size', 'ssm', 'StartAutomationExecution', { DocumentName: 'd-x', Parameters: {} }, 'ValidationException',
      one("Value '{}' at 'parameters' failed to satisfy constraint: Member must have length greater than or equal to 1")],
    ['map keys', 'ssm', 'StartAutomationExecution', { DocumentName: 'd-x', Parameters: { ['k'.repeat(51)]: ['v'] } }, 'ValidationException',
      one(`Value '{${'k'.repeat(51)}=[v]}' at 'parameters' failed to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal to 50]`)],
    ['map values', 'ssm', 'StartAutomationExecution', { DocumentName: 'd-x', Parameters: { a: Array(51).fill('v') } }, 'ValidationException',
      one(`Value '{a=[${Array(51).fill('v').join(', ')}]}' at 'parameters' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 50]`)],
    ['CreateDocument name', 'ssm', 'CreateDocument', { Name: 'team/NixOS-Deploy', Content: '{}' }, 'ValidationException',
      one("Value 'team/NixOS-Deploy' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_\\-.]{3,128}$")],
    ['no parameters at all, every problem at once', 'sts', 'AssumeRoleWithWebIdentity', {}, 'ValidationError',
      "3 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; " +
        "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null; " +
        "Value null at 'webIdentityToken' failed to satisfy constraint: Member must not be null"],
    ['a document version that is no version', 'ssm', 'DescribeDocument', { Name: 'NixOS-Deploy', DocumentVersion: 'latest' }, 'ValidationException',
      one("Value 'latest' at 'documentVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: ([$]LATEST|[$]DEFAULT|^[1-9][0-9]*$)")],
    ['$LATEST as the default version', 'ssm', 'UpdateDocumentDefaultVersion', { Name: 'NixOS-Deploy', DocumentVersion: '$LATEST' }, 'ValidationException',
      one("Value '$LATEST' at 'documentVersion' failed to satisfy constraint: Member must satisfy regular expression pattern: (^[1-9][0-9]*$)")],
    ['unknown member', 'ssm', 'SendCommand', { ...send, Color: 'red' }, 'SerializationException', 'Unrecognized field "Color"'],
    ['wrong type', 'ssm', 'SendCommand', { ...send, TimeoutSeconds: '60' }, 'SerializationException', 'Cannot read the value of TimeoutSeconds'],
    // Query (STS, Auto Scaling)
    ['STS pattern', 'sts', 'AssumeRoleWithWebIdentity', { ...sts, RoleSessionName: 'my session' }, 'ValidationError',
      one("Value 'my session' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*")],
    ['STS policy characters', 'sts', 'AssumeRoleWithWebIdentity', { ...sts, Policy: '{"Sid":"☃"}' }, 'ValidationError',
      one(`Value '{"Sid":"☃"}' at 'policy' failed to satisfy constraint: Member must satisfy regular expression pattern: ${POLICY_PATTERN}`)],
    ['STS policy length', 'sts', 'AssumeRoleWithWebIdentity', { ...sts, Policy: 'p'.repeat(2049) }, 'ValidationError',
      one(`Value '${'p'.repeat(2049)}' at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048`)],
    ['STS range from a Query string', 'sts', 'AssumeRoleWithWebIdentity', { ...sts, DurationSeconds: '899' }, 'ValidationError',
      one("Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")],
    ['sensitive value left out', 'sts', 'AssumeRoleWithWebIdentity', { ...sts, WebIdentityToken: 'abc' }, 'ValidationError',
      one("Value at 'webIdentityToken' failed to satisfy constraint: Member must have length greater than or equal to 4")],
    ['nested member', 'autoscaling', 'StartInstanceRefresh', { AutoScalingGroupName: 'web', Preferences: { MinHealthyPercentage: '101' } }, 'ValidationError',
      one("Value '101' at 'preferences.minHealthyPercentage' failed to satisfy constraint: Member must have value less than or equal to 100")],
    ['overlay member', 'autoscaling', 'StartInstanceRefresh', { AutoScalingGroupName: 'web', Preferences: { BakeTime: '172801' } }, 'ValidationError',
      one("Value '172801' at 'preferences.bakeTime' failed to satisfy constraint: Member must have value less than or equal to 172800")],
    ['Query enum', 'autoscaling', 'StartInstanceRefresh', { AutoScalingGroupName: 'web', Strategy: 'Fast' }, 'ValidationError',
      one("Value 'Fast' at 'strategy' failed to satisfy constraint: Member must satisfy enum value set: [Rolling, ReplaceRootVolume]")],
    ['Query list element', 'autoscaling', 'DescribeAutoScalingGroups', { AutoScalingGroupNames: ['a'.repeat(256)] }, 'ValidationError',
      one(`Value '[${'a'.repeat(256)}]' at 'autoScalingGroupNames' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to 255]`)],
    ['Query integer that is not one', 'autoscaling', 'DescribeAutoScalingGroups', { MaxRecords: 'ten' }, 'MalformedInput',
      'Value (ten) for parameter MaxRecords is invalid.'],
    ['Query unknown parameter', 'autoscaling', 'CancelInstanceRefresh', { AutoScalingGroupName: 'web', Force: 'true' }, 'UnknownParameter',
      'The parameter Force is not recognized'],
    // EC2
    ['EC2 missing', 'ec2', 'CreateLaunchTemplateVersion', { LaunchTemplateId: 'lt-0123456789abcdef0' }, 'MissingParameter',
      'The request must contain the parameter LaunchTemplateData'],
    ['EC2 unknown nested', 'ec2', 'CreateLaunchTemplateVersion', { ...template, LaunchTemplateData: { Colour: 'red' } }, 'UnknownParameter',
      'The parameter LaunchTemplateData.Colour is not recognized'],
    ['EC2 length', 'ec2', 'CreateLaunchTemplateVersion', { ...template, VersionDescription: 'v'.repeat(256) }, 'InvalidParameterValue',
      `Value (${'v'.repeat(256)}) for parameter VersionDescription is invalid. Member must have length less than or equal to 255`],
    ['EC2 type', 'ec2', 'CreateLaunchTemplateVersion', { ...template, LaunchTemplateData: { EbsOptimized: 'yes' } }, 'InvalidParameterValue',
      'Value (yes) for parameter LaunchTemplateData.EbsOptimized is invalid.'],
    // Limits AWS documents that the models leave open (models.ts' DOCUMENTED), in the model's words
    ['documented page size (Auto Scaling)', 'autoscaling', 'DescribeInstanceRefreshes', { AutoScalingGroupName: 'web', MaxRecords: '101' }, 'ValidationError',
      one("Value '101' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100")],
    ['documented page size, low end', 'autoscaling', 'DescribeAutoScalingGroups', { MaxRecords: '0' }, 'ValidationError',
      one("Value '0' at 'maxRecords' failed to satisfy constraint: Member must have value greater than or equal to 1")],
    ['documented count of managed policies (STS)', 'sts', 'AssumeRoleWithWebIdentity', { ...sts, PolicyArns: Array(11).fill({ arn: 'arn:aws:iam::aws:policy/X' }) }, 'ValidationError',
      one(`Value '[${Array(11).fill('{Arn: arn:aws:iam::aws:policy/X}').join(', ')}]' at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to 10`)],
    ['documented page size (EC2 versions)', 'ec2', 'DescribeLaunchTemplateVersions', { LaunchTemplateId: 'lt-0123456789abcdef0', MaxResults: '201' }, 'InvalidParameterValue',
      'Value (201) for parameter MaxResults is invalid. Member must have value less than or equal to 200'],
    ['documented client token (EC2)', 'ec2', 'CreateLaunchTemplateVersion', { ...template, ClientToken: 'é' }, 'InvalidParameterValue',
      'Value (é) for parameter ClientToken is invalid. Member must satisfy regular expression pattern: [\\x20-\\x7E]+'],
  ];
  it.each(refused)('refuses: %s', (_case, service, operation, params, code, message) => {
    const error = validateRequest(service, operation, params);
    expect({ code: error?.code, message: error?.message, status: error?.status }).toEqual({ code, message, status: 400 });
  });

  it('never puts the web identity token into a message, whatever else is wrong', () => {
    const token = 'abc';
    const error = validateRequest('sts', 'AssumeRoleWithWebIdentity', { RoleArn: 'x', RoleSessionName: 'a', WebIdentityToken: token, DurationSeconds: '1' });
    expect(error?.message).toMatch(/^4 validation errors detected: /);
    expect(error?.message).not.toContain(`'${token}'`);
  });

  const accepted: Array<[string, ModeledService, string, Record<string, unknown>]> = [
    ['SendCommand as the action sends it', 'ssm', 'SendCommand', {
      ...send, MaxErrors: '0', MaxConcurrency: '100%', TimeoutSeconds: 600, Comment: 'c'.repeat(100),
      Parameters: { action: ['switch'] }, CloudWatchOutputConfig: { CloudWatchOutputEnabled: true, CloudWatchLogGroupName: '/nixos' },
    }],
    ['the boundaries of maxErrors', 'ssm', 'SendCommand', { ...send, MaxErrors: '9999999' }],
    ['a policy of exactly 2048 Latin-1 characters', 'sts', 'AssumeRoleWithWebIdentity', { ...sts, Policy: 'é'.repeat(2048) }],
    ['an empty Query list', 'autoscaling', 'DescribeAutoScalingGroups', { AutoScalingGroupNames: '' }],
    ['refresh preferences of the overlay', 'autoscaling', 'StartInstanceRefresh', {
      AutoScalingGroupName: 'web', Strategy: 'Rolling',
      Preferences: { MinHealthyPercentage: '90', MaxHealthyPercentage: '200', AutoRollback: 'true', BakeTime: '0', AlarmSpecification: { Alarms: ['a'] } },
      DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '2' } },
    }],
    ['EC2 flattened names', 'ec2', 'CreateLaunchTemplateVersion', {
      ...template, ClientToken: 't', LaunchTemplateData: { TagSpecification: [{ ResourceType: 'instance', Tag: [{ Key: 'k', Value: 'v' }] }] },
    }],
    ['EC2 list under its singular name', 'ec2', 'DescribeLaunchTemplates', { LaunchTemplateId: ['lt-0123456789abcdef0'], MaxResults: '5' }],
    ['an operation without input', 'sts', 'GetCallerIdentity', {}],
    ['documented limits at their bounds', 'autoscaling', 'DescribeAutoScalingGroups', { MaxRecords: '100' }],
    ['ten managed policies', 'sts', 'AssumeRoleWithWebIdentity', { ...sts, PolicyArns: Array(10).fill({ arn: 'arn:aws:iam::aws:policy/X' }) }],
    ['200 launch template versions a page', 'ec2', 'DescribeLaunchTemplateVersions', { LaunchTemplateId: 'lt-0123456789abcdef0', MaxResults: '200' }],
  ];
  it.each(accepted)('accepts: %s', (_case, service, operation, params) => {
    expect(validateRequest(service, operation, params)).toBeUndefined();
  });
});

describe('javaRegex', () => {
  // [pattern, value, matches in Java]
  const cases: Array<[string, string, boolean]> = [
    ['[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*', 'Größe 1', true], // Unicode categories
    ['[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*', 'a,b', false],
    ['^[\\w\\.\\-\\:\\/ ]*$', 'a:b/c', true], // `\:` is an error in a JavaScript `u` pattern
    [POLICY_PATTERN, 'ÿ', true],
    [POLICY_PATTERN, '☃', false],
    // Java reads `\u10000` as U+1000 then `0`: the range is 0-U+10FF, so supplementary characters fail.
    ['[\\u0020-\\u007E\\u10000-\\u10FFFF]+', '😀', false],
    ['[\\u0020-\\u007E\\u10000-\\u10FFFF]+', 'ကa', true],
    ['[\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF]*', 'x😀', true], // surrogate pairs read as one code point
    ['(?i)all|[0-9]{12}', 'ALL', true],
    ['a\\s+b', 'a\u00A0b', false], // Java's \s is ASCII
    ['a.b', 'a\u0085b', false], // Java's . stops at NEL
    ['[\\s\\S]*\\S[\\s\\S]*', ' x ', true],
    ['\\p{Alpha}++1', 'ab1', true], // possessive
    ['(?>ab|a)c', 'abc', true], // atomic
    ['\\Qa.b\\E', 'a.b', true],
    ['\\Qa.b\\E', 'axb', false],
    ['[1-9][0-9]*', '05', false], // whole value
  ];
  it.each(cases)('%s on %j is %s', (pattern, value, matches) => {
    expect(javaRegex(pattern).test(value)).toBe(matches);
  });

  it.each(['sts/2011-06-15', 'ec2/2016-11-15', 'autoscaling/2011-01-01', 'ssm/2014-11-06'])('translates every pattern of %s', (path) => {
    const shapes = Object.values(JSON.parse(readFileSync(`${BOTOCORE_DATA}/${path}/service-2.json`, 'utf8')).shapes) as Array<{ pattern?: string }>;
    const sources = shapes.flatMap((shape) => (shape.pattern ? [shape.pattern] : []));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(() => javaRegex(source)).not.toThrow();
  });
});

describe('loadModel', () => {
  it('fails naming the file and the package when the models are absent', () => {
    expect(() => loadModel('sts', '/nonexistent')).toThrow(
      "the sandbox validates sts requests against botocore's model /nonexistent/sts/2011-06-15/service-2.json, which is missing: " +
        'install the AWS CLI (Debian: apt-get install awscli) or set SANDBOX_BOTOCORE_DATA to a botocore data directory',
    );
  });

  it('applies the Auto Scaling overlay (rollback is newer than Debian model)', () => {
    expect(loadModel('autoscaling').operations.RollbackInstanceRefresh).toBeDefined();
  });
});

describe('readShape', () => {
  // [case, value as decoded, from, the shape tree or the error]
  const cases: Array<[string, unknown, 'wire' | 'plain', unknown]> = [
    ['EC2 query names to member names, typed', { TagSpecification: [{ ResourceType: 'instance', Tag: [{ Key: 'k', Value: 'v' }] }], MetadataOptions: { HttpPutResponseHopLimit: '2', HttpEndpoint: 'enabled' }, EbsOptimized: 'true' }, 'wire',
      { TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'k', Value: 'v' }] }], MetadataOptions: { HttpPutResponseHopLimit: 2, HttpEndpoint: 'enabled' }, EbsOptimized: true }],
    ['plain member names kept', { TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'k', Value: 'v' }] }], MetadataOptions: { HttpPutResponseHopLimit: 2 } }, 'plain',
      { TagSpecifications: [{ ResourceType: 'instance', Tags: [{ Key: 'k', Value: 'v' }] }], MetadataOptions: { HttpPutResponseHopLimit: 2 } }],
    ['a Date for a timestamp (plain)', { InstanceMarketOptions: { SpotOptions: { ValidUntil: new Date('2030-01-01T00:00:00Z') } } }, 'plain',
      { InstanceMarketOptions: { SpotOptions: { ValidUntil: new Date('2030-01-01T00:00:00Z') } } }],
    ['an unknown plain member', { TagSpecification: [] }, 'plain', new Error("data has no field TagSpecification in ec2's model")],
    ['a number as a string (plain)', { MetadataOptions: { HttpPutResponseHopLimit: '2' } }, 'plain', new Error('data.MetadataOptions.HttpPutResponseHopLimit must be a number, got "2"')],
    ['a string as a boolean (plain)', { EbsOptimized: 'yes' }, 'plain', new Error('data.EbsOptimized must be a boolean, got "yes"')],
  ];
  it.each(cases)('%s', (_case, value, from, expected) => {
    const reading = () => readShape('ec2', 'RequestLaunchTemplateData', value, from, 'data');
    if (expected instanceof Error) expect(reading).toThrow(expected.message);
    else expect(reading()).toEqual(expected);
  });
});
