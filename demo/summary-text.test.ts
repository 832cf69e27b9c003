import { describe, expect, it } from '@jest/globals';
import { summaryText } from './summary-text.js';

describe('summaryText', () => {
  it.each([
    ['a heading, underlined by level', '<h2>Deployed</h2>\n<h3>Instances</h3>', 'Deployed\n========\n\nInstances\n---------'],
    ['a paragraph, whitespace squeezed', '<p>The command\n  ended   Success.</p>', 'The command ended Success.'],
    ['entities decoded', '<p>a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39; &#x41;</p>', 'a <b> & "c" \'d\' A'],
    ['a link and code as their text', '<p>See <a href="https://x.example/run">the run</a> of <code>web</code>.</p>', 'See the run of web.'],
    ['list items as dashes', '<ul><li>one</li><li>two</li></ul>', '- one\n- two'],
    ['a line break inside a paragraph', '<p>first<br>second</p>', 'first\nsecond'],
    [
      'a header row with a rule under it, columns aligned, no trailing spaces',
      '<table><tr><th>Instance</th><th>Status</th></tr><tr><td><code>i-1</code></td><td>Success</td></tr><tr><td>i-22222</td><td> </td></tr></table>',
      'Instance  Status\n--------  -------\ni-1       Success\ni-22222',
    ],
    [
      'label and value rows without a rule',
      '<table><tr><th>Region</th><td>us-east-1</td></tr><tr><th>Store path</th><td><code>/nix/store/x</code></td></tr></table>',
      'Region      us-east-1\nStore path  /nix/store/x',
    ],
    [
      'blocks apart by a blank line',
      '<h2>T</h2>\n<p>Text.</p>\n<table><tr><th>A</th><td>1</td></tr></table>\n',
      'T\n=\n\nText.\n\nA  1',
    ],
    ['nothing from nothing', '', ''],
  ])('%s', (_case, html, text) => {
    expect(summaryText(html)).toBe(text);
  });
});
