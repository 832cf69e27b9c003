import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { PROJECT_ID, PROJECT_NAME, PROJECT_VERSION } from './version.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as Record<string, string>;

describe('version', () => {
  it.each([
    ['PROJECT_NAME', PROJECT_NAME, pkg.name],
    ['PROJECT_VERSION', PROJECT_VERSION, pkg.version],
    ['PROJECT_ID', PROJECT_ID, `${pkg.name}/${pkg.version}`],
  ])('%s comes from package.json', (_name, actual, expected) => {
    expect(actual).toBe(expected);
  });

  it('is a semantic version', () => {
    expect(PROJECT_VERSION).toMatch(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/);
  });
});
