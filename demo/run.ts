/**
 * `npm run demo`: the pipeline end to end on this machine (see steps.ts), each step's job summary printed as text
 * and all of them written to one HTML report. Exits 0 when every step did what was expected (the SSM deploy's one
 * failing instance included), 1 naming what went otherwise. Option: --report PATH (default demo-report.html).
 */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { renderReport, seconds, type DemoRun } from './report.js';
import { setUpStage } from './stage.js';
import { runSteps, type StepOutcome } from './steps.js';
import { summaryText } from './summary-text.js';

const USAGE = 'usage: npm run demo -- [--report PATH]';

function reportPath(): string {
  try {
    const { values } = parseArgs({ options: { report: { type: 'string', default: 'demo-report.html' } } });
    return resolve(values.report);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

const indent = (text: string) => text.replace(/^(?=.)/gm, '    ');

function printStep(step: StepOutcome, index: number, count: number): void {
  const { result } = step;
  const lines = [`[${index + 1}/${count}] ${step.action}: ${step.title} (job ${step.job})`, ''];
  lines.push(indent(summaryText(result.summary) || '(no job summary)'), '');
  for (const error of result.annotations.filter((a) => a.level === 'error')) lines.push(`    error: ${error.message}`);
  lines.push(
    step.problems.length === 0
      ? `  => as expected: ${step.expected} (exit code ${result.exitCode}, ${seconds(result.durationMs)})`
      : `  => UNEXPECTED: ${step.problems.join('; ')} (expected: ${step.expected})`,
    '',
  );
  console.log(lines.join('\n'));
}

const path = reportPath();
const started = Date.now();
const run: DemoRun = { startedAt: new Date(started), durationMs: 0, steps: [] };
console.log('nixos-aws demo: a build job and a production deploy job, every step a real action bundle run against the local sandbox.\n');
try {
  const stage = await setUpStage();
  try {
    run.steps = await runSteps(stage, printStep);
  } finally {
    await stage.close();
  }
  const wrong = run.steps.find((step) => step.problems.length > 0);
  if (wrong) run.failure = `${wrong.action} (${wrong.title}): ${wrong.problems.join('; ')}`;
} catch (error) {
  run.failure = `the demo could not run: ${(error as Error).message}`;
}
run.durationMs = Date.now() - started;
await writeFile(path, renderReport(run));
if (run.failure) {
  console.error(`Demo FAILED after ${seconds(run.durationMs)}: ${run.failure}\nReport: ${path}`);
  process.exit(1);
}
console.log(`Demo done in ${seconds(run.durationMs)}: every step did what was expected. Report: ${path}`);
