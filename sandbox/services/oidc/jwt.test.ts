import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { decodeJwt, signJwt, verifyRs256 } from './jwt.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const token = signJwt({ alg: 'RS256', typ: 'JWT', kid: 'k1' }, { sub: 'me', n: 1 }, privateKey);

describe('decodeJwt', () => {
  it('reads what signJwt wrote', () => {
    expect(decodeJwt(token)).toMatchObject({ header: { alg: 'RS256', kid: 'k1' }, claims: { sub: 'me', n: 1 } });
  });

  it.each([
    ['two parts', `${b64({ alg: 'RS256' })}.${b64({})}`],
    ['four parts', `${token}.x`],
    ['an empty signature', `${b64({ alg: 'RS256' })}.${b64({})}.`],
    ['padding and non-url base64', `${b64({ alg: 'RS256' })}.${b64({})}.ab+/=`],
    ['a header that is not JSON', `${Buffer.from('nope').toString('base64url')}.${b64({})}.c2ln`],
    ['claims that are an array', `${b64({ alg: 'RS256' })}.${b64(['x'])}.c2ln`],
    ['a header without alg', `${b64({ typ: 'JWT' })}.${b64({})}.c2ln`],
    ['an opaque access token', 'gho_16C7e42F292c6912E7710c838347Ae178B4a'],
  ])('rejects %s', (_name, text) => {
    expect(decodeJwt(text)).toBeUndefined();
  });
});

describe('verifyRs256', () => {
  const swapHeader = (alg: string) => `${b64({ alg, kid: 'k1' })}.${token.split('.').slice(1).join('.')}`;
  it.each([
    ['the signing key', token, publicKey, true],
    ['another key', token, other.publicKey, false],
    ['claims changed after signing', `${token.split('.')[0]}.${b64({ sub: 'admin', n: 1 })}.${token.split('.')[2]}`, publicKey, false],
    ['a header naming another algorithm', swapHeader('HS256'), publicKey, false],
  ])('with %s: %s', (_name, text, key, expected) => {
    expect(verifyRs256(decodeJwt(text)!, key)).toBe(expected);
  });
});
