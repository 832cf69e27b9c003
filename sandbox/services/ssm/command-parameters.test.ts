import { describe, expect, it } from '@jest/globals';
import { resolveCommandParameters } from './command-parameters.js';
import { parseCommandDocument } from './documents.js';
import { DEPLOY_CONTENT, STORE_PATH } from './fixtures.js';

const definitions = parseCommandDocument(DEPLOY_CONTENT, 'JSON').parameters;

describe('resolveCommandParameters', () => {
  it('fills in defaults', () => {
    expect(resolveCommandParameters(definitions, { storePath: [STORE_PATH] })).toEqual({
      storePath: [STORE_PATH],
      action: ['switch'],
      substituters: [''],
      units: [],
      executionTimeout: ['3600'],
    });
  });

  it('keeps values given', () => {
    const given = { storePath: [STORE_PATH], action: ['boot'], units: ['a.service', 'b.service'] };
    expect(resolveCommandParameters(definitions, given)).toMatchObject(given);
  });

  it.each([
    ['a missing required parameter', {}],
    ['an unknown parameter', { storePath: [STORE_PATH], storepath: [STORE_PATH] }],
    ['two values for a String', { storePath: [STORE_PATH, STORE_PATH] }],
    ['no value for a String', { storePath: [] }],
    ['a value outside allowedValues', { storePath: [STORE_PATH], action: ['test'] }],
    ['too many items', { storePath: [STORE_PATH], units: ['a', 'b', 'c', 'd'] }],
    ['a store path with a quote', { storePath: [`${STORE_PATH}'; rm -rf /`] }],
    ['a store path with a newline', { storePath: [`${STORE_PATH}\nreboot`] }],
    ['a store path with $()', { storePath: ['/nix/store/0123456789abcdfghijklmnpqrsvwxyz-$(reboot)'] }],
    ['a store path with a bad hash alphabet', { storePath: ['/nix/store/eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x'] }],
    ['a relative store path', { storePath: ['nix/store/0123456789abcdfghijklmnpqrsvwxyz-x'] }],
    ['a substituter with a space and a command', { storePath: [STORE_PATH], substituters: ['https://a.example; curl x'] }],
  ])('refuses %s with InvalidParameters', (_, given) => {
    expect(() => resolveCommandParameters(definitions, given)).toThrow(expect.objectContaining({ code: 'InvalidParameters' }));
  });

  it.each([
    ['Boolean', 'true', 'yes'],
    ['Integer', '-12', '1.5'],
  ])('checks %s values', (type, good, bad) => {
    const defs = [{ name: 'p', type: type as 'Boolean' | 'Integer' }];
    expect(resolveCommandParameters(defs, { p: [good] })).toEqual({ p: [good] });
    expect(() => resolveCommandParameters(defs, { p: [bad] })).toThrow(expect.objectContaining({ code: 'InvalidParameters' }));
  });

  it('applies allowedPattern as written, without adding anchors', () => {
    const defs = [{ name: 'p', type: 'String' as const, allowedPattern: '[0-9]' }];
    expect(resolveCommandParameters(defs, { p: ['a1b'] })).toEqual({ p: ['a1b'] });
  });

  it('checks lengths', () => {
    const defs = [{ name: 'p', type: 'String' as const, minChars: 2, maxChars: 3 }];
    expect(() => resolveCommandParameters(defs, { p: ['a'] })).toThrow(expect.objectContaining({ code: 'InvalidParameters' }));
    expect(() => resolveCommandParameters(defs, { p: ['abcd'] })).toThrow(expect.objectContaining({ code: 'InvalidParameters' }));
  });
});
