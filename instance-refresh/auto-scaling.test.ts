import { describe, expect, it } from '@jest/globals';
import type { InstanceRefresh, StartInstanceRefreshCommandInput } from '@aws-sdk/client-auto-scaling';
import { isRequestedRefresh } from './auto-scaling.js';

const SINCE = Date.parse('2026-01-01T00:00:00Z');
const request: StartInstanceRefreshCommandInput = {
  AutoScalingGroupName: 'web',
  DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '3' } },
};
const refresh = (id: string, version: string, start: string): InstanceRefresh => ({
  InstanceRefreshId: 'r',
  StartTime: new Date(start),
  DesiredConfiguration: { LaunchTemplate: { LaunchTemplateId: id, Version: version } },
});

describe('isRequestedRefresh: the version this deploy made, started since its first attempt', () => {
  it.each<[string, InstanceRefresh, boolean]>([
    ['same template and version, started after', refresh('lt-1', '3', '2026-01-01T00:00:05Z'), true],
    ['started at the very moment', refresh('lt-1', '3', '2026-01-01T00:00:00Z'), true],
    ['started before (an older deploy of a version of that number cannot be, but a clock can)', refresh('lt-1', '3', '2025-12-31T23:59:59Z'), false],
    ['another version', refresh('lt-1', '2', '2026-01-01T00:00:05Z'), false],
    ['another template', refresh('lt-2', '3', '2026-01-01T00:00:05Z'), false],
    ['no desired configuration (another deploy with none)', { InstanceRefreshId: 'r', StartTime: new Date('2026-01-01T00:00:05Z') }, false],
  ])('%s: %s', (_case, candidate, expected) => expect(isRequestedRefresh(candidate, request, SINCE)).toBe(expected));
});
