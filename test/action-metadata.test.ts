/**
 * Each `action.yml` against its `inputs.ts`: the same input names, the same defaults, the same required inputs;
 * the metadata GitHub and the Marketplace need; and the action's own `README.md`, whose input and output tables must
 * say what `action.yml` says: every input with its default (or `(required)`), every output, in order, nothing more.
 */
import { describe, expect, it } from '@jest/globals';
import { InputError } from '../shared/inputs.js';
import { readActionMetadata, stepInputs } from './harness/runner.js';
import { ACTIONS } from './actions.js';
import { ACTION_FOLDERS, readDoc, table } from './markdown.js';

const ENV = { AWS_REGION: 'eu-central-1' };
const from = (values: Record<string, string>) => (name: string) => values[name] ?? '';

it('covers every action folder', () => {
  expect(ACTIONS.map((c) => c.action).sort()).toEqual(ACTION_FOLDERS);
});

describe.each(ACTIONS)('$action/action.yml', ({ action, readInputs, valid }) => {
  const metadata = readActionMetadata(action) as ReturnType<typeof readActionMetadata> & Record<string, unknown>;
  const inputs = metadata.inputs ?? {};

  it('declares the inputs that inputs.ts reads, no more, no fewer', () => {
    const read = new Set<string>();
    readInputs((name) => {
      read.add(name);
      return valid[name] ?? '';
    }, ENV);
    expect([...read].sort()).toEqual(Object.keys(inputs).sort());
  });

  it('has the defaults that inputs.ts applies', () => {
    expect(readInputs(from(stepInputs(metadata, valid)), ENV)).toEqual(readInputs(from(valid), ENV));
  });

  // upload-ami requires one of two inputs, which action.yml cannot say: none is `required` there.
  const required = Object.keys(inputs).filter((name) => inputs[name]?.required);
  (required.length > 0 ? it.each(required) : it.skip.each([['(none)']]))('requires %s, as inputs.ts does', (name) => {
    const { [name]: _omitted, ...rest } = stepInputs(metadata, valid);
    let error: unknown;
    try {
      readInputs(from(rest), ENV);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).inputs).toContain(name);
  });

  it('describes every input and output', () => {
    const outputs = (metadata.outputs ?? {}) as Record<string, { description?: string }>;
    for (const spec of [...Object.values(inputs), ...Object.values(outputs)]) {
      expect(spec).toEqual(expect.objectContaining({ description: expect.stringMatching(/\w/) }));
    }
    expect(Object.keys(outputs).length).toBeGreaterThan(0);
  });

  it('runs its bundle on node24, with the metadata the Marketplace shows', () => {
    expect(metadata).toMatchObject({
      name: expect.stringMatching(/\w/),
      description: expect.stringMatching(/\w/),
      author: 'nixos-aws',
      branding: { icon: expect.any(String), color: expect.stringMatching(/^(white|black|yellow|blue|green|orange|red|purple|gray-dark)$/) },
      runs: { using: 'node24', main: `../dist/${action}/index.js` },
    });
    if (metadata.runs.post) {
      expect(metadata.runs).toMatchObject({ post: `../dist/${action}/post/index.js`, 'post-if': 'always()' });
    }
  });

  it('is documented in its README: every input with its default, in order', () => {
    const expected = Object.entries(inputs).map(([name, spec]) => [
      name,
      spec?.default !== undefined ? `\`${spec.default}\`` : spec?.required ? '(required)' : '',
    ]);
    expect([...(table(readDoc(`${action}/README.md`), 'Input') ?? [])]).toEqual(expected);
  });

  it('is documented in its README: every output, in order', () => {
    const outputs = Object.keys(metadata.outputs ?? {});
    expect([...(table(readDoc(`${action}/README.md`), 'Output')?.keys() ?? [])]).toEqual(outputs);
  });
});
