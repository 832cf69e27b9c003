import { describe, expect, it } from '@jest/globals';
import { explainSendFailure, refusedInstances } from './send-failure.js';

/** An SDK service error as SendCommand throws it. */
const awsError = (name: string, message: string) =>
  Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });

describe('refusedInstances', () => {
  it.each<[string, string, string[]]>([
    ['one instance', 'Instances [[i-00000000000000002]] not in a valid state for account 123456789012', ['i-00000000000000002']],
    ['several, as AWS lists them', 'Instances [[i-0abcdef12, i-0123456789abcdef0]] not in a valid state for account 1', ['i-0abcdef12', 'i-0123456789abcdef0']],
    ['a message naming none', 'The instance is not valid.', []],
    ['text that only looks like a list', 'Instances [[mi-xyz, $(reboot)]] not in a valid state', []],
  ])('%s', (_case, message, ids) => {
    expect(refusedInstances(message)).toEqual(ids);
  });
});

describe('explainSendFailure', () => {
  it.each<[string, unknown, string[], string[]]>([
    [
      'InvalidInstanceId naming one instance',
      awsError('InvalidInstanceId', 'Instances [[i-00000000000000002]] not in a valid state for account 123456789012'),
      [
        'SendCommand refused the command (InvalidInstanceId: Instances [[i-00000000000000002]] not in a valid state for account 123456789012).',
        'Instance i-00000000000000002 is not an online SSM managed node in eu-central-1',
        'SSM Agent is stopped',
        'AmazonSSMManagedInstanceCore',
        'another region or account',
        'Nothing was sent to any instance.',
      ],
      [],
    ],
    [
      'InvalidInstanceId naming two',
      awsError('InvalidInstanceId', 'Instances [[i-0abcdef12, i-0abcdef34]] not in a valid state for account 1'),
      ['Instances i-0abcdef12, i-0abcdef34 are not online SSM managed nodes in eu-central-1'],
      [],
    ],
    ['InvalidInstanceId naming none', awsError('InvalidInstanceId', ''), ['An instance in instance-ids is not', 'Nothing was sent'], []],
    [
      'any other error is passed on, with no claim about what was sent',
      Object.assign(new Error('no answer within 15 s'), { name: 'TimeoutError' }),
      ['SendCommand failed: no answer within 15 s'],
      ['Nothing was sent'],
    ],
  ])('%s', (_case, error, contains, lacks) => {
    const message = explainSendFailure(error, 'eu-central-1');
    for (const text of contains) expect(message).toContain(text);
    for (const text of lacks) expect(message).not.toContain(text);
  });
});
