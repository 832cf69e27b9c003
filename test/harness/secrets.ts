/** Proof that no secret reached what a step leaves behind: its log, outputs, exported env, state and summary. */
import type { StepResult } from './runner.js';

export type Captured = 'log' | 'outputs' | 'exportedEnv' | 'state' | 'summary';

/** Where each secret appears, as `outputs.name`, `log line 3`, ...; `except` skips places meant to hold one. */
export function findSecrets(result: StepResult, secrets: Iterable<string>, except: Captured[] = []): string[] {
  const places: Array<[string, string]> = [];
  const add = (kind: Captured, entries: Array<[string, string]>) => {
    if (!except.includes(kind)) places.push(...entries);
  };
  add('log', result.logLines.map((line, i) => [`log line ${i + 1}`, line]));
  add('outputs', Object.entries(result.outputs).map(([name, value]) => [`outputs.${name}`, value]));
  add('exportedEnv', Object.entries(result.exportedEnv).map(([name, value]) => [`exportedEnv.${name}`, value]));
  add('state', Object.entries(result.state).map(([name, value]) => [`state.${name}`, value]));
  add('summary', [['summary', result.summary]]);

  const found: string[] = [];
  for (const secret of new Set(secrets)) {
    if (secret === '') continue;
    for (const [where, text] of places) {
      if (text.includes(secret)) found.push(`${where} holds the secret ${secret.slice(0, 4)}...`);
    }
  }
  return found;
}

/** Throws, naming every place, when any of the secrets appears in any of the results. */
export function assertNoSecrets(
  results: StepResult | StepResult[],
  secrets: Iterable<string>,
  except: Captured[] = [],
): void {
  const all = [results].flat();
  const list = [...secrets];
  const found = all.flatMap((result, i) => findSecrets(result, list, except).map((where) => `step ${i + 1}: ${where}`));
  if (found.length > 0) throw new Error(`Secrets leaked:\n${found.join('\n')}`);
}
