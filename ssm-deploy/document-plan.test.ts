import { describe, expect, it } from '@jest/globals';
import { planDocument, type DocumentPlan, type FoundDocument } from './document-plan.js';

const OURS = 'a'.repeat(64);
const OTHER = 'b'.repeat(64);
const found = (defaultHash: string, latestHash?: string, latestVersion = latestHash ? '3' : '2'): FoundDocument => ({
  defaultVersion: '2',
  defaultHash,
  latestVersion,
  latestHash,
});

describe('planDocument', () => {
  const SHARED = 'arn:aws:ssm:eu-west-1:111122223333:document/NixOS-Deploy';
  const refused = { kind: 'refuse', message: expect.any(String) };

  it.each<[string, string, FoundDocument | undefined, boolean, DocumentPlan | typeof refused]>([
    ['a missing document is created', 'NixOS-Deploy', undefined, true, { kind: 'create' }],
    ['a default holding this content is used', 'NixOS-Deploy', found(OURS), true, { kind: 'use', version: '2' }],
    ['... also when not managed', 'NixOS-Deploy', found(OURS), false, { kind: 'use', version: '2' }],
    ['a latest version holding it becomes the default', 'NixOS-Deploy', found(OTHER, OURS), true, { kind: 'set-default', version: '3' }],
    ['other content gets a new version', 'NixOS-Deploy', found(OTHER), true, { kind: 'update' }],
    ['... also when the latest is other content too', 'NixOS-Deploy', found(OTHER, OTHER), true, { kind: 'update' }],
    ['a missing document is refused when not managed', 'NixOS-Deploy', undefined, false, refused],
    ['other content is refused when not managed', 'NixOS-Deploy', found(OTHER, OURS), false, refused],
    ['a shared document is never changed', SHARED, found(OTHER), true, refused],
    ['a shared document with this content is used', SHARED, found(OURS), true, { kind: 'use', version: '2' }],
  ])('%s', (_case, name, document, manage, expected) => {
    expect(planDocument(name, document, OURS, manage)).toEqual(expected);
  });

  it.each<[string, string, FoundDocument | undefined, string]>([
    ['missing', 'NixOS-Deploy', undefined, "The document NixOS-Deploy does not exist. Set 'manage-document: true'"],
    ['changed', 'NixOS-Deploy', found(OTHER), `The default version (2) of the document NixOS-Deploy is not this action's document (SHA-256 ${OTHER}, expected ${OURS})`],
    ['shared', 'arn:aws:ssm:eu-west-1:111122223333:document/X', found(OTHER), 'A shared document cannot be changed from this account'],
  ])('explains a refusal: %s', (_case, name, document, message) => {
    expect(planDocument(name, document, OURS, false)).toEqual({ kind: 'refuse', message: expect.stringContaining(message) });
  });
});
