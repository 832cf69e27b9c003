import { describe, expect, it } from '@jest/globals';
import { minifyJson } from './json-text.js';

const DENY_ALL = '{"Effect":"Deny","Action":"*","Resource":"*"}';
const ALLOW_GET = '{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}';

describe('minifyJson', () => {
  it.each<[string, string, string]>([
    ['indentation and line breaks between tokens', '{\n\t"Version" : "2012-10-17",\r\n  "Statement" : [ ]\n}', '{"Version":"2012-10-17","Statement":[]}'],
    ['spaces inside strings', '{ "Sid" : "a  b\\tc " }', '{"Sid":"a  b\\tc "}'],
    ['escaped quotes and backslashes, with spaces after them', '{ "k": "say \\"hi\\" \\\\ " , "l" : "\\\\" }', '{"k":"say \\"hi\\" \\\\ ","l":"\\\\"}'],
    ['escapes as written, not decoded', '{"a": "\\u0041\\/\\n"}', '{"a":"\\u0041\\/\\n"}'],
    ['a number JavaScript cannot hold (JSON.stringify would send null)', '{"n": 1e999}', '{"n":1e999}'],
    ['an integer past 2^53 (JSON.stringify would round it)', '{"n": 12345678901234567890}', '{"n":12345678901234567890}'],
    ['number spellings', '[ -0 , 1.50 , 2E+3 ]', '[-0,1.50,2E+3]'],
    ['equal keys in different objects', `{"Statement": [${DENY_ALL}, ${DENY_ALL}]}`, `{"Statement":[${DENY_ALL},${DENY_ALL}]}`],
    ['equal values under different keys', '{"a": "a", "b": "a"}', '{"a":"a","b":"a"}'],
    ['a key that only looks like a duplicate inside a string', '{"a": "\\"a\\": 1", "b": 2}', '{"a":"\\"a\\": 1","b":2}'],
    ['Latin-1 and astral characters untouched', '{ "é": "😀" }', '{"é":"😀"}'],
    ['a bare value', ' "x y" ', '"x y"'],
  ])('keeps %s', (_case, text, expected) => {
    expect(minifyJson(text)).toEqual({ text: expected });
  });

  it.each<[string, string, string]>([
    ['a second Statement (JSON.parse keeps only the Allow)', `{"Statement": [${DENY_ALL}], "Statement": [${ALLOW_GET}]}`, 'the object at $ names the key "Statement" twice'],
    ['a key repeated deep inside', `{"Statement": [${DENY_ALL}, {"Effect": "Allow", "Effect": "Deny"}]}`, 'the object at $.Statement[1] names the key "Effect" twice'],
    ['a condition key repeated', '{"Statement": [{"Condition": {"StringEquals": {"aws:username": "a", "aws:username": "b"}}}]}', 'the object at $.Statement[0].Condition.StringEquals names the key "aws:username" twice'],
    ['the same key written with an escape', '{"Statement": [], "\\u0053tatement": []}', 'names the key "Statement" twice'],
    ['text that is not JSON', '{"Statement": [}', 'not JSON: '],
    ['a trailing comma', '{"Statement": [],}', 'not JSON: '],
    ['no-break spaces between tokens (not JSON whitespace)', '{\u00a0"Statement": []}', 'not JSON: '],
  ])('refuses %s', (_case, text, problem) => {
    const result = minifyJson(text);
    expect('problem' in result && result.problem).toContain(problem);
  });
});
