import { afterAll, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { captureStdout } from './fixtures/stdout.js';
import { tempFile } from './fixtures/runner-files.js';
import { mermaidText, renderCell, writeSummary, type Cell, type JobSummary } from './summary.js';

describe('renderCell', () => {
  it.each<[string, Cell, string]>([
    ['text, escaped', 'a <b> & "c"', 'a &lt;b&gt; &amp; &quot;c&quot;'],
    ['a number', 90, '90'],
    ['a boolean', true, 'true'],
    ['a date', new Date('2026-01-02T03:04:05Z'), '2026-01-02T03:04:05.000Z'],
    ['absent', undefined, ' '],
    ['empty', '', ' '],
    ['code', { text: '/nix/store/abc-x', code: true }, '<code>/nix/store/abc-x</code>'],
    ['a link', { text: 'web', href: 'https://console.aws.amazon.com/?a=1&b=2' }, '<a href="https://console.aws.amazon.com/?a=1&amp;b=2">web</a>'],
    ['a linked code', { text: 'i-1', href: 'https://x/', code: true }, '<a href="https://x/"><code>i-1</code></a>'],
    ['no javascript: links', { text: 'x', href: 'javascript:alert(1)' }, 'x'],
    ['an attribute cannot be broken out of', { text: 'x', href: 'https://x/"onmouseover="y' }, '<a href="https://x/&quot;onmouseover=&quot;y">x</a>'],
  ])('%s', (_case, cell, html) => {
    expect(renderCell(cell)).toBe(html);
  });
});

describe('mermaidText', () => {
  it.each([
    ['Successful', 'Successful'],
    ['web-1 (i-0abc) 50% done', 'web-1 (i-0abc) 50 done'],
    ['a: b; c', 'a b c'],
    ['x\nsection evil\ny', 'x section evil y'],
    ['#9829; %%{init: {}}%%', '9829 init'],
    ['`<img src=x onerror=alert(1)>`', 'img src=x onerror=alert(1)'],
    ['::error::boom', 'error boom'],
    ['a'.repeat(70), `${'a'.repeat(57)}...`],
    ['section Evil', "'section Evil'"],
    ['Call it', "'Call it'"],
    ['dateFormat YYYY', "'dateFormat YYYY'"],
    ['clickable', 'clickable'],
  ])('%j -> %j', (text, safe) => {
    expect(mermaidText(text)).toBe(safe);
  });
});

describe('writeSummary', () => {
  // One file for the whole suite: core.summary remembers the first path it resolves.
  const file = tempFile('summary.md');
  const saved = process.env.GITHUB_STEP_SUMMARY;
  beforeEach(() => {
    process.env.GITHUB_STEP_SUMMARY = file.path;
    file.clear();
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.GITHUB_STEP_SUMMARY;
    else process.env.GITHUB_STEP_SUMMARY = saved;
    file.remove();
  });

  it.each<[string, JobSummary, string[]]>([
    ['a title alone', { title: 'instance-refresh' }, ['<h2>instance-refresh</h2>']],
    [
      'facts, leaving out absent ones',
      { title: 'Deploy', text: 'Deploy failed: rolled back to version 6.', facts: [['Group', 'web'], ['Version', '6 -> 7'], ['Alarm', undefined]] },
      [
        '<h2>Deploy</h2>',
        '<p>Deploy failed: rolled back to version 6.</p>',
        '<table><tr><th>Group</th><td>web</td></tr><tr><th>Version</th><td>6 -&gt; 7</td></tr></table>',
      ],
    ],
    [
      'an item table, short rows padded',
      {
        title: 'ssm-deploy',
        tables: [{ title: 'Instances', columns: ['Instance', 'Status', 'Exit code'], rows: [[{ text: 'i-1', code: true }, 'Success', 0], ['i-2', 'Undeliverable']] }],
      },
      [
        '<h2>ssm-deploy</h2>',
        '<h3>Instances</h3>',
        '<table><tr><th>Instance</th><th>Status</th><th>Exit code</th></tr>' +
          '<tr><td><code>i-1</code></td><td>Success</td><td>0</td></tr>' +
          '<tr><td>i-2</td><td>Undeliverable</td><td> </td></tr></table>',
      ],
    ],
    ['HTML in the title is text', { title: '<script>x</script>' }, ['<h2>&lt;script&gt;x&lt;/script&gt;</h2>']],
    [
      'a Mermaid diagram after the facts, fenced, a backtick unable to end the fence',
      { title: 'Deploy', facts: [['Group', 'web']], mermaid: 'gantt\n  a`b :done, 0, 1' },
      ['<h2>Deploy</h2>', '<table><tr><th>Group</th><td>web</td></tr></table>', '', '```mermaid', "gantt", "  a'b :done, 0, 1", '```', ''],
    ],
  ])('%s', async (_case, summary, html) => {
    await expect(writeSummary(summary)).resolves.toBe(true);
    expect(file.read()).toBe(html.map((line) => `${line}\n`).join(''));
  });

  it('appends to what earlier steps wrote', async () => {
    await writeSummary({ title: 'one' });
    await writeSummary({ title: 'two' });
    expect(file.read()).toBe('<h2>one</h2>\n<h2>two</h2>\n');
  });

  it('is a no-op with a debug line without GITHUB_STEP_SUMMARY', async () => {
    delete process.env.GITHUB_STEP_SUMMARY;
    let written: boolean | undefined;
    const lines = await captureStdout(async () => {
      written = await writeSummary({ title: 'x' });
    });
    expect(written).toBe(false);
    expect(lines).toEqual(['::debug::No GITHUB_STEP_SUMMARY: the job summary is not written.']);
    expect(file.read()).toBe('');
  });

  it('warns instead of failing when the summary file cannot be written', async () => {
    let written: boolean | undefined;
    const lines = await captureStdout(() =>
      // A fresh @actions/core, whose summary has not yet remembered the good path.
      jest.isolateModulesAsync(async () => {
        const fresh = await import('./summary.js');
        process.env.GITHUB_STEP_SUMMARY = `${file.path}.missing/summary.md`;
        written = await fresh.writeSummary({ title: 'x' });
      }),
    );
    expect(written).toBe(false);
    expect(lines).toEqual([expect.stringMatching(/^::warning::Could not write the job summary: Unable to access summary file/)]);
  });
});
