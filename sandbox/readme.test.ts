/**
 * sandbox/README.md's table of services against the code: each service's folder, its files and the operations its
 * router serves, and the control API's routes, so that the README cannot go stale.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ControlApi } from './control.js';
import { Sandbox } from './server.js';
import type { Service } from './service.js';

const README = readFileSync(fileURLToPath(new URL('./README.md', import.meta.url)), 'utf8');

/** The table's rows by service: `| \`sts\` | Query | \`services/sts/\` | files | operations |`. */
function tableRows(): Map<string, { folder: string; files: string[]; operations: string[] }> {
  const cells = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  const rows = README.split('\n').filter((line) => /^\| `[a-z0-9]+` \|/.test(line));
  return new Map(
    rows.map((line) => {
      const [name, , folder, files, operations] = line.split('|').slice(1, -1);
      return [cells(name)[0], { folder: cells(folder)[0], files: cells(files), operations: cells(operations) }];
    }),
  );
}

/** What a service's router serves: its operations, and its plain routes as `METHOD /path`. */
const served = (service: Service): string[] => [
  ...Object.keys(service.operations),
  ...(service.routes ?? []).map((route) => `${route.method} ${route.path}`),
];

const sourcesIn = (folder: string): string[] =>
  readdirSync(fileURLToPath(new URL(`./${folder}`, import.meta.url))).filter(
    (file) => file.endsWith('.ts') && !file.endsWith('.test.ts'),
  );

describe('sandbox/README.md', () => {
  const sandbox = new Sandbox();
  const services: Service[] = [sandbox.sts, sandbox.oidc, sandbox.ec2, sandbox.autoscaling, sandbox.ssm, sandbox.ebs];
  const rows = tableRows();

  it('has one row per service', () => {
    expect([...rows.keys()].sort()).toEqual(services.map((s) => s.name).sort());
  });

  it.each(services.map((service) => [service.name, service] as const))('lists what %s serves', (name, service) => {
    expect([...rows.get(name)!.operations].sort()).toEqual(served(service).sort());
  });

  it.each(services.map((service) => [service.name] as const))('lists the files of %s and its folder', (name) => {
    const row = rows.get(name)!;
    expect(row.folder).toBe(`services/${name}/`);
    expect([...row.files].sort()).toEqual(sourcesIn(row.folder).sort());
  });

  it('names every route of the control API', () => {
    const routes = new ControlApi(sandbox).routes;
    expect(routes.length).toBeGreaterThan(0);
    for (const route of routes) expect(README).toContain(`${route.method} ${route.path}`);
  });
});
