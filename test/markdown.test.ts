/**
 * The documentation's links lead somewhere: every relative link in every Markdown file of the repository resolves to
 * a file or folder, and every `#anchor` to a heading of the file it names. The helpers that read Markdown are checked
 * first, on cases of each kind, so that an empty answer below means no broken link rather than no link seen.
 */
import { describe, expect, it } from '@jest/globals';
import { anchors, brokenLinks, links, markdownFiles, readDoc, readRepoPath, USER_DOCS } from './markdown.js';

describe('anchors', () => {
  it.each<[string, string[]]>([
    ['# nixos-aws', ['nixos-aws']],
    ["#### The signing key: in Parameter Store, readable only by the main branch's role", ['the-signing-key-in-parameter-store-readable-only-by-the-main-branchs-role']],
    ['## Rebuilding dist/', ['rebuilding-dist']],
    ['## IAM: trust policies', ['iam-trust-policies']],
    ['### The `NixOS-Deploy` document', ['the-nixos-deploy-document']],
    ['## [Timeouts](docs/timeouts.md) and *budgets*', ['timeouts-and-budgets']],
    ['## Behaviour\n\n## Behaviour\n\n## Behaviour', ['behaviour', 'behaviour-1', 'behaviour-2']],
    ['```sh\n# a comment, not a heading\n```', []],
    ['#hashtag, not a heading', []],
  ])('%j', (markdown, expected) => {
    expect([...anchors(markdown)]).toEqual(expected);
  });
});

describe('links', () => {
  it.each<[string, string[]]>([
    ['See [the README](README.md) and [a heading](#quick-start).', ['README.md', '#quick-start']],
    ['[`iam/`](../iam/), ![picture](img/a.png "title")', ['../iam/', 'img/a.png']],
    ['[GitHub](https://github.com/) and <https://example.com>', ['https://github.com/']],
    ['```md\n[in a block](nowhere.md)\n```', []],
    ['`[in a code span](nowhere.md)`', []],
  ])('%j', (markdown, expected) => {
    expect(links(markdown).map((link) => link.target)).toEqual(expected);
  });
});

describe('brokenLinks', () => {
  const files = new Map([
    ['README.md', '# Top\n\n## Quick start\n'],
    ['docs/a.md', '# A\n\n## Which tags are trusted\n'],
  ]);
  const repo: Record<string, string> = { iam: 'folder', 'iam/web-instance/managed-policies.json': '[]', 'LICENSE': 'MIT' };
  const read = (path: string) => repo[path];

  it.each<[string, string, string, string[]]>([
    ['a file beside', 'README.md', '[license](LICENSE)', []],
    ['a folder, with or without its slash', 'README.md', '[iam](iam/) [iam](iam)', []],
    ['a heading of its own file', 'README.md', '[q](#quick-start)', []],
    ['a heading of another file, up a folder', 'docs/a.md', '[t](../README.md#quick-start)', []],
    ['a heading of another file, down a folder', 'README.md', '[t](docs/a.md#which-tags-are-trusted)', []],
    ['a file up a folder that does not exist', 'docs/a.md', '[x](a.md/../../LICENSE.txt)', ['docs/a.md:5: a.md/../../LICENSE.txt (no such file)']],
    ['a link with a scheme', 'README.md', '[s](https://example.com/none.md#nothing) [m](mailto:a@b.c)', []],
    ['a file that does not exist', 'README.md', '[x](CONTRIBUTING.md)', ['README.md:5: CONTRIBUTING.md (no such file)']],
    ['a heading that does not exist', 'README.md', '[x](docs/a.md#which-tags-are-trusted-1)', ['README.md:5: docs/a.md#which-tags-are-trusted-1 (no such heading)']],
    ['a heading of its own file that does not exist', 'README.md', '[x](#quickstart)', ['README.md:5: #quickstart (no such heading)']],
    ['a path resolved from the wrong folder', 'README.md', '[x](web-instance/managed-policies.json)', ['README.md:5: web-instance/managed-policies.json (no such file)']],
    ['a path out of the repository', 'README.md', '[x](../other/README.md)', ['README.md:5: ../other/README.md (outside the repository)']],
  ])('%s (in %s)', (_case, file, link, expected) => {
    const withLink = new Map(files).set(file, `${files.get(file)}\n${link}\n`);
    expect(brokenLinks(withLink, read)).toEqual(expected);
  });
});

describe('the repository', () => {
  const files = markdownFiles();

  it('has the documentation the README points to', () => {
    expect(files).toEqual(expect.arrayContaining(USER_DOCS));
    expect(USER_DOCS).toEqual(expect.arrayContaining(['README.md', 'assume-role/README.md', 'ssm-deploy/README.md', 'docs/security.md', 'CONTRIBUTING.md']));
  });

  it('has no relative link that leads nowhere, in any Markdown file', () => {
    const texts = new Map(files.map((file) => [file, readDoc(file)]));
    expect([...texts.values()].flatMap((text) => links(text)).length).toBeGreaterThan(50);
    expect(brokenLinks(texts, readRepoPath)).toEqual([]);
  });
});
