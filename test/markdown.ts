/**
 * The project's Markdown files, and the few parts of Markdown that the documentation tests read: the anchors GitHub
 * gives headings, relative links, fenced code blocks and two-column lookups in tables. Only what these files use:
 * ATX headings (`## Title`), inline links (`[text](target)`), backtick fences.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, normalize, posix } from 'node:path';
import { REPO_ROOT } from './harness/runner.js';

/** Folders that hold no documentation of this project: dependencies, bundles, build output, git. */
const SKIPPED = new Set(['node_modules', 'dist', '.build', '.git']);

/** Every `.md` file of the repository, as `/`-separated paths relative to its root, sorted. */
export function markdownFiles(folder = ''): string[] {
  return readdirSync(join(REPO_ROOT, folder), { withFileTypes: true })
    .flatMap((entry) => {
      const path = folder ? `${folder}/${entry.name}` : entry.name;
      if (entry.isDirectory()) return SKIPPED.has(entry.name) ? [] : markdownFiles(path);
      return entry.name.endsWith('.md') ? [path] : [];
    })
    .sort();
}

/** The folders at the root that hold an action (an `action.yml`), sorted. */
export const ACTION_FOLDERS = readdirSync(REPO_ROOT)
  .filter((name) => existsSync(join(REPO_ROOT, name, 'action.yml')))
  .sort();

/** The documentation for users: the root README, each action's README, `docs/` and CONTRIBUTING.md. */
export const USER_DOCS = [
  'README.md',
  ...ACTION_FOLDERS.map((action) => `${action}/README.md`),
  ...markdownFiles('docs'),
  'CONTRIBUTING.md',
];

export const readDoc = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

/** The fenced code blocks of a Markdown text, with their language and first line (indented fences too). */
export function codeBlocks(markdown: string): Array<{ lang: string; code: string; line: number }> {
  return [...markdown.matchAll(/^([ \t]*)```(\w*)\n([\s\S]*?)^\1```$/gm)].map((m) => ({
    lang: m[2],
    code: m[3],
    line: markdown.slice(0, m.index).split('\n').length,
  }));
}

/** The text with its fenced code blocks blanked (line count kept), where nothing is a heading or a link. */
function prose(markdown: string): string {
  return markdown.replace(/^([ \t]*)```\w*\n[\s\S]*?^\1```$/gm, (block) => block.replace(/[^\n]/g, ''));
}

/**
 * The anchors GitHub gives the headings of a Markdown text, as github-slugger makes them: the heading's text without
 * Markdown (code spans, emphasis, link targets), lower case, every character but letters, digits, `_`, `-` and
 * spaces removed, spaces turned into `-`; a repeated anchor gets `-1`, `-2`, ...
 */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of prose(markdown).matchAll(/^#{1,6}[ \t]+(.+?)[ \t#]*$/gm)) {
    const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '');
    const slug = text.toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count ? `${slug}-${count}` : slug);
  }
  return result;
}

/** The targets of the inline links and images of a Markdown text outside code, with their line. */
export function links(markdown: string): Array<{ target: string; line: number }> {
  return prose(markdown)
    .split('\n')
    .flatMap((text, index) =>
      [...text.replace(/`[^`]*`/g, '').matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => ({ target: m[1], line: index + 1 })),
    );
}

/**
 * The relative links of `files` (path -> text) that lead nowhere: `path:line: target (why)`. A target is resolved
 * from its file's folder (a leading `/` from the repository's root, as GitHub does); it must exist, and its
 * `#anchor` must be a heading of the Markdown file it names (or of its own file, for a bare `#anchor`). Links with
 * a scheme (`https:`, `mailto:`) are not followed.
 */
export function brokenLinks(files: Map<string, string>, read: (path: string) => string | 'folder' | undefined): string[] {
  return [...files].flatMap(([file, text]) =>
    links(text).flatMap(({ target, line }) => {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return [];
      const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
      const path = pathPart === '' ? file : posix.normalize(pathPart.startsWith('/') ? pathPart.slice(1) : posix.join(posix.dirname(file), pathPart));
      const why = (reason: string) => [`${file}:${line}: ${target} (${reason})`];
      if (path.startsWith('../')) return why('outside the repository');
      const content = files.get(path) ?? read(path.replace(/\/$/, ''));
      if (content === undefined) return why('no such file');
      if (anchor === undefined || !path.endsWith('.md')) return [];
      if (content === 'folder') return why('a folder has no headings');
      return anchors(content).has(anchor) ? [] : why('no such heading');
    }),
  );
}

/** A file of the repository, `'folder'` for a folder, `undefined` when there is none: {@link brokenLinks}' reader. */
export function readRepoPath(path: string): string | 'folder' | undefined {
  const full = normalize(join(REPO_ROOT, path));
  if (!existsSync(full)) return undefined;
  return statSync(full).isDirectory() ? 'folder' : readFileSync(full, 'utf8');
}

/** Rows of the Markdown table whose header starts with `| <first> |`: first cell (backticks removed) -> second cell. */
export function table(markdown: string, first: string): Map<string, string> | undefined {
  const lines = markdown.split('\n');
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
