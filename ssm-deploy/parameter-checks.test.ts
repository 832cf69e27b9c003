import { describe, expect, it } from '@jest/globals';
import { DOCUMENT, type DocumentParameterDefinition } from './document.js';
import { documentParameterProblems, parameterProblem } from './parameter-checks.js';

const string = (extra: Partial<DocumentParameterDefinition>): DocumentParameterDefinition => ({
  type: 'String',
  description: '',
  interpolationType: 'ENV_VAR',
  ...extra,
});
const { healthCheckUrl, healthCheckUnits, action } = DOCUMENT.parameters;
const URL_2048 = `http://localhost/${'a'.repeat(2048 - 17)}`;

describe('parameterProblem', () => {
  it.each<[string, DocumentParameterDefinition, string[], string | undefined]>([
    ['a value of maxChars characters', string({ maxChars: 3 }), ['abc'], undefined],
    ['one past maxChars', string({ maxChars: 3 }), ['abcd'], "must be at most 3 characters (the document's maxChars), got 4"],
    ['maxChars in UTF-16 units, as Java counts', string({ maxChars: 3 }), ['a😀'], undefined],
    ['an astral character past maxChars', string({ maxChars: 2 }), ['a😀'], 'got 3'],
    ['a value the pattern takes', string({ allowedPattern: '^[a-z]+$' }), ['abc'], undefined],
    ['a value the pattern refuses', string({ allowedPattern: '^[a-z]+$' }), ['ab1'], "must match the document's allowedPattern ^[a-z]+$"],
    ['the pattern as written, without anchors added', string({ allowedPattern: '[0-9]' }), ['a1b'], undefined],
    ['an allowed value', string({ allowedValues: ['true', 'false'] }), ['false'], undefined],
    ['a value not allowed', string({ allowedValues: ['true', 'false'] }), ['yes'], 'must be one of true, false'],
    ['two values for a String', string({}), ['a', 'b'], 'takes one value, got 2'],
    ['each item of a StringList held to maxChars', { ...string({ maxChars: 2 }), type: 'StringList' as 'String' }, ['ab', 'abc'], 'got 3'],
    ['the shipped URL at its maxChars', healthCheckUrl, [URL_2048], undefined],
    ['the shipped URL one past its maxChars (its pattern takes it)', healthCheckUrl, [`${URL_2048}a`], "must be at most 2048 characters (the document's maxChars), got 2049"],
    ['a shipped unit list one past its maxChars', healthCheckUnits, [`${'u'.repeat(240)}.service `.repeat(17).trim()], 'must be at most 4096 characters'],
    ['an action the shipped document does not know', action, ['rollback'], 'must be one of switch, boot, reboot, dry-activate'],
  ])('%s', (_case, definition, values, problem) => {
    if (problem === undefined) expect(parameterProblem(definition, values)).toBeUndefined();
    else expect(parameterProblem(definition, values)).toContain(problem);
  });
});

describe('documentParameterProblems', () => {
  const definitions = { url: string({ maxChars: 5 }), units: string({ maxChars: 5 }) };
  const inputOf = { url: 'health-check-url', units: 'health-check-units' };
  const joined = new Set(['health-check-units']);

  it.each<[string, Partial<Record<'url' | 'units', string[]>>, Array<{ input: string; message: string }>]>([
    ['nothing for values within the limits', { url: ['abcde'], units: ['a b c'] }, []],
    ['nothing for parameters left to their defaults', {}, []],
    [
      'the input of a value past the limits, and how a list was joined',
      { url: ['abcdef'], units: ['a b c d'] },
      [
        { input: 'health-check-url', message: "Input 'health-check-url' (the document's url) must be at most 5 characters (the document's maxChars), got 6" },
        { input: 'health-check-units', message: "Input 'health-check-units', its items joined by spaces as the document's units, must be at most 5 characters (the document's maxChars), got 7" },
      ],
    ],
  ])('%s', (_case, parameters, problems) => {
    expect(documentParameterProblems(definitions, parameters, inputOf, joined)).toEqual(problems);
  });
});
