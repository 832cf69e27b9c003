/**
 * What to do about the SSM document before sending the command, from what DescribeDocument said. The command
 * always runs the version whose content is this action's document (SendCommand pins its hash), so a document
 * that someone else changed is never run.
 */

/** The document as found: its default version and, when that differs from ours, its latest one. */
export interface FoundDocument {
  defaultVersion: string;
  defaultHash: string;
  latestVersion: string;
  /** Read only when the latest is not the default. */
  latestHash?: string;
}

export type DocumentPlan =
  | { kind: 'create' }
  /** The default version already holds this content. */
  | { kind: 'use'; version: string }
  /** The latest version holds this content but is not the default (an earlier run stopped halfway). */
  | { kind: 'set-default'; version: string }
  | { kind: 'update' }
  | { kind: 'refuse'; message: string };

/** Another account's document, shared by ARN: this account can run it but not change it. */
export const isDocumentArn = (name: string): boolean => name.startsWith('arn:');

export function planDocument(
  name: string,
  found: FoundDocument | undefined,
  hash: string,
  manage: boolean,
): DocumentPlan {
  const managed = manage && !isDocumentArn(name);
  const how = isDocumentArn(name)
    ? 'A shared document cannot be changed from this account: share a version made from ssm-deploy/nixos-deploy.json.'
    : "Set 'manage-document: true', or create it from ssm-deploy/nixos-deploy.json of this action's version.";
  if (!found) {
    return managed ? { kind: 'create' } : { kind: 'refuse', message: `The document ${name} does not exist. ${how}` };
  }
  if (found.defaultHash === hash) return { kind: 'use', version: found.defaultVersion };
  if (!managed) {
    return {
      kind: 'refuse',
      message:
        `The default version (${found.defaultVersion}) of the document ${name} is not this action's document ` +
        `(SHA-256 ${found.defaultHash}, expected ${hash}), and the command only runs that content. ${how}`,
    };
  }
  if (found.latestHash === hash) return { kind: 'set-default', version: found.latestVersion };
  return { kind: 'update' };
}
