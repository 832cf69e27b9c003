/**
 * The demo's HTML report: one page with each step's job summary as GitHub would show it under the run, what the
 * demo expected of the step and whether it did that, its errors, and its log (masked as the runner masks it).
 */
import { escapeHtml } from '../shared/summary.js';
import type { StepOutcome } from './steps.js';

export interface DemoRun {
  startedAt: Date;
  durationMs: number;
  steps: StepOutcome[];
  /** Why the demo failed, when it did. */
  failure?: string;
}

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem; color: #1f2328; }
section { border: 1px solid #d0d7de; border-radius: 6px; margin: 1.5rem 0; padding: 0 1rem 1rem; }
section > h2 { font-size: 1.1rem; border-bottom: 1px solid #d0d7de; padding-bottom: .5rem; }
.verdict { font-weight: 600; }
.ok { color: #1a7f37; }
.bad { color: #cf222e; }
.summary { border-left: 3px solid #d0d7de; padding-left: 1rem; }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid #d0d7de; padding: .25rem .6rem; text-align: left; vertical-align: top; }
code, pre { font: 13px ui-monospace, monospace; }
pre { background: #f6f8fa; padding: .75rem; overflow-x: auto; }
`;

export function renderReport(run: DemoRun): string {
  const verdict = run.failure
    ? `<p class="verdict bad">Something unexpected happened: ${escapeHtml(run.failure)}</p>`
    : '<p class="verdict ok">Every step did what the demo expected.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>nixos-aws demo</title>
<style>${STYLE}</style>
</head>
<body>
<h1>nixos-aws demo</h1>
<p>Started ${escapeHtml(run.startedAt.toISOString())}, took ${seconds(run.durationMs)}. Each step ran an action's bundle as
the GitHub runner does, against the local sandbox and real Nix.</p>
${verdict}
${run.steps.map((step, i) => stepSection(step, i + 1)).join('\n')}
</body>
</html>
`;
}

function stepSection(step: StepOutcome, number: number): string {
  const { result } = step;
  const errors = result.annotations.filter((a) => a.level === 'error').map((a) => `<li>${escapeHtml(a.message)}</li>`);
  const outcome = step.problems.length === 0
    ? `<p class="verdict ok">As expected (${escapeHtml(step.expected)}): exit code ${result.exitCode}, ${seconds(result.durationMs)}.</p>`
    : `<p class="verdict bad">Not as expected (${escapeHtml(step.expected)}): ${escapeHtml(step.problems.join('; '))}.</p>`;
  return `<section>
<h2>${number}. ${escapeHtml(step.title)}</h2>
<p><code>${escapeHtml(step.action)}</code> in job <code>${escapeHtml(step.job)}</code></p>
${outcome}
${errors.length ? `<ul class="bad">${errors.join('')}</ul>` : ''}
<div class="summary">
${result.summary || '<p>(no job summary)</p>'}
</div>
<details><summary>Log</summary><pre>${escapeHtml(masked(result.logLines, result.masks).join('\n'))}</pre></details>
</section>`;
}

/** The log as the runner shows it: every registered secret replaced with `***`, longest first. */
export function masked(lines: string[], masks: string[]): string[] {
  const secrets = [...new Set(masks)].filter(Boolean).sort((a, b) => b.length - a.length);
  return lines.map((line) => secrets.reduce((text, secret) => text.split(secret).join('***'), line));
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
