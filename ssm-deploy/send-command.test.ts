import { describe, expect, it } from '@jest/globals';
import type { Command, SendCommandCommandInput } from '@aws-sdk/client-ssm';
import { isSameCommand } from './send-command.js';

const request: SendCommandCommandInput = {
  DocumentName: 'NixOS-Deploy',
  Targets: [{ Key: 'tag:Role', Values: ['web'] }],
  Parameters: { storePath: ['/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web'], action: ['switch'] },
  Comment: 'octo-org/octo-repo@a1b2c3d run 4242424242/1',
};
/** As ListCommands describes the command `request` created: no instance IDs for a tag target. */
const created: Command = { CommandId: 'c-1', DocumentName: 'NixOS-Deploy', InstanceIds: [], Targets: request.Targets, Parameters: request.Parameters, Comment: request.Comment };

describe('isSameCommand', () => {
  it.each<[string, Command, boolean]>([
    ['the command the request created', created, true],
    ['another run (comment)', { ...created, Comment: 'octo-org/octo-repo@a1b2c3d run 4242424242/2' }, false],
    ['another store path', { ...created, Parameters: { ...request.Parameters, storePath: ['/nix/store/x'] } }, false],
    ['other targets', { ...created, Targets: [{ Key: 'tag:Role', Values: ['db'] }] }, false],
    ['instance IDs instead of targets', { ...created, Targets: [], InstanceIds: ['i-00000000000000001'] }, false],
    ['another document', { ...created, DocumentName: 'AWS-RunShellScript' }, false],
  ])('%s: %p', (_case, command, same) => {
    expect(isSameCommand(command, request)).toBe(same);
  });
});
