import type { AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { describe, expect, it } from '@jest/globals';
import { checkGroupVersion, chooseTemplate, groupTemplate, rollbackTarget, type TemplateRef, type VersionCheck } from './template-ref.js';

const ID = 'lt-0123456789abcdef0';

describe('groupTemplate', () => {
  it.each<[string, Partial<AutoScalingGroup>, TemplateRef | RegExp]>([
    ['a launch template', { LaunchTemplate: { LaunchTemplateId: ID, LaunchTemplateName: 'web', Version: '3' } }, { id: ID, name: 'web', version: '3' }],
    ['no version held', { LaunchTemplate: { LaunchTemplateName: 'web' } }, { id: undefined, name: 'web', version: '$Default' }],
    ['a mixed instances policy', { MixedInstancesPolicy: {}, LaunchTemplate: undefined }, /mixed instances policy/],
    ['a launch configuration', { LaunchConfigurationName: 'old' }, /has no launch template/],
  ])('%s', (_case, group, expected) => {
    const read = () => groupTemplate({ AutoScalingGroupName: 'web', ...group } as AutoScalingGroup);
    if (expected instanceof RegExp) expect(read).toThrow(expected);
    else expect(read()).toEqual(expected);
  });
});

describe('chooseTemplate', () => {
  const group: TemplateRef = { id: ID, name: 'web', version: '3' };
  it.each<[string, string, TemplateRef]>([
    ['no input', '', group],
    ["the group's ID", ID, group],
    ["the group's name", 'web', group],
    ['another ID', 'lt-0fedcba9876543210', { id: 'lt-0fedcba9876543210', version: '$Default' }],
    ['another name', 'web-next', { name: 'web-next', version: '$Default' }],
    ['a name that looks like an ID', 'lt-next', { name: 'lt-next', version: '$Default' }],
  ])('%s', (_case, input, expected) => {
    expect(chooseTemplate(group, input)).toEqual(expected);
  });
});

describe('checkGroupVersion', () => {
  const at = (version: string): TemplateRef => ({ id: ID, version });
  const other: TemplateRef = { name: 'other', version: '$Default' };
  it.each<[string, boolean, boolean, VersionCheck | 'error' | 'warning']>([
    ['3', true, false, {}],
    ['$Latest', true, false, 'error'],
    ['$Default', true, false, 'error'],
    ['$Latest', false, false, 'warning'],
    ['$Latest', false, true, {}],
    ['$Default', false, false, {}],
  ])('version %s, auto-rollback %s, other template %s', (version, autoRollback, otherTemplate, expected) => {
    const group = at(version);
    const check = checkGroupVersion(group, otherTemplate ? other : group, autoRollback);
    if (expected === 'error') expect(check).toEqual({ error: expect.stringContaining(`version ${version}`) });
    else if (expected === 'warning') expect(check).toEqual({ warning: expect.stringContaining('launches $Latest') });
    else expect(check).toEqual(expected);
  });
});

describe('rollbackTarget', () => {
  const group: TemplateRef = { id: ID, name: 'web', version: '3' };
  it.each<[string, TemplateRef, number | string]>([
    ["the group's template, made from the version it runs", group, 3],
    ['another template', { name: 'web-next', version: '$Default' }, '3 of launch template web'],
  ])('%s', (_case, chosen, expected) => {
    expect(rollbackTarget(group, chosen, 3)).toBe(expected);
  });
});
