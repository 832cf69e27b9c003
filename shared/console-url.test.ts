import { consoleOrigin, consoleUrl } from './console-url.js';

describe('consoleOrigin', () => {
  it.each([
    ['eu-central-1', 'https://eu-central-1.console.aws.amazon.com'],
    ['us-east-1', 'https://us-east-1.console.aws.amazon.com'],
    ['cn-north-1', 'https://cn-north-1.console.amazonaws.cn'],
    ['cn-northwest-1', 'https://cn-northwest-1.console.amazonaws.cn'],
    ['us-gov-west-1', 'https://us-gov-west-1.console.amazonaws-us-gov.com'],
    ['us-gov-east-1', 'https://us-gov-east-1.console.amazonaws-us-gov.com'],
  ])('%s: %s', (region, origin) => {
    expect(consoleOrigin(region)).toBe(origin);
  });
});

describe('consoleUrl', () => {
  it.each([
    ['eu-west-1', 'ec2/home', 'AutoScalingGroupDetails:id=web;view=instanceRefresh', 'https://eu-west-1.console.aws.amazon.com/ec2/home?region=eu-west-1#AutoScalingGroupDetails:id=web;view=instanceRefresh'],
    ['us-gov-west-1', 'systems-manager/run-command/c-1', undefined, 'https://us-gov-west-1.console.amazonaws-us-gov.com/systems-manager/run-command/c-1?region=us-gov-west-1'],
    ['cn-north-1', 'systems-manager/state-manager/association/a-1/description', undefined, 'https://cn-north-1.console.amazonaws.cn/systems-manager/state-manager/association/a-1/description?region=cn-north-1'],
  ])('%s %s #%s', (region, service, fragment, url) => {
    expect(consoleUrl(region, service, fragment)).toBe(url);
  });
});
