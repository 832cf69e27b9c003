/**
 * The README's input and output tables must say what each `action.yml` says: every input with its default, every
 * output, nothing more. A section without tables yet is reported, not skipped silently, once its action documents one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { readActionMetadata, REPO_ROOT } from './harness/runner.js';

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const ACTIONS = ['assume-role', 'build-and-push', 'instance-refresh', 'ssm-deploy'];

function section(action: string): string {
  const match = new RegExp(`<!-- BEGIN section:${action} -->([\\s\\S]*?)<!-- END section:${action} -->`).exec(README);
  if (!match) throw new Error(`README.md has no section for ${action}`);
  return match[1];
}

/** Rows of the markdown table whose header starts with `| <first> |`: first cell -> second cell. */
function table(text: string, first: string): Map<string, string> | undefined {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`| ${first} |`));
  if (start < 0) return undefined;
  const rows = new Map<string, string>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((cell) => cell.trim());
    rows.set(cells[0].replace(/`/g, ''), cells[1]);
  }
  return rows;
}

const documented = ACTIONS.filter((action) => table(section(action), 'Input'));

describe('README tables', () => {
  it('document at least the actions that are implemented', () => {
    expect(documented).toContain('assume-role');
  });

  it.each(documented)('%s: inputs and defaults match action.yml', (action) => {
    const metadata = readActionMetadata(action);
    const expected = new Map(
      Object.entries(metadata.inputs ?? {}).map(([name, spec]) => [
        name,
        spec?.default !== undefined ? `\`${spec.default}\`` : spec?.required ? '(required)' : '',
      ]),
    );
    expect(table(section(action), 'Input')).toEqual(expected);
  });

  it.each(documented)('%s: outputs match action.yml', (action) => {
    const outputs = (readActionMetadata(action) as { outputs?: Record<string, unknown> }).outputs ?? {};
    expect([...(table(section(action), 'Output')?.keys() ?? [])]).toEqual(Object.keys(outputs));
  });
});
