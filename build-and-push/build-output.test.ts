import { describe, expect, it } from '@jest/globals';
import { parseBuildOutput } from './build-output.js';

const P = (name: string) => `/nix/store/${name.padEnd(32, '0')}-${name}`;

describe('parseBuildOutput', () => {
  it.each<[string, unknown, { storePath: string; outputs: string[] }]>([
    ['one output', [{ drvPath: P('web.drv'), outputs: { out: P('web') } }], { storePath: P('web'), outputs: [P('web')] }],
    [
      'several outputs: out first, then by name',
      [{ drvPath: P('lib.drv'), outputs: { man: P('lib-man'), dev: P('lib-dev'), out: P('lib') } }],
      { storePath: P('lib'), outputs: [P('lib'), P('lib-dev'), P('lib-man')] },
    ],
    ['no out', [{ drvPath: P('x.drv'), outputs: { bin: P('x-bin'), doc: P('x-doc') } }], { storePath: P('x-bin'), outputs: [P('x-bin'), P('x-doc')] }],
    ['a store path as the installable', [{ path: P('web') }], { storePath: P('web'), outputs: [P('web')] }],
  ])('%s', (_case, json, built) => {
    expect(parseBuildOutput(JSON.stringify(json), '.#x')).toEqual(built);
  });

  it('fails when Nix reports nothing built', () => {
    expect(() => parseBuildOutput('[]', '.#web')).toThrow('nix build reported no output paths for .#web: []');
  });
});
