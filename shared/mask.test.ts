import { describe, expect, it } from '@jest/globals';
import { captureStdout } from './fixtures/stdout.js';
import { maskSecrets } from './mask.js';

const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nAbCdEfGh\n-----END PRIVATE KEY-----\n';

describe('maskSecrets', () => {
  it.each<[string, Array<string | null | undefined>, string[]]>([
    ['one value', ['wJalrXUtnFEMI/K7MDENG'], ['wJalrXUtnFEMI/K7MDENG']],
    ['several values, in order', ['AKIAEXAMPLE', 'secret-key'], ['AKIAEXAMPLE', 'secret-key']],
    ['nothing for empty, blank, null or undefined', ['', '  \n ', null, undefined], []],
    ['surrounding blanks dropped, so the bare value is masked too', ['  padded-secret\n'], ['padded-secret']],
    ['a repeated value once', ['token-123', 'token-123'], ['token-123']],
    [
      'a multi-line value whole and line by line, skipping short lines',
      [PEM],
      [
        '-----BEGIN PRIVATE KEY-----%0AMIIEvQIBADANBgkqhkiG9w0BAQEFAASC%0AAbCdEfGh%0A-----END PRIVATE KEY-----',
        '-----BEGIN PRIVATE KEY-----',
        'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC',
        'AbCdEfGh',
        '-----END PRIVATE KEY-----',
      ],
    ],
    ['a line under 8 characters is not masked alone', ['long-enough-line\r\n}'], ['long-enough-line%0D%0A}', 'long-enough-line']],
    ['escaped as the runner expects', ['50%off'], ['50%25off']],
  ])('%s', async (_case, values, masked) => {
    const lines = await captureStdout(() => maskSecrets(...values));
    expect(lines).toEqual(masked.map((value) => `::add-mask::${value}`));
  });
});
