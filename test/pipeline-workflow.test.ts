/**
 * Which jobs of the example pipeline run, for each event and outcome, and what each deploy is given: the jobs'
 * `if`s and `with`s evaluated by GitHub's own expression library (@actions/expressions), the jobs scheduled as
 * GitHub schedules them. A job runs once its needs are done, when its `if` holds (no `if` is `success()`); a job that
 * does not run is skipped. Job-level `success()` is true only when every job up its chain of needs succeeded, so a
 * skip anywhere up the chain skips a job without an `if` of its own (actions/runner#491, #2205; the `needs` section of
 * GitHub's workflow syntax: "a failure or skip applies to all jobs in the dependency chain").
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { data, Evaluator, Lexer, Parser } from '@actions/expressions';
import { truthy } from '@actions/expressions/result';
import { parse } from 'yaml';
import { REPO_ROOT } from './harness/runner.js';

interface Job {
  needs?: string | string[];
  if?: string | boolean;
  with?: Record<string, unknown>;
}
interface Workflow {
  jobs: Record<string, Job>;
}
type Result = 'success' | 'failure' | 'skipped';

/** What a job that runs does: its result (success unless named) and its outputs. */
interface Outcomes {
  failed?: string[];
  outputs?: Record<string, Record<string, string>>;
}

const STATUS_FUNCTIONS = ['success', 'failure', 'cancelled', 'always'].map((name) => ({ name, minArgs: 0, maxArgs: 0 }));

/** `text` with each `${{ expr }}` evaluated; a value that is one whole expression keeps its type (for `if`). */
function evaluate(text: string, context: data.Dictionary, functions: Map<string, { name: string; minArgs: number; maxArgs: number; call: () => data.ExpressionData }>): data.ExpressionData {
  const run = (expr: string) => {
    const lexed = new Lexer(expr).lex();
    return new Evaluator(new Parser(lexed.tokens, ['github', 'needs'], STATUS_FUNCTIONS).parse(), context, functions).evaluate();
  };
  const whole = /^\s*\$\{\{([^]*)\}\}\s*$/.exec(text);
  if (whole && !whole[1].includes('}}')) return run(whole[1]);
  return new data.StringData(text.replace(/\$\{\{([^]*?)\}\}/g, (_m, expr: string) => run(expr).coerceString()));
}

/** Every job's result and, for those that ran, the `with` they were given, as GitHub would schedule `workflow`. */
function schedule(workflow: Workflow, event: string, outcomes: Outcomes = {}) {
  const needsOf = (id: string) => [workflow.jobs[id].needs ?? []].flat();
  const results = new Map<string, Result>();
  const given: Record<string, Record<string, string>> = {};
  const ancestors = (id: string): string[] => needsOf(id).flatMap((need) => [need, ...ancestors(need)]);
  while (results.size < Object.keys(workflow.jobs).length) {
    const ready = Object.keys(workflow.jobs).filter((id) => !results.has(id) && needsOf(id).every((need) => results.has(need)));
    if (ready.length === 0) throw new Error('the needs form a cycle');
    for (const id of ready) {
      const job = workflow.jobs[id];
      const needs = new data.Dictionary(
        ...needsOf(id).map((need) => ({
          key: need,
          value: new data.Dictionary(
            { key: 'result', value: new data.StringData(results.get(need)!) },
            {
              key: 'outputs',
              value: new data.Dictionary(
                ...Object.entries(results.get(need) === 'success' ? (outcomes.outputs?.[need] ?? {}) : {}).map(([key, value]) => ({ key, value: new data.StringData(value) })),
              ),
            },
          ),
        })),
      );
      const context = new data.Dictionary({ key: 'github', value: new data.Dictionary({ key: 'event_name', value: new data.StringData(event) }) }, { key: 'needs', value: needs });
      const chain = ancestors(id).map((need) => results.get(need));
      const status = (value: boolean) => () => new data.BooleanData(value);
      const functions = new Map(
        Object.entries({
          success: status(chain.every((result) => result === 'success')),
          failure: status(chain.some((result) => result === 'failure')),
          cancelled: status(false),
          always: status(true),
        }).map(([name, call]) => [name, { name, minArgs: 0, maxArgs: 0, call }]),
      );
      const condition = job.if === undefined ? '${{ success() }}' : String(job.if);
      const runs = truthy(evaluate(condition.includes('${{') ? condition : `\${{ ${condition} }}`, context, functions));
      results.set(id, runs ? (outcomes.failed?.includes(id) ? 'failure' : 'success') : 'skipped');
      if (runs && job.with) given[id] = Object.fromEntries(Object.entries(job.with).map(([key, value]) => [key, evaluate(String(value), context, functions).coerceString()]));
    }
  }
  return { results: Object.fromEntries(results), given };
}

const PIPELINE = parse(readFileSync(join(REPO_ROOT, 'examples/pipeline.yml'), 'utf8')) as Workflow;
const STORE_PATHS = ['/nix/store/0c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-web-25.05', '/nix/store/1c9qb2k5kbcz0zd7r6ahdwvfspv1chpl-nixos-system-monitoring-25.05'];
const BUILT = { build: { 'store-paths': JSON.stringify(STORE_PATHS) } };
/** The image job's outputs: `new-image` is whether this run (any attempt) registered the AMI; bytes are no signal. */
const image = (newImage: string, uploadedBytes: string) => ({ ...BUILT, image: { 'image-id': 'ami-0fedcba9876543210', 'new-image': newImage, 'uploaded-bytes': uploadedBytes } });
const NEW_IMAGE = image('true', '1048576');
const SAME_IMAGE = image('false', '0');
/** A re-run of a run whose image job failed after registering (from the snapshot it kept), or during a copy. */
const REGISTERED_BY_RE_RUN = image('true', '0');

const ran = (results: Record<string, Result>) => Object.keys(results).filter((id) => results[id] !== 'skipped');

describe('the example pipeline, scheduled as GitHub schedules it', () => {
  it.each<[string, string, Outcomes, string[]]>([
    ['a pull request builds only', 'pull_request', { outputs: BUILT }, ['build']],
    ['a push deploys both systems to staging, smoke-tests, then production', 'push', { outputs: BUILT }, ['build', 'staging-web', 'staging-monitoring', 'smoke-test', 'production-web', 'production-monitoring']],
    ['a push whose smoke test fails stops before production', 'push', { outputs: BUILT, failed: ['smoke-test'] }, ['build', 'staging-web', 'staging-monitoring', 'smoke-test']],
    ["a push whose staging monitoring fails stops before production", 'push', { outputs: BUILT, failed: ['staging-monitoring'] }, ['build', 'staging-web', 'staging-monitoring', 'smoke-test']],
    ['a push whose staging refresh fails is not smoke-tested', 'push', { outputs: BUILT, failed: ['staging-web'] }, ['build', 'staging-web', 'staging-monitoring']],
    ['a new weekly image rolls out to staging, is smoke-tested, then production (web only)', 'schedule', { outputs: NEW_IMAGE }, ['build', 'image', 'staging-web', 'smoke-test', 'production-web']],
    ["last week's image again (an unchanged week) rolls nothing out", 'schedule', { outputs: SAME_IMAGE }, ['build', 'image']],
    ['a re-run whose image job registers the AMI with 0 bytes uploaded rolls it out', 'schedule', { outputs: REGISTERED_BY_RE_RUN }, ['build', 'image', 'staging-web', 'smoke-test', 'production-web']],
    ['an image job without new-image rolls nothing out', 'schedule', { outputs: { ...BUILT, image: { 'image-id': 'ami-0fedcba9876543210', 'uploaded-bytes': '1048576' } } }, ['build', 'image']],
    ['a failed image rolls nothing out', 'schedule', { outputs: BUILT, failed: ['image'] }, ['build', 'image']],
    ['a failed build rolls no image out', 'schedule', { outputs: NEW_IMAGE, failed: ['build'] }, ['build', 'image']],
    ['a new image whose staging smoke test fails stops before production', 'schedule', { outputs: NEW_IMAGE, failed: ['smoke-test'] }, ['build', 'image', 'staging-web', 'smoke-test']],
  ])('%s', (_case, event, outcomes, expected) => {
    expect(ran(schedule(PIPELINE, event, outcomes).results)).toEqual(expected);
  });

  it.each<[string, string, Outcomes]>([
    ['push', '', { outputs: BUILT }],
    ['schedule', 'ami-0fedcba9876543210', { outputs: NEW_IMAGE }],
    ['schedule', 'ami-0fedcba9876543210', { outputs: REGISTERED_BY_RE_RUN }],
  ])('on %s each web deploy gets the built store path and image-id %j, in the region of the image', (event, imageId, outcomes) => {
    const { given } = schedule(PIPELINE, event, outcomes);
    for (const job of ['staging-web', 'production-web']) {
      expect({ job, ...given[job] }).toMatchObject({ job, 'store-path': STORE_PATHS[0], 'image-id': imageId });
      // An AMI is regional: the groups must be where the image is registered.
      expect(given[job]['aws-region']).toBe(PIPELINE.jobs.image.with?.['aws-region']);
    }
  });

  it('the web deploys keep the same gates for an image as for a store path', () => {
    const gates = (job: string) => {
      const { 'store-path': _path, 'image-id': _image, ...rest } = PIPELINE.jobs[job].with ?? {};
      return rest;
    };
    const push = schedule(PIPELINE, 'push', { outputs: BUILT }).given;
    const weekly = schedule(PIPELINE, 'schedule', { outputs: NEW_IMAGE }).given;
    for (const job of ['staging-web', 'production-web']) {
      const { 'image-id': _a, ...pushed } = push[job];
      const { 'image-id': _b, ...rolled } = weekly[job];
      expect(rolled).toEqual(pushed);
      expect(Object.keys(gates(job))).toEqual(expect.arrayContaining(['environment', 'readiness', 'role-to-assume']));
    }
    expect(push['production-web']).toMatchObject({ environment: 'production', 'checkpoint-percentages': '10,100', alarms: 'web-production-5xx' });
  });

  it('models the skip down the chain: without its own `if`, a job after a skipped one is skipped', () => {
    const chain: Workflow = { jobs: { a: { if: "github.event_name == 'schedule'" }, b: { needs: 'a', if: '${{ !cancelled() }}' }, c: { needs: 'b' }, d: { needs: 'b', if: "${{ needs.b.result == 'success' }}" } } };
    expect(schedule(chain, 'push').results).toEqual({ a: 'skipped', b: 'success', c: 'skipped', d: 'success' });
  });
});
