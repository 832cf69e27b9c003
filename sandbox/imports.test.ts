/**
 * The sandbox's modules import one another without a cycle, type-only imports included: the server builds the
 * services, and a service sees the server only through the `Account` interface it is handed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = dirname(fileURLToPath(import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** Each module's relative imports (`import`, `import type`, `export ... from`), as absolute `.ts` paths. */
function importGraph(files: string[]): Map<string, string[]> {
  return new Map(
    files.map((file) => {
      const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, false);
      const local = importedFiles
        .map((ref) => ref.fileName)
        .filter((name) => name.startsWith('.'))
        .map((name) => resolve(dirname(file), name.replace(/\.js$/, '.ts')));
      return [file, local];
    }),
  );
}

/** Every cycle reachable in `graph`, each as the modules along it (first repeated last); [] when none. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const visit = (file: string, path: string[]): void => {
    const at = path.indexOf(file);
    if (at >= 0) {
      found.push([...path.slice(at), file]);
      return;
    }
    if (done.has(file)) return;
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    done.add(file);
  };
  for (const file of graph.keys()) visit(file, []);
  return found;
}

describe('sandbox imports', () => {
  it.each([
    ['no import', { a: [], b: [] }, 0],
    ['a chain', { a: ['b'], b: ['c'], c: [] }, 0],
    ['a diamond', { a: ['b', 'c'], b: ['d'], c: ['d'], d: [] }, 0],
    ['two modules importing each other', { a: ['b'], b: ['a'] }, 1],
    ['a loop through three', { a: ['b'], b: ['c'], c: ['a'] }, 1],
    ['a module importing itself', { a: ['a'] }, 1],
  ])('cycles finds %s', (_name, edges, count) => {
    expect(cycles(new Map(Object.entries(edges)))).toHaveLength(count);
  });

  it('reads import, import type and export-from of a module', () => {
    const graph = importGraph([join(ROOT, 'server.ts')]);
    const imported = graph.get(join(ROOT, 'server.ts'))!.map((file) => relative(ROOT, file));
    expect(imported).toEqual(expect.arrayContaining(['service.ts', 'services/sts/sts.ts', 'credentials.ts']));
  });

  it('has no cycle among the sandbox modules', () => {
    const found = cycles(importGraph(sources(ROOT)));
    expect(found.map((cycle) => cycle.map((file) => relative(ROOT, file)).join(' -> '))).toEqual([]);
  });
});
